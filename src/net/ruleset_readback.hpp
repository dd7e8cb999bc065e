#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "net/netlink_socket.hpp"
#include "net/nft_objects.hpp"
#include "net/ruleset_plan.hpp"

namespace pgguard::net {

// A table reduced to what decides packet fate, in a form both the plan and a kernel dump map
// to: expressions as libnftnl prints them (counter values left out), elements as keys.
struct SetSnapshot {
  std::string name;
  std::uint32_t flags = 0;
  std::uint32_t key_type = 0;
  std::uint32_t key_length = 0;
  std::uint32_t size = 0;  // declared size, 0 when none
  // Sorted as the kernel stores them; nft's leading no-op "zero, interval end" left out.
  std::vector<KernelElement> elements;
  friend bool operator==(const SetSnapshot&, const SetSnapshot&) = default;
};

struct RuleSnapshot {
  std::string expressions;
  std::string comment;
  friend bool operator==(const RuleSnapshot&, const RuleSnapshot&) = default;
};

struct ChainSnapshot {
  std::string name;
  std::string type;
  std::optional<std::uint32_t> hook;
  std::int32_t priority = 0;
  std::optional<std::uint32_t> policy;
  std::vector<RuleSnapshot> rules;

  bool same_definition(const ChainSnapshot& other) const {
    return name == other.name && type == other.type && hook == other.hook &&
           priority == other.priority && policy == other.policy;
  }
  friend bool operator==(const ChainSnapshot&, const ChainSnapshot&) = default;
};

struct TableSnapshot {
  bool exists = false;
  std::uint32_t flags = 0;
  std::vector<SetSnapshot> sets;      // sorted by name
  std::vector<ChainSnapshot> chains;  // sorted by name
  friend bool operator==(const TableSnapshot&, const TableSnapshot&) = default;
};

TableSnapshot desired_snapshot(const TablePlan& plan);

// Reads `inet <table>` over netlink. Throws SystemError. Without elements, the sets' element
// lists stay empty: the kernel's dump of a large interval set is the expensive part.
enum class ReadElements { yes, no };
TableSnapshot read_table(NetlinkSocket& socket, const std::string& table,
                         ReadElements elements = ReadElements::yes);
bool table_exists(NetlinkSocket& socket, const std::string& table);

// Human-readable differences, one per line; empty when in sync.
std::vector<std::string> compare_tables(const TableSnapshot& kernel, const TableSnapshot& desired,
                                        const std::string& table);

// True when the kernel table has exactly the desired sets and chains (definitions, not
// contents), so apply may flush and refill instead of replacing the table.
bool same_shape(const TableSnapshot& kernel, const TableSnapshot& desired);

}  // namespace pgguard::net
