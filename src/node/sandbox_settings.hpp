#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config_file.hpp"

// The operator's sandbox settings of a job (its spec's sandbox properties, rendered into the
// plan's [sandbox] section) and how they change a shipped profile. Pure.
namespace pgguard::node {

struct SandboxSettings {
  // For the job's service process (postgres, pgpool): the seccomp action for a system call
  // outside the allowlist (errno, kill_process; log only for staging) and rlimits replacing
  // or adding to the profile's.
  std::optional<std::string> seccomp_default_action;
  std::vector<std::pair<std::string, std::string>> rlimits;  // name, "soft:hard"
  // For every process of the job: refuse to run where the layer cannot be enforced.
  bool landlock_required = false;
  bool selinux_required = false;
};

// A plan's own keys plus those its [sandbox] section may hold, for its check_keys().
std::vector<config::KeyRule> with_sandbox_keys(std::vector<config::KeyRule> keys);

// Reads the [sandbox] section: an unknown action or rlimit name, a malformed limit or a limit
// given twice is a ConfigError naming the line.
SandboxSettings parse_sandbox_settings(const config::ConfigFile& file);

// What one profile gets: the settings of the process it runs, and the SELinux domain to
// enter where SELinux is enabled.
struct ProfileAdjustment {
  std::optional<std::string> seccomp_default_action;
  std::vector<std::pair<std::string, std::string>> rlimits;
  bool landlock_required = false;
  std::optional<std::string> selinux_context;
  bool selinux_required = false;
};

// For the service process (every setting) or a tool beside it (only what is required).
ProfileAdjustment service_adjustment(const SandboxSettings& settings);
ProfileAdjustment tool_adjustment(const SandboxSettings& settings);

// The instantiated profile with the adjustment applied: [rlimit] entries replaced or added,
// [seccomp] default_action (with `staging = true` for log), [landlock] required, and a
// [selinux] section with the context. Comments and every other line are kept; the caller
// parses the result as a profile.
std::string adjust_profile(std::string_view profile, const ProfileAdjustment& adjustment);

// A shipped profile template (`name` for messages) with its placeholders filled in
// (sandbox/profile_template.hpp) and the adjustment applied, parsed as a profile: a bad
// setting is refused here, in pre-start, rather than at monit's start. Returns its text.
std::string render_profile(std::string_view template_text, const std::string& name,
                           const std::map<std::string, std::string>& placeholders,
                           const ProfileAdjustment& adjustment);

}  // namespace pgguard::node
