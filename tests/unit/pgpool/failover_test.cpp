#include "pgpool/failover.hpp"

#include <boost/test/unit_test.hpp>

#include "common/error.hpp"

using namespace pgguard::pgpool;

namespace {

// pgpool's values: %d %h %p %P %H %r %N %S. Backend 0 the pg-master VM, 1 the pg-standby VM.
NodeEvent event(std::vector<std::string> values) {
  return parse_node_event(values);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(failover)

BOOST_AUTO_TEST_CASE(the_primary_lost_promotes_the_other_node_which_then_commits_alone) {
  const auto step =
      plan_detached(event({"0", "10.0.0.8", "5432", "0", "10.0.0.9", "5432", "10.0.0.8", "5432"}));
  BOOST_TEST((step.action == FailoverAction::promote));
  BOOST_TEST(step.host == "10.0.0.9");
  BOOST_TEST(step.port == 5432);
  const auto statements = step_statements(step.action);
  BOOST_TEST_REQUIRE(statements.size() == 3u);
  // Promoted only if still in recovery (pgpool may repeat the command), before its
  // synchronous standby (the node just lost) is let go.
  BOOST_TEST(statements[0] == "SELECT pg_promote(true, 60) WHERE pg_is_in_recovery()");
  BOOST_TEST(statements[1] == "ALTER SYSTEM SET synchronous_standby_names = ''");
  BOOST_TEST(statements[2] == "SELECT pg_reload_conf()");
}

// After a failover the pg-standby VM (backend 1) is the primary; losing it promotes backend 0.
BOOST_AUTO_TEST_CASE(roles_come_from_pgpool_not_from_backend_numbers) {
  const auto step =
      plan_detached(event({"1", "10.0.0.9", "5432", "1", "10.0.0.8", "5432", "10.0.0.9", "5432"}));
  BOOST_TEST((step.action == FailoverAction::promote));
  BOOST_TEST(step.host == "10.0.0.8");
}

BOOST_AUTO_TEST_CASE(the_standby_lost_lets_the_primary_commit_alone) {
  const auto step =
      plan_detached(event({"1", "10.0.0.9", "5432", "0", "10.0.0.8", "5432", "10.0.0.8", "5432"}));
  BOOST_TEST((step.action == FailoverAction::asynchronous));
  BOOST_TEST(step.host == "10.0.0.8");
  BOOST_TEST(step_statements(step.action) ==
             (std::vector<std::string>{"ALTER SYSTEM SET synchronous_standby_names = ''",
                                       "SELECT pg_reload_conf()"}));
}

BOOST_AUTO_TEST_CASE(nothing_to_promote_or_no_primary_known_does_nothing) {
  // The primary lost and pgpool has no other live node: %H is the lost node itself, or empty.
  BOOST_TEST(
      (plan_detached(event({"0", "10.0.0.8", "5432", "0", "10.0.0.8", "5432", "10.0.0.8", "5432"}))
           .action == FailoverAction::none));
  BOOST_TEST(
      (plan_detached(event({"0", "10.0.0.8", "5432", "0", "", "", "10.0.0.8", "5432"})).action ==
       FailoverAction::none));
  // A standby lost while no primary is known.
  BOOST_TEST(
      (plan_detached(event({"1", "10.0.0.9", "5432", "-1", "10.0.0.8", "5432", "", ""})).action ==
       FailoverAction::none));
  BOOST_TEST(step_statements(FailoverAction::none).empty());
}

BOOST_AUTO_TEST_CASE(a_standby_attached_again_brings_synchronous_replication_back) {
  const auto step =
      plan_attached(event({"0", "10.0.0.8", "5432", "1", "10.0.0.8", "5432", "10.0.0.9", "5432"}));
  BOOST_TEST((step.action == FailoverAction::synchronous));
  BOOST_TEST(step.host == "10.0.0.9");
  BOOST_TEST(step_statements(step.action) ==
             (std::vector<std::string>{"ALTER SYSTEM RESET synchronous_standby_names",
                                       "SELECT pg_reload_conf()"}));
  // The primary itself attached (or none known): nothing to switch.
  BOOST_TEST(
      (plan_attached(event({"1", "10.0.0.9", "5432", "1", "10.0.0.8", "5432", "10.0.0.9", "5432"}))
           .action == FailoverAction::none));
  BOOST_TEST(
      (plan_attached(event({"0", "10.0.0.8", "5432", "-1", "10.0.0.8", "5432", "", ""})).action ==
       FailoverAction::none));
}

BOOST_AUTO_TEST_CASE(values_that_are_not_what_pgpool_passes_are_refused) {
  const std::vector<std::string> good = {"0",        "10.0.0.8", "5432",     "0",
                                         "10.0.0.9", "5432",     "10.0.0.8", "5432"};
  const auto refused = [&good](std::size_t index, const std::string& value,
                               const std::string& message) {
    auto values = good;
    values[index] = value;
    try {
      parse_node_event(values);
      BOOST_ERROR("accepted '" << value << "' at " << index);
    } catch (const pgguard::Error& error) {
      BOOST_TEST(std::string(error.what()).find(message) != std::string::npos, error.what());
    }
  };
  refused(0, "x", "node (%d): 'x' is not a number");
  refused(0, "-1", "pgpool names no node");
  refused(0, "", "pgpool names no node");
  refused(1, "10.0.0.8; rm -rf /", "host (%h): '10.0.0.8; rm -rf /' is not a host name");
  refused(2, "-5", "port (%p): '-5' is not a number from 0 to 65535");
  refused(4, "$(id)", "new main host (%H)");
  refused(5, "70000", "new main port (%r): '70000' is not a number from 0 to 65535");
  refused(7, "5432x", "old primary port (%S)");
  BOOST_CHECK_THROW(parse_node_event({"0", "10.0.0.8"}), pgguard::Error);
}

// A lost VM answers nothing; a postmaster monit is starting again has a VM that refuses.
BOOST_AUTO_TEST_CASE(a_look_at_the_detached_primary_tells_a_restart_from_a_loss) {
  using pgguard::net::TcpAnswer;
  BOOST_TEST((classify_answer(TcpAnswer::refused, -1, "") == NodeAnswer::refuses));
  BOOST_TEST((classify_answer(TcpAnswer::silent, -1, "") == NodeAnswer::silent));
  BOOST_TEST((classify_answer(TcpAnswer::connected, 0, "f\n") == NodeAnswer::serves_primary));
  BOOST_TEST((classify_answer(TcpAnswer::connected, 0, "t\n") == NodeAnswer::serves_standby));
  // psql under pgpool's sandbox warns first (it may not change into its own directory).
  BOOST_TEST((classify_answer(TcpAnswer::connected, 0,
                              "could not change directory to \"/usr/lib/postgresql/15/bin\": "
                              "Operation not permitted\nf\n") == NodeAnswer::serves_primary));
  // Connected, then the server says it is not ready: still a restart under way.
  BOOST_TEST((classify_answer(TcpAnswer::connected, 2,
                              "psql: error: connection to server at \"10.0.0.8\", port 5432 "
                              "failed: FATAL:  the database system is starting up\n") ==
              NodeAnswer::refuses));
  // Connected, then nothing (a VM whose processes are stopped): libpq's connect_timeout.
  BOOST_TEST((classify_answer(TcpAnswer::connected, 2,
                              "psql: error: connection to server at \"10.0.0.8\", port 5432 "
                              "failed: timeout expired\n") == NodeAnswer::silent));
  // An answer that is neither t nor f is no evidence of a primary.
  BOOST_TEST((classify_answer(TcpAnswer::connected, 0, "") == NodeAnswer::refuses));
}

BOOST_AUTO_TEST_CASE(only_a_refusing_vm_within_the_budget_delays_the_step) {
  for (const bool was_primary : {true, false}) {
    BOOST_TEST(
        (judge_detached(NodeAnswer::refuses, was_primary, false, false) == DetachedVerdict::wait));
    BOOST_TEST((judge_detached(NodeAnswer::refuses, was_primary, false, true) ==
                DetachedVerdict::proceed));
    for (const bool spent : {false, true}) {
      BOOST_TEST((judge_detached(NodeAnswer::silent, was_primary, false, spent) ==
                  DetachedVerdict::proceed));
    }
  }
}

BOOST_AUTO_TEST_CASE(a_node_back_in_its_own_role_is_kept_even_at_the_last_look) {
  for (const bool spent : {false, true}) {
    BOOST_TEST(
        (judge_detached(NodeAnswer::serves_primary, true, false, spent) == DetachedVerdict::keep));
    BOOST_TEST(
        (judge_detached(NodeAnswer::serves_standby, false, false, spent) == DetachedVerdict::keep));
    // In the other role it is no longer the node pgpool lost: the planned step goes ahead.
    BOOST_TEST((judge_detached(NodeAnswer::serves_standby, true, false, spent) ==
                DetachedVerdict::proceed));
    BOOST_TEST((judge_detached(NodeAnswer::serves_primary, false, false, spent) ==
                DetachedVerdict::proceed));
  }
}

BOOST_AUTO_TEST_CASE(a_primary_whose_drain_promoted_its_peer_is_not_waited_for) {
  BOOST_TEST((judge_detached(NodeAnswer::refuses, true, true, false) == DetachedVerdict::proceed));
  // A standby's peer is the primary anyway: that says nothing about a restart.
  BOOST_TEST((judge_detached(NodeAnswer::refuses, false, true, false) == DetachedVerdict::wait));
  // Back as the primary beside a promoted peer: pgpool must not get two primaries; the step
  // (promote, idempotent) goes ahead and the fence stops the one on the older timeline.
  BOOST_TEST(
      (judge_detached(NodeAnswer::serves_primary, true, true, false) == DetachedVerdict::proceed));
}

BOOST_AUTO_TEST_SUITE_END()
