#pragma once

// Exit codes shared by every pgguard program; docs/exit-codes.md is the operator's copy.
namespace pgguard {

enum class ExitCode : int {
  ok = 0,
  drift = 1,        // a check found the kernel state differs from the desired state
  bad_input = 2,    // usage, configuration or profile error: nothing was changed
  system = 3,       // the kernel or the OS refused an operation: previous state kept
  unsupported = 4,  // a feature the configuration requires is missing on this host
};

constexpr int to_int(ExitCode code) {
  return static_cast<int>(code);
}

}  // namespace pgguard
