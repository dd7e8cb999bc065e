#pragma once

#include <string>

#include "net/ruleset_plan.hpp"

namespace pgguard::net {

// The plan in `nft -f` syntax. It starts with "table" + "delete table" so that `nft -f`
// replaces the table atomically, as apply does.
std::string render_nft(const TablePlan& plan);

// One rule as nft would print it (without the comment), for diffs and show.
std::string render_rule(const RulePlan& rule);
std::string render_match(const Match& match);
std::string render_element(SetKeyType type, bool interval, const SetElement& element);

}  // namespace pgguard::net
