#pragma once

#include <string>

#include "common/config_file.hpp"
#include "lib/require.hpp"
#include "net/isolation_config.hpp"

namespace pgguard::net::test {

inline IsolationConfig parse_config(const std::string& text) {
  return parse_isolation_config(config::ConfigFile::parse(text, "t.conf"));
}

inline std::string source_path(const std::string& relative) {
  return pgguard::test::test_environment("PGGUARD_SOURCE_DIR") + "/" + relative;
}

inline IsolationConfig load_config(const std::string& relative) {
  return parse_isolation_config(config::ConfigFile::load(source_path(relative), kMaxConfigSize));
}

}  // namespace pgguard::net::test
