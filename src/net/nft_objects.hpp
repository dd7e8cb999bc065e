#pragma once

#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include <array>
#include <memory>
#include <string>

#include "net/ruleset_plan.hpp"

// RAII owners for libnftnl objects and the one place where plan elements become nftnl objects
// (shared by apply, which sends them, and verify, which compares the kernel's with them).
namespace pgguard::net {

// Deleter for any libnftnl free function (they differ in constness).
template <auto Free>
struct NftnlFree {
  template <class T>
  void operator()(T* object) const {
    Free(object);
  }
};

using NftnlTable = std::unique_ptr<nftnl_table, NftnlFree<nftnl_table_free>>;
using NftnlChain = std::unique_ptr<nftnl_chain, NftnlFree<nftnl_chain_free>>;
using NftnlSet = std::unique_ptr<nftnl_set, NftnlFree<nftnl_set_free>>;
using NftnlRule = std::unique_ptr<nftnl_rule, NftnlFree<nftnl_rule_free>>;
using NftnlExpr = std::unique_ptr<nftnl_expr, NftnlFree<nftnl_expr_free>>;

NftnlTable make_table(const std::string& table);
NftnlChain make_chain(const std::string& table, const ChainPlan& chain);
// set_id names the set inside one transaction.
NftnlSet make_set(const std::string& table, const SetPlan& set, std::uint32_t set_id);
// Set ids of the sets the rule's lookups reference, in plan order (index + 1).
NftnlRule make_rule(const std::string& table, const std::string& chain, const RulePlan& rule,
                    const TablePlan& plan);

// The elements as the kernel stores them: an interval set holds a start key and, unless the
// range ends at the last address, an "interval end" key one past the range.
struct KernelElement {
  SetKey key;
  bool interval_end = false;
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads defaulted operator<=>
  friend auto operator<=>(const KernelElement&, const KernelElement&) = default;
};
std::vector<KernelElement> kernel_elements(const SetPlan& set);

// The chain's netlink hook number; a verdict's netlink code (NF_ACCEPT, NF_DROP, NFT_JUMP).
std::uint32_t hook_number(Hook hook);
std::uint32_t verdict_code(Verdict verdict);

}  // namespace pgguard::net
