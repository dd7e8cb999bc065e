#pragma once

#include "sandbox/seccomp_compile.hpp"

namespace pgguard::sandbox {

// seccomp(SECCOMP_SET_MODE_FILTER) with the program; needs no_new_privs.
void load_seccomp(const BpfProgram& program);

}  // namespace pgguard::sandbox
