#include "audit/proc_text.hpp"

#include <boost/test/unit_test.hpp>

#include "common/error.hpp"
#include "fixtures.hpp"

using namespace pgguard;
using namespace pgguard::audit;
using namespace pgguard::audit::test;

BOOST_AUTO_TEST_SUITE(proc_text)

BOOST_AUTO_TEST_CASE(reads_every_limit_of_proc_pid_limits) {
  const auto limits = parse_proc_limits(fixture("postgres.limits"));
  BOOST_TEST(limits.size() == 16U);
  BOOST_TEST(limits.at(RLIMIT_NOFILE).soft == 4096U);
  BOOST_TEST(limits.at(RLIMIT_NOFILE).hard == 4096U);
  BOOST_TEST(limits.at(RLIMIT_STACK).hard == 8388608U);
  BOOST_TEST(limits.at(RLIMIT_CORE).hard == 0U);
  BOOST_TEST((limits.at(RLIMIT_CPU).soft == RLIM_INFINITY));
  BOOST_TEST(limits.at(RLIMIT_NICE).hard == 0U);
}

BOOST_AUTO_TEST_CASE(refuses_a_malformed_limit_naming_its_line) {
  const auto text = replaced(fixture("postgres.limits"), "Max open files            4096",
                             "Max open files            many");
  try {
    (void)parse_proc_limits(text);
    BOOST_FAIL("expected an error");
  } catch (const Error& error) {
    BOOST_TEST(std::string(error.what()) == "/proc/PID/limits:9: Max open files: malformed values");
  }
}

BOOST_AUTO_TEST_CASE(reads_the_parent_after_the_last_parenthesis) {
  BOOST_TEST(parse_stat_parent("4250 (postgres) S 4242 4242 4242 0 -1 4194560 ...").value() ==
             4242);
  BOOST_TEST(parse_stat_parent("77 (a) b (c) S 1 77 77 0").value() == 1);
  BOOST_TEST(!parse_stat_parent("garbage").has_value());
  BOOST_TEST(!parse_stat_parent("1 (x) S").has_value());
}

BOOST_AUTO_TEST_CASE(finds_children_and_grandchildren) {
  const std::vector<std::pair<pid_t, pid_t>> parents{
      {1, 0}, {4242, 1}, {4251, 4242}, {4250, 4242}, {4300, 4251}, {5000, 1}, {5001, 5000}};
  BOOST_TEST(descendants_of(4242, parents) == (std::vector<pid_t>{4250, 4251, 4300}),
             boost::test_tools::per_element());
  BOOST_TEST(descendants_of(4300, parents).empty());
}

BOOST_AUTO_TEST_CASE(reads_a_pid_file) {
  BOOST_TEST(parse_pid_file("4242\n").value() == 4242);
  BOOST_TEST(parse_pid_file("4242").value() == 4242);
  BOOST_TEST(!parse_pid_file("").has_value());
  BOOST_TEST(!parse_pid_file("0\n").has_value());
  BOOST_TEST(!parse_pid_file("-1\n").has_value());
  BOOST_TEST(!parse_pid_file("42 43\n").has_value());
  BOOST_TEST(!parse_pid_file("42\n43\n").has_value());
}

// A backend that exits while the errand reads it: as the 6.1 kernel shows a zombie, and a
// process whose exit has released its filesystem context (no Umask line yet State still R).
BOOST_AUTO_TEST_CASE(sees_a_process_that_is_exiting) {
  const std::string running =
      "Name:\tpostgres\nUmask:\t0077\nState:\tS (sleeping)\nTgid:\t11595\nPid:\t11595\n";
  BOOST_TEST(!status_shows_exit(running));
  BOOST_TEST(status_shows_exit("Name:\tpostgres\nState:\tZ (zombie)\nTgid:\t11595\n"));
  BOOST_TEST(status_shows_exit("Name:\tpostgres\nUmask:\t0077\nState:\tX (dead)\n"));
  BOOST_TEST(status_shows_exit("Name:\tpostgres\nState:\tR (running)\nTgid:\t11595\n"));
  BOOST_TEST(!status_shows_exit("Name:\tpostgres\nUmask:\t0077\nState:\tD (disk sleep)"));
}

BOOST_AUTO_TEST_CASE(strips_the_nul_and_newline_of_a_security_context) {
  BOOST_TEST(security_context_text(std::string("system_u:system_r:secpg_postgres_t:s0\0\n", 39)) ==
             "system_u:system_r:secpg_postgres_t:s0");
}

BOOST_AUTO_TEST_SUITE_END()
