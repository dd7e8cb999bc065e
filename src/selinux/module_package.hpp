#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pgguard::selinux {

// What the header of a compiled policy module package (.pp, as semodule_package and the
// reference policy's devel Makefile write it) says about the module inside.
struct ModuleHeader {
  std::string name;
  std::string version;
  std::uint32_t policy_version = 0;
};

// Parses the package header, bounds-checked at every step. Throws ConfigError naming
// `file_name` and what is wrong: not a module package, truncated, a base policy instead of a
// module, a name that is not a valid module name. The body is left to libsemanage, which
// checks it completely when the module is linked.
ModuleHeader parse_module_header(std::string_view package, const std::string& file_name);

// The module name a package file is expected to hold: its file name without directory and
// ".pp" (semodule's convention). Throws ConfigError when the name does not end in ".pp".
std::string expected_module_name(const std::string& path);

}  // namespace pgguard::selinux
