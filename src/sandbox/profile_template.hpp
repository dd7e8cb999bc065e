#pragma once

#include <map>
#include <string>
#include <string_view>

// Profile templates: the release ships one template per process kind (e.g.
// postgres-server.conf.in) with @NAME@ placeholders, and each job fills in its own paths,
// user and ports. One source for the profiles of pg-master and pg-standby, and for the tests.
namespace pgguard::sandbox {

// Pure. Replaces every @NAME@ with values.at(NAME). Throws ConfigError (naming template:line)
// for a placeholder without a value, and for a value that could change
// the profile's structure instead of filling one field: a line break, a control character, a
// '#' (a comment) or a '[' (a section).
std::string instantiate_profile(std::string_view template_text, const std::string& template_name,
                                const std::map<std::string, std::string>& values);

}  // namespace pgguard::sandbox
