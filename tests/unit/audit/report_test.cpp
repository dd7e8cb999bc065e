#include "audit/report.hpp"

#include <boost/test/unit_test.hpp>

using namespace pgguard::audit;

BOOST_AUTO_TEST_SUITE(report)

BOOST_AUTO_TEST_CASE(renders_one_table_with_a_result_column) {
  const std::vector<Row> rows{
      {"seccomp", "pg-master/postgres pid 4242", "Seccomp 2 (filter)", "Seccomp 2 (filter)", true},
      {"no_new_privs", "pg-master/postgres pid 4242", "NoNewPrivs 1", "NoNewPrivs 0", false}};
  BOOST_TEST(
      render_table(rows) ==
      "CHECK        | SUBJECT                     | EXPECTED           | FOUND              | "
      "RESULT\n"
      "-------------+-----------------------------+--------------------+--------------------+------"
      "-\n"
      "seccomp      | pg-master/postgres pid 4242 | Seccomp 2 (filter) | Seccomp 2 (filter) | ok\n"
      "no_new_privs | pg-master/postgres pid 4242 | NoNewPrivs 1       | NoNewPrivs 0       | "
      "FAIL\n");
  BOOST_TEST(failed_rows(rows) == 1U);
}

BOOST_AUTO_TEST_CASE(wraps_long_cells_within_their_row) {
  const std::vector<Row> rows{{"children", "x",
                               "every descendant: same uid/gid/groups, capabilities, NoNewPrivs 1",
                               "ok", true}};
  const auto table = render_table(rows);
  BOOST_TEST(
      table ==
      "CHECK    | SUBJECT | EXPECTED                                       | FOUND | RESULT\n"
      "---------+---------+------------------------------------------------+-------+-------\n"
      "children | x       | every descendant: same uid/gid/groups,         | ok    | ok\n"
      "         |         | capabilities, NoNewPrivs 1                     |       |\n");
}

BOOST_AUTO_TEST_SUITE_END()
