#pragma once

#include <optional>
#include <string>

#include "sandbox/profile.hpp"

namespace pgguard::sandbox {

bool selinux_enabled();
// /sys/fs/selinux/enforce: true enforcing, false permissive; nullopt when SELinux is off or the
// state cannot be read.
std::optional<bool> selinux_enforcing();

struct SelinuxPlan {
  bool enabled = false;                // SELinux is enabled on this host
  std::optional<std::string> context;  // exec context to set, when enabled and named
  std::optional<std::string> notice;   // said once at launch when the context is skipped
  std::optional<std::string> unmet;    // selinux.required not met (only when reported)
};

// Pure. When the profile requires SELinux and the host lacks it, or has it permissive (a domain
// then confines nothing): throws UnsupportedError, or with UnmetRequirement::report says why in
// `unmet` and plans as without the requirement. Permissive without the requirement: the domain
// is entered, and the notice says that nothing of it is enforced.
SelinuxPlan plan_selinux(const Profile& profile, bool enabled, bool enforcing,
                         UnmetRequirement unmet = UnmetRequirement::refuse);

// Sets the plan's exec context for the next execve (setexeccon_raw(3)); a no-op without one.
void apply_selinux(const Profile& profile, const SelinuxPlan& plan);

}  // namespace pgguard::sandbox
