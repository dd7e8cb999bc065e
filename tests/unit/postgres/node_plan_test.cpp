#include "postgres/node_plan.hpp"

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "common/error.hpp"
#include "plan_fixture.hpp"

using namespace pgguard::postgres;
using pgguard::postgres::test::golden_plan;
using pgguard::postgres::test::kGoldenNodeConf;
using pgguard::postgres::test::parse_plan;
using pgguard::postgres::test::source_path;

namespace {

std::string golden_text() {
  std::ifstream stream(source_path(kGoldenNodeConf));
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

// The golden text with one line replaced (or appended when `from` is empty).
std::string changed(const std::string& from, const std::string& to) {
  std::string text = golden_text();
  if (from.empty()) {
    return text + to + "\n";
  }
  const auto position = text.find(from);
  BOOST_TEST_REQUIRE(position != std::string::npos, "the golden file has no '" << from << "'");
  return text.replace(position, from.size(), to);
}

void expect_refused(const std::string& text, const std::string& message) {
  try {
    parse_plan(text);
    BOOST_ERROR("accepted a plan that should fail with: " << message);
  } catch (const pgguard::ConfigError& error) {
    BOOST_TEST(std::string(error.what()).find(message) != std::string::npos,
               "message '" << error.what() << "' lacks '" << message << "'");
    BOOST_TEST(std::string(error.what()).starts_with("node.conf:"), error.what());
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(node_plan)

BOOST_AUTO_TEST_CASE(the_jobs_golden_file_parses_into_the_plan_it_describes) {
  const NodePlan plan = golden_plan();
  BOOST_TEST((plan.kind == NodeKind::primary));
  BOOST_TEST(plan.job == "pg-master");
  BOOST_TEST(plan.user == "postgres");
  BOOST_TEST(plan.listen_address == "198.18.1.11");
  BOOST_TEST(plan.port == 5432);
  BOOST_TEST(plan.paths.data == "/var/vcap/store/pg-master/data");
  BOOST_TEST(plan.paths.isolation == "/var/vcap/jobs/isolation/config/isolation.conf");
  BOOST_TEST(plan.pgpool_addresses.size() == 3u);
  BOOST_TEST(plan.vip_addresses.at(0) == "198.18.1.20");
  BOOST_TEST(plan.replica_addresses.at(0) == "198.18.1.12");
  BOOST_TEST(plan.replication_slots.at(0) == "standby_0");
  BOOST_TEST(plan.synchronous_standbys.at(0) == "standby_0");
  BOOST_TEST(plan.upstream_address == "198.18.1.12");
  BOOST_TEST(plan.stream_slot == "master_0");
  BOOST_TEST(plan.failover_role == "failover");
  BOOST_TEST_REQUIRE(plan.roles.size() == 5u);
  BOOST_TEST(plan.roles[0].name == "replicator");
  BOOST_TEST(plan.roles[0].password == "replication secret");  // percent-decoded
  BOOST_TEST(plan.roles[0].replication);
  BOOST_TEST(plan.roles[0].rewind);
  BOOST_TEST(!plan.roles[0].failover);
  BOOST_TEST(plan.roles[1].name == "failover");
  BOOST_TEST(plan.roles[1].failover);
  BOOST_TEST(!plan.roles[1].rewind);
  BOOST_TEST(plan.roles[2].password == "app-secret%42");
  BOOST_TEST(!plan.roles[2].failover);
  BOOST_TEST(!plan.roles[2].rewind);
  BOOST_TEST(plan.roles[3].create_database);
  BOOST_TEST(plan.roles[3].create_role);
  BOOST_TEST(plan.roles[4].member_of.at(0) == "pg_monitor");
  BOOST_TEST_REQUIRE(plan.databases.size() == 1u);
  BOOST_TEST(plan.databases[0].owner == "app");
  BOOST_TEST(plan.databases[0].extensions.size() == 2u);
}

BOOST_AUTO_TEST_CASE(bad_values_are_refused_with_file_line_and_key) {
  expect_refused(changed("user = postgres", "user = Postgres"), "user: 'Postgres' is not a plain");
  expect_refused(changed("listen_address = 198.18.1.11", "listen_address = pg.example"),
                 "listen_address: 'pg.example' is not an IP address");
  expect_refused(changed("pgpool = 198.18.1.14", "pgpool = 198.18.1.14/32"),
                 "pgpool: '198.18.1.14/32' is not an IP address");
  expect_refused(changed("port = 5432", "port = 0"), "port: '0' is not a whole number");
  expect_refused(changed("data = /var/vcap/store/pg-master/data", "data = store/data"),
                 "paths.data: 'store/data' is not an absolute path");
  expect_refused(changed("data = /var/vcap/store/pg-master/data", "data = /var/vcap/x/../data"),
                 "is not an absolute path");
  expect_refused(changed("data = /var/vcap/store/pg-master/data", "data = /var/vcap/my data"),
                 "holds a space, quote or backslash");
  expect_refused(changed("shared_buffers = 128MB", "shared_buffers = 128M"), "is not a size");
  expect_refused(changed("synchronous_commit = on", "synchronous_commit = yes"),
                 "'yes' is not one of: on, off");
  expect_refused(changed("certificate = server.crt", "certificate = ../server.crt"),
                 "is not a plain file name");
  expect_refused(changed("", "frobnicate = 1"), "frobnicate: unknown key");
  expect_refused(changed("kind = primary\n", ""), "kind: required key is missing");
}

// Either VM may be the standby: each names its peer and its own slot there, or neither.
BOOST_AUTO_TEST_CASE(the_peer_and_the_failover_role_are_checked) {
  expect_refused(changed("stream_slot = master_0\n", ""), "upstream and stream_slot go together");
  expect_refused(changed("upstream = 198.18.1.12\n", ""), "upstream and stream_slot go together");
  expect_refused(changed("stream_slot = master_0", "stream_slot = standby_0"),
                 "also a slot this node keeps for its peer");
  expect_refused(changed("stream_slot = master_0", "stream_slot = Master"), "is not a plain");
  expect_refused(changed("failover_role = failover", "failover_role = nobody"),
                 "failover_role: 'nobody' must be a role of this plan with login and nothing else");
  expect_refused(changed("failover_role = failover", "failover_role = replicator"),
                 "with login and nothing else");
  expect_refused(changed("failover_role = failover", "failover_role = admin"),
                 "with login and nothing else");
  // A pg-master without a standby has no peer, and no failover role is needed either.
  auto alone = changed("upstream = 198.18.1.12\nstream_slot = master_0\n", "");
  alone = alone.replace(alone.find("failover_role = failover\n"), 25, "");
  const NodePlan plan = parse_plan(alone);
  BOOST_TEST(plan.upstream_address.empty());
  BOOST_TEST(plan.failover_role.empty());
  BOOST_TEST(!plan.roles[1].failover);
}

BOOST_AUTO_TEST_CASE(roles_and_databases_are_checked_against_each_other) {
  expect_refused(changed("", "[roles]\nrole = pg_evil x"), "starts with pg_");
  expect_refused(changed("", "[roles]\nrole = app x"), "role app is listed twice");
  expect_refused(changed("", "[roles]\nrole = postgres x"), "is the superuser");
  expect_refused(changed("", "[roles]\nrole = u x superuser"), "unknown attribute 'superuser'");
  expect_refused(changed("", "[roles]\nrole = u x member_of=pg_execute_server_program"),
                 "member_of 'pg_execute_server_program' is neither a role of this plan");
  expect_refused(changed("", "[roles]\nrole = u caf%C3%A9"), "outside printable ASCII");
  expect_refused(changed("", "[roles]\nrole = u %4"), "malformed percent escape");
  expect_refused(changed("", "[roles]\nrole = u %zz"), "malformed percent escape");
  expect_refused(changed("", "[roles]\nrole = u"), "expected NAME PASSWORD");
  expect_refused(changed("", "[roles]\ndatabase = d nobody"), "owner 'nobody' is not a role");
  expect_refused(changed("", "[roles]\ndatabase = template1 app"), "is PostgreSQL's own");
  expect_refused(changed("", "[roles]\ndatabase = d app extensions=Bad"), "'Bad' is not a plain");
  expect_refused(changed("replication_role = replicator", "replication_role = app"),
                 "must be a role of this plan with login and replication");
  expect_refused(changed("synchronous_standby = standby_0", "synchronous_standby = standby_9"),
                 "'standby_9' is not a replication_slot");
}

BOOST_AUTO_TEST_CASE(a_standby_needs_its_primary) {
  const std::string standby = changed("kind = primary", "kind = standby");
  const NodePlan plan = parse_plan(standby);
  BOOST_TEST((plan.kind == NodeKind::standby));
  BOOST_TEST(plan.upstream_address == "198.18.1.12");
  std::string alone = standby;
  alone.erase(alone.find("upstream = 198.18.1.12\n"), 23);
  alone.erase(alone.find("stream_slot = master_0\n"), 23);
  expect_refused(alone, "upstream: a standby needs the address of the primary");
}

BOOST_AUTO_TEST_SUITE_END()
