#pragma once

// A shipped profile template (src/profiles/) rendered the way a job's pre-start renders it
// (node::render_profile), for the golden tests of the jobs' profiles.
#include <map>
#include <string>

#include "lib/golden.hpp"
#include "node/sandbox_settings.hpp"

namespace pgguard::test {

inline std::string render_shipped_profile(const std::string& name,
                                          const std::map<std::string, std::string>& placeholders,
                                          const node::ProfileAdjustment& adjustment) {
  return node::render_profile(read_source_file("src/profiles/" + name), name, placeholders,
                              adjustment);
}

}  // namespace pgguard::test
