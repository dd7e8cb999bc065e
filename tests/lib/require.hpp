#pragma once

// For Boost.Test executables that need root or a kernel feature: same rule as require.sh.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace pgguard::test {

[[noreturn]] inline void missing_prerequisite(const std::string& what) {
  const char* ci = std::getenv("CI");
  if (ci != nullptr && std::string(ci) == "true") {
    std::fprintf(stderr, "FAIL: prerequisite missing under CI: %s\n", what.c_str());
    std::exit(1);
  }
  std::fprintf(stderr, "SKIP: prerequisite missing: %s\n", what.c_str());
  std::exit(77);
}

inline void require_root() {
  if (::geteuid() != 0) {
    missing_prerequisite("root privileges");
  }
}

// Paths handed to tests by CTest (tests/CMakeLists.txt sets them).
inline std::string test_environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    std::fprintf(stderr, "FAIL: %s is not set; run the test through ctest\n", name);
    std::exit(1);
  }
  return value;
}

}  // namespace pgguard::test
