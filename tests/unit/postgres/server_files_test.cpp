#include "postgres/server_files.hpp"

#include <boost/test/unit_test.hpp>

#include "lib/golden.hpp"
#include "plan_fixture.hpp"

using namespace pgguard::postgres;
using pgguard::postgres::test::golden_plan;
using pgguard::postgres::test::source_path;

// Reviewed by hand; the job tests (tests/integration/jobs) run PostgreSQL with these files.
using pgguard::test::check_golden;

BOOST_AUTO_TEST_SUITE(server_files)

BOOST_AUTO_TEST_CASE(golden_postgresql_conf) {
  check_golden(render_postgresql_conf(golden_plan()), "tests/unit/postgres/data/postgresql.conf");
}

BOOST_AUTO_TEST_CASE(golden_pg_hba_conf) {
  check_golden(render_pg_hba_conf(golden_plan()), "tests/unit/postgres/data/pg_hba.conf");
}

BOOST_AUTO_TEST_CASE(asynchronous_replication_names_no_synchronous_standby) {
  auto plan = golden_plan();
  plan.server.synchronous_commit = false;
  const auto text = render_postgresql_conf(plan);
  BOOST_TEST(text.find("synchronous_commit = local\n") != std::string::npos);
  BOOST_TEST(text.find("synchronous_standby_names = ''\n") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(ipv6_peers_get_host_routes_of_their_family) {
  auto plan = golden_plan();
  plan.pgpool_addresses = {"2001:db8::13"};
  BOOST_TEST(render_pg_hba_conf(plan).find("hostssl all all 2001:db8::13/128 scram-sha-256\n") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(hba_refuses_before_it_allows) {
  const auto text = render_pg_hba_conf(golden_plan());
  // The superuser and the replication role are rejected over TCP before any client line.
  const auto superuser = text.find("host all postgres all reject");
  const auto replicator = text.find("host all replicator all reject");
  const auto first_client = text.find("hostssl all all ");
  BOOST_TEST(superuser < first_client);
  BOOST_TEST(replicator < first_client);
  BOOST_TEST(text.find("trust") == std::string::npos);
  BOOST_TEST(text.find("\nhost all all all reject\n") != std::string::npos);
  BOOST_TEST(text.substr(text.size() - 25) == "\nhost all all all reject\n");
}

BOOST_AUTO_TEST_CASE(a_standby_streams_from_its_primary_over_verified_tls) {
  const auto plan = pgguard::postgres::parse_node_plan(
      pgguard::config::ConfigFile::load(source_path("spec/fixtures/pg-standby/node.conf")));
  const auto text = render_postgresql_conf(plan);
  BOOST_TEST(text.find("primary_conninfo = 'host=198.18.1.11 port=5432 user=replicator "
                       "passfile=/var/vcap/data/pg-standby/config/pgpass sslmode=verify-full "
                       "sslrootcert=/var/vcap/data/pg-standby/config/ca.crt "
                       "application_name=standby_0'\n") != std::string::npos,
             text);
  BOOST_TEST(text.find("primary_slot_name = 'standby_0'\n") != std::string::npos);
  // Promoted, it waits for the old master, rejoined through its own slot.
  BOOST_TEST(text.find("synchronous_standby_names = 'ANY 1 (master_0)'\n") != std::string::npos);
  // The failover role's line: a drain of this node, serving as the primary, promotes its peer.
  BOOST_TEST(render_pgpass(plan) ==
             "198.18.1.11:5432:replication:replicator:replication secret\n"
             "198.18.1.11:5432:postgres:replicator:replication secret\n"
             "198.18.1.11:5432:postgres:failover:failover secret\n"
             "198.18.1.12:5432:replication:replicator:replication secret\n");
}

// The master may become the standby after a failover: it names the peer it would stream from
// (read only while standby.signal exists), and may read what pg_rewind needs from it.
BOOST_AUTO_TEST_CASE(the_master_names_where_it_would_stream_as_a_standby) {
  const auto text = render_postgresql_conf(golden_plan());
  BOOST_TEST(text.find("primary_conninfo = 'host=198.18.1.12 port=5432 user=replicator "
                       "passfile=/var/vcap/data/pg-master/config/pgpass sslmode=verify-full "
                       "sslrootcert=/var/vcap/data/pg-master/config/ca.crt "
                       "application_name=master_0'\n") != std::string::npos,
             text);
  BOOST_TEST(text.find("primary_slot_name = 'master_0'\n") != std::string::npos);
  const auto hba = render_pg_hba_conf(golden_plan());
  BOOST_TEST(hba.find("hostssl postgres replicator 198.18.1.12/32 scram-sha-256\n") !=
             std::string::npos);
  BOOST_TEST(hba.find("hostssl postgres replicator 198.18.1.13/32") == std::string::npos);
}

// pgguard-failover logs in from pgpool's VMs, and the drain of the other PostgreSQL VM promotes
// this one as it stops; to database postgres only, from nowhere else.
BOOST_AUTO_TEST_CASE(the_failover_role_logs_in_from_pgpool_and_the_peer_only) {
  const auto hba = render_pg_hba_conf(golden_plan());
  for (const char* pgpool : {"198.18.1.13", "198.18.1.14", "198.18.1.15", "198.18.1.12"}) {
    BOOST_TEST(hba.find(std::string("hostssl postgres failover ") + pgpool +
                        "/32 scram-sha-256\n") != std::string::npos,
               pgpool);
  }
  const auto reject = hba.find("host all failover all reject\n");
  BOOST_TEST(reject != std::string::npos);
  BOOST_TEST(reject < hba.find("hostssl all all "));
  BOOST_TEST(hba.find("hostssl postgres failover 198.18.1.20") == std::string::npos);
  BOOST_TEST(hba.find("hostssl postgres failover 198.18.1.11") == std::string::npos);
}

// post-start logs in on the node's own address as the replication role, and nowhere else
// from there.
BOOST_AUTO_TEST_CASE(post_start_may_reach_its_own_node_as_the_replication_role_only) {
  const auto plan = golden_plan();
  const auto pgpass = render_pgpass(plan);
  BOOST_TEST(pgpass.ends_with("198.18.1.11:5432:replication:replicator:replication secret\n"));
  BOOST_TEST(pgpass.find("198.18.1.11:5432:postgres") == std::string::npos);
  const auto text = render_pg_hba_conf(plan);
  BOOST_TEST(text.find("hostssl replication replicator 198.18.1.11/32 scram-sha-256\n") !=
             std::string::npos);
  BOOST_TEST(text.find("hostssl all all 198.18.1.11/32") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(the_password_file_escapes_colons_and_backslashes) {
  auto plan = pgguard::postgres::parse_node_plan(
      pgguard::config::ConfigFile::load(source_path("spec/fixtures/pg-standby/node.conf")));
  plan.roles.at(0).password = "a:b\\c";
  BOOST_TEST(render_pgpass(plan) ==
             "198.18.1.11:5432:replication:replicator:a\\:b\\\\c\n"
             "198.18.1.11:5432:postgres:replicator:a\\:b\\\\c\n"
             "198.18.1.11:5432:postgres:failover:failover secret\n"
             "198.18.1.12:5432:replication:replicator:a\\:b\\\\c\n");
}

BOOST_AUTO_TEST_SUITE_END()
