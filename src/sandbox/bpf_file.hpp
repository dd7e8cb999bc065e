#pragma once

#include <string>
#include <string_view>

#include "sandbox/seccomp_compile.hpp"
#include "sandbox/seccomp_policy.hpp"

// The BPF file `pgguard-launch compile` writes and `run --seccomp-bpf` reads: a text header
// (format, arch, libseccomp version, policy digest, program digest, instruction count), an
// empty line, then the raw sock_filter array.
namespace pgguard::sandbox {

void write_bpf_file(const std::string& path, const SeccompPolicy& policy, const BpfProgram& program,
                    const std::string& profile_file);
std::string bpf_file_contents(const SeccompPolicy& policy, const BpfProgram& program,
                              const std::string& profile_file);
// Verifies the header against `policy` and the program against its digest; a stale or
// tampered file throws Error(bad_input). `path` is only used in messages.
BpfProgram parse_bpf_file(std::string_view contents, const SeccompPolicy& policy,
                          const std::string& path);
// Opens without following links, requires an owner of root or the caller and no group or
// other write permission, then parses.
BpfProgram read_bpf_file(const std::string& path, const SeccompPolicy& policy);

}  // namespace pgguard::sandbox
