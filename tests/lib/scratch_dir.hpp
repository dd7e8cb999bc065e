#pragma once

// A fresh directory under /tmp for one test case, removed with everything in it at the end.
#include <stdlib.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <string>
#include <system_error>

namespace pgguard::test {

class ScratchDir {
 public:
  ScratchDir() {
    char pattern[] = "/tmp/pgguard-unit-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
    path = pattern;
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }

  std::string path;
};

}  // namespace pgguard::test
