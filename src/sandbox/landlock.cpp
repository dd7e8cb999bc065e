#include "sandbox/landlock.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>

namespace pgguard::sandbox {

namespace {

// Debian 12's UAPI headers stop at ABI 2; the newer values are fixed kernel ABI.
constexpr std::uint64_t kFsExecute = 1ULL << 0;
constexpr std::uint64_t kFsWriteFile = 1ULL << 1;
constexpr std::uint64_t kFsReadFile = 1ULL << 2;
constexpr std::uint64_t kFsReadDir = 1ULL << 3;
constexpr std::uint64_t kFsAbi1 = (1ULL << 13) - 1;  // EXECUTE .. MAKE_SYM
constexpr std::uint64_t kFsRefer = 1ULL << 13;       // ABI 2
constexpr std::uint64_t kFsTruncate = 1ULL << 14;    // ABI 3
constexpr std::uint64_t kFsIoctlDev = 1ULL << 15;    // ABI 5
constexpr std::uint64_t kNetBindTcp = 1ULL << 0;     // ABI 4
constexpr std::uint64_t kNetConnectTcp = 1ULL << 1;  // ABI 4
constexpr int kRulePathBeneath = 1;
constexpr int kRuleNetPort = 2;  // ABI 4
constexpr unsigned kCreateRulesetVersion = 1U << 0;

// Rights that make sense on a file (rather than a directory) as a rule's target.
constexpr std::uint64_t kFileRights =
    kFsExecute | kFsWriteFile | kFsReadFile | kFsTruncate | kFsIoctlDev;

struct RulesetAttr {
  std::uint64_t handled_access_fs;
  std::uint64_t handled_access_net;  // ABI 4
  std::uint64_t scoped;              // ABI 6
};

struct __attribute__((packed)) PathBeneathAttr {
  std::uint64_t allowed_access;
  std::int32_t parent_fd;
};

struct NetPortAttr {
  std::uint64_t allowed_access;
  std::uint64_t port;
};

long create_ruleset(const RulesetAttr* attr, std::size_t size, unsigned flags) {
  return ::syscall(SYS_landlock_create_ruleset, attr, size, flags);
}

[[noreturn]] void fail_at(const Sourced<std::string>& source, const std::string& what, int error) {
  throw Error(ExitCode::system, source.where.to_string() + ": " + source.key + ": " + what + ": " +
                                    errno_text(error));
}

InodeId inode_of(int fd, const Sourced<std::string>& source) {
  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    fail_at(source, "fstat '" + source.value + "'", errno);
  }
  return InodeId{status.st_dev, status.st_ino};
}

// The inodes from the path up to the root, walked with ".." as Landlock walks them (across
// mount points to the mount's parent). A file's own inode comes first, then its directory's.
std::vector<InodeId> ancestry_of(int fd, const Sourced<std::string>& source) {
  std::vector<InodeId> chain{inode_of(fd, source)};
  UniqueFd current(::openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!current && errno == ENOTDIR) {
    // A file: its directory is found again by name (profile paths are normalized).
    const auto slash = source.value.rfind('/');
    const std::string parent = slash == 0 ? "/" : source.value.substr(0, slash);
    current.reset(::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  }
  // Deeper than any real tree: a loop would otherwise never end.
  constexpr std::size_t kMaxDepth = 4096;
  while (current && chain.size() < kMaxDepth) {
    const InodeId id = inode_of(current.get(), source);
    if (id == chain.back()) {
      return chain;  // ".." of the root is the root
    }
    chain.push_back(id);
    current.reset(::openat(current.get(), "..", O_PATH | O_DIRECTORY | O_CLOEXEC));
  }
  fail_at(source, "walk up from '" + source.value + "'", current ? ELOOP : errno);
}

}  // namespace

int landlock_abi() {
  const long abi = create_ruleset(nullptr, 0, kCreateRulesetVersion);
  return abi > 0 ? static_cast<int>(abi) : 0;
}

std::uint64_t landlock_handled_fs(int abi) {
  std::uint64_t handled = abi >= 1 ? kFsAbi1 : 0;
  if (abi >= 2) {
    handled |= kFsRefer;
  }
  if (abi >= 3) {
    handled |= kFsTruncate;
  }
  if (abi >= 5) {
    handled |= kFsIoctlDev;
  }
  return handled;
}

std::uint64_t landlock_read_access(int abi) {
  return abi >= 1 ? (kFsReadFile | kFsReadDir) : 0;
}

std::uint64_t landlock_execute_access(int abi) {
  return abi >= 1 ? (kFsExecute | kFsReadFile | kFsReadDir) : 0;
}

std::uint64_t landlock_write_access(int abi) {
  return landlock_handled_fs(abi) & ~kFsExecute;
}

std::uint64_t landlock_write_execute_access(int abi) {
  return landlock_handled_fs(abi);
}

std::optional<std::string> write_execute_overlap(const std::vector<PathAncestry>& paths) {
  const auto contains = [](const std::vector<InodeId>& chain, const InodeId& id) {
    return std::find(chain.begin(), chain.end(), id) != chain.end();
  };
  for (const auto& executable : paths) {
    if (executable.kind != LandlockPathKind::execute) {
      continue;
    }
    for (const auto& writable : paths) {
      if (writable.kind != LandlockPathKind::write || executable.chain.empty() ||
          writable.chain.empty()) {
        continue;
      }
      // Landlock grants a file the rights of every rule on its way up to the root: a file gets
      // both when one rule's inode lies on the other's way up.
      if (contains(executable.chain, writable.chain.front()) ||
          contains(writable.chain, executable.chain.front())) {
        const auto& e = *executable.source;
        const auto& w = *writable.source;
        return e.where.to_string() + ": " + e.key + ": '" + e.value + "' and " +
               w.where.to_string() + ": " + w.key + ": '" + w.value +
               "' reach the same files on this host (through a link or a bind mount): a file "
               "written there could be run; say write_execute to allow both";
      }
    }
  }
  return std::nullopt;
}

std::string landlock_fs_access_names(std::uint64_t access) {
  static constexpr const char* names[] = {"execute",    "write_file",  "read_file", "read_dir",
                                          "remove_dir", "remove_file", "make_char", "make_dir",
                                          "make_reg",   "make_sock",   "make_fifo", "make_block",
                                          "make_sym",   "refer",       "truncate",  "ioctl_dev"};
  std::string text;
  for (std::size_t bit = 0; bit < std::size(names); ++bit) {
    if ((access & (1ULL << bit)) != 0) {
      text += (text.empty() ? "" : ",") + std::string(names[bit]);
    }
  }
  return text;
}

LandlockPlan plan_landlock(const Profile& profile, int abi, UnmetRequirement unmet) {
  LandlockPlan plan;
  plan.abi = abi;
  // What the kernel cannot enforce: a notice, or the refusal when the profile requires it.
  const auto cannot_enforce = [&](const std::string& why) {
    if (!profile.landlock.required) {
      plan.notices.push_back(why);
      return;
    }
    const std::string message = profile.file + ": landlock.required: " + why;
    if (unmet == UnmetRequirement::refuse) {
      throw UnsupportedError(message);
    }
    plan.unmet.push_back(message);
  };
  const auto& section = profile.landlock;
  const bool wants_tcp = !section.bind_tcp.empty() || !section.connect_tcp.empty();
  for (const auto& scope : section.scope) {
    plan.requested_scopes |=
        scope.value == "signal" ? kLandlockScopeSignal : kLandlockScopeAbstractUnixSocket;
  }
  if (abi < 1) {
    const std::string why = "the kernel has no Landlock: filesystem and TCP rules not enforced";
    cannot_enforce(why);
    return plan;
  }
  plan.filesystem = true;
  if (abi >= 4) {
    plan.tcp = true;
  } else if (wants_tcp) {
    const std::string why = "Landlock ABI " + std::to_string(abi) +
                            " has no TCP rules (ABI 4 needed): bind_tcp/connect_tcp not enforced";
    cannot_enforce(why);
  }
  if (plan.requested_scopes != 0 && abi >= 6) {
    plan.scoped = plan.requested_scopes;
  } else if (plan.requested_scopes != 0) {
    // Scopes are where the kernel has them, never a refusal: the service accounts are the
    // separation they add to (explain says which of the two holds).
    plan.scope_notices.push_back("Landlock ABI " + std::to_string(abi) +
                                 " has no scopes (ABI 6 needed): landlock.scope not enforced; "
                                 "only the account separates signals and abstract sockets");
  }
  return plan;
}

std::vector<LandlockPath> open_landlock_paths(const Profile& profile, const LandlockPlan& plan) {
  std::vector<LandlockPath> paths;
  if (!plan.filesystem) {
    return paths;
  }
  std::vector<PathAncestry> ancestries;
  const auto open_all = [&](const std::vector<Sourced<std::string>>& sources, LandlockPathKind kind,
                            std::uint64_t access) {
    for (const auto& source : sources) {
      // Most paths are directories: one open tells which, where open + fstat took two calls.
      // Should the path change between the two opens, a directory gets only the file rights,
      // never the reverse.
      UniqueFd fd(::open(source.value.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      std::uint64_t allowed = access;
      if (!fd && errno == ENOTDIR) {
        fd.reset(::open(source.value.c_str(), O_PATH | O_CLOEXEC));
        allowed = access & kFileRights;
      }
      if (!fd) {
        fail_at(source, "open '" + source.value + "'", errno);
      }
      if (kind == LandlockPathKind::execute || kind == LandlockPathKind::write) {
        ancestries.push_back({kind, ancestry_of(fd.get(), source), &source});
      }
      paths.push_back(LandlockPath{std::move(fd), allowed, &source});
    }
  };
  const auto& section = profile.landlock;
  open_all(section.read, LandlockPathKind::read, landlock_read_access(plan.abi));
  open_all(section.execute, LandlockPathKind::execute, landlock_execute_access(plan.abi));
  open_all(section.write, LandlockPathKind::write, landlock_write_access(plan.abi));
  open_all(section.write_execute, LandlockPathKind::write_execute,
           landlock_write_execute_access(plan.abi));
  // The profile's text was checked for this (profile.cpp); a link or a bind mount on this
  // host can still join an executable and a writable tree.
  if (auto overlap = write_execute_overlap(ancestries)) {
    throw Error(ExitCode::bad_input, *overlap);
  }
  return paths;
}

void apply_landlock(const Profile& profile, const LandlockPlan& plan,
                    const std::vector<LandlockPath>& paths) {
  if (!plan.filesystem) {
    return;
  }
  RulesetAttr attr{landlock_handled_fs(plan.abi), plan.tcp ? (kNetBindTcp | kNetConnectTcp) : 0,
                   plan.scoped};
  // The size tells the kernel which fields this ABI knows.
  const std::size_t size = plan.scoped != 0 ? sizeof attr
                           : plan.tcp       ? offsetof(RulesetAttr, scoped)
                                            : offsetof(RulesetAttr, handled_access_net);
  UniqueFd ruleset(static_cast<int>(create_ruleset(&attr, size, 0)));
  if (!ruleset) {
    throw SystemError("landlock: landlock_create_ruleset (ABI " + std::to_string(plan.abi) + ")",
                      errno);
  }
  for (const auto& path : paths) {
    PathBeneathAttr rule{path.access, path.fd.get()};
    if (::syscall(SYS_landlock_add_rule, ruleset.get(), kRulePathBeneath, &rule, 0) != 0) {
      fail_at(*path.source, "landlock_add_rule '" + path.source->value + "'", errno);
    }
  }
  if (plan.tcp) {
    const auto add_ports = [&](const std::vector<Sourced<std::uint16_t>>& ports,
                               std::uint64_t access) {
      for (const auto& port : ports) {
        NetPortAttr rule{access, port.value};
        if (::syscall(SYS_landlock_add_rule, ruleset.get(), kRuleNetPort, &rule, 0) != 0) {
          const int saved = errno;
          throw Error(ExitCode::system, port.where.to_string() + ": " + port.key +
                                            ": landlock_add_rule port " +
                                            std::to_string(port.value) + ": " + errno_text(saved));
        }
      }
    };
    add_ports(profile.landlock.bind_tcp, kNetBindTcp);
    add_ports(profile.landlock.connect_tcp, kNetConnectTcp);
  }
  if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0) {
    throw SystemError("landlock: landlock_restrict_self", errno);
  }
}

}  // namespace pgguard::sandbox
