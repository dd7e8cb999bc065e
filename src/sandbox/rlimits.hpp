#pragma once

#include <sys/resource.h>

#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "sandbox/profile.hpp"

namespace pgguard::sandbox {

enum class LimitUnit { count, bytes, seconds, priority };

struct RlimitKind {
  std::string_view name;  // key below [rlimit]
  int resource;           // RLIMIT_*
  LimitUnit unit;
  std::string_view description;
};

// Every limit a profile may set, in the order they are applied and explained.
std::span<const RlimitKind> rlimit_kinds();
const RlimitKind* find_rlimit_kind(std::string_view name);

struct LimitPair {
  rlim_t soft;
  rlim_t hard;
};

// "soft:hard" or a single value for both; each side a number, a number with a binary suffix
// K, M, G or T (bytes only), or "unlimited". Returns an error text, or nothing on success.
std::optional<std::string> parse_limit(std::string_view text, LimitUnit unit, LimitPair& out);

std::string format_limit_value(rlim_t value);

// setrlimit(2) for every limit of the profile; throws naming file:line:key on failure.
void apply_rlimits(const Profile& profile);

}  // namespace pgguard::sandbox
