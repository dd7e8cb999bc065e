#include "common/error.hpp"

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <new>
#include <stdexcept>

#include "common/program_main.hpp"

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

// A failed allocation is reported as what it is, with its own exit code, not as a kernel refusal
// (exit code `system`) with std::bad_alloc's empty text.
BOOST_AUTO_TEST_SUITE(program_main)

BOOST_AUTO_TEST_CASE(out_of_memory_has_its_own_exit_code) {
  const int code = run_program("pgguard-test", []() -> int { throw std::bad_alloc(); });
  BOOST_TEST(code == to_int(ExitCode::out_of_memory));
  BOOST_TEST(code == 5);
  BOOST_TEST(std::string(kOutOfMemoryMessage).starts_with("out of memory"));
}

BOOST_AUTO_TEST_CASE(other_exit_codes_are_kept) {
  BOOST_TEST(run_program("pgguard-test", [] { return 0; }) == 0);
  BOOST_TEST(run_program("pgguard-test", []() -> int {
               throw ConfigError(Location{"p.conf", 1}, "user", "bad");
             }) == 2);
  BOOST_TEST(run_program("pgguard-test", []() -> int { throw std::runtime_error("x"); }) == 3);
}

BOOST_AUTO_TEST_SUITE_END()
