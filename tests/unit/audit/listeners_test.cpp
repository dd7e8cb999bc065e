#include "audit/listeners.hpp"

#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

using namespace pgguard;
using namespace pgguard::audit;
using namespace pgguard::audit::test;

namespace {

std::string text_of(const ListeningSocket& socket) {
  return std::string(protocol_name(socket.protocol)) + " " + socket.address.to_string() + " " +
         std::to_string(socket.port) + " " + std::to_string(socket.inode);
}

std::vector<std::string> parsed(const std::string& table, Protocol protocol, net::Family family) {
  std::vector<std::string> texts;
  for (const auto& socket : parse_proc_net(fixture(table), protocol, family)) {
    texts.push_back(text_of(socket));
  }
  return texts;
}

std::vector<ListeningSocket> every_socket() {
  std::vector<ListeningSocket> sockets;
  for (const auto& [table, protocol, family] :
       std::vector<std::tuple<std::string, Protocol, net::Family>>{
           {"tcp", Protocol::tcp, net::Family::ipv4},
           {"tcp6", Protocol::tcp, net::Family::ipv6},
           {"udp", Protocol::udp, net::Family::ipv4},
           {"udp6", Protocol::udp, net::Family::ipv6}}) {
    const auto found = parse_proc_net(fixture(table), protocol, family);
    sockets.insert(sockets.end(), found.begin(), found.end());
  }
  return sockets;
}

SmokeConfig config_with_job_ports() {
  SmokeConfig config;
  config.job_ports = {{"pg-master", Protocol::tcp, "postgres"},
                      {"pg-standby", Protocol::tcp, "postgres"},
                      {"pgpool", Protocol::tcp, "pgpool"},
                      {"pgpool", Protocol::udp, "heartbeat"}};
  for (const auto* text : {"tcp:127.0.0.1:2822", "udp:127.0.0.1:323", "udp:[::1]:323"}) {
    config.allowed.push_back(
        parse_listener_rule(text, Location{"smoke.conf", 1}, "listeners.allow"));
  }
  return config;
}

net::IsolationConfig isolation() {
  net::IsolationConfig config;
  config.control_tcp_ports = {22};
  return config;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(listeners)

BOOST_AUTO_TEST_CASE(tcp_listeners_are_the_sockets_in_state_listen) {
  BOOST_TEST(
      parsed("tcp", Protocol::tcp, net::Family::ipv4) ==
          (std::vector<std::string>{"tcp 127.0.0.1 2822 30001", "tcp 198.18.20.11 5432 30002",
                                    "tcp 0.0.0.0 8000 30003"}),
      boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(ipv6_addresses_are_decoded_and_mapped_ipv4_ones_given_as_ipv4) {
  BOOST_TEST(parsed("tcp6", Protocol::tcp, net::Family::ipv6) ==
                 (std::vector<std::string>{"tcp :: 22 30005", "tcp 127.0.0.1 8080 30006"}),
             boost::test_tools::per_element());
  BOOST_TEST(parsed("udp6", Protocol::udp, net::Family::ipv6) ==
                 std::vector<std::string>{"udp ::1 323 30010"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(udp_listeners_are_the_unconnected_sockets) {
  BOOST_TEST(parsed("udp", Protocol::udp, net::Family::ipv4) ==
                 (std::vector<std::string>{"udp 127.0.0.1 323 30007", "udp 0.0.0.0 9694 30009"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_malformed_table_is_an_error_naming_its_line) {
  BOOST_CHECK_THROW(parse_proc_net("header\n   0: 0100007F 00000000:0000 0A 1 2 3 4 5 6 7\n",
                                   Protocol::tcp, net::Family::ipv4),
                    Error);
}

BOOST_AUTO_TEST_CASE(the_role_ports_of_the_jobs_present_are_allowed) {
  const auto rules =
      allowed_listeners(config_with_job_ports(), isolation(), {"pg-master", "isolation"});
  std::vector<std::string> reasons;
  for (const auto& rule : rules) {
    reasons.push_back(std::string(protocol_name(rule.protocol)) + " " + std::to_string(rule.port) +
                      " " + rule.reason);
  }
  BOOST_TEST(reasons == (std::vector<std::string>{"tcp 22 isolation control.tcp_port",
                                                  "tcp 5432 isolation ports.postgres (pg-master)",
                                                  "tcp 2822 allowed_listeners tcp:127.0.0.1:2822",
                                                  "udp 323 allowed_listeners udp:127.0.0.1:323",
                                                  "udp 323 allowed_listeners udp:[::1]:323"}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_unlisted_listener_fails_naming_port_address_and_owner) {
  const auto rules = allowed_listeners(config_with_job_ports(), isolation(), {"pg-master"});
  const std::map<std::uint64_t, std::vector<SocketOwner>> owners{
      {30002, {{4242, "postgres"}}},
      {30003, {{999, "python3"}}},
      {30009, {{700, "pgpool"}, {701, "pgpool"}}}};
  const auto rows = audit_listeners(every_socket(), rules, owners);
  std::vector<std::string> summary;
  for (const auto& row : rows) {
    summary.push_back((row.ok ? "ok   " : "FAIL ") + row.subject);
  }
  BOOST_TEST(summary == (std::vector<std::string>{
                            "ok   tcp 127.0.0.1:2822, owner unknown (inode 30001)",
                            "ok   tcp 198.18.20.11:5432, postgres pid 4242",
                            "FAIL tcp 0.0.0.0:8000, python3 pid 999",
                            "ok   tcp [::]:22, owner unknown (inode 30005)",
                            "FAIL tcp 127.0.0.1:8080, owner unknown (inode 30006)",
                            "ok   udp 127.0.0.1:323, owner unknown (inode 30007)",
                            // pgpool's heartbeat port is allowed only where the pgpool job is
                            "FAIL udp 0.0.0.0:9694, pgpool pid 700 (+1 sharing it)",
                            "ok   udp [::1]:323, owner unknown (inode 30010)"}),
             boost::test_tools::per_element());
  BOOST_TEST(rows[1].expected == "allowed: isolation ports.postgres (pg-master)");
  BOOST_TEST(rows[2].expected == "no listener on tcp port 8000: the design does not name it");
  BOOST_TEST(rows[2].found == "listening");

  const auto on_pgpool = allowed_listeners(config_with_job_ports(), isolation(), {"pgpool"});
  BOOST_TEST(audit_listeners(every_socket(), on_pgpool, owners)[6].ok);
}

// pgpool's watchdog heartbeat senders: unconnected UDP sockets on a kernel-chosen port.
BOOST_AUTO_TEST_CASE(pgpool_heartbeat_senders_pass_only_on_pgpool_vms_and_only_as_pgpool) {
  const ListeningSocket sender{Protocol::udp, pgguard::net::Address::parse("0.0.0.0"), 41961, 77};
  const ListeningSocket low{Protocol::udp, pgguard::net::Address::parse("0.0.0.0"), 8125, 78};
  const std::map<std::uint64_t, std::vector<SocketOwner>> by_pgpool = {{77, {{900, "pgpool"}}},
                                                                       {78, {{900, "pgpool"}}}};
  const std::map<std::uint64_t, std::vector<SocketOwner>> by_other = {{77, {{901, "python3"}}}};
  const EphemeralPorts range{32768, 60999};
  const auto on_pgpool = allowed_listeners(SmokeConfig{}, isolation(), {"pgpool"}, range);
  const auto rows = audit_listeners({sender, low}, on_pgpool, by_pgpool);
  BOOST_TEST(rows[0].ok);
  BOOST_TEST(rows[0].expected.find("pgpool's heartbeat senders") != std::string::npos);
  BOOST_TEST(!rows[1].ok);  // outside the kernel's range: a port someone chose
  BOOST_TEST(!audit_listeners({sender}, on_pgpool, by_other)[0].ok);
  BOOST_TEST(!audit_listeners({sender}, on_pgpool, {})[0].ok);  // owner unknown
  const auto on_master = allowed_listeners(SmokeConfig{}, isolation(), {"pg-master"}, range);
  BOOST_TEST(!audit_listeners({sender}, on_master, by_pgpool)[0].ok);
}

BOOST_AUTO_TEST_CASE(an_allowed_address_matches_that_address_only) {
  SmokeConfig config;
  config.allowed = {parse_listener_rule("tcp:127.0.0.1:8000", Location{"smoke.conf", 1}, "a")};
  const auto rows = audit_listeners(every_socket(), allowed_listeners(config, isolation(), {}), {});
  BOOST_TEST(!rows[2].ok);  // 0.0.0.0:8000 listens on every address, not only on 127.0.0.1
  config.allowed = {parse_listener_rule("tcp:*:8000", Location{"smoke.conf", 1}, "a")};
  BOOST_TEST(audit_listeners(every_socket(), allowed_listeners(config, isolation(), {}), {})[2].ok);
}

BOOST_AUTO_TEST_SUITE_END()
