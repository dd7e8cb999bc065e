#pragma once

// Exit codes shared by every pgguard program; docs/exit-codes.md is the operator's copy.
namespace pgguard {

enum class ExitCode : int {
  ok = 0,
  drift = 1,        // a check found the kernel state differs from the desired state
  bad_input = 2,    // usage, configuration or profile error: nothing was changed
  system = 3,       // the kernel or the OS refused an operation: previous state kept
  unsupported = 4,  // a feature the configuration requires is missing on this host
  // A memory allocation failed (std::bad_alloc). Its own code, not `system`: no kernel call
  // was refused, and a retry on a host with free memory is the remedy.
  out_of_memory = 5,
  // pgguard-isolate: the change was made only in part (the new ruleset is in force, a sysctl
  // could not be written), or the kernel's answer to the batch was lost and reading the
  // ruleset back could not tell which one is in force. Never "previous state kept".
  incomplete = 6,
};

constexpr int to_int(ExitCode code) {
  return static_cast<int>(code);
}

}  // namespace pgguard
