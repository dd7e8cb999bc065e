#include "net/ruleset_plan.hpp"

#include <boost/test/unit_test.hpp>
#include <set>

#include "net/nft_text.hpp"
#include "test_configs.hpp"

using namespace pgguard::net;
using pgguard::net::test::load_config;

namespace {

const ChainPlan& chain(const TablePlan& plan, const std::string& name) {
  for (const auto& c : plan.chains) {
    if (c.name == name) {
      return c;
    }
  }
  BOOST_FAIL("no chain " + name);
  throw std::logic_error("unreachable");
}

std::vector<std::string> set_elements(const TablePlan& plan, const std::string& name) {
  const SetPlan* set = plan.find_set(name);
  BOOST_TEST_REQUIRE(set != nullptr);
  std::vector<std::string> out;
  for (const auto& element : set->elements) {
    out.push_back(render_element(set->key_type, set->interval, element));
  }
  return out;
}

// Rule texts of a chain, as nft would print them.
std::vector<std::string> rule_texts(const ChainPlan& c) {
  std::vector<std::string> out;
  for (const auto& rule : c.rules) {
    out.push_back(render_rule(rule));
  }
  return out;
}

bool has_rule(const ChainPlan& c, const std::string& text) {
  const auto texts = rule_texts(c);
  return std::find(texts.begin(), texts.end(), text) != texts.end();
}

std::size_t index_of(const ChainPlan& c, const std::string& text) {
  const auto texts = rule_texts(c);
  const auto found = std::find(texts.begin(), texts.end(), text);
  BOOST_TEST_REQUIRE((found != texts.end()), "missing rule: " << text);
  return static_cast<std::size_t>(found - texts.begin());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ruleset_plan)

BOOST_AUTO_TEST_CASE(pgpool_sets_hold_members_vip_and_cidrs_per_family) {
  const auto plan = plan_ruleset(load_config("docs/examples/isolation.conf"));
  BOOST_TEST(plan.name == "secure_postgres");
  BOOST_TEST(set_elements(plan, "self4") == std::vector<std::string>{"198.18.1.13"});
  BOOST_TEST(set_elements(plan, "self6") == std::vector<std::string>{"2001:db8:1::13"});
  BOOST_TEST(set_elements(plan, "members4") ==
             (std::vector<std::string>{"198.18.1.11", "198.18.1.12", "198.18.1.13", "198.18.1.14",
                                       "198.18.1.15", "198.18.1.20"}));
  BOOST_TEST(
      set_elements(plan, "pgpool4") ==
      (std::vector<std::string>{"198.18.1.13", "198.18.1.14", "198.18.1.15", "198.18.1.20"}));
  BOOST_TEST(set_elements(plan, "pgpool6") ==
             (std::vector<std::string>{"2001:db8:1::13", "2001:db8:1::14", "2001:db8:1::15"}));
  BOOST_TEST(set_elements(plan, "clients4") == std::vector<std::string>{"198.18.64.0/24"});
  BOOST_TEST(set_elements(plan, "clients6") == std::vector<std::string>{"2001:db8:64::/64"});
  BOOST_TEST(set_elements(plan, "service4") == std::vector<std::string>{"198.18.0.0/16"});
  BOOST_TEST(plan.find_set("peers4") == nullptr);  // no union set duplicating long lists
  BOOST_TEST(set_elements(plan, "control_tcp") == (std::vector<std::string>{"22", "6868", "9100"}));
  BOOST_TEST(set_elements(plan, "control_udp") == std::vector<std::string>{"161"});
  BOOST_TEST(plan.find_set("clients4")->interval);
  BOOST_TEST(!plan.find_set("members4")->interval);
}

BOOST_AUTO_TEST_CASE(pgpool_role_port_plan) {
  const auto plan = plan_ruleset(load_config("docs/examples/isolation.conf"));
  const auto& input = chain(plan, "input");
  BOOST_TEST_REQUIRE(input.base.has_value());
  BOOST_TEST((input.base->policy == Verdict::drop));
  for (const char* family : {"ip saddr @", "ip6 saddr @"}) {
    const std::string v = std::string(family).find("ip6") == 0 ? "6" : "4";
    const std::string from = family;
    BOOST_TEST(has_rule(input, "tcp dport 9999 " + from + "members" + v + " counter accept"));
    BOOST_TEST(has_rule(input, "tcp dport 9999 " + from + "clients" + v + " counter accept"));
    BOOST_TEST(has_rule(input, "tcp dport 9898 " + from + "pgpool" + v + " counter accept"));
    BOOST_TEST(has_rule(input, "tcp dport 9898 " + from + "control" + v + " counter accept"));
    BOOST_TEST(has_rule(input, "tcp dport 9000 " + from + "pgpool" + v + " counter accept"));
    BOOST_TEST(has_rule(input, "udp dport 9694 " + from + "pgpool" + v + " counter accept"));
    BOOST_TEST(
        has_rule(input, "tcp dport @control_tcp " + from + "control" + v + " counter accept"));
    BOOST_TEST(
        has_rule(input, "udp dport @control_udp " + from + "control" + v + " counter accept"));
    BOOST_TEST(!has_rule(input, "tcp dport 5432 " + from + "members" + v + " counter accept"));
  }
}

BOOST_AUTO_TEST_CASE(postgres_role_port_plan) {
  const auto plan = plan_ruleset(load_config("tests/unit/net/data/postgres-ipv4.conf"));
  const auto& input = chain(plan, "input");
  BOOST_TEST(has_rule(input, "tcp dport 5432 ip saddr @members4 counter accept"));
  BOOST_TEST(has_rule(input, "tcp dport 5432 ip6 saddr @members6 counter accept"));
  for (const auto& text : rule_texts(input)) {
    BOOST_TEST_INFO(text);
    BOOST_TEST(text.find("9999") == std::string::npos);
    BOOST_TEST(text.find("9898") == std::string::npos);
    BOOST_TEST(text.find("9694") == std::string::npos);
    BOOST_TEST(text.find("saddr @clients") == std::string::npos);  // applications use pgpool
  }
  // IPv4-only instance: the IPv6 sets exist but are empty.
  BOOST_TEST(set_elements(plan, "members6").empty());
  BOOST_TEST(set_elements(plan, "members4").size() == 6u);
}

BOOST_AUTO_TEST_CASE(input_order_puts_icmp_policy_before_conntrack) {
  const auto plan = plan_ruleset(load_config("docs/examples/isolation.conf"));
  const auto& input = chain(plan, "input");
  const auto established = index_of(input, "ct state established,related counter accept");
  const auto invalid = index_of(input, "ct state invalid counter drop");
  // Established TCP/UDP leave at rule 1; ICMP must not (the drops and the echo limit follow).
  BOOST_TEST(index_of(input,
                      "ct state established,related meta l4proto != icmp meta l4proto != "
                      "ipv6-icmp counter accept") == 0u);
  BOOST_TEST(index_of(input, "iif \"lo\" counter accept") == 1u);
  BOOST_TEST(invalid < established);
  // ICMP is decided in its own chains before conntrack's verdicts: a redirect about a known
  // connection would be "related", repeated echoes "established".
  BOOST_TEST(index_of(input, "meta l4proto icmp counter jump input_icmp") < invalid);
  BOOST_TEST(index_of(input, "meta l4proto ipv6-icmp counter jump input_icmpv6") < invalid);
  BOOST_TEST(index_of(input, "tcp dport 9999 ip saddr @members4 counter accept") > established);
  for (const auto& text : rule_texts(input)) {
    BOOST_TEST_INFO(text);
    BOOST_TEST(text.find("icmp type") == std::string::npos);  // TCP and UDP never walk them
  }
  // The end: rate-limited log, then drop.
  const auto texts = rule_texts(input);
  BOOST_TEST(texts[texts.size() - 2] ==
             "limit rate 10/minute burst 5 packets counter log prefix \"pgguard-isolate drop: \"");
  BOOST_TEST(texts.back() == "counter drop");
}

BOOST_AUTO_TEST_CASE(icmp_chains_drop_attacks_then_limit_echo) {
  const auto plan = plan_ruleset(load_config("docs/examples/isolation.conf"));
  for (const std::string v : {"", "v6"}) {
    const auto& icmp = chain(plan, "input_icmp" + v);
    BOOST_TEST(!icmp.base.has_value());  // a regular chain, reached only by the jump
    const std::string family = v.empty() ? "icmp" : "icmpv6";
    const std::string ip = v.empty() ? "ip" : "ip6";
    const std::string n = v.empty() ? "4" : "6";
    BOOST_TEST(index_of(icmp, family + " type @" + family + "_drop counter drop") == 0u);
    const auto outsiders = index_of(
        icmp, family + " type echo-request " + ip + " saddr != @members" + n + " " + ip +
                  " saddr != @clients" + n + " " + ip + " saddr != @control" + n + " counter drop");
    const auto limited = index_of(
        icmp, family + " type echo-request limit rate 10/second burst 20 packets counter accept");
    BOOST_TEST(outsiders < limited);
    BOOST_TEST(limited < index_of(icmp, family + " type echo-request counter drop"));
    BOOST_TEST(index_of(icmp, family + " type @" + family + "_accept counter accept") > limited);
    for (const auto& rule : icmp.rules) {
      BOOST_TEST((rule.verdict != Verdict::none), rule.comment);  // each one decides
    }
  }
}

BOOST_AUTO_TEST_CASE(icmp_sets_drop_attacks_and_keep_neighbour_discovery) {
  const auto plan = plan_ruleset(load_config("docs/examples/isolation.conf"));
  const auto drop = set_elements(plan, "icmp_drop");
  for (const char* type :
       {"redirect", "timestamp-request", "timestamp-reply", "address-mask-request",
        "address-mask-reply", "source-quench", "router-advertisement"}) {
    BOOST_TEST((std::find(drop.begin(), drop.end(), type) != drop.end()), type);
  }
  const auto drop6 = set_elements(plan, "icmpv6_drop");
  BOOST_TEST((std::find(drop6.begin(), drop6.end(), "nd-redirect") != drop6.end()));
  BOOST_TEST((std::find(drop6.begin(), drop6.end(), "nd-router-advert") != drop6.end()));
  const auto accept6 = set_elements(plan, "icmpv6_accept");
  for (const char* type : {"packet-too-big", "time-exceeded", "parameter-problem",
                           "nd-neighbor-solicit", "nd-neighbor-advert"}) {
    BOOST_TEST((std::find(accept6.begin(), accept6.end(), type) != accept6.end()), type);
  }
  BOOST_TEST(set_elements(plan, "icmp_accept") ==
             (std::vector<std::string>{"time-exceeded", "parameter-problem"}));
  BOOST_TEST(has_rule(chain(plan, "input_icmp"),
                      "icmp type destination-unreachable icmp code frag-needed counter accept"));
}

BOOST_AUTO_TEST_CASE(prerouting_anti_spoofing_and_output_isolation) {
  const auto plan = plan_ruleset(load_config("docs/examples/isolation.conf"));
  const auto& prerouting = chain(plan, "prerouting");
  BOOST_TEST_REQUIRE(prerouting.base.has_value());
  BOOST_TEST(prerouting.base->priority == -300);  // before conntrack
  BOOST_TEST(has_rule(prerouting, "ip saddr @self4 counter drop"));
  BOOST_TEST(has_rule(prerouting, "ip6 saddr @self6 counter drop"));
  BOOST_TEST(has_rule(prerouting, "ip saddr 127.0.0.0/8 counter drop"));
  BOOST_TEST(has_rule(prerouting, "ip6 saddr ::1 counter drop"));
  BOOST_TEST(rule_texts(prerouting).back() == "fib saddr . iif oif missing counter drop");

  const auto& output = chain(plan, "output");
  BOOST_TEST_REQUIRE(output.base.has_value());
  BOOST_TEST((output.base->policy == Verdict::accept));
  const auto cut = index_of(output, "ip daddr @service4 counter drop");
  BOOST_TEST(index_of(output, "ip daddr @members4 counter accept") < cut);
  BOOST_TEST(index_of(output, "ip daddr @control4 counter accept") < cut);
  BOOST_TEST(index_of(output, "ct state established,related counter accept") == 0u);
  // Untracked neighbour discovery must not hit the cut (neighbours in the service network).
  BOOST_TEST(index_of(output, "icmpv6 type @icmpv6_accept counter accept") < cut);
  BOOST_TEST(has_rule(output, "ip6 daddr @service6 counter drop"));
}

BOOST_AUTO_TEST_CASE(every_rule_has_a_distinct_comment) {
  for (const char* file :
       {"docs/examples/isolation.conf", "tests/unit/net/data/postgres-ipv4.conf"}) {
    const auto plan = plan_ruleset(load_config(file));
    for (const auto& c : plan.chains) {
      std::set<std::string> comments;
      for (const auto& rule : c.rules) {
        BOOST_TEST(!rule.comment.empty());
        BOOST_TEST(comments.insert(rule.comment).second, "repeated comment: " << rule.comment);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(hash_sets_declare_a_power_of_two_size_interval_sets_none) {
  BOOST_TEST(set_capacity(0) == 16u);
  BOOST_TEST(set_capacity(16) == 16u);
  BOOST_TEST(set_capacity(17) == 32u);
  BOOST_TEST(set_capacity(100000) == 131072u);
  std::string text = "self = 198.18.1.13\nmember = pgpool 198.18.1.13\n";
  for (int i = 0; i < 40; ++i) {
    text += "member = standby 198.19.0." + std::to_string(i + 1) + "\n";
  }
  text += "[control]\ncidr = 10.0.0.0/8\n[service_network]\ncidr = 198.18.0.0/16\n";
  const auto plan = plan_ruleset(pgguard::net::test::parse_config(text));
  BOOST_TEST(plan.find_set("members4")->capacity == 64u);  // 41 members
  BOOST_TEST(plan.find_set("self6")->capacity == 16u);     // empty, still declared
  BOOST_TEST(plan.find_set("control_tcp")->capacity == 16u);
  for (const auto& set : plan.sets) {
    BOOST_TEST((set.interval ? set.capacity == 0u : set.capacity >= set.elements.size()), set.name);
  }
}

BOOST_AUTO_TEST_CASE(overlapping_cidrs_are_merged_in_interval_sets) {
  const auto config = pgguard::net::test::parse_config(
      "self = 198.18.1.13\nmember = pgpool 198.18.1.13\n"
      "[clients]\ncidr = 198.18.64.0/25\ncidr = 198.18.64.128/25\ncidr = 198.18.64.7\n"
      "[control]\ncidr = 10.0.0.0/8\n[service_network]\ncidr = 198.18.0.0/16\n");
  const auto plan = plan_ruleset(config);
  BOOST_TEST(set_elements(plan, "clients4") == std::vector<std::string>{"198.18.64.0/24"});
  BOOST_TEST(set_elements(plan, "control4") == std::vector<std::string>{"10.0.0.0/8"});
}

BOOST_AUTO_TEST_SUITE_END()
