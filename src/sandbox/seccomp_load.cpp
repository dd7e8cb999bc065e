#include "sandbox/seccomp_load.hpp"

#include <linux/seccomp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.hpp"

namespace pgguard::sandbox {

void load_seccomp(const BpfProgram& program) {
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(program.instructions.size());
  fprog.filter = const_cast<sock_filter*>(program.instructions.data());
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) {
    throw SystemError("seccomp: seccomp(SECCOMP_SET_MODE_FILTER)", errno);
  }
}

}  // namespace pgguard::sandbox
