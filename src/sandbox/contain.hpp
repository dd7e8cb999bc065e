#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sandbox/sandbox_plan.hpp"
#include "sandbox/seccomp_compile.hpp"

namespace pgguard::sandbox {

struct LaunchRequest {
  std::string executable;         // resolved path of the target
  std::vector<std::string> argv;  // argv[0] as given on the command line
  std::vector<std::string> envp;  // NAME=value, already filtered by the profile
  std::optional<std::string> pidfile;
};

// Resolves a command like execvp, with the PATH of the target's environment (or
// /usr/local/bin:/usr/bin:/bin); throws Error(bad_input) when there is none.
std::string resolve_command(const std::string& command, const std::vector<std::string>& envp);

// The target's environment: the profile's env_pass taken from `caller`, then its env set.
std::vector<std::string> target_environment(const Profile& profile, char** caller);

// Applies the plan to the calling process in the one order that works, verifies the result
// and replaces the process with the target. Returns only by throwing; on any failure the
// target has not been started.
[[noreturn]] void contain_and_exec(const SandboxPlan& plan, const BpfProgram& seccomp_program,
                                   const LaunchRequest& request);

}  // namespace pgguard::sandbox
