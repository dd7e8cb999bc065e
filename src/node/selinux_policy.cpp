#include "node/selinux_policy.hpp"

#include <sstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/strings.hpp"
#include "sandbox/selinux_context.hpp"
#include "selinux/loader.hpp"

namespace pgguard::node {

std::vector<std::string> load_selinux_policy(const SelinuxPolicyRequest& request) {
  if (!sandbox::selinux_enabled()) {
    if (request.required) {
      throw UnsupportedError(
          "SELinux is not enabled on this host, and selinux.required is true: nothing started");
    }
    return {};
  }
  if (request.required && !sandbox::selinux_enforcing().value_or(false)) {
    throw UnsupportedError(
        "SELinux is permissive on this host, and selinux.required is true: a loaded module "
        "would confine nothing (setenforce 1, or set SELINUX=enforcing)");
  }
  if (request.module.empty()) {
    throw Error(ExitCode::bad_input,
                "SELinux is enabled, but the plan names no policy module (paths.selinux_module)");
  }
  selinux::LoadRequest load;
  load.module_path = request.module;
  load.relabel_paths = request.relabel_paths;
  load.required = request.required;
  std::ostringstream report;
  selinux::load_module(load, report);
  // What changed: the loader also says what it found as it should be.
  std::vector<std::string> changes;
  for (const auto& line : split(report.str(), "\n")) {
    if (line.find("already installed") == std::string::npos &&
        line.find("labels match the policy") == std::string::npos) {
      changes.push_back(line);
    }
  }
  return changes;
}

std::optional<std::string> selinux_domain(std::string_view type) {
  if (!sandbox::selinux_enabled()) {
    return std::nullopt;
  }
  return "system_u:system_r:" + std::string(type) + ":s0";
}

}  // namespace pgguard::node
