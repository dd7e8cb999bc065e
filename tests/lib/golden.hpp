#pragma once

// Golden-file comparison for Boost.Test: a rendered text must equal the reviewed file in the
// source tree; on a difference the rendered text is written beside the test's working
// directory as NAME.actual, to diff and, after review, to copy over the golden file.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "lib/require.hpp"

namespace pgguard::test {

inline std::string read_source_file(const std::string& relative) {
  const std::string path = test_environment("PGGUARD_SOURCE_DIR") + "/" + relative;
  std::ifstream stream(path);
  BOOST_TEST_REQUIRE(stream.good(), "cannot read " << path);
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

inline void check_golden(const std::string& rendered, const std::string& golden_relative) {
  const auto expected = read_source_file(golden_relative);
  if (rendered != expected) {
    std::ofstream(golden_relative.substr(golden_relative.rfind('/') + 1) + ".actual") << rendered;
  }
  BOOST_TEST(rendered == expected);
}

}  // namespace pgguard::test
