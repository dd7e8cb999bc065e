// The netlink expressions of every rule the planner emits, against a golden file written by hand
// from the protocol headers (issue 18, item 6). `verify` and ruleset_compare_test build their
// expectations with the same encoder as apply (nft_objects), so a wrong byte offset or length
// there passes them; this test reads the libnftnl objects attribute by attribute and prints
// the numbers themselves (payload base, offset and length, compared bytes, keys, registers).
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <boost/test/unit_test.hpp>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "lib/golden.hpp"
#include "net/nft_objects.hpp"
#include "net/nft_text.hpp"
#include "test_configs.hpp"

using namespace pgguard::net;

namespace {

// Bytes in memory order, grouped by four: "7f", "270f", "00000000 00000000 00000000 00000001".
std::string hex(const void* data, std::uint32_t length) {
  static const char digits[] = "0123456789abcdef";
  std::string text;
  const auto* bytes = static_cast<const std::uint8_t*>(data);
  for (std::uint32_t i = 0; i < length; ++i) {
    if (i != 0 && i % 4 == 0) {
      text += ' ';
    }
    text += digits[bytes[i] >> 4];
    text += digits[bytes[i] & 0xf];
  }
  return text;
}

std::string data(const nftnl_expr* expr, std::uint16_t attribute) {
  std::uint32_t length = 0;
  const void* value = nftnl_expr_get(expr, attribute, &length);
  return value != nullptr ? hex(value, length) : "(none)";
}

std::string name_of(std::uint32_t value,
                    std::initializer_list<std::pair<std::uint32_t, const char*>> names) {
  for (const auto& [number, name] : names) {
    if (number == value) {
      return name;
    }
  }
  return "?" + std::to_string(value);
}

std::string reg(const nftnl_expr* expr, std::uint16_t attribute) {
  const auto value = nftnl_expr_get_u32(expr, attribute);
  return value == NFT_REG_VERDICT ? "reg verdict" : "reg " + std::to_string(value);
}

std::string meta_key(std::uint32_t key) {
  return name_of(key, {{NFT_META_IIF, "iif"},
                       {NFT_META_OIF, "oif"},
                       {NFT_META_NFPROTO, "nfproto"},
                       {NFT_META_L4PROTO, "l4proto"}});
}

std::string verdict(const nftnl_expr* expr) {
  const auto code = static_cast<std::int32_t>(nftnl_expr_get_u32(expr, NFTNL_EXPR_IMM_VERDICT));
  switch (code) {
    case NF_ACCEPT:
      return "accept";
    case NF_DROP:
      return "drop";
    case NFT_JUMP:
      return std::string("jump ") + nftnl_expr_get_str(expr, NFTNL_EXPR_IMM_CHAIN);
    default:
      return "?" + std::to_string(code);
  }
}

// One expression per line, every attribute the encoder may set; an attribute it sets that
// this printer does not know is shown as "+attr<N>", so it cannot go unnoticed.
std::string render_expression(const nftnl_expr* expr) {
  const std::string name = nftnl_expr_get_str(expr, NFTNL_EXPR_NAME);
  std::ostringstream out;
  std::set<std::uint16_t> shown;
  const auto u32 = [&](std::uint16_t attribute) {
    shown.insert(attribute);
    return nftnl_expr_get_u32(expr, attribute);
  };
  const auto bytes = [&](std::uint16_t attribute) {
    shown.insert(attribute);
    return data(expr, attribute);
  };
  const auto registr = [&](std::uint16_t attribute) {
    shown.insert(attribute);
    return reg(expr, attribute);
  };
  if (name == "meta") {
    out << "meta load " << meta_key(u32(NFTNL_EXPR_META_KEY)) << " => "
        << registr(NFTNL_EXPR_META_DREG);
  } else if (name == "cmp") {
    const auto op = u32(NFTNL_EXPR_CMP_OP);
    out << "cmp " << registr(NFTNL_EXPR_CMP_SREG) << " "
        << name_of(op, {{NFT_CMP_EQ, "=="},
                        {NFT_CMP_NEQ, "!="},
                        {NFT_CMP_LT, "<"},
                        {NFT_CMP_LTE, "<="},
                        {NFT_CMP_GT, ">"},
                        {NFT_CMP_GTE, ">="}})
        << " " << bytes(NFTNL_EXPR_CMP_DATA);
  } else if (name == "payload") {
    const auto base = u32(NFTNL_EXPR_PAYLOAD_BASE);
    out << "payload load "
        << name_of(base, {{NFT_PAYLOAD_LL_HEADER, "link"},
                          {NFT_PAYLOAD_NETWORK_HEADER, "network"},
                          {NFT_PAYLOAD_TRANSPORT_HEADER, "transport"}})
        << " header + " << u32(NFTNL_EXPR_PAYLOAD_OFFSET) << " len " << u32(NFTNL_EXPR_PAYLOAD_LEN)
        << " => " << registr(NFTNL_EXPR_PAYLOAD_DREG);
  } else if (name == "lookup") {
    const auto flags = u32(NFTNL_EXPR_LOOKUP_FLAGS);
    shown.insert(NFTNL_EXPR_LOOKUP_SET);
    // The set id only names the set inside one transaction; the kernel binds by name first.
    shown.insert(NFTNL_EXPR_LOOKUP_SET_ID);
    out << "lookup " << registr(NFTNL_EXPR_LOOKUP_SREG)
        << (flags == NFT_LOOKUP_F_INV ? " not in @"
                                      : (flags == 0 ? " in @" : " ?flags" + std::to_string(flags)))
        << nftnl_expr_get_str(expr, NFTNL_EXPR_LOOKUP_SET);
  } else if (name == "ct") {
    out << "ct load " << name_of(u32(NFTNL_EXPR_CT_KEY), {{NFT_CT_STATE, "state"}}) << " => "
        << registr(NFTNL_EXPR_CT_DREG);
  } else if (name == "bitwise") {
    out << "bitwise " << registr(NFTNL_EXPR_BITWISE_DREG) << " = (";
    out << registr(NFTNL_EXPR_BITWISE_SREG) << " & " << bytes(NFTNL_EXPR_BITWISE_MASK) << ") ^ "
        << bytes(NFTNL_EXPR_BITWISE_XOR) << " len " << u32(NFTNL_EXPR_BITWISE_LEN);
  } else if (name == "fib") {
    const auto flags = u32(NFTNL_EXPR_FIB_FLAGS);
    std::string names;
    for (const auto& [bit, flag] : {std::pair{NFTA_FIB_F_SADDR, "saddr"},
                                    {NFTA_FIB_F_DADDR, "daddr"},
                                    {NFTA_FIB_F_MARK, "mark"},
                                    {NFTA_FIB_F_IIF, "iif"},
                                    {NFTA_FIB_F_OIF, "oif"},
                                    {NFTA_FIB_F_PRESENT, "present"}}) {
      if ((flags & static_cast<std::uint32_t>(bit)) != 0) {
        names += (names.empty() ? "" : ",") + std::string(flag);
      }
    }
    out << "fib load flags " << names << " result "
        << name_of(u32(NFTNL_EXPR_FIB_RESULT), {{NFT_FIB_RESULT_OIF, "oif"},
                                                {NFT_FIB_RESULT_OIFNAME, "oifname"},
                                                {NFT_FIB_RESULT_ADDRTYPE, "addrtype"}})
        << " => " << registr(NFTNL_EXPR_FIB_DREG);
  } else if (name == "limit") {
    shown.insert(NFTNL_EXPR_LIMIT_RATE);
    shown.insert(NFTNL_EXPR_LIMIT_UNIT);
    out << "limit rate " << nftnl_expr_get_u64(expr, NFTNL_EXPR_LIMIT_RATE) << " per "
        << nftnl_expr_get_u64(expr, NFTNL_EXPR_LIMIT_UNIT) << " s burst "
        << u32(NFTNL_EXPR_LIMIT_BURST) << " type "
        << name_of(u32(NFTNL_EXPR_LIMIT_TYPE),
                   {{NFT_LIMIT_PKTS, "packets"}, {NFT_LIMIT_PKT_BYTES, "bytes"}})
        << " flags " << u32(NFTNL_EXPR_LIMIT_FLAGS);
  } else if (name == "counter") {
    shown.insert(NFTNL_EXPR_CTR_PACKETS);
    shown.insert(NFTNL_EXPR_CTR_BYTES);
    out << "counter packets " << nftnl_expr_get_u64(expr, NFTNL_EXPR_CTR_PACKETS) << " bytes "
        << nftnl_expr_get_u64(expr, NFTNL_EXPR_CTR_BYTES);
  } else if (name == "log") {
    shown.insert(NFTNL_EXPR_LOG_PREFIX);
    out << "log prefix \"" << nftnl_expr_get_str(expr, NFTNL_EXPR_LOG_PREFIX) << "\" level "
        << u32(NFTNL_EXPR_LOG_LEVEL);
  } else if (name == "immediate") {
    shown.insert(NFTNL_EXPR_IMM_VERDICT);
    shown.insert(NFTNL_EXPR_IMM_CHAIN);
    out << "immediate verdict " << verdict(expr) << " => " << registr(NFTNL_EXPR_IMM_DREG);
  } else {
    out << name << " (not known to this test)";
  }
  for (std::uint16_t attribute = NFTNL_EXPR_BASE; attribute < 32; ++attribute) {
    if (nftnl_expr_is_set(expr, attribute) && !shown.contains(attribute)) {
      out << " +attr" << attribute;
    }
  }
  return out.str();
}

int collect_expression(nftnl_expr* expr, void* lines) {
  static_cast<std::string*>(lines)->append("  " + render_expression(expr) + "\n");
  return 0;
}

int collect_comment(const nftnl_udata* attribute, void* comment) {
  if (nftnl_udata_type(attribute) == NFTNL_UDATA_RULE_COMMENT) {
    const auto* value = static_cast<const char*>(nftnl_udata_get(attribute));
    *static_cast<std::string*>(comment) =
        std::string(value, strnlen(value, nftnl_udata_len(attribute)));
  }
  return 0;
}

// One block per rule: the chain and comment from the netlink object, the plan's nft text, then
// the expressions.
std::string render_rule_object(const nftnl_rule* rule, const RulePlan& plan) {
  std::string comment;
  std::uint32_t length = 0;
  const void* userdata = nftnl_rule_get_data(rule, NFTNL_RULE_USERDATA, &length);
  nftnl_udata_parse(userdata, length, collect_comment, &comment);
  std::string text = "rule " + std::string(nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN)) + " \"" +
                     comment + "\"\n  nft: " + render_rule(plan) + "\n";
  nftnl_expr_foreach(const_cast<nftnl_rule*>(rule), collect_expression, &text);
  return text;
}

// The golden file without its comments: lines starting with '#', and the rest of a line after
// "  # " (a note on the numbers); blank lines separate rules for the reader only.
std::vector<std::string> golden_blocks(const std::string& relative) {
  std::istringstream in(pgguard::test::read_source_file(relative));
  std::vector<std::string> blocks;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("#")) {
      continue;
    }
    if (const auto note = line.find("  # "); note != std::string::npos) {
      line.erase(note);
    }
    while (!line.empty() && line.back() == ' ') {
      line.pop_back();
    }
    if (line.empty()) {
      continue;
    }
    if (line.starts_with("rule ") || blocks.empty()) {
      blocks.emplace_back();
    }
    blocks.back() += line + "\n";
  }
  return blocks;
}

std::vector<std::string> rendered_blocks(const TablePlan& plan) {
  std::vector<std::string> blocks;
  for (const auto& chain : plan.chains) {
    for (const auto& rule : chain.rules) {
      const auto object = make_rule(plan.name, chain.name, rule, plan);
      BOOST_TEST(nftnl_rule_get_u32(object.get(), NFTNL_RULE_FAMILY) == NFPROTO_INET);
      BOOST_TEST(nftnl_rule_get_str(object.get(), NFTNL_RULE_TABLE) == plan.name);
      blocks.push_back(render_rule_object(object.get(), rule));
    }
  }
  return blocks;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(nft_expressions)

// Every rule of the pgpool plan of docs/examples/isolation.conf, which holds every kind of
// match the planner has (the next test checks that); a postgres plan's rules are of the same
// kinds with other ports and sets.
BOOST_AUTO_TEST_CASE(golden_pgpool_dual_stack) {
  const std::string golden = "tests/unit/net/data/pgpool.netlink";
  const auto plan = plan_ruleset(pgguard::net::test::load_config("docs/examples/isolation.conf"));
  const auto expected = golden_blocks(golden);
  const auto rendered = rendered_blocks(plan);
  std::string all;
  for (std::size_t i = 0; i < rendered.size(); ++i) {
    all += rendered[i] + "\n";
    if (i < expected.size()) {
      // One check per rule, so a failure names the rule and shows both sets of expressions.
      BOOST_TEST_CONTEXT("rule " << i + 1 << " of " << golden) {
        BOOST_TEST(rendered[i] == expected[i]);
      }
    }
  }
  BOOST_TEST(rendered.size() == expected.size());
  if (rendered != expected) {
    std::ofstream("pgpool.netlink.actual") << all;  // without the golden file's notes
  }
}

BOOST_AUTO_TEST_CASE(the_golden_plan_has_every_kind_of_match_and_statement) {
  const auto plan = plan_ruleset(pgguard::net::test::load_config("docs/examples/isolation.conf"));
  std::set<std::size_t> kinds;
  std::set<std::string> addresses;  // family and direction: four payload offsets
  bool limit = false;
  bool log = false;
  std::set<Verdict> verdicts;
  for (const auto& chain : plan.chains) {
    for (const auto& rule : chain.rules) {
      for (const auto& match : rule.matches) {
        kinds.insert(match.index());
        if (const auto* in_set = std::get_if<MatchAddressInSet>(&match)) {
          addresses.insert(std::to_string(static_cast<int>(in_set->family)) +
                           (in_set->direction == Direction::source ? "s" : "d"));
        }
      }
      limit = limit || rule.limit.has_value();
      log = log || rule.log_prefix.has_value();
      verdicts.insert(rule.verdict);
    }
  }
  BOOST_TEST(kinds.size() == std::variant_size_v<Match>);
  BOOST_TEST(addresses.size() == 4u);
  BOOST_TEST(limit);
  BOOST_TEST(log);
  BOOST_TEST(verdicts.size() == 4u);
}

BOOST_AUTO_TEST_SUITE_END()
