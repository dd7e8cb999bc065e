#pragma once

// The always-killed list, the one copy of it. Header-only and free of libseccomp, because two
// programs build on it: the launcher's filter (seccomp_policy.cpp, compiled by
// seccomp_compile.cpp), and the sandbox probe (tests/integration/sandbox/probe.cpp), which
// links nothing of ours and must call every name on the list under every shipped profile. A
// hand copy in the probe once missed five names.

#include <array>
#include <string_view>

// X(name) for each system call that kills the process whatever the profile says: each changes
// the kernel, the mount or namespace view, another process or the host clock, or (io_uring)
// performs operations seccomp never sees. docs/sandbox.md, "[seccomp]", lists them for operators.
// A macro list, so the probe can pair each name with the kernel headers' SYS_<name> at compile
// time: a name added here that the headers do not number fails the probe's build.
#define PGGUARD_ALWAYS_KILLED_SYSCALLS(X)                 \
  /* other processes and the kernel itself */             \
  X(ptrace)                                               \
  X(process_vm_readv)                                     \
  X(process_vm_writev)                                    \
  X(pidfd_getfd)                                          \
  X(kcmp)                                                 \
  X(bpf)                                                  \
  X(perf_event_open)                                      \
  X(userfaultfd)                                          \
  X(kexec_load)                                           \
  X(kexec_file_load)                                      \
  X(init_module)                                          \
  X(finit_module)                                         \
  X(delete_module)                                        \
  X(create_module)                                        \
  X(iopl)                                                 \
  X(ioperm)                                               \
  X(reboot)                                               \
  X(swapon)                                               \
  X(swapoff)                                              \
  X(acct)                                                 \
  X(syslog)                                               \
  X(uselib)                                               \
  X(lookup_dcookie)                                       \
  X(nfsservctl)                                           \
  X(vhangup)                                              \
  /* mounts, namespaces and the view of the filesystem */ \
  X(mount)                                                \
  X(umount2)                                              \
  X(pivot_root)                                           \
  X(chroot)                                               \
  X(unshare)                                              \
  X(setns)                                                \
  X(fsopen)                                               \
  X(fsconfig)                                             \
  X(fsmount)                                              \
  X(fspick)                                               \
  X(move_mount)                                           \
  X(open_tree)                                            \
  X(mount_setattr)                                        \
  X(open_by_handle_at)                                    \
  X(name_to_handle_at)                                    \
  X(quotactl)                                             \
  X(quotactl_fd)                                          \
  /* kernel keyrings */                                   \
  X(keyctl)                                               \
  X(add_key)                                              \
  X(request_key)                                          \
  /* io_uring runs operations that seccomp never sees */  \
  X(io_uring_setup)                                       \
  X(io_uring_enter)                                       \
  X(io_uring_register)                                    \
  /* host-wide clock and names */                         \
  X(settimeofday)                                         \
  X(clock_settime)                                        \
  X(clock_adjtime)                                        \
  X(sethostname)                                          \
  X(setdomainname)                                        \
  /* LSM self-attribute changes (kernel 6.8) */           \
  X(lsm_set_self_attr)

namespace pgguard::sandbox {

struct SyscallNumber {
  std::string_view name;
  long number;
};

// Killed system calls newer than the libseccomp (2.5.4) and the kernel headers (6.1) of the
// build host, Debian 12: neither can number them, and a name without a number would fall to
// the profile's default action (under `log`: allowed). Since kernel 5.1 (io_uring_setup = 425)
// a new system call gets the same number on every architecture but alpha, so one number serves
// x86_64 and aarch64. A unit test checks each against libseccomp and the kernel headers
// wherever those know the name.
inline constexpr std::array kSyscallNumbersNewerThanTheBuildHost{
    SyscallNumber{"lsm_set_self_attr", 460},
};

// The number kSyscallNumbersNewerThanTheBuildHost gives `name`, or -1.
constexpr long number_newer_than_the_build_host(std::string_view name) {
  for (const auto& entry : kSyscallNumbersNewerThanTheBuildHost) {
    if (entry.name == name) {
      return entry.number;
    }
  }
  return -1;
}

}  // namespace pgguard::sandbox
