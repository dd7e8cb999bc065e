#include "common/strings.hpp"

#include <boost/test/unit_test.hpp>

using pgguard::join;
using pgguard::split;
using pgguard::trim;

BOOST_AUTO_TEST_SUITE(strings)

BOOST_AUTO_TEST_CASE(trim_removes_surrounding_whitespace_only) {
  BOOST_TEST(trim("  a b \t\r\n") == "a b");
  BOOST_TEST(trim("") == "");
  BOOST_TEST(trim(" \t ") == "");
  BOOST_TEST(trim("x") == "x");
}

BOOST_AUTO_TEST_CASE(split_drops_empty_pieces) {
  const std::vector<std::string> expected{"a", "b", "c"};
  BOOST_TEST(split(",a,,b c,", ", ") == expected, boost::test_tools::per_element());
  BOOST_TEST(split("", ",").empty());
  BOOST_TEST(split(",,,", ",").empty());
}

BOOST_AUTO_TEST_CASE(join_inverts_split) {
  BOOST_TEST(join({"a", "b", "c"}, ", ") == "a, b, c");
  BOOST_TEST(join({}, ",") == "");
  BOOST_TEST(join(split("x y z", " "), " ") == "x y z");
}

BOOST_AUTO_TEST_SUITE_END()
