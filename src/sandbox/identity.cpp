#include "sandbox/identity.hpp"

#include <fcntl.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/file_io.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"

namespace pgguard::sandbox {

namespace {

// getpwnam_r/getgrnam_r buffers grow until the entry fits.
template <typename Entry, typename Lookup>
bool lookup(const std::string& name, Entry& entry, std::vector<char>& buffer, Lookup function,
            int& error) {
  buffer.resize(1024);
  for (;;) {
    Entry* result = nullptr;
    error = function(name.c_str(), &entry, buffer.data(), buffer.size(), &result);
    if (error == ERANGE && buffer.size() < (1U << 20)) {
      buffer.resize(buffer.size() * 2);
      continue;
    }
    return error == 0 && result != nullptr;
  }
}

[[noreturn]] void unknown(const Sourced<std::string>& name, const std::string& what, int error) {
  throw ConfigError(name.where, name.key,
                    what + " '" + name.value + "' does not exist on this host" +
                        (error != 0 ? " (" + errno_text(error) + ")" : std::string()));
}

gid_t resolve_group(const Sourced<std::string>& name) {
  group entry{};
  std::vector<char> buffer;
  int error = 0;
  if (!lookup(name.value, entry, buffer, ::getgrnam_r, error)) {
    unknown(name, "group", error);
  }
  if (entry.gr_gid == 0) {
    throw ConfigError(name.where, name.key, "group '" + name.value + "' is gid 0 (root)");
  }
  return entry.gr_gid;
}

std::string group_name_of(gid_t gid) {
  group entry{};
  group* result = nullptr;
  std::vector<char> buffer(4096);
  if (::getgrgid_r(gid, &entry, buffer.data(), buffer.size(), &result) == 0 && result != nullptr) {
    return entry.gr_name;
  }
  return std::to_string(gid);
}

}  // namespace

void use_configured_sources_without_nscd(const std::string& nsswitch_path) {
  const UniqueFd file(::open(nsswitch_path.c_str(), O_RDONLY | O_CLOEXEC));
  std::string text;
  if (!file || read_to_end(file.get(), text) != 0) {
    return;  // glibc's built-in defaults then, asked the usual way
  }
  for (const auto& raw_line : split(text, "\n")) {
    const std::string_view line = std::string_view(raw_line).substr(0, raw_line.find('#'));
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    const std::string database(trim(line.substr(0, colon)));
    const std::string services(trim(line.substr(colon + 1)));
    if ((database == "passwd" || database == "group") && !services.empty()) {
      // A line glibc cannot parse is left alone: the lookup then goes the usual way.
      (void)::__nss_configure_lookup(database.c_str(), services.c_str());
    }
  }
}

Identity resolve_identity(const Profile& profile) {
  use_configured_sources_without_nscd("/etc/nsswitch.conf");
  Identity identity;
  passwd entry{};
  std::vector<char> buffer;
  int error = 0;
  if (!lookup(profile.user.value, entry, buffer, ::getpwnam_r, error)) {
    unknown(profile.user, "user", error);
  }
  if (entry.pw_uid == 0) {
    throw ConfigError(profile.user.where, profile.user.key,
                      "user '" + profile.user.value + "' is uid 0: processes never run as root");
  }
  identity.user = profile.user.value;
  identity.uid = entry.pw_uid;
  identity.home = entry.pw_dir != nullptr ? entry.pw_dir : "";
  if (profile.group) {
    identity.gid = resolve_group(*profile.group);
    identity.group = profile.group->value;
  } else {
    if (entry.pw_gid == 0) {
      throw ConfigError(profile.user.where, profile.user.key,
                        "the primary group of '" + profile.user.value + "' is gid 0 (root)");
    }
    identity.gid = entry.pw_gid;
    identity.group = group_name_of(entry.pw_gid);
  }
  for (const auto& name : profile.supplementary_groups) {
    const gid_t gid = resolve_group(name);
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
