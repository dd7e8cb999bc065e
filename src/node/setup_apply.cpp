#include "node/setup_apply.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/child_process.hpp"
#include "common/config_file.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/unique_fd.hpp"

namespace pgguard::node {

namespace {

std::string read_text_file(const std::string& path) {
  return read_regular_file(path, O_NOFOLLOW);
}

struct Ids {
  uid_t uid = 0;
  gid_t gid = 0;
};

class Accounts {
 public:
  explicit Accounts(const sandbox::AccountFiles& files) : files_(files) {}

  Ids resolve(const Ownership& ownership) const {
    return {ownership.owner == "root" ? 0 : user(ownership.owner).uid,
            ownership.group == "root" ? 0 : group(ownership.group).gid};
  }

  std::optional<sandbox::UserEntry> find_user(const std::string& name) const {
    return sandbox::find_user(read_text_file(files_.passwd), name, files_.passwd);
  }
  std::optional<sandbox::GroupEntry> find_group(const std::string& name) const {
    return sandbox::find_group(read_text_file(files_.group), name, files_.group);
  }

 private:
  sandbox::UserEntry user(const std::string& name) const {
    auto entry = find_user(name);
    if (!entry) {
      throw Error(ExitCode::system, "user '" + name + "' does not exist in " + files_.passwd);
    }
    return *entry;
  }
  sandbox::GroupEntry group(const std::string& name) const {
    auto entry = find_group(name);
    if (!entry) {
      throw Error(ExitCode::system, "group '" + name + "' does not exist in " + files_.group);
    }
    return *entry;
  }

  const sandbox::AccountFiles& files_;
};

void ensure_account(const std::string& name, const Accounts& accounts,
                    const SetupEnvironment& environment, SetupReport& report) {
  if (auto user = accounts.find_user(name)) {
    if (user->uid == 0) {
      throw Error(ExitCode::system, "account '" + name + "' exists with uid 0");
    }
    const auto own_group = accounts.find_group(name);
    if (!own_group || own_group->gid != user->primary_gid || own_group->gid == 0) {
      throw Error(ExitCode::system, "account '" + name +
                                        "' exists without a primary group of its own name; "
                                        "it may share files with another account");
    }
    return;
  }
  const std::vector<std::string> argv = {environment.useradd, "--system",          "--user-group",
                                         "--no-create-home",  "--home-dir",        "/nonexistent",
                                         "--shell",           "/usr/sbin/nologin", name};
  const auto result = run_child({argv, {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, std::nullopt});
  if (result.exit_code != 0) {
    throw Error(ExitCode::system, describe_command(argv) + " failed (exit " +
                                      std::to_string(result.exit_code) + "): " + result.output);
  }
  report.changes.push_back("created system account " + name);
}

// Owner, group and mode of an open file or directory; returns whether anything changed.
bool set_ownership(int fd, const std::string& path, const Ids& ids, mode_t mode) {
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    throw SystemError("cannot inspect " + path, errno);
  }
  bool changed = false;
  if (status.st_uid != ids.uid || status.st_gid != ids.gid) {
    if (::fchown(fd, ids.uid, ids.gid) != 0) {
      throw SystemError("cannot chown " + path, errno);
    }
    changed = true;
  }
  if ((status.st_mode & 07777) != mode || changed) {
    // fchown clears set-id bits; the mode is set after it in any case.
    if (::fchmod(fd, mode) != 0) {
      throw SystemError("cannot chmod " + path, errno);
    }
    changed = changed || (status.st_mode & 07777) != mode;
  }
  return changed;
}

UniqueFd open_directory(const std::string& path) {
  return UniqueFd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

void ensure_parents(const std::string& path, SetupReport& report) {
  for (auto slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    const std::string parent = path.substr(0, slash);
    if (::mkdir(parent.c_str(), 0755) == 0) {
      report.changes.push_back("created " + parent + " (root 0755)");
    } else if (errno != EEXIST) {
      throw SystemError("cannot create " + parent, errno);
    }
  }
}

void ensure_directory(const DirectorySpec& directory, const Accounts& accounts,
                      SetupReport& report) {
  ensure_parents(directory.path, report);
  bool created = false;
  if (::mkdir(directory.path.c_str(), 0700) == 0) {
    created = true;
  } else if (errno != EEXIST) {
    throw SystemError("cannot create " + directory.path, errno);
  }
  const UniqueFd fd = open_directory(directory.path);
  if (!fd) {
    const int error = errno;
    if (error == ELOOP || error == ENOTDIR) {
      throw Error(ExitCode::system, directory.path + " exists and is not a directory (" +
                                        (error == ELOOP ? "a symbolic link" : "a file") + ")");
    }
    throw SystemError("cannot open " + directory.path, error);
  }
  const bool changed = set_ownership(
      fd.get(), directory.path, accounts.resolve(directory.ownership), directory.ownership.mode);
  if (created) {
    report.changes.push_back("created " + directory.path);
  } else if (changed) {
    report.changes.push_back("set owner and mode of " + directory.path);
  }
}

bool destination_matches(const std::string& path, const std::string& content, const Ids& ids,
                         mode_t mode) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    return false;
  }
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0 || !S_ISREG(status.st_mode) || status.st_uid != ids.uid ||
      status.st_gid != ids.gid || (status.st_mode & 07777) != mode) {
    return false;
  }
  std::string current;
  return read_to_end(fd.get(), current) == 0 && current == content;
}

bool write_if_different(const std::string& destination, const std::string& content, const Ids& ids,
                        mode_t mode) {
  if (destination_matches(destination, content, ids, mode)) {
    return false;
  }
  const std::string temporary = destination + ".pgguard-setup." + std::to_string(::getpid());
  // Created with no access at all, then given its owner and mode before the content is written
  // and renamed into place: a key is never readable by anyone else, not even for a moment.
  UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0));
  if (!fd) {
    throw SystemError("cannot create " + temporary, errno);
  }
  const auto fail = [&temporary](const std::string& what, int error) {
    ::unlink(temporary.c_str());
    throw SystemError(what, error);
  };
  if (::fchown(fd.get(), ids.uid, ids.gid) != 0) {
    fail("cannot chown " + temporary, errno);
  }
  if (::fchmod(fd.get(), mode) != 0) {
    fail("cannot chmod " + temporary, errno);
  }
  std::string_view rest = content;
  while (!rest.empty()) {
    const ssize_t written = ::write(fd.get(), rest.data(), rest.size());
    if (written < 0) {
      if (errno == EINTR) {
        continue;
      }
      fail("cannot write " + temporary, errno);
    }
    rest.remove_prefix(static_cast<std::size_t>(written));
  }
  if (::fsync(fd.get()) != 0) {
    fail("cannot fsync " + temporary, errno);
  }
  // rename(2) replaces a symlink at the destination itself, never its target.
  if (::rename(temporary.c_str(), destination.c_str()) != 0) {
    fail("cannot rename " + temporary + " to " + destination, errno);
  }
  return true;
}

void install_file(const InstallSpec& install, const Accounts& accounts, SetupReport& report) {
  if (write_if_different(install.destination, read_text_file(install.source),
                         accounts.resolve(install.ownership), install.ownership.mode)) {
    report.changes.push_back("installed " + install.destination);
  }
}

}  // namespace

SetupReport apply_setup(const SetupPlan& plan, const SetupEnvironment& environment) {
  SetupReport report;
  const Accounts accounts(environment.account_files);
  try {
    for (const auto& name : plan.accounts) {
      ensure_account(name, accounts, environment, report);
    }
    for (const auto& directory : plan.directories) {
      ensure_directory(directory, accounts, report);
    }
    for (const auto& install : plan.installs) {
      install_file(install, accounts, report);
    }
  } catch (const Error& error) {
    std::string message = error.what();
    if (!report.changes.empty()) {
      message += " (changed before the failure: " + std::to_string(report.changes.size()) +
                 ", first: " + report.changes.front() + ")";
    }
    throw Error(error.code(), message);
  }
  return report;
}

bool install_content(const std::string& destination, const std::string& content,
                     const Ownership& ownership, const SetupEnvironment& environment) {
  const Accounts accounts(environment.account_files);
  return write_if_different(destination, content, accounts.resolve(ownership), ownership.mode);
}

std::vector<std::string> apply_setup_file(const std::optional<std::string>& path) {
  if (!path) {
    return {};
  }
  return apply_setup(parse_setup_plan(config::ConfigFile::load(*path))).changes;
}

}  // namespace pgguard::node
