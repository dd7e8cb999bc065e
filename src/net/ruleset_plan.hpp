#pragma once

#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "net/address.hpp"
#include "net/isolation_config.hpp"

// The desired table as plain immutable data: what nft_text renders, nft_batch sends and
// ruleset_readback compares against. No kernel I/O here.
namespace pgguard::net {

enum class SetKeyType { ipv4_addr, ipv6_addr, inet_service, icmp_type, icmpv6_type };

std::size_t key_length(SetKeyType type);
std::string_view key_type_name(SetKeyType type);
// The nft datatype id stored in NFTA_SET_KEY_TYPE, so `nft list` prints elements properly.
std::uint32_t key_type_id(SetKeyType type);

// One set key in network byte order, held inline: a set can hold 100,000 of them, and a heap
// block per key cost more than the rest of planning them.
struct SetKey {
  static constexpr std::size_t kMaxLength = 16;  // an IPv6 address
  std::array<std::uint8_t, kMaxLength> bytes{};
  std::uint8_t length = 0;

  SetKey() = default;
  // At most kMaxLength bytes; longer input (a foreign set read from the kernel) is cut, and
  // its key length then tells it apart from ours.
  SetKey(const std::uint8_t* data, std::size_t size);
  SetKey(std::initializer_list<std::uint8_t> list) : SetKey(list.begin(), list.size()) {}

  const std::uint8_t* data() const { return bytes.data(); }
  std::size_t size() const { return length; }
  std::uint8_t operator[](std::size_t index) const { return bytes[index]; }
  // NOLINTNEXTLINE(modernize-use-nullptr): clang-tidy 14 misreads defaulted operator<=>
  friend auto operator<=>(const SetKey&, const SetKey&) = default;
};

// Human form of one key ("198.18.0.1", "22", "redirect"); hex when its length does not fit.
std::string key_to_string(SetKeyType type, const SetKey& key);

// An inclusive range of keys; first == last for a single key.
struct SetElement {
  SetKey first;
  SetKey last;
  friend bool operator==(const SetElement&, const SetElement&) = default;
};

struct SetPlan {
  std::string name;
  SetKeyType key_type;
  bool interval = false;  // elements are (merged, disjoint) ranges
  std::vector<SetElement> elements;
  // The set's declared size (0 for interval sets): see set_capacity().
  std::uint32_t capacity = 0;
};

// The declared size of a non-interval set holding `elements` keys. A declared size makes the
// kernel pick its fixed-size hash (buckets allocated once) over the resizable rhashtable, whose
// growth while 100,000 members are inserted in one batch was a third of the whole apply (perf).
// The kernel also treats it as the maximum, which is harmless here (only this helper adds
// elements, all in the batch that declares the size). Rounded up to a power of two so that
// small membership changes keep the set's definition and refill it in place.
std::uint32_t set_capacity(std::size_t elements);

enum class Direction { source, destination };
enum class L4Protocol : std::uint8_t { icmp = 1, tcp = 6, udp = 17, icmpv6 = 58 };

struct MatchLoopbackInterface {
  Direction direction;  // source: iif "lo", destination: oif "lo"
};
struct MatchAddressInSet {
  Family family;
  Direction direction;
  std::string set;
  bool negated = false;  // "not in the set"
};
// Byte-aligned prefixes only (127.0.0.0/8, ::1, ::), which is all the plan needs.
struct MatchAddressPrefix {
  Direction direction;
  Cidr prefix;
};
struct MatchPort {
  L4Protocol protocol;
  std::uint16_t port;
};
struct MatchPortInSet {
  L4Protocol protocol;
  std::string set;
};
struct MatchIcmpType {
  Family family;
  std::uint8_t type;
  std::optional<std::uint8_t> code;
};
struct MatchIcmpTypeInSet {
  Family family;
  std::string set;
};
struct MatchConntrackState {
  std::uint32_t state_bits;  // NF_CT_STATE_* bits
};
// meta l4proto <protocol>
struct MatchL4Protocol {
  L4Protocol protocol;
};
// meta l4proto != <protocol>
struct MatchL4ProtocolOther {
  L4Protocol protocol;
};
// fib saddr . iif oif missing: no route back to the source through the incoming interface.
struct MatchReversePathMissing {};

using Match = std::variant<MatchLoopbackInterface, MatchAddressInSet, MatchAddressPrefix, MatchPort,
                           MatchPortInSet, MatchIcmpType, MatchIcmpTypeInSet, MatchConntrackState,
                           MatchL4Protocol, MatchL4ProtocolOther, MatchReversePathMissing>;

struct Limit {
  Rate rate;
  std::uint32_t burst = 0;
};

// jump: evaluate jump_chain; a packet it does not decide comes back to the next rule.
enum class Verdict { none, accept, drop, jump };

// Statements run in this order: limit, counter (always), log, verdict.
struct RulePlan {
  std::vector<Match> matches;
  std::optional<Limit> limit;
  std::optional<std::string> log_prefix;
  Verdict verdict = Verdict::none;
  std::string jump_chain;  // with Verdict::jump
  std::string comment;
};

enum class Hook { prerouting, input, output };

// Where a base chain attaches; a regular chain (only reached by a jump) has none.
struct ChainHook {
  Hook hook;
  int priority;
  Verdict policy;
};

struct ChainPlan {
  std::string name;
  std::optional<ChainHook> base;
  std::vector<RulePlan> rules;
};

struct TablePlan {
  std::string name;  // family is always inet
  std::vector<SetPlan> sets;
  std::vector<ChainPlan> chains;

  const SetPlan* find_set(const std::string& set_name) const;
};

TablePlan plan_ruleset(const IsolationConfig& config);

// Conntrack state bits as in the kernel's NF_CT_STATE_BIT / NF_CT_STATE_INVALID_BIT.
inline constexpr std::uint32_t kCtStateInvalid = 1u << 0;
inline constexpr std::uint32_t kCtStateEstablished = 1u << 1;
inline constexpr std::uint32_t kCtStateRelated = 1u << 2;

}  // namespace pgguard::net
