#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

// A job's pre-start and SELinux: the release's policy module loaded before anything of the job
// runs, and the domain each profile enters. I/O.
namespace pgguard::node {

struct SelinuxPolicyRequest {
  std::string module;                      // the .pp the release ships; empty: none named
  std::vector<std::string> relabel_paths;  // the job's directories and packages
  bool required = false;                   // selinux.required
};

// Where SELinux is enabled and enforcing: installs or upgrades the module and relabels the
// paths (selinux/loader.hpp). Where it is not: nothing, or UnsupportedError when required (a
// module loaded on a permissive host confines nothing). Returns one line per change.
std::vector<std::string> load_selinux_policy(const SelinuxPolicyRequest& request);

// "system_u:system_r:<type>:s0" where SELinux is enabled; nullopt elsewhere (a profile then
// names no domain, and the launcher has nothing to say about it).
std::optional<std::string> selinux_domain(std::string_view type);

}  // namespace pgguard::node
