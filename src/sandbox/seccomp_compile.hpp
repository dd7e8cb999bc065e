#pragma once

#include <linux/filter.h>

#include <vector>

#include "sandbox/seccomp_policy.hpp"

// A seccomp policy compiled to the classic BPF program the kernel runs: libseccomp builds it,
// the socket(2) rules (socket_rules.hpp) become argument filters. Stored by bpf_file.hpp,
// loaded by seccomp_load.hpp.
namespace pgguard::sandbox {

struct BpfProgram {
  std::vector<sock_filter> instructions;
};

// Compiles with libseccomp (allowlist, binary-tree optimisation, native arch only).
BpfProgram compile_seccomp(const SeccompPolicy& policy);

}  // namespace pgguard::sandbox
