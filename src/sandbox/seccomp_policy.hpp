#pragma once

#include <seccomp.h>

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/profile.hpp"
#include "sandbox/socket_rules.hpp"

// The effective seccomp policy of a profile and what it is built from: the always-killed list,
// syscall numbers, the architecture and libseccomp version it is bound to. Compiled by
// seccomp_compile.hpp, stored by bpf_file.hpp, loaded by seccomp_load.hpp.
namespace pgguard::sandbox {

// System calls that kill the process whatever the profile says (src/sandbox/killed_syscalls.hpp):
// each one changes the kernel, the mount or namespace view, another process, or bypasses
// seccomp itself.
std::span<const std::string_view> always_killed_syscalls();
bool is_always_killed(std::string_view name);

// System calls the launcher makes after loading the filter (read back, error report, exec);
// a profile that does not allow them is refused unless its default action is 'log'.
std::span<const std::string_view> launcher_syscalls();

// clone(2) flags that would create namespaces; clone with any of them is refused.
constexpr unsigned long long kNamespaceCloneFlags = 0x00020000ULL    /* CLONE_NEWNS */
                                                    | 0x02000000ULL  /* CLONE_NEWCGROUP */
                                                    | 0x04000000ULL  /* CLONE_NEWUTS */
                                                    | 0x08000000ULL  /* CLONE_NEWIPC */
                                                    | 0x10000000ULL  /* CLONE_NEWUSER */
                                                    | 0x20000000ULL  /* CLONE_NEWPID */
                                                    | 0x40000000ULL; /* CLONE_NEWNET */

// The native syscall number, or a negative value when libseccomp does not know the name for
// this architecture.
int resolve_syscall(std::string_view name);

// The number a killed system call is filtered by: libseccomp's, else the one
// killed_syscalls.hpp gives a call newer than the build host; __NR_SCMP_ERROR when neither
// knows it. (A name libseccomp knows only for other architectures resolves to a negative
// pseudo number, which libseccomp leaves out of a native filter.)
int resolve_killed_syscall(std::string_view name);

// resolve_killed_syscall's number; throws Error(unsupported) for a name that has none, which
// would otherwise fall to the default action (under 'log': allowed).
int killed_syscall_number(std::string_view name);

// The names, each checked to have a number (killed_syscall_number).
std::vector<std::string> checked_killed_list(std::span<const std::string_view> names);

// The effective seccomp policy of a profile: groups expanded, sorted, special cases split off.
struct SeccompPolicy {
  SeccompDefault default_action = SeccompDefault::errno_eperm;
  std::vector<std::string> allowed;  // allowed unconditionally
  // socket(2) allowed only when one of these matches (then "socket" is not in `allowed`);
  // sorted by name. Empty: socket(2) is as `allowed` says.
  std::vector<SocketRule> socket_rules;
  bool clone_without_namespaces = false;  // clone allowed when no namespace flag is set
  std::vector<std::string> killed;        // the whole always-killed list, every name with a number
  std::vector<std::string> enosys{"clone3"};

  // Stable text from which the BPF-file hash is computed: any change of the effective policy,
  // of the architecture or of the libseccomp version changes it.
  std::string canonical_text() const;
  std::string digest() const;
};

SeccompPolicy make_seccomp_policy(const Profile& profile);

// What the policy is bound to: its canonical text and the BPF file's header name both.
std::string native_arch_name();
std::string libseccomp_version();

}  // namespace pgguard::sandbox
