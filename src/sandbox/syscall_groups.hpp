#pragma once

#include <span>
#include <string_view>

namespace pgguard::sandbox {

// A named set of system calls that a profile can allow with `[seccomp] group = NAME`.
// The lists are measured (strace of real workloads, see syscall_groups.cpp and
// tests/integration/sandbox/measure/), not copied: they go stale with new glibc and
// kernel releases, so they are regenerated and tested rather than trusted.
struct SyscallGroup {
  std::string_view name;
  std::string_view description;
  std::span<const std::string_view> syscalls;
};

// Every group, in a fixed order. Names are unique; no group holds a syscall of the
// always-killed list (ptrace, bpf, mount, ...).
std::span<const SyscallGroup> syscall_groups();

// The group called `name`, or nullptr if there is none.
const SyscallGroup* find_syscall_group(std::string_view name);

}  // namespace pgguard::sandbox
