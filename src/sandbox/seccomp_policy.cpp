#include "sandbox/seccomp_policy.hpp"

#include <algorithm>
#include <array>

#include "common/error.hpp"
#include "sandbox/killed_syscalls.hpp"
#include "sandbox/sha256.hpp"
#include "sandbox/syscall_groups.hpp"

namespace pgguard::sandbox {

namespace {

using namespace std::string_view_literals;

#define PGGUARD_KILLED_NAME(name) std::string_view(#name),
constexpr std::array killed_syscalls{PGGUARD_ALWAYS_KILLED_SYSCALLS(PGGUARD_KILLED_NAME)};
#undef PGGUARD_KILLED_NAME

constexpr std::array launcher_needs{
    "read"sv,   "write"sv, "close"sv,  "brk"sv,        "mmap"sv,
    "munmap"sv, "futex"sv, "execve"sv, "exit_group"sv,
};

}  // namespace

std::span<const std::string_view> always_killed_syscalls() {
  return killed_syscalls;
}

std::span<const std::string_view> launcher_syscalls() {
  return launcher_needs;
}

bool is_always_killed(std::string_view name) {
  return std::find(killed_syscalls.begin(), killed_syscalls.end(), name) != killed_syscalls.end();
}

int resolve_syscall(std::string_view name) {
  const std::string copy(name);
  return seccomp_syscall_resolve_name(copy.c_str());
}

int resolve_killed_syscall(std::string_view name) {
  const int number = resolve_syscall(name);
  if (number != __NR_SCMP_ERROR) {
    return number;
  }
  const long newer = number_newer_than_the_build_host(name);
  return newer >= 0 ? static_cast<int>(newer) : __NR_SCMP_ERROR;
}

int killed_syscall_number(std::string_view name) {
  const int number = resolve_killed_syscall(name);
  if (number == __NR_SCMP_ERROR) {
    throw Error(ExitCode::unsupported,
                "seccomp: '" + std::string(name) + "' of the always-killed list is unknown to " +
                    "libseccomp " + libseccomp_version() + " for " + native_arch_name() +
                    " and has no number of its own in src/sandbox/killed_syscalls.hpp: refusing "
                    "a filter that would leave it to the default action");
  }
  return number;
}

std::vector<std::string> checked_killed_list(std::span<const std::string_view> names) {
  std::vector<std::string> killed;
  killed.reserve(names.size());
  for (const auto name : names) {
    (void)killed_syscall_number(name);
    killed.emplace_back(name);
  }
  return killed;
}

std::string native_arch_name() {
  switch (seccomp_arch_native()) {
    case SCMP_ARCH_X86_64:
      return "x86_64";
    case SCMP_ARCH_AARCH64:
      return "aarch64";
    default:
      return "arch-" + std::to_string(seccomp_arch_native());
  }
}

std::string libseccomp_version() {
  const scmp_version* version = seccomp_version();
  return std::to_string(version->major) + "." + std::to_string(version->minor) + "." +
         std::to_string(version->micro);
}

SeccompPolicy make_seccomp_policy(const Profile& profile) {
  SeccompPolicy policy;
  policy.default_action = profile.seccomp.default_action;
  // Views into the groups' static lists and the profile, sorted once: this runs on every
  // launch, and a std::set<std::string> of ~200 names cost a node allocation per name.
  std::vector<std::string_view> allowed;
  for (const auto& group_name : profile.seccomp.groups) {
    const SyscallGroup* group = find_syscall_group(group_name.value);
    if (group == nullptr) {
      throw ConfigError(group_name.where, group_name.key,
                        "unknown syscall group '" + group_name.value + "'");
    }
    allowed.insert(allowed.end(), group->syscalls.begin(), group->syscalls.end());
  }
  for (const auto& name : profile.seccomp.allow) {
    allowed.emplace_back(name.value);
  }
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  const auto is_allowed = [&allowed](std::string_view name) {
    return std::binary_search(allowed.begin(), allowed.end(), name);
  };
  for (const auto name : killed_syscalls) {
    if (is_allowed(name)) {
      throw ConfigError(Location{profile.file, 0}, "seccomp",
                        "the groups of this profile allow '" + std::string(name) +
                            "', which is on the always-killed list");
    }
  }
  // Between loading the filter and execve the launcher still reads /proc/self/status,
  // allocates, may report an error and exit; without these it would crash instead of
  // refusing cleanly, and the target could never start anyway.
  if (policy.default_action != SeccompDefault::log) {
    for (const auto name : launcher_syscalls()) {
      if (!is_allowed(name)) {
        throw ConfigError(profile.seccomp.groups.empty() ? profile.seccomp.allow.front().where
                                                         : profile.seccomp.groups.front().where,
                          "seccomp",
                          "the allowlist lacks '" + std::string(name) +
                              "', which the launcher itself needs after loading the "
                              "filter (group base has it)");
      }
    }
  }
  if (!profile.seccomp.sockets.empty()) {
    if (!is_allowed("socket")) {
      const auto& first = profile.seccomp.sockets.front();
      throw ConfigError(first.where, first.key,
                        "restricts socket(2), which no group or allow of this profile allows");
    }
    for (const auto& rule : profile.seccomp.sockets) {
      policy.socket_rules.push_back(rule.value);
    }
    std::sort(policy.socket_rules.begin(), policy.socket_rules.end(),
              [](const SocketRule& a, const SocketRule& b) { return a.name < b.name; });
  }
  policy.allowed.reserve(allowed.size());
  for (const auto name : allowed) {
    if (name == "socket" && !policy.socket_rules.empty()) {
      continue;  // allowed by the rules below only
    }
    if (name == "clone") {
      policy.clone_without_namespaces = true;
    } else if (std::find(policy.enosys.begin(), policy.enosys.end(), name) == policy.enosys.end()) {
      policy.allowed.emplace_back(name);
    }
  }
  // Every name on the list must reach the filter: one left out would get the default action.
  policy.killed = checked_killed_list(killed_syscalls);
  return policy;
}

std::string SeccompPolicy::canonical_text() const {
  std::string text = "pgguard-seccomp-policy 1\n";
  text.reserve(32 * (allowed.size() + killed.size() + 8));
  text.append("arch ").append(native_arch_name()).append("\n");
  text.append("libseccomp ").append(libseccomp_version()).append("\n");
  text.append("default ").append(to_string(default_action)).append("\n");
  text.append("badarch kill_process\n");
  for (const auto& name : allowed) {
    text.append("allow ").append(name).append("\n");
  }
  if (clone_without_namespaces) {
    text.append("allow clone if (arg0 & ")
        .append(std::to_string(kNamespaceCloneFlags))
        .append(") == 0\n");
  }
  text.append("deny clone if arg0 & ").append(std::to_string(kNamespaceCloneFlags)).append("\n");
  for (const auto& rule : socket_rules) {
    text.append("allow socket if ").append(socket_rule_condition(rule)).append("\n");
  }
  for (const auto& name : enosys) {
    text.append("enosys ").append(name).append("\n");
  }
  for (const auto& name : killed) {
    text.append("kill ")
        .append(name)
        .append(" ")
        .append(std::to_string(resolve_killed_syscall(name)))
        .append("\n");
  }
  return text;
}

std::string SeccompPolicy::digest() const {
  return sha256_hex(canonical_text());
}

}  // namespace pgguard::sandbox
