#include "net/isolation_config.hpp"

#include <boost/test/unit_test.hpp>
#include <string>

#include "common/config_file.hpp"
#include "common/error.hpp"
#include "lib/require.hpp"

using pgguard::ConfigError;
using pgguard::config::ConfigFile;
using pgguard::net::IsolationConfig;
using pgguard::net::parse_isolation_config;
using pgguard::net::Role;

namespace {

// A valid pgpool VM; line numbers matter to the tests below.
const std::string kHead =
    "self = 198.18.1.13\n"            // 1
    "member = master 198.18.1.11\n"   // 2
    "member = standby 198.18.1.12\n"  // 3
    "member = pgpool 198.18.1.13\n"   // 4
    "member = pgpool 198.18.1.14\n"   // 5
    "member = pgpool 198.18.1.15\n"   // 6
    "vip = 198.18.1.20\n";            // 7
const std::string kTail =
    "[clients]\n"              // 8
    "cidr = 198.18.64.0/24\n"  // 9
    "[control]\n"              // 10
    "cidr = 198.18.0.0/28\n"   // 11
    "[service_network]\n"      // 12
    "cidr = 198.18.0.0/16\n";  // 13

IsolationConfig parse(const std::string& text) {
  return parse_isolation_config(ConfigFile::parse(text, "t.conf"));
}

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const ConfigError& error) {
    BOOST_TEST(pgguard::to_int(error.code()) == 2);
    return error.what();
  }
  return "(no error)";
}

// The message starts with file:line: key: and contains the fragment.
void expect_error(const std::string& text, const std::string& prefix, const std::string& fragment) {
  const auto message = error_of(text);
  BOOST_TEST_INFO("message: " << message);
  BOOST_TEST(message.rfind(prefix, 0) == 0u);
  BOOST_TEST(message.find(fragment) != std::string::npos);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(isolation_config)

BOOST_AUTO_TEST_CASE(valid_pgpool_config_with_defaults) {
  const auto config = parse(kHead + kTail);
  BOOST_TEST(config.table == "secure_postgres");
  BOOST_TEST((config.role == Role::pgpool));
  BOOST_TEST(config.members.size() == 5u);
  BOOST_TEST(config.vips.size() == 1u);
  BOOST_TEST(config.ports.postgres == 5432);
  BOOST_TEST(config.ports.pgpool == 9999);
  BOOST_TEST(config.ports.pcp == 9898);
  BOOST_TEST(config.ports.watchdog == 9000);
  BOOST_TEST(config.ports.heartbeat == 9694);
  BOOST_TEST(config.control_tcp_ports == std::vector<std::uint16_t>{22});
  BOOST_TEST(config.control_udp_ports.empty());
  BOOST_TEST(config.echo_rate.count == 10u);
  BOOST_TEST(config.log_burst == 5u);
  BOOST_TEST(config.sysctl.strict_reverse_path_filter);
  BOOST_TEST(config.sysctl.ignore_router_advertisements);
}

BOOST_AUTO_TEST_CASE(role_comes_from_the_self_member) {
  auto text = kHead + kTail;
  text.replace(text.find("self = 198.18.1.13"), 18, "self = 198.18.1.12");
  BOOST_TEST((parse(text).role == Role::standby));
}

BOOST_AUTO_TEST_CASE(optional_keys_are_read) {
  const auto config = parse(kHead + "table = pg_iso\n" + kTail +
                            "[control]\ntcp_port = 6868\nudp_port = 161\n"
                            "[ports]\npostgres = 6432\nheartbeat = 9000\n"
                            "[icmp]\necho_rate = 3/minute\necho_burst = 7\n"
                            "[log]\ndrop_prefix = iso drop\nrate = 1/hour\nburst = 2\n"
                            "[sysctl]\ntcp_syncookies = false\nlog_martians = no\n");
  BOOST_TEST(config.table == "pg_iso");
  BOOST_TEST(config.control_tcp_ports == std::vector<std::uint16_t>{6868});  // replaces 22
  BOOST_TEST(config.control_udp_ports == std::vector<std::uint16_t>{161});
  BOOST_TEST(config.ports.postgres == 6432);
  BOOST_TEST(config.ports.heartbeat == 9000);  // udp: may equal the tcp watchdog port
  BOOST_TEST(config.echo_rate.count == 3u);
  BOOST_TEST((config.echo_rate.unit == pgguard::net::RateUnit::minute));
  BOOST_TEST(config.echo_burst == 7u);
  BOOST_TEST(config.drop_log_prefix == "iso drop");
  BOOST_TEST(!config.sysctl.tcp_syncookies);
  BOOST_TEST(!config.sysctl.log_martians);
  BOOST_TEST(config.sysctl.ignore_redirects);
}

BOOST_AUTO_TEST_CASE(dual_stack) {
  const auto config = parse(
      "self = 198.18.1.13\nself = 2001:db8:1::13\n"
      "member = pgpool 198.18.1.13\nmember = pgpool 2001:DB8:1:0::13\n"
      "vip = 2001:db8:1::20\n"
      "[control]\ncidr = 2001:db8:ff::/64\n[service_network]\ncidr = 2001:db8::/32\n");
  BOOST_TEST(config.self.size() == 2u);
  BOOST_TEST(config.members[1].address.to_string() == "2001:db8:1::13");
}

BOOST_AUTO_TEST_CASE(malformed_address) {
  expect_error("member = pgpool 198.18.1.300\n" + kHead + kTail,
               "t.conf:1: member: ", "malformed address '198.18.1.300'");
  expect_error("vip = 198.18.01.20\n" + kHead + kTail, "t.conf:1: vip: ", "leading zero");
  expect_error("self = 198.18.1.13/32\n" + kHead.substr(kHead.find('\n') + 1) + kTail,
               "t.conf:1: self: ", "not a prefix");
  expect_error("vip = fe80::1%eth0\n" + kHead + kTail, "t.conf:1: vip: ", "zone");
}

BOOST_AUTO_TEST_CASE(malformed_cidr) {
  expect_error(kHead + kTail + "[clients]\ncidr = 198.18.65.0/33\n",
               "t.conf:15: clients.cidr: ", "malformed CIDR '198.18.65.0/33'");
  expect_error(kHead + kTail + "[control]\ncidr = 198.18.0.1/24\n",
               "t.conf:15: control.cidr: ", "host bits are set");
  expect_error(kHead + kTail + "[service_network]\ncidr = 10.0.0.0/8x\n",
               "t.conf:15: service_network.cidr: ", "malformed CIDR");
}

BOOST_AUTO_TEST_CASE(duplicates) {
  expect_error(kHead + "member = standby 198.18.1.14\n" + kTail,
               "t.conf:8: member: ", "duplicate member address 198.18.1.14 (first on line 5)");
  expect_error("self = 198.18.1.13\n" + kHead + kTail,
               "t.conf:2: self: ", "duplicate self address");
  expect_error(kHead + kTail + "cidr = 198.18.0.0/16\n", "t.conf:14: service_network.cidr: ",
               "duplicate CIDR 198.18.0.0/16 (first on line 13)");
  expect_error(kHead + kTail + "[clients]\ncidr = 198.18.64.0/24\n",
               "t.conf:15: clients.cidr: ", "duplicate CIDR");
  expect_error(kHead + kTail + "[control]\ntcp_port = 22\ntcp_port = 22\n",
               "t.conf:16: control.tcp_port: ", "duplicate port 22 (first on line 15)");
  expect_error(kHead + "vip = 198.18.1.20\n" + kTail, "t.conf:8: vip: ", "duplicate vip");
  expect_error(kHead + "vip = 198.18.1.21\n" + kTail, "t.conf:8: vip: ", "a second IPv4 vip");
  expect_error("vip = 198.18.1.14\n" + kHead + kTail,
               "t.conf:1: vip: ", "is also a member address (line 6)");
  expect_error(kHead + "table = a\ntable = b\n" + kTail,
               "t.conf:9: table: ", "given more than once");
}

BOOST_AUTO_TEST_CASE(unknown_keys) {
  expect_error(kHead + "colour = red\n" + kTail, "t.conf:8: colour: ", "unknown key");
  expect_error(kHead + kTail + "[ports]\npostgress = 5432\n",
               "t.conf:15: ports.postgress: ", "unknown key");
  expect_error(kHead + kTail + "[sysctl]\nrp_filter = 1\n",
               "t.conf:15: sysctl.rp_filter: ", "unknown key");
}

BOOST_AUTO_TEST_CASE(empty_member_list) {
  expect_error("self = 198.18.1.13\n" + kTail, "t.conf: member: ", "member list is empty");
}

BOOST_AUTO_TEST_CASE(missing_self) {
  auto text = kHead + kTail;
  text.erase(0, text.find('\n') + 1);
  expect_error(text, "t.conf: self: ", "no self address");
}

BOOST_AUTO_TEST_CASE(own_address_not_among_members) {
  expect_error("self = 198.18.1.99\n" + kHead.substr(kHead.find('\n') + 1) + kTail,
               "t.conf:1: self: ", "own address 198.18.1.99 is not among the members");
}

BOOST_AUTO_TEST_CASE(self_addresses_with_different_roles) {
  expect_error(kHead + "self = 198.18.1.11\n" + kTail, "t.conf:8: self: ",
               "is a master member but 198.18.1.13 (line 1) is a pgpool member");
}

BOOST_AUTO_TEST_CASE(member_inside_application_cidr) {
  expect_error(kHead + kTail + "[clients]\ncidr = 198.18.1.0/24\n", "t.conf:15: clients.cidr: ",
               "application CIDR 198.18.1.0/24 contains member 198.18.1.11 (line 2)");
  expect_error(kHead + kTail + "[clients]\ncidr = 198.18.1.20\n",
               "t.conf:15: clients.cidr: ", "contains vip 198.18.1.20 (line 7)");
}

BOOST_AUTO_TEST_CASE(empty_control_plane_list) {
  auto text = kHead + kTail;
  text.erase(text.find("[control]"), std::string("[control]\ncidr = 198.18.0.0/28\n").size());
  expect_error(text, "t.conf: control.cidr: ", "control-plane list is empty");
}

BOOST_AUTO_TEST_CASE(missing_service_network) {
  auto text = kHead + kTail;
  text.erase(text.find("[service_network]"));
  expect_error(text, "t.conf: service_network.cidr: ", "no service-network CIDR");
}

BOOST_AUTO_TEST_CASE(wrong_address_family) {
  expect_error(kHead + "member = pgpool 2001:db8:1::14\n" + kTail, "t.conf:8: member: ",
               "wrong address family: 2001:db8:1::14 is IPv6 but this VM has no IPv6 self address");
  expect_error(kHead + "vip = 2001:db8:1::20\n" + kTail, "t.conf:8: vip: ", "wrong address family");
}

BOOST_AUTO_TEST_CASE(bad_member_syntax_and_role) {
  expect_error(kHead + "member = primary 198.18.1.16\n" + kTail,
               "t.conf:8: member: ", "unknown role 'primary'");
  expect_error(kHead + "member = 198.18.1.16\n" + kTail,
               "t.conf:8: member: ", "expected '<role> <address>'");
}

BOOST_AUTO_TEST_CASE(bad_ports) {
  for (const char* port : {"0", "65536", "-1", "08", "22a", ""}) {
    expect_error(kHead + kTail + "[ports]\npostgres = " + port + "\n",
                 "t.conf:15: ports.postgres: ", "port");
  }
  expect_error(kHead + kTail + "[ports]\npcp = 9999\n",
               "t.conf:15: ports.pcp: ", "port 9999 is also ports.pgpool");
  expect_error(kHead + kTail + "[control]\nudp_port = 70000\n",
               "t.conf:15: control.udp_port: ", "outside 1..65535");
}

BOOST_AUTO_TEST_CASE(bad_rates_bursts_prefixes_booleans_table) {
  expect_error(kHead + kTail + "[icmp]\necho_rate = 10/fortnight\n",
               "t.conf:15: icmp.echo_rate: ", "rate unit 'fortnight'");
  expect_error(kHead + kTail + "[icmp]\necho_rate = 0/second\n",
               "t.conf:15: icmp.echo_rate: ", "outside");
  expect_error(kHead + kTail + "[log]\nrate = 10\n", "t.conf:15: log.rate: ", "<n>/<second");
  expect_error(kHead + kTail + "[log]\nburst = 0\n", "t.conf:15: log.burst: ", "outside");
  expect_error(kHead + kTail + "[icmp]\necho_burst = 1000000\n",
               "t.conf:15: icmp.echo_burst: ", "outside");
  expect_error(kHead + kTail + "[log]\ndrop_prefix = say \"hi\"\n",
               "t.conf:15: log.drop_prefix: ", "printable");
  expect_error(kHead + kTail + "[sysctl]\ntcp_syncookies = maybe\n",
               "t.conf:15: sysctl.tcp_syncookies: ", "invalid value");
  expect_error(kHead + "table = secure-postgres\n" + kTail,
               "t.conf:8: table: ", "table name 'secure-postgres'");
}

// Issue 18, item 18: what no deployment means is refused, and what apply accepts, show renders
// as text nft accepts.
BOOST_AUTO_TEST_CASE(addresses_and_networks_no_deployment_means) {
  const auto with_member = [](const std::string& address) {
    return kHead + "member = pgpool " + address + "\n" + kTail;
  };
  expect_error(with_member("0.0.0.0"),
               "t.conf:8: member: ", "0.0.0.0 is the unspecified address, which no VM holds");
  expect_error(with_member("255.255.255.255"), "t.conf:8: member: ", "the broadcast address");
  expect_error(with_member("127.0.0.1"), "t.conf:8: member: ", "a loopback address");
  expect_error(with_member("224.0.0.18"), "t.conf:8: member: ", "a multicast address");
  const std::string vip_multicast =
      kHead.substr(0, kHead.find("vip = ")) + "vip = 239.1.1.1\n" + kTail;
  expect_error(vip_multicast, "t.conf:7: vip: ", "239.1.1.1 is a multicast address");
  expect_error(kHead + kTail + "[control]\ncidr = 0.0.0.0/0\n",
               "t.conf:15: control.cidr: ", "0.0.0.0/0 is every address");
  expect_error(kHead + kTail + "[service_network]\ncidr = 0.0.0.0/0\n",
               "t.conf:15: service_network.cidr: ", "0.0.0.0/0 is every address");
  expect_error(kHead + kTail + "[log]\ndrop_prefix = drop$x\n",
               "t.conf:15: log.drop_prefix: ", "without '\"', '\\' and '$'");
  expect_error(kHead + kTail + "[sysctl]\nlog_martians =\n",
               "t.conf:15: sysctl.log_martians: ", "empty value: expected true or false");
  // nft keywords, which `show` could not print as parseable text, and any name without '_'.
  for (const std::string keyword : {"counter", "ip", "drop", "filter", "pgiso"}) {
    expect_error(kHead + "table = " + keyword + "\n" + kTail,
                 "t.conf:8: table: ", "with at least one '_' (no nft keyword has one)");
  }
  BOOST_CHECK_NO_THROW(parse(kHead + "table = ip_counter\n" + kTail));
}

BOOST_AUTO_TEST_CASE(malformed_line) {
  expect_error(kHead + "member pgpool 198.18.1.16\n" + kTail,
               "t.conf:8: ", "expected 'key = value'");
}

// Issue 18, item 16: the isolation configuration goes through the same reader as a profile, so
// a control character in any of its values is refused with file, line and key.
BOOST_AUTO_TEST_CASE(control_characters_in_values_are_refused) {
  const std::string nul(1, '\0');
  expect_error("self = 198.18.1.13\nmember = master 198.18.1.11" + nul + "x\n" +
                   kHead.substr(kHead.find("member = standby")) + kTail,
               "t.conf:2: member: ", "control character 0x00 (NUL) at column 28");
  expect_error(kHead + kTail + "[log]\ndrop_prefix = drop\x1b[31m\n",
               "t.conf:15: log.drop_prefix: ", "control character 0x1b (ESC)");
  expect_error(kHead + "[clients]\ncidr = 198.18.64.0/24" + nul + "\n" +
                   kTail.substr(kTail.find("[control]")),
               "t.conf:9: clients.cidr: ", "control character 0x00 (NUL)");
  expect_error("table = secure" + nul + "postgres\n" + kHead + kTail,
               "t.conf:1: table: ", "control character 0x00 (NUL)");
  // Tab is whitespace between the role and the address, as it always was.
  BOOST_TEST(parse(kHead + "member = pgpool\t198.18.1.16\n" + kTail).members.size() == 6u);
}

BOOST_AUTO_TEST_CASE(example_in_docs_is_valid) {
  const auto path =
      pgguard::test::test_environment("PGGUARD_SOURCE_DIR") + "/docs/examples/isolation.conf";
  const auto config = parse_isolation_config(ConfigFile::load(path, pgguard::net::kMaxConfigSize));
  BOOST_TEST((config.role == Role::pgpool));
  BOOST_TEST(config.self.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
