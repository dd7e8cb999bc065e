#include "net/nft_text.hpp"

#include <boost/test/unit_test.hpp>

#include "lib/golden.hpp"
#include "test_configs.hpp"

using namespace pgguard::net;
using pgguard::net::test::load_config;

namespace {

// The golden files were reviewed by hand and accepted by `nft -c -f` in a namespace.
void check_golden(const std::string& config, const std::string& golden) {
  pgguard::test::check_golden(render_nft(plan_ruleset(load_config(config))), golden);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(nft_text)

BOOST_AUTO_TEST_CASE(golden_pgpool_dual_stack) {
  check_golden("docs/examples/isolation.conf", "tests/unit/net/data/pgpool.nft");
}

BOOST_AUTO_TEST_CASE(golden_postgres_ipv4) {
  check_golden("tests/unit/net/data/postgres-ipv4.conf", "tests/unit/net/data/postgres-ipv4.nft");
}

BOOST_AUTO_TEST_CASE(starts_with_an_atomic_replace_of_only_our_table) {
  const auto text = render_nft(plan_ruleset(load_config("docs/examples/isolation.conf")));
  const auto first_statement = text.find("\ntable inet secure_postgres\n");
  BOOST_TEST(first_statement != std::string::npos);
  BOOST_TEST(text.find("delete table inet secure_postgres\n") > first_statement);
  BOOST_TEST(text.find("flush ruleset") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(renders_each_match) {
  BOOST_TEST(render_match(MatchLoopbackInterface{Direction::destination}) == "oif \"lo\"");
  BOOST_TEST(render_match(MatchAddressInSet{Family::ipv6, Direction::destination, "x6"}) ==
             "ip6 daddr @x6");
  BOOST_TEST(render_match(MatchAddressPrefix{Direction::source, Cidr::parse("127.0.0.0/8")}) ==
             "ip saddr 127.0.0.0/8");
  BOOST_TEST(render_match(MatchPort{L4Protocol::udp, 9694}) == "udp dport 9694");
  BOOST_TEST(render_match(MatchPortInSet{L4Protocol::tcp, "p"}) == "tcp dport @p");
  BOOST_TEST(render_match(MatchIcmpType{Family::ipv6, 135, std::nullopt}) ==
             "icmpv6 type nd-neighbor-solicit");
  BOOST_TEST(render_match(MatchConntrackState{kCtStateInvalid}) == "ct state invalid");
  BOOST_TEST(render_match(MatchReversePathMissing{}) == "fib saddr . iif oif missing");
  BOOST_TEST(render_match(MatchL4ProtocolOther{L4Protocol::icmpv6}) == "meta l4proto != ipv6-icmp");
  BOOST_TEST(render_match(MatchL4ProtocolOther{L4Protocol::icmp}) == "meta l4proto != icmp");
  BOOST_TEST(render_match(MatchL4Protocol{L4Protocol::icmpv6}) == "meta l4proto ipv6-icmp");
}

BOOST_AUTO_TEST_CASE(renders_a_jump_and_a_regular_chain_without_hook) {
  RulePlan jump;
  jump.matches = {MatchL4Protocol{L4Protocol::icmp}};
  jump.verdict = Verdict::jump;
  jump.jump_chain = "input_icmp";
  BOOST_TEST(render_rule(jump) == "meta l4proto icmp counter jump input_icmp");
  const auto text = render_nft(plan_ruleset(load_config("docs/examples/isolation.conf")));
  const auto regular = text.find("\tchain input_icmp {\n");
  BOOST_TEST_REQUIRE(regular != std::string::npos);
  BOOST_TEST(text.substr(regular).find("\t\ticmp type @icmp_drop") ==
             std::string("\tchain input_icmp {\n").size());  // no type/hook line
}

BOOST_AUTO_TEST_SUITE_END()
