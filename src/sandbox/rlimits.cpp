#include "sandbox/rlimits.hpp"

#include <array>
#include <cerrno>
#include <charconv>
#include <limits>

#include "common/strings.hpp"

namespace pgguard::sandbox {

namespace {

constexpr std::array kinds{
    RlimitKind{"nofile", RLIMIT_NOFILE, LimitUnit::count, "open file descriptors"},
    RlimitKind{"nproc", RLIMIT_NPROC, LimitUnit::count, "processes of the user"},
    RlimitKind{"core", RLIMIT_CORE, LimitUnit::bytes, "core file size (default 0:0)"},
    RlimitKind{"as", RLIMIT_AS, LimitUnit::bytes, "address space"},
    RlimitKind{"data", RLIMIT_DATA, LimitUnit::bytes, "data segment"},
    RlimitKind{"stack", RLIMIT_STACK, LimitUnit::bytes, "stack"},
    RlimitKind{"fsize", RLIMIT_FSIZE, LimitUnit::bytes, "size of a written file"},
    RlimitKind{"memlock", RLIMIT_MEMLOCK, LimitUnit::bytes, "locked memory"},
    RlimitKind{"cpu", RLIMIT_CPU, LimitUnit::seconds, "CPU time"},
    RlimitKind{"nice", RLIMIT_NICE, LimitUnit::priority, "ceiling of the nice value (20 - nice)"},
    RlimitKind{"rtprio", RLIMIT_RTPRIO, LimitUnit::priority, "real-time priority"},
    RlimitKind{"sigpending", RLIMIT_SIGPENDING, LimitUnit::count, "queued signals"},
    RlimitKind{"msgqueue", RLIMIT_MSGQUEUE, LimitUnit::bytes, "POSIX message queues"},
    RlimitKind{"locks", RLIMIT_LOCKS, LimitUnit::count, "file locks"},
};

std::optional<std::string> parse_one(std::string_view text, LimitUnit unit, rlim_t& out) {
  text = trim(text);
  if (text == "unlimited" || text == "infinity") {
    out = RLIM_INFINITY;
    return std::nullopt;
  }
  if (text.empty()) {
    return "empty limit";
  }
  std::uint64_t multiplier = 1;
  const char suffix = text.back();
  if (suffix == 'K' || suffix == 'M' || suffix == 'G' || suffix == 'T') {
    if (unit != LimitUnit::bytes) {
      return "a size suffix is only valid for byte limits";
    }
    const int shift = suffix == 'K' ? 10 : suffix == 'M' ? 20 : suffix == 'G' ? 30 : 40;
    multiplier = std::uint64_t{1} << shift;
    text.remove_suffix(1);
  }
  std::uint64_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size()) {
    return "'" + std::string(text) + "' is not a number or 'unlimited'";
  }
  if (number > std::numeric_limits<std::uint64_t>::max() / multiplier) {
    return "value too large";
  }
  const std::uint64_t value = number * multiplier;
  if (value >= RLIM_INFINITY) {
    return "value too large (write 'unlimited')";
  }
  if (unit == LimitUnit::priority && value > 99) {
    return "a priority limit is between 0 and 99";
  }
  out = static_cast<rlim_t>(value);
  return std::nullopt;
}

}  // namespace

std::span<const RlimitKind> rlimit_kinds() {
  return kinds;
}

const RlimitKind* find_rlimit_kind(std::string_view name) {
  for (const auto& kind : kinds) {
    if (kind.name == name) {
      return &kind;
    }
  }
  return nullptr;
}

std::optional<std::string> parse_limit(std::string_view text, LimitUnit unit, LimitPair& out) {
  const auto colon = text.find(':');
  const auto soft_text = text.substr(0, colon);
  const auto hard_text = colon == std::string_view::npos ? soft_text : text.substr(colon + 1);
  if (colon != std::string_view::npos && hard_text.find(':') != std::string_view::npos) {
    return "expected 'soft:hard'";
  }
  LimitPair pair{};
  if (auto error = parse_one(soft_text, unit, pair.soft)) {
    return "soft limit: " + *error;
  }
  if (auto error = parse_one(hard_text, unit, pair.hard)) {
    return "hard limit: " + *error;
  }
  if (pair.soft > pair.hard) {
    return "soft limit is above the hard limit";
  }
  out = pair;
  return std::nullopt;
}

std::string format_limit_value(rlim_t value) {
  return value == RLIM_INFINITY ? std::string("unlimited") : std::to_string(value);
}

void apply_rlimits(const Profile& profile) {
  for (const auto& limit : profile.rlimits) {
    const rlimit value{limit.value.soft, limit.value.hard};
    if (::setrlimit(static_cast<__rlimit_resource>(limit.value.resource), &value) != 0) {
      const int saved = errno;
      throw Error(ExitCode::system, limit.where.to_string() + ": " + limit.key + ": setrlimit(" +
                                        format_limit_value(value.rlim_cur) + ":" +
                                        format_limit_value(value.rlim_max) +
                                        "): " + errno_text(saved));
    }
    rlimit read_back{};
    if (::getrlimit(static_cast<__rlimit_resource>(limit.value.resource), &read_back) != 0) {
      const int saved = errno;
      throw Error(ExitCode::system,
                  limit.where.to_string() + ": " + limit.key + ": getrlimit: " + errno_text(saved));
    }
    if (read_back.rlim_cur != value.rlim_cur || read_back.rlim_max != value.rlim_max) {
      throw Error(ExitCode::system, limit.where.to_string() + ": " + limit.key + ": read back " +
                                        format_limit_value(read_back.rlim_cur) + ":" +
                                        format_limit_value(read_back.rlim_max) + ", expected " +
                                        format_limit_value(value.rlim_cur) + ":" +
                                        format_limit_value(value.rlim_max));
    }
  }
}

}  // namespace pgguard::sandbox
