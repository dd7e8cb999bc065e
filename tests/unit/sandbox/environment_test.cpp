#include <boost/test/unit_test.hpp>

#include "sandbox/contain.hpp"
#include "test_support.hpp"

using namespace pgguard;
using namespace pgguard::sandbox;
using namespace pgguard::sandbox::test;

BOOST_AUTO_TEST_SUITE(environment)

BOOST_AUTO_TEST_CASE(only_passed_and_set_variables_survive) {
  const auto profile = profile_from(
      "user = nobody\nenv = PGDATA=/data\nenv = LANG=C\nenv_pass = LANG, TZ, MISSING\n"
      "[seccomp]\nallow = read\n");
  std::string lang = "LANG=en_US.UTF-8";
  std::string tz = "TZ=UTC";
  std::string secret = "AWS_SECRET_ACCESS_KEY=hunter2";
  std::string prefix = "LANGUAGE=de";  // shares a prefix with LANG, must not pass
  std::string preload = "LD_PRELOAD=/tmp/evil.so";
  char* caller[] = {secret.data(), prefix.data(), lang.data(), preload.data(), tz.data(), nullptr};
  const auto environment = target_environment(profile, caller);
  // Passed variables first, then the profile's own; a variable set by the profile is not
  // passed as well (the profile's LANG wins, and appears once).
  BOOST_TEST(environment == (std::vector<std::string>{"TZ=UTC", "PGDATA=/data", "LANG=C"}));
}

BOOST_AUTO_TEST_CASE(commands_resolve_in_the_target_path) {
  BOOST_TEST(resolve_command("/no/such/but/absolute", {}) == "/no/such/but/absolute");
  BOOST_TEST(resolve_command("sh", {"PATH=/nonexistent:/bin"}) == "/bin/sh");
  BOOST_TEST(error_of([] { resolve_command("sh", {"PATH=/nonexistent"}); }) ==
             "command 'sh' not found in PATH /nonexistent");
  BOOST_TEST(error_of([] { resolve_command("", {}); }) == "empty command");
}

BOOST_AUTO_TEST_SUITE_END()
