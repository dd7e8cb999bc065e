#include <boost/test/unit_test.hpp>

#include "net/ruleset_readback.hpp"
#include "test_configs.hpp"

using namespace pgguard::net;

namespace {

TableSnapshot desired() {
  return desired_snapshot(
      plan_ruleset(pgguard::net::test::load_config("docs/examples/isolation.conf")));
}

SetSnapshot& set(TableSnapshot& table, const std::string& name) {
  for (auto& s : table.sets) {
    if (s.name == name) {
      return s;
    }
  }
  throw std::logic_error("no set " + name);
}

ChainSnapshot& chain(TableSnapshot& table, const std::string& name) {
  for (auto& c : table.chains) {
    if (c.name == name) {
      return c;
    }
  }
  throw std::logic_error("no chain " + name);
}

bool contains_line(const std::vector<std::string>& lines, const std::string& fragment) {
  for (const auto& line : lines) {
    if (line.find(fragment) != std::string::npos) {
      return true;
    }
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ruleset_compare)

BOOST_AUTO_TEST_CASE(identical_tables_have_no_differences) {
  BOOST_TEST(compare_tables(desired(), desired(), "secure_postgres").empty());
  BOOST_TEST(same_shape(desired(), desired()));
}

BOOST_AUTO_TEST_CASE(snapshot_carries_comments_counters_and_exact_compare_lengths) {
  const auto snapshot = desired();
  for (const auto& c : snapshot.chains) {
    for (const auto& rule : c.rules) {
      BOOST_TEST(!rule.comment.empty());
      BOOST_TEST(rule.expressions.find("[counter]") != std::string::npos);
    }
  }
  TableSnapshot table = snapshot;
  const auto& fib = chain(table, "prerouting").rules.back();
  BOOST_TEST(fib.expressions.find("[fib saddr . iif oif present") != std::string::npos);
  BOOST_TEST(fib.expressions.find("len 4") != std::string::npos);  // as nft emits it
}

BOOST_AUTO_TEST_CASE(missing_table) {
  const auto lines = compare_tables(TableSnapshot{}, desired(), "secure_postgres");
  BOOST_TEST(lines == std::vector<std::string>{"table inet secure_postgres does not exist"});
  BOOST_TEST(!same_shape(TableSnapshot{}, desired()));
}

BOOST_AUTO_TEST_CASE(deleted_rule_is_reported_with_its_comment) {
  auto kernel = desired();
  auto& rules = chain(kernel, "input").rules;
  const auto removed = std::find_if(rules.begin(), rules.end(), [](const RuleSnapshot& r) {
    return r.comment == "pgguard clients from application networks (IPv4)" ||
           r.comment == "pgpool clients from application networks (IPv4)";
  });
  BOOST_TEST_REQUIRE((removed != rules.end()));
  rules.erase(removed);
  const auto lines = compare_tables(kernel, desired(), "secure_postgres");
  BOOST_TEST_REQUIRE(lines.size() == 1u);
  BOOST_TEST(lines[0].find("chain input: missing rule ") == 0u);
  BOOST_TEST(lines[0].find("\"pgpool clients from application networks (IPv4)\"") !=
             std::string::npos);
  BOOST_TEST(same_shape(kernel, desired()));  // contents differ, shape does not: refill
}

BOOST_AUTO_TEST_CASE(added_and_reordered_rules) {
  auto kernel = desired();
  auto& rules = chain(kernel, "output").rules;
  rules.insert(rules.begin(), RuleSnapshot{"[immediate reg 0 accept ]", ""});
  std::swap(chain(kernel, "input").rules[0], chain(kernel, "input").rules[1]);
  const auto lines = compare_tables(kernel, desired(), "secure_postgres");
  BOOST_TEST(contains_line(lines, "chain output: unexpected rule 1 (no comment): [immediate"));
  BOOST_TEST(contains_line(lines, "chain input: "));
}

BOOST_AUTO_TEST_CASE(element_drift_is_shown_as_addresses_and_ranges) {
  auto kernel = desired();
  auto& members = set(kernel, "members4").elements;
  members.erase(members.begin());  // 198.18.1.11 gone
  auto extra = members.front();
  extra.key.bytes[3] = 99;  // 198.18.1.99 added
  members.push_back(extra);
  std::sort(members.begin(), members.end());
  set(kernel, "clients4").elements.clear();
  const auto lines = compare_tables(kernel, desired(), "secure_postgres");
  BOOST_TEST(contains_line(lines, "set members4: missing element 198.18.1.11"));
  BOOST_TEST(contains_line(lines, "set members4: unexpected element 198.18.1.99"));
  BOOST_TEST(contains_line(lines, "set clients4: missing element 198.18.64.0/24"));
}

BOOST_AUTO_TEST_CASE(changed_set_size_is_a_definition_change) {
  auto kernel = desired();
  set(kernel, "members4").size = 1024;
  const auto lines = compare_tables(kernel, desired(), "secure_postgres");
  BOOST_TEST(contains_line(lines,
                           "set members4: definition is type ipv4_addr, key length 4, "
                           "flags 0, size 1024, expected type ipv4_addr, key length 4, "
                           "flags 0, size 16"));
  // A refill cannot change a set's size: the table has to be replaced.
  BOOST_TEST(!same_shape(kernel, desired()));
}

BOOST_AUTO_TEST_CASE(foreign_objects_and_changed_definitions) {
  auto kernel = desired();
  kernel.sets.push_back(SetSnapshot{"zzz", 0, 7, 4, 0, {}});
  kernel.chains.push_back(ChainSnapshot{"sneaky", "", std::nullopt, 0, std::nullopt, {}});
  chain(kernel, "input").policy = 1;  // NF_ACCEPT instead of drop
  kernel.flags = 2;
  const auto lines = compare_tables(kernel, desired(), "secure_postgres");
  BOOST_TEST(contains_line(lines, "set zzz: unexpected set"));
  BOOST_TEST(contains_line(lines, "chain sneaky: unexpected chain"));
  BOOST_TEST(contains_line(lines,
                           "chain input: definition is type filter hook 1 priority 0 policy "
                           "accept, expected type filter hook 1 priority 0 policy drop"));
  BOOST_TEST(contains_line(lines, "table inet secure_postgres: flags 2, expected 0"));
  BOOST_TEST(!same_shape(kernel, desired()));
}

BOOST_AUTO_TEST_SUITE_END()
