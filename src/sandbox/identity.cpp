#include "sandbox/identity.hpp"

#include <fcntl.h>
#include <grp.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/file_io.hpp"
#include "common/unique_fd.hpp"

namespace pgguard::sandbox {

namespace {

std::string read_account_file(const std::string& path) {
  const UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!file) {
    throw SystemError("open " + path, errno);
  }
  std::string text;
  if (const int error = read_to_end(file.get(), text); error != 0) {
    throw SystemError("read " + path, error);
  }
  return text;
}

[[noreturn]] void unknown(const Sourced<std::string>& name, const std::string& what,
                          const std::string& path) {
  throw ConfigError(name.where, name.key, what + " '" + name.value + "' does not exist in " + path);
}

gid_t resolve_group(const Sourced<std::string>& name, std::string_view group_text,
                    const std::string& path) {
  const auto entry = find_group(group_text, name.value, path);
  if (!entry) {
    unknown(name, "group", path);
  }
  if (entry->gid == 0) {
    throw ConfigError(name.where, name.key, "group '" + name.value + "' is gid 0 (root)");
  }
  return entry->gid;
}

}  // namespace

Identity resolve_identity(const Profile& profile, const AccountFiles& files) {
  const std::string passwd_text = read_account_file(files.passwd);
  const std::string group_text = read_account_file(files.group);
  const auto user = find_user(passwd_text, profile.user.value, files.passwd);
  if (!user) {
    unknown(profile.user, "user", files.passwd);
  }
  if (user->uid == 0) {
    throw ConfigError(profile.user.where, profile.user.key,
                      "user '" + profile.user.value + "' is uid 0: processes never run as root");
  }
  Identity identity;
  identity.user = profile.user.value;
  identity.uid = user->uid;
  identity.home = user->home;
  if (profile.group) {
    identity.gid = resolve_group(*profile.group, group_text, files.group);
    identity.group = profile.group->value;
  } else {
    if (user->primary_gid == 0) {
      throw ConfigError(profile.user.where, profile.user.key,
                        "the primary group of '" + profile.user.value + "' is gid 0 (root)");
    }
    identity.gid = user->primary_gid;
    const auto primary = find_group(group_text, user->primary_gid, files.group);
    identity.group = primary ? primary->name : std::to_string(user->primary_gid);
  }
  for (const auto& name : profile.supplementary_groups) {
    const gid_t gid = resolve_group(name, group_text, files.group);
    if (std::find(identity.supplementary.begin(), identity.supplementary.end(), gid) ==
        identity.supplementary.end()) {
      identity.supplementary.push_back(gid);
      identity.supplementary_names.push_back(name.value);
    }
  }
  return identity;
}

void switch_identity(const Identity& identity) {
  if (::setgroups(identity.supplementary.size(), identity.supplementary.data()) != 0) {
    throw SystemError("supplementary_group: setgroups(" +
                          std::to_string(identity.supplementary.size()) + " groups)",
                      errno);
  }
  if (::setresgid(identity.gid, identity.gid, identity.gid) != 0) {
    throw SystemError("group: setresgid(" + std::to_string(identity.gid) + ")", errno);
  }
  if (::setresuid(identity.uid, identity.uid, identity.uid) != 0) {
    throw SystemError("user: setresuid(" + std::to_string(identity.uid) + ")", errno);
  }
  uid_t ruid = 0, euid = 0, suid = 0;
  gid_t rgid = 0, egid = 0, sgid = 0;
  if (::getresuid(&ruid, &euid, &suid) != 0 || ::getresgid(&rgid, &egid, &sgid) != 0) {
    throw SystemError("user: read back uids and gids", errno);
  }
  if (ruid != identity.uid || euid != identity.uid || suid != identity.uid ||
      rgid != identity.gid || egid != identity.gid || sgid != identity.gid) {
    throw Error(ExitCode::system, "user: uid/gid read back differ from " +
                                      std::to_string(identity.uid) + "/" +
                                      std::to_string(identity.gid));
  }
}

}  // namespace pgguard::sandbox
