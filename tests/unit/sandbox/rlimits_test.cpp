#include "sandbox/rlimits.hpp"

#include <boost/test/unit_test.hpp>

using namespace pgguard::sandbox;

namespace {

LimitPair parsed(const std::string& text, LimitUnit unit = LimitUnit::bytes) {
  LimitPair pair{1, 1};
  const auto error = parse_limit(text, unit, pair);
  BOOST_TEST(!error.has_value(), text << ": " << error.value_or(""));
  return pair;
}

std::string error_of(const std::string& text, LimitUnit unit = LimitUnit::count) {
  LimitPair pair{7, 7};
  const auto error = parse_limit(text, unit, pair);
  BOOST_TEST(pair.soft == 7U);  // untouched on error
  return error.value_or("(no error)");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(rlimits)

BOOST_AUTO_TEST_CASE(soft_hard_single_and_unlimited) {
  BOOST_TEST(parsed("1024:4096").soft == 1024U);
  BOOST_TEST(parsed("1024:4096").hard == 4096U);
  BOOST_TEST(parsed("256").soft == 256U);
  BOOST_TEST(parsed("256").hard == 256U);
  BOOST_TEST((parsed("0:unlimited").hard == RLIM_INFINITY));
  BOOST_TEST((parsed("unlimited").soft == RLIM_INFINITY));
  BOOST_TEST(parsed(" 1 : 2 ").hard == 2U);
}

BOOST_AUTO_TEST_CASE(byte_suffixes) {
  BOOST_TEST(parsed("8K").soft == 8192U);
  BOOST_TEST(parsed("1M:2G").soft == (rlim_t{1} << 20));
  BOOST_TEST(parsed("1M:2G").hard == (rlim_t{2} << 30));
  BOOST_TEST(parsed("1T").hard == (rlim_t{1} << 40));
}

BOOST_AUTO_TEST_CASE(malformed) {
  BOOST_TEST(error_of("") == "soft limit: empty limit");
  BOOST_TEST(error_of("abc") == "soft limit: 'abc' is not a number or 'unlimited'");
  BOOST_TEST(error_of("1:") == "hard limit: empty limit");
  BOOST_TEST(error_of("1:2:3") == "expected 'soft:hard'");
  BOOST_TEST(error_of("5:4") == "soft limit is above the hard limit");
  BOOST_TEST(error_of("unlimited:10") == "soft limit is above the hard limit");
  BOOST_TEST(error_of("-1") == "soft limit: '-1' is not a number or 'unlimited'");
  BOOST_TEST(error_of("10K") == "soft limit: a size suffix is only valid for byte limits");
  BOOST_TEST(error_of("99999999999999999999") ==
             "soft limit: '99999999999999999999' is not a number or 'unlimited'");
  BOOST_TEST(error_of("17000000T", LimitUnit::bytes) == "soft limit: value too large");
  BOOST_TEST(error_of("100", LimitUnit::priority) ==
             "soft limit: a priority limit is between 0 and 99");
}

BOOST_AUTO_TEST_CASE(table_covers_the_profile_keys) {
  for (const char* name :
       {"nofile", "nproc", "core", "as", "data", "stack", "cpu", "nice", "rtprio"}) {
    BOOST_TEST(find_rlimit_kind(name) != nullptr, name);
  }
  BOOST_TEST(find_rlimit_kind("core")->resource == RLIMIT_CORE);
  BOOST_TEST(find_rlimit_kind("nofile")->resource == RLIMIT_NOFILE);
  BOOST_TEST(find_rlimit_kind("fds") == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
