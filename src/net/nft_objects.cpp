#include "net/nft_objects.hpp"

#include <arpa/inet.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <variant>

#include "common/error.hpp"
#include "common/overloaded.hpp"

namespace pgguard::net {

namespace {

// Builds one rule's expressions the way nft does (same expressions, same order, protocol
// dependencies emitted once), so a table loaded from `show` with `nft -f` verifies in sync.
class ExpressionBuilder {
 public:
  ExpressionBuilder(nftnl_rule* rule, const TablePlan& plan) : rule_(rule), plan_(plan) {}

  void match(const Match& match) {
    std::visit(Overloaded{
                   [this](const MatchLoopbackInterface& m) {
                     meta(m.direction == Direction::source ? NFT_META_IIF : NFT_META_OIF);
                     cmp_u32(NFT_CMP_EQ, 1);  // lo is ifindex 1 in every network namespace
                   },
                   [this](const MatchAddressInSet& m) {
                     address_payload(m.family, m.direction, m.family == Family::ipv4 ? 4 : 16);
                     lookup(m.set, m.negated);
                   },
                   [this](const MatchAddressPrefix& m) {
                     const auto bytes = m.prefix.network().bytes();
                     const auto length = static_cast<std::uint32_t>(m.prefix.prefix() / 8);
                     address_payload(m.prefix.family(), m.direction, length);
                     cmp(NFT_CMP_EQ, bytes.data(), length);
                   },
                   [this](const MatchPort& m) {
                     l4proto(m.protocol);
                     payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
                     const std::uint16_t port = htons(m.port);
                     cmp(NFT_CMP_EQ, &port, sizeof port);
                   },
                   [this](const MatchPortInSet& m) {
                     l4proto(m.protocol);
                     payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
                     lookup(m.set);
                   },
                   [this](const MatchIcmpType& m) {
                     icmp_dependencies(m.family);
                     if (m.code) {
                       const std::uint8_t type_and_code[2] = {m.type, *m.code};
                       payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 2);
                       cmp(NFT_CMP_EQ, type_and_code, 2);
                     } else {
                       payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
                       cmp(NFT_CMP_EQ, &m.type, 1);
                     }
                   },
                   [this](const MatchIcmpTypeInSet& m) {
                     icmp_dependencies(m.family);
                     payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
                     lookup(m.set);
                   },
                   [this](const MatchConntrackState& m) {
                     auto expr = make("ct");
                     nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
                     nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_CT_DREG, NFT_REG_1);
                     add(std::move(expr));
                     auto bitwise = make("bitwise");
                     const std::uint32_t mask = m.state_bits;
                     const std::uint32_t zero = 0;
                     nftnl_expr_set_u32(bitwise.get(), NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
                     nftnl_expr_set_u32(bitwise.get(), NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
                     nftnl_expr_set_u32(bitwise.get(), NFTNL_EXPR_BITWISE_LEN, 4);
                     nftnl_expr_set(bitwise.get(), NFTNL_EXPR_BITWISE_MASK, &mask, 4);
                     nftnl_expr_set(bitwise.get(), NFTNL_EXPR_BITWISE_XOR, &zero, 4);
                     add(std::move(bitwise));
                     cmp_u32(NFT_CMP_NEQ, 0);
                   },
                   [this](const MatchL4Protocol& m) { l4proto(m.protocol); },
                   [this](const MatchL4ProtocolOther& m) {
                     meta(NFT_META_L4PROTO);
                     const auto value = static_cast<std::uint8_t>(m.protocol);
                     cmp(NFT_CMP_NEQ, &value, 1);
                   },
                   [this](const MatchReversePathMissing&) {
                     auto expr = make("fib");
                     nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_FIB_DREG, NFT_REG_1);
                     nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_OIF);
                     nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_FIB_FLAGS,
                                        NFTA_FIB_F_SADDR | NFTA_FIB_F_IIF | NFTA_FIB_F_PRESENT);
                     add(std::move(expr));
                     cmp_u32(NFT_CMP_EQ, 0);  // as nft emits it: a 4-byte compare with 0
                   },
               },
               match);
  }

  void limit(const Limit& limit) {
    static constexpr std::uint64_t seconds[] = {1, 60, 3600, 86400};
    auto expr = make("limit");
    nftnl_expr_set_u64(expr.get(), NFTNL_EXPR_LIMIT_RATE, limit.rate.count);
    nftnl_expr_set_u64(expr.get(), NFTNL_EXPR_LIMIT_UNIT,
                       seconds[static_cast<int>(limit.rate.unit)]);
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_LIMIT_BURST, limit.burst);
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_LIMIT_FLAGS, 0);
    add(std::move(expr));
  }

  void counter() {
    auto expr = make("counter");
    nftnl_expr_set_u64(expr.get(), NFTNL_EXPR_CTR_PACKETS, 0);
    nftnl_expr_set_u64(expr.get(), NFTNL_EXPR_CTR_BYTES, 0);
    add(std::move(expr));
  }

  void log(const std::string& prefix) {
    auto expr = make("log");
    nftnl_expr_set_str(expr.get(), NFTNL_EXPR_LOG_PREFIX, prefix.c_str());
    // The kernel's default level, stated so the read-back object compares equal.
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_LOG_LEVEL, 4);
    add(std::move(expr));
  }

  void verdict(Verdict verdict, const std::string& jump_chain) {
    auto expr = make("immediate");
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_IMM_VERDICT, verdict_code(verdict));
    if (verdict == Verdict::jump) {
      nftnl_expr_set_str(expr.get(), NFTNL_EXPR_IMM_CHAIN, jump_chain.c_str());
    }
    add(std::move(expr));
  }

 private:
  static NftnlExpr make(const char* name) {
    NftnlExpr expr(nftnl_expr_alloc(name));
    if (!expr) {
      throw SystemError(std::string("cannot allocate nftnl expression ") + name, ENOMEM);
    }
    return expr;
  }

  void add(NftnlExpr expr) { nftnl_rule_add_expr(rule_, expr.release()); }

  void meta(std::uint32_t key) {
    auto expr = make("meta");
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_META_KEY, key);
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_META_DREG, NFT_REG_1);
    add(std::move(expr));
  }

  void payload(std::uint32_t base, std::uint32_t offset, std::uint32_t length) {
    auto expr = make("payload");
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_PAYLOAD_BASE, base);
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_PAYLOAD_LEN, length);
    add(std::move(expr));
  }

  void cmp(std::uint32_t op, const void* data, std::uint32_t length) {
    auto expr = make("cmp");
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set(expr.get(), NFTNL_EXPR_CMP_DATA, data, length);
    add(std::move(expr));
  }

  void cmp_u32(std::uint32_t op, std::uint32_t value) { cmp(op, &value, sizeof value); }

  void lookup(const std::string& set, bool negated = false) {
    auto expr = make("lookup");
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
    nftnl_expr_set_str(expr.get(), NFTNL_EXPR_LOOKUP_SET, set.c_str());
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_LOOKUP_SET_ID, set_id(set));
    nftnl_expr_set_u32(expr.get(), NFTNL_EXPR_LOOKUP_FLAGS, negated ? NFT_LOOKUP_F_INV : 0);
    add(std::move(expr));
  }

  void nfproto(Family family) {
    if (have_nfproto_) {
      return;
    }
    have_nfproto_ = true;
    meta(NFT_META_NFPROTO);
    const std::uint8_t value = family == Family::ipv4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
    cmp(NFT_CMP_EQ, &value, 1);
  }

  void l4proto(L4Protocol protocol) {
    if (have_l4proto_) {
      return;
    }
    have_l4proto_ = true;
    meta(NFT_META_L4PROTO);
    const auto value = static_cast<std::uint8_t>(protocol);
    cmp(NFT_CMP_EQ, &value, 1);
  }

  void icmp_dependencies(Family family) {
    nfproto(family);
    l4proto(family == Family::ipv4 ? L4Protocol::icmp : L4Protocol::icmpv6);
  }

  void address_payload(Family family, Direction direction, std::uint32_t length) {
    nfproto(family);
    // IPv4 saddr/daddr at 12/16, IPv6 at 8/24.
    const std::uint32_t offset = family == Family::ipv4 ? (direction == Direction::source ? 12 : 16)
                                                        : (direction == Direction::source ? 8 : 24);
    payload(NFT_PAYLOAD_NETWORK_HEADER, offset, length);
  }

  std::uint32_t set_id(const std::string& set) const {
    for (std::size_t i = 0; i < plan_.sets.size(); ++i) {
      if (plan_.sets[i].name == set) {
        return static_cast<std::uint32_t>(i + 1);
      }
    }
    throw Error(ExitCode::system, "internal error: rule references unknown set " + set);
  }

  nftnl_rule* rule_;
  const TablePlan& plan_;
  bool have_nfproto_ = false;
  bool have_l4proto_ = false;
};

}  // namespace

std::uint32_t hook_number(Hook hook) {
  switch (hook) {
    case Hook::prerouting:
      return NF_INET_PRE_ROUTING;
    case Hook::input:
      return NF_INET_LOCAL_IN;
    case Hook::output:
      return NF_INET_LOCAL_OUT;
  }
  return NF_INET_LOCAL_IN;
}

std::uint32_t verdict_code(Verdict verdict) {
  switch (verdict) {
    case Verdict::accept:
      return NF_ACCEPT;
    case Verdict::jump:
      return static_cast<std::uint32_t>(NFT_JUMP);
    case Verdict::drop:
    case Verdict::none:
      break;
  }
  return NF_DROP;
}

NftnlTable make_table(const std::string& table) {
  NftnlTable object(nftnl_table_alloc());
  if (!object) {
    throw SystemError("cannot allocate nftnl table", ENOMEM);
  }
  nftnl_table_set_u32(object.get(), NFTNL_TABLE_FAMILY, NFPROTO_INET);
  nftnl_table_set_str(object.get(), NFTNL_TABLE_NAME, table.c_str());
  // No NFT_TABLE_F_OWNER: an owned table vanishes when this one-shot program exits.
  nftnl_table_set_u32(object.get(), NFTNL_TABLE_FLAGS, 0);
  return object;
}

NftnlChain make_chain(const std::string& table, const ChainPlan& chain) {
  NftnlChain object(nftnl_chain_alloc());
  if (!object) {
    throw SystemError("cannot allocate nftnl chain", ENOMEM);
  }
  nftnl_chain_set_u32(object.get(), NFTNL_CHAIN_FAMILY, NFPROTO_INET);
  nftnl_chain_set_str(object.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(object.get(), NFTNL_CHAIN_NAME, chain.name.c_str());
  if (chain.base) {
    nftnl_chain_set_str(object.get(), NFTNL_CHAIN_TYPE, "filter");
    nftnl_chain_set_u32(object.get(), NFTNL_CHAIN_HOOKNUM, hook_number(chain.base->hook));
    nftnl_chain_set_s32(object.get(), NFTNL_CHAIN_PRIO, chain.base->priority);
    nftnl_chain_set_u32(object.get(), NFTNL_CHAIN_POLICY, verdict_code(chain.base->policy));
  }
  return object;
}

NftnlSet make_set(const std::string& table, const SetPlan& set, std::uint32_t set_id) {
  NftnlSet object(nftnl_set_alloc());
  if (!object) {
    throw SystemError("cannot allocate nftnl set", ENOMEM);
  }
  nftnl_set_set_u32(object.get(), NFTNL_SET_FAMILY, NFPROTO_INET);
  nftnl_set_set_str(object.get(), NFTNL_SET_TABLE, table.c_str());
  nftnl_set_set_str(object.get(), NFTNL_SET_NAME, set.name.c_str());
  nftnl_set_set_u32(object.get(), NFTNL_SET_ID, set_id);
  nftnl_set_set_u32(object.get(), NFTNL_SET_FLAGS, set.interval ? NFT_SET_INTERVAL : 0);
  nftnl_set_set_u32(object.get(), NFTNL_SET_KEY_TYPE, key_type_id(set.key_type));
  nftnl_set_set_u32(object.get(), NFTNL_SET_KEY_LEN,
                    static_cast<std::uint32_t>(key_length(set.key_type)));
  if (set.capacity != 0) {
    nftnl_set_set_u32(object.get(), NFTNL_SET_DESC_SIZE, set.capacity);
  }
  return object;
}

NftnlRule make_rule(const std::string& table, const std::string& chain, const RulePlan& rule,
                    const TablePlan& plan) {
  NftnlRule object(nftnl_rule_alloc());
  if (!object) {
    throw SystemError("cannot allocate nftnl rule", ENOMEM);
  }
  nftnl_rule_set_u32(object.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
  nftnl_rule_set_str(object.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(object.get(), NFTNL_RULE_CHAIN, chain.c_str());

  ExpressionBuilder builder(object.get(), plan);
  for (const auto& match : rule.matches) {
    builder.match(match);
  }
  if (rule.limit) {
    builder.limit(*rule.limit);
  }
  builder.counter();
  if (rule.log_prefix) {
    builder.log(*rule.log_prefix);
  }
  if (rule.verdict != Verdict::none) {
    builder.verdict(rule.verdict, rule.jump_chain);
  }

  std::unique_ptr<nftnl_udata_buf, NftnlFree<nftnl_udata_buf_free>> udata(
      nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN));
  if (!udata ||
      !nftnl_udata_put_strz(udata.get(), NFTNL_UDATA_RULE_COMMENT, rule.comment.c_str())) {
    throw Error(ExitCode::system, "rule comment too long: " + rule.comment);
  }
  nftnl_rule_set_data(object.get(), NFTNL_RULE_USERDATA, nftnl_udata_buf_data(udata.get()),
                      nftnl_udata_buf_len(udata.get()));
  return object;
}

std::vector<KernelElement> kernel_elements(const SetPlan& set) {
  std::vector<KernelElement> elements;
  elements.reserve(set.elements.size() * (set.interval ? 2 : 1));
  for (const auto& element : set.elements) {
    elements.push_back({element.first, false});
    if (!set.interval) {
      continue;
    }
    SetKey end = element.last;
    bool overflow = true;
    for (auto i = end.size(); i-- > 0;) {
      if (++end.bytes[i] != 0) {
        overflow = false;
        break;
      }
    }
    if (!overflow) {
      elements.push_back({end, true});
    }
  }
  return elements;
}

}  // namespace pgguard::net
