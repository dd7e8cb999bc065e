#pragma once

#include <string>

#include "sandbox/identity.hpp"
#include "sandbox/landlock.hpp"
#include "sandbox/process_status.hpp"
#include "sandbox/profile.hpp"
#include "sandbox/seccomp_policy.hpp"
#include "sandbox/selinux_context.hpp"

namespace pgguard::sandbox {

// What the host offers; detected by the launcher, given by hand in unit tests.
struct HostFacts {
  int landlock_abi = 0;
  bool selinux_enabled = false;
  bool selinux_enforcing = false;  // meaningful only when enabled
};

// Everything the launcher will do for a profile, computed without touching the process:
// `explain` prints it, `run` executes it step by step and checks the result against
// `expected_status`.
struct SandboxPlan {
  Profile profile;
  Identity identity;
  HostFacts host;
  SeccompPolicy seccomp;
  LandlockPlan landlock;
  SelinuxPlan selinux;
  std::uint64_t bounding = 0;  // CAP_* mask
  std::uint64_t ambient = 0;
  ProcessStatus expected_status;  // /proc/self/status just before execve
};

// With UnmetRequirement::report (explain), a `required = true` the host cannot meet is listed
// in the plan instead of refused.
SandboxPlan make_sandbox_plan(Profile profile, Identity identity, HostFacts host,
                              UnmetRequirement unmet = UnmetRequirement::refuse);

// The human-readable explanation, ending with an exposure summary in the manner of
// `systemd-analyze security`.
std::string explain_plan(const SandboxPlan& plan);

struct ExposureItem {
  bool secure;
  double weight;  // how much this item adds to the exposure when it is not secure
  std::string setting;
  std::string description;
};
std::vector<ExposureItem> exposure_items(const SandboxPlan& plan);
// 0.0 (nothing exposed) to 10.0 (nothing confined), like systemd's scale.
double exposure_score(const std::vector<ExposureItem>& items);

}  // namespace pgguard::sandbox
