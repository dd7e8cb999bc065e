#include "pgpool/pool_plan.hpp"

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <sstream>

#include "plan_fixture.hpp"

using namespace pgguard;
using namespace pgguard::pgpool;
using pgguard::pgpool::test::golden_plan;
using pgguard::pgpool::test::source_path;

namespace {

std::string golden_text() {
  std::ifstream stream(source_path("spec/fixtures/pgpool/pool.conf"));
  std::ostringstream text;
  text << stream.rdbuf();
  return text.str();
}

// The golden file with `from` replaced by `to` (which must occur).
PoolPlan parse_changed(const std::string& from, const std::string& to) {
  std::string text = golden_text();
  const auto at = text.find(from);
  BOOST_TEST_REQUIRE(at != std::string::npos, "'" << from << "' is not in the golden file");
  text.replace(at, from.size(), to);
  return parse_pool_plan(config::ConfigFile::parse(text, "pool.conf"));
}

// Parsing the changed file fails with a message holding `expected`.
void check_refused(const std::string& from, const std::string& to, const std::string& expected) {
  try {
    parse_changed(from, to);
    BOOST_ERROR("accepted: '" << from << "' -> '" << to << "'");
  } catch (const ConfigError& error) {
    BOOST_TEST(std::string(error.what()).find(expected) != std::string::npos,
               "message '" << error.what() << "' lacks '" << expected << "'");
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pool_plan)

BOOST_AUTO_TEST_CASE(the_golden_plan) {
  const auto plan = golden_plan();
  BOOST_TEST(plan.node_id == 1);
  BOOST_TEST(plan.listen_address == "198.18.1.14");
  BOOST_TEST(plan.nodes.size() == 3U);
  BOOST_TEST(plan.backends.size() == 2U);
  BOOST_TEST(plan.backends[0].address == "198.18.1.11");
  BOOST_TEST(plan.client_cidrs.front() == "10.0.16.0/20");
  BOOST_TEST(plan.users.size() == 2U);
  BOOST_TEST(plan.users[0].password == "app secret: 100%");
  BOOST_TEST(plan.pcp.name == "pcpadmin");
  BOOST_TEST(plan.watchdog.has_value());
  BOOST_TEST(plan.watchdog->authkey == "watchdog-key-0123456789");
  BOOST_TEST(plan.watchdog->heartbeat_keepalive == 1);
  BOOST_TEST(plan.watchdog->heartbeat_deadtime == 5);
  BOOST_TEST(plan.settings.restart_wait == 20);
  BOOST_TEST(!plan.vip.has_value());
  BOOST_TEST(plan.settings.check_role == "pgpool_monitor");
}

BOOST_AUTO_TEST_CASE(each_bad_value_is_refused_with_its_line) {
  check_refused("node = 198.18.1.15\n", "", "pool.conf:9: node: 2 pgpool nodes: run 1, or 3");
  check_refused("node = 198.18.1.15\n", "node = 198.18.1.14\n", "198.18.1.14 is listed twice");
  check_refused("node_id = 1\n", "node_id = 3\n", "node_id: '3' is not a whole number from 0 to 2");
  check_refused("node_id = 1\n", "node_id = 0\n",
                "node 0 is 198.18.1.13, not this VM's listen_address 198.18.1.14");
  const std::string standby = "backend = 198.18.1.12 5432 standby_0\n";
  check_refused(standby, "backend = pg.example 5432 standby_0\n",
                "'pg.example' is not an IP address (consume the link with ip_addresses: true)");
  check_refused(standby, "backend = 198.18.1.12 0 standby_0\n", "port '0' is not 1-65535");
  check_refused(standby, "backend = 198.18.1.12 5432\n", "expected ADDRESS PORT APPLICATION_NAME");
  check_refused(standby, "backend = 198.18.1.12 5432 Standby\n", "'Standby' is not a plain");
  check_refused(standby, standby + "backend = 198.18.1.16 5432 standby_1\n",
                "expected the primary, and at most one standby");
  check_refused("failover = failover failover%3A%20secret\n", "failover = app x\n",
                "'app' is also in users.user: the failover role must not be a login");
  check_refused("client = 10.0.16.0/20\n", "client = 10.0.16.1/20\n", "client:");
  check_refused("check_role = pgpool_monitor\n", "check_role = nobody\n",
                "'nobody' is not one of users.user");
  check_refused("authkey = watchdog-key-0123456789\n", "authkey = short\n",
                "must be 16-128 printable characters");
  check_refused("heartbeat_deadtime = 5\n", "heartbeat_deadtime = 1\n",
                "watchdog.heartbeat_deadtime: must be at least twice "
                "watchdog.heartbeat_keepalive (1 s)");
  check_refused("restart_wait = 20\n", "restart_wait = 601\n",
                "settings.restart_wait: '601' is not a whole number from 1 to 600");
  check_refused("heartbeat_deadtime = 5\n", "heartbeat_deadtime = 0\n",
                "watchdog.heartbeat_deadtime: '0' is not a whole number from 1 to 3600");
  check_refused(
      "[watchdog]\nport = 9000\nheartbeat_port = 9694\nheartbeat_keepalive = 1\nheartbeat_deadtime "
      "= 5\n"
      "authkey = watchdog-key-0123456789\n",
      "", "three pgpool nodes run the watchdog, which needs its authentication key");
  check_refused("user = app app%20secret%3A%20100%25\n", "user = app caf%C3%A9\n",
                "user app: password");
  check_refused("user = app app%20secret%3A%20100%25\n", "user = app bad%2\n",
                "malformed percent escape");
  check_refused("user = app app%20secret%3A%20100%25\n", "user = App secret\n",
                "not a plain lower-case identifier");
  check_refused("user = app app%20secret%3A%20100%25\n",
                "user = app app%20secret%3A%20100%25\nuser = app again\n",
                "user app is listed twice");
  check_refused("pcp = pcpadmin pcp%20secret\n", "", "users.pcp");
  check_refused("runtime = /var/vcap/sys/run/pgpool\n", "runtime = var/run\n",
                "'var/run' is not an absolute path");
  check_refused("user = pgpool\n", "user = root\n", "user");
  check_refused("[tls]\n", "[tls]\nsurprise = 1\n", "tls.surprise");
}

BOOST_AUTO_TEST_CASE(one_node_runs_no_watchdog_and_takes_no_watchdog_settings) {
  const std::string three =
      "node_id = 1\nlisten_address = 198.18.1.14\nport = 9999\npcp_port = 9898\n"
      "node = 198.18.1.13\nnode = 198.18.1.14\nnode = 198.18.1.15\n";
  const std::string one =
      "node_id = 0\nlisten_address = 198.18.1.14\nport = 9999\npcp_port = 9898\n"
      "node = 198.18.1.14\n";
  check_refused(three, one, "watchdog.port: a single pgpool node runs no watchdog");
  std::string text = golden_text();
  text.replace(text.find(three), three.size(), one);
  const std::string watchdog =
      "\n[watchdog]\nport = 9000\nheartbeat_port = 9694\nheartbeat_keepalive = 1\n"
      "heartbeat_deadtime = 5\nauthkey = watchdog-key-0123456789\n";
  text.replace(text.find(watchdog), watchdog.size(), "");
  const auto plan = parse_pool_plan(config::ConfigFile::parse(text, "pool.conf"));
  BOOST_TEST(!plan.watchdog.has_value());
  BOOST_TEST(plan.node_id == 0);
}

BOOST_AUTO_TEST_CASE(a_vip_is_ipv4_with_a_prefix_held_by_a_broker_of_its_own) {
  const std::string anchor = "[tls]\n";
  const auto with_vip = [&anchor](const std::string& vip) { return vip + "\n" + anchor; };
  const std::string good =
      "[vip]\naddress = 198.18.1.20/24\ninterface = eth0\nbroker_user = pgpool-vip\n"
      "runtime = /var/vcap/sys/run/pgpool-vip\n";
  const auto plan = parse_changed(anchor, with_vip(good));
  BOOST_TEST(plan.vip->address == "198.18.1.20");
  BOOST_TEST(plan.vip->prefix == 24);
  check_refused(anchor,
                with_vip("[vip]\naddress = 2001:db8::20/64\ninterface = eth0\n"
                         "broker_user = pgpool-vip\nruntime = /run/vip\n"),
                "is not IPV4/PREFIX");
  check_refused(anchor,
                with_vip("[vip]\naddress = 198.18.1.20\ninterface = eth0\n"
                         "broker_user = pgpool-vip\nruntime = /run/vip\n"),
                "is not IPV4/PREFIX");
  check_refused(anchor,
                with_vip("[vip]\naddress = 198.18.1.13/24\ninterface = eth0\n"
                         "broker_user = pgpool-vip\nruntime = /run/vip\n"),
                "is the address of a pgpool VM");
  check_refused(anchor,
                with_vip("[vip]\naddress = 198.18.1.20/24\ninterface = eth0\n"
                         "broker_user = pgpool\nruntime = /run/vip\n"),
                "must not share pgpool's account");
  check_refused(anchor,
                with_vip("[vip]\naddress = 198.18.1.20/24\ninterface = eth 0\n"
                         "broker_user = pgpool-vip\nruntime = /run/vip\n"),
                "is not a network interface name");
  check_refused(anchor, with_vip("[vip]\ninterface = eth0\n"), "given without vip.address");
}

BOOST_AUTO_TEST_SUITE_END()
