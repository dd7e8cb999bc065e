#include "common/error.hpp"

#include <boost/test/unit_test.hpp>
#include <cerrno>

using namespace pgguard;

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(config_error_names_file_line_and_key) {
  const ConfigError error(Location{"/var/vcap/jobs/x/config/isolation.conf", 12}, "member",
                          "duplicate address");
  BOOST_TEST(std::string(error.what()) ==
             "/var/vcap/jobs/x/config/isolation.conf:12: member: duplicate address");
  BOOST_TEST(to_int(error.code()) == 2);
}

BOOST_AUTO_TEST_CASE(config_error_without_line_names_the_file) {
  const ConfigError error(Location{"p.conf", 0}, "user", "required key is missing");
  BOOST_TEST(std::string(error.what()) == "p.conf: user: required key is missing");
}

BOOST_AUTO_TEST_CASE(system_error_carries_errno_text) {
  const SystemError error("open /nonexistent", ENOENT);
  BOOST_TEST(std::string(error.what()) == "open /nonexistent: No such file or directory (errno 2)");
  BOOST_TEST(error.errno_value() == ENOENT);
  BOOST_TEST(to_int(error.code()) == 3);
}

BOOST_AUTO_TEST_CASE(exit_codes_are_stable) {
  // Operators and monit rely on these numbers (docs/exit-codes.md).
  BOOST_TEST(to_int(ExitCode::ok) == 0);
  BOOST_TEST(to_int(ExitCode::drift) == 1);
  BOOST_TEST(to_int(ExitCode::bad_input) == 2);
  BOOST_TEST(to_int(ExitCode::system) == 3);
  BOOST_TEST(to_int(ExitCode::unsupported) == 4);
  BOOST_TEST(to_int(UnsupportedError("no landlock").code()) == 4);
}

BOOST_AUTO_TEST_SUITE_END()
