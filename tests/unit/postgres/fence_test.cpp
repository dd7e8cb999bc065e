#include "postgres/fence.hpp"

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"

using namespace pgguard::postgres;

namespace {

const std::string kSystem = "7436551948365182372";

SystemIdentity on_timeline(unsigned long timeline, const std::string& system = kSystem) {
  return SystemIdentity{system, timeline, {}};
}

std::string own_refusal(const std::string& answer) {
  try {
    parse_own_primary(answer);
  } catch (const pgguard::Error& error) {
    return error.what();
  }
  return "accepted";
}

std::vector<std::string> minimal() {
  return {"--psql", "/pkg/bin/psql", "--socket-dir", "/run/pg",
          "--user", "postgres",      "--pid-file",   "/run/pg/postgres.pid"};
}

std::vector<std::string> with(std::vector<std::string> words,
                              const std::vector<std::string>& more) {
  words.insert(words.end(), more.begin(), more.end());
  return words;
}

std::string options_refusal(const std::vector<std::string>& words) {
  try {
    parse_fence_options(words);
  } catch (const pgguard::Error& error) {
    return error.what();
  }
  return "accepted";
}

const std::vector<std::string> kPeer = {"--peer", "198.18.0.9",   "--role",     "replicator",
                                        "--ca",   "/conf/ca.crt", "--passfile", "/conf/pgpass"};

}  // namespace

BOOST_AUTO_TEST_SUITE(fence)

BOOST_AUTO_TEST_CASE(identify_system_gives_system_and_timeline) {
  const auto identity = parse_identify_system(kSystem +
                                              "\x1f"
                                              "3\x1f"
                                              "0/5000148\x1f\n");
  BOOST_REQUIRE(identity);
  BOOST_CHECK_EQUAL(identity->system, kSystem);
  BOOST_CHECK_EQUAL(identity->timeline, 3UL);
  BOOST_CHECK(!parse_identify_system(""));
  BOOST_CHECK(!parse_identify_system("psql: error: connection refused"));
  BOOST_CHECK(!parse_identify_system(kSystem + "\x1f"
                                               "three\x1f"
                                               "0/5000148"));
}

BOOST_AUTO_TEST_CASE(a_primary_reads_its_timeline_from_its_current_wal_segment) {
  // Promoted a moment ago: segment 00000003..., while the control file still says 2.
  const auto own = parse_own_primary("f\x1f" + kSystem +
                                     "\x1f"
                                     "000000030000000000000005\n");
  BOOST_REQUIRE(own);
  BOOST_CHECK_EQUAL(own->system, kSystem);
  BOOST_CHECK_EQUAL(own->timeline, 3UL);
  const auto hex = parse_own_primary("f\x1f" + kSystem +
                                     "\x1f"
                                     "0000001A0000000000000005");
  BOOST_REQUIRE(hex);
  BOOST_CHECK_EQUAL(hex->timeline, 26UL);
}

BOOST_AUTO_TEST_CASE(a_standby_has_nothing_to_fence) {
  BOOST_CHECK(!parse_own_primary("t\x1f" + kSystem + "\x1f\n"));
}

BOOST_AUTO_TEST_CASE(an_answer_it_cannot_read_is_an_error_not_a_guess) {
  BOOST_CHECK_EQUAL(own_refusal(""), "the server's answer about itself is not understood: ");
  BOOST_CHECK_EQUAL(own_refusal("f\x1f" + kSystem +
                                "\x1f"
                                "00000003"),
                    "the server's answer about itself is not understood: f\x1f" + kSystem +
                        "\x1f"
                        "00000003");
  BOOST_CHECK_NE(own_refusal("f\x1f" + kSystem +
                             "\x1f"
                             "00000003000000000000000g"),
                 "accepted");
  BOOST_CHECK_NE(own_refusal("x\x1f" + kSystem +
                             "\x1f"
                             "000000030000000000000005"),
                 "accepted");
}

BOOST_AUTO_TEST_CASE(a_primary_whose_peer_was_promoted_past_it_steps_down) {
  const auto decision = decide_fence(on_timeline(2), on_timeline(3), "198.18.0.9");
  BOOST_CHECK(decision.step_down);
  BOOST_CHECK_EQUAL(decision.reason,
                    "the peer 198.18.0.9 serves on timeline 3, this primary on 2: it was promoted "
                    "past this node, which steps down to rejoin as its standby");
}

BOOST_AUTO_TEST_CASE(the_newer_primary_and_a_healthy_pair_are_left_alone) {
  // The peer is the old primary, not yet rejoined: it is the one to step down.
  BOOST_CHECK(!decide_fence(on_timeline(3), on_timeline(2), "p").step_down);
  BOOST_CHECK(decide_fence(on_timeline(3), on_timeline(2), "p").reason.empty());
  // The standby of a healthy pair is on its primary's timeline.
  BOOST_CHECK(!decide_fence(on_timeline(3), on_timeline(3), "p").step_down);
}

BOOST_AUTO_TEST_CASE(nothing_is_done_on_missing_evidence) {
  BOOST_CHECK(!decide_fence(std::nullopt, on_timeline(3), "p").step_down);  // a standby
  BOOST_CHECK(!decide_fence(on_timeline(2), std::nullopt, "p").step_down);  // peer silent
}

BOOST_AUTO_TEST_CASE(a_peer_of_another_cluster_is_reported_never_obeyed) {
  const auto decision = decide_fence(on_timeline(2), on_timeline(9, "1111"), "198.18.0.9");
  BOOST_CHECK(!decision.step_down);
  BOOST_CHECK_EQUAL(decision.reason,
                    "the peer 198.18.0.9 holds another cluster (system 1111, "
                    "this one " +
                        kSystem + "): left alone");
}

BOOST_AUTO_TEST_CASE(options_round_trip_through_the_command_line) {
  const auto options = parse_fence_options(with(minimal(), kPeer));
  BOOST_CHECK_EQUAL(options.peer, "198.18.0.9");
  BOOST_CHECK_EQUAL(options.interval.count(), 5);
  BOOST_CHECK_EQUAL(options.port, 5432);
  const auto argv = fence_command("/pkg/bin/pgguard-fence", options);
  BOOST_CHECK_EQUAL(argv.front(), "/pkg/bin/pgguard-fence");
  const auto again = parse_fence_options(std::vector<std::string>(argv.begin() + 1, argv.end()));
  BOOST_CHECK(fence_command("/pkg/bin/pgguard-fence", again) == argv);
  BOOST_CHECK_EQUAL(own_conninfo(options),
                    "host=/run/pg port=5432 user=postgres dbname=postgres connect_timeout=5");
  BOOST_CHECK_EQUAL(peer_replication_conninfo(options),
                    "host=198.18.0.9 port=5432 user=replicator dbname=replication "
                    "replication=true sslmode=verify-full sslrootcert=/conf/ca.crt "
                    "passfile=/conf/pgpass connect_timeout=5");
}

BOOST_AUTO_TEST_CASE(a_node_without_a_peer_needs_no_peer_options) {
  const auto options = parse_fence_options(minimal());
  BOOST_CHECK(options.peer.empty());
  BOOST_CHECK(fence_command("/f", options).size() == minimal().size() + 5);
}

BOOST_AUTO_TEST_CASE(bad_options_are_named) {
  BOOST_CHECK_EQUAL(options_refusal(with(minimal(), {"--colour", "red"})),
                    "unknown option '--colour'");
  BOOST_CHECK_EQUAL(options_refusal(with(minimal(), {"--user", "other"})),
                    "--user needs exactly one value, given once");
  BOOST_CHECK_EQUAL(options_refusal(with(minimal(), {"--port"})),
                    "--port needs exactly one value, given once");
  BOOST_CHECK_EQUAL(options_refusal({"--psql", "/p"}), "missing --socket-dir");
  BOOST_CHECK_EQUAL(options_refusal(with(minimal(), {"--interval", "0"})),
                    "--interval must be a whole number from 1 to 3600, not '0'");
  BOOST_CHECK_EQUAL(options_refusal(with(minimal(), {"--port", "54x"})),
                    "--port must be a whole number from 1 to 65535, not '54x'");
  BOOST_CHECK_EQUAL(
      options_refusal({"--psql", "psql", "--socket-dir", "/s", "--user", "u", "--pid-file", "/p"}),
      "--psql must be an absolute path, not 'psql'");
  BOOST_CHECK_EQUAL(options_refusal(with(minimal(), {"--role", "replicator"})),
                    "--role, --ca and --passfile belong to a --peer");
  BOOST_CHECK_EQUAL(options_refusal(with(minimal(), {"--peer", "198.18.0.9"})), "missing --role");
}

BOOST_AUTO_TEST_SUITE_END()
