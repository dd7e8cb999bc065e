#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace pgguard::selinux {

struct LoadRequest {
  std::string module_path;                 // the .pp the release ships
  std::vector<std::string> relabel_paths;  // the job's paths; relabelled after the load
  bool required = false;                   // selinux.required: SELinux off is an error
  std::optional<std::string> store_root;   // a sandbox store (tests, image builds): no kernel
};

// `pgguard-selinux load`. When SELinux is off: prints one notice and returns (the package is
// not even read), or throws UnsupportedError when `required`. When SELinux is enabled (or a
// sandbox store is named): validates the package (nothing changes on bad input), installs or
// upgrades the module and the release's port labels in one policy-store transaction, only when
// something differs; relabels the job's paths; verifies the store holds the shipped bytes enabled,
// the kernel knows the module's types and the paths carry the policy's types. A relabel that fails
// after an upgrade puts the previous module back before reporting.
void load_module(const LoadRequest& request, std::ostream& out);

}  // namespace pgguard::selinux
