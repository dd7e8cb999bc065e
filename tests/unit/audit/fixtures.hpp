#pragma once

#include <boost/test/unit_test.hpp>
#include <string>

#include "lib/golden.hpp"

namespace pgguard::audit::test {

// A fixture file of tests/unit/audit/data.
inline std::string fixture(const std::string& name) {
  return pgguard::test::read_source_file("tests/unit/audit/data/" + name);
}

// `text` with the first `from` replaced by `to`; fails the test when `from` is not there.
inline std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  BOOST_TEST_REQUIRE(at != std::string::npos, "'" << from << "' not in the fixture");
  return text.replace(at, from.size(), to);
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace pgguard::audit::test
