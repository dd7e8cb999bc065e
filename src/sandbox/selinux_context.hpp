#pragma once

#include <optional>
#include <string>

#include "sandbox/profile.hpp"

namespace pgguard::sandbox {

bool selinux_enabled();

struct SelinuxPlan {
  bool enabled = false;                // SELinux is enabled on this host
  std::optional<std::string> context;  // exec context to set, when enabled and named
  std::optional<std::string> notice;   // said once at launch when the context is skipped
};

// Pure; throws UnsupportedError when the profile requires SELinux and the host lacks it.
SelinuxPlan plan_selinux(const Profile& profile, bool enabled);

// Sets the plan's exec context for the next execve (setexeccon_raw(3)); a no-op without one.
void apply_selinux(const Profile& profile, const SelinuxPlan& plan);

}  // namespace pgguard::sandbox
