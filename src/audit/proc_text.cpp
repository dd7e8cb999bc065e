#include "audit/proc_text.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include "common/error.hpp"
#include "common/strings.hpp"

namespace pgguard::audit {

namespace {

// The kernel's names (fs/proc/base.c, lnames[]) of the limits a profile may set.
constexpr std::array<std::pair<std::string_view, int>, 16> kLimitNames{{
    {"Max cpu time", RLIMIT_CPU},
    {"Max file size", RLIMIT_FSIZE},
    {"Max data size", RLIMIT_DATA},
    {"Max stack size", RLIMIT_STACK},
    {"Max core file size", RLIMIT_CORE},
    {"Max resident set", RLIMIT_RSS},
    {"Max processes", RLIMIT_NPROC},
    {"Max open files", RLIMIT_NOFILE},
    {"Max locked memory", RLIMIT_MEMLOCK},
    {"Max address space", RLIMIT_AS},
    {"Max file locks", RLIMIT_LOCKS},
    {"Max pending signals", RLIMIT_SIGPENDING},
    {"Max msgqueue size", RLIMIT_MSGQUEUE},
    {"Max nice priority", RLIMIT_NICE},
    {"Max realtime priority", RLIMIT_RTPRIO},
    {"Max realtime timeout", RLIMIT_RTTIME},
}};

std::optional<rlim_t> limit_value(std::string_view text) {
  if (text == "unlimited") {
    return RLIM_INFINITY;
  }
  rlim_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::map<int, LimitValues> parse_proc_limits(std::string_view text) {
  std::map<int, LimitValues> limits;
  int line_number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    if (line_number == 1 || trim(line).empty()) {
      continue;  // the header "Limit Soft Limit Hard Limit Units"
    }
    // The name is everything before the first run of two spaces ("%-25s %-20s %-20s %-10s").
    const auto gap = line.find("  ");
    if (gap == std::string_view::npos) {
      throw Error(ExitCode::system, "/proc/PID/limits:" + std::to_string(line_number) +
                                        ": malformed line '" + std::string(line) + "'");
    }
    const auto name = line.substr(0, gap);
    const auto known = std::find_if(kLimitNames.begin(), kLimitNames.end(),
                                    [&](const auto& entry) { return entry.first == name; });
    if (known == kLimitNames.end()) {
      continue;
    }
    const auto values = split(line.substr(gap), " \t");
    const auto soft = values.empty() ? std::nullopt : limit_value(values[0]);
    const auto hard = values.size() < 2 ? std::nullopt : limit_value(values[1]);
    if (!soft || !hard) {
      throw Error(ExitCode::system, "/proc/PID/limits:" + std::to_string(line_number) + ": " +
                                        std::string(name) + ": malformed values");
    }
    limits[known->second] = {*soft, *hard};
  }
  return limits;
}

std::optional<pid_t> parse_stat_parent(std::string_view text) {
  const auto close = text.rfind(')');
  if (close == std::string_view::npos) {
    return std::nullopt;
  }
  const auto fields = split(text.substr(close + 1), " ");
  if (fields.size() < 2) {
    return std::nullopt;
  }
  pid_t parent = 0;
  const auto& field = fields[1];
  const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), parent);
  if (error != std::errc() || end != field.data() + field.size() || parent < 0) {
    return std::nullopt;
  }
  return parent;
}

std::vector<pid_t> descendants_of(pid_t root, const std::vector<std::pair<pid_t, pid_t>>& parents) {
  std::vector<pid_t> result;
  std::vector<pid_t> level{root};
  while (!level.empty()) {
    std::vector<pid_t> next;
    for (const auto& [pid, parent] : parents) {
      if (pid != root && std::find(level.begin(), level.end(), parent) != level.end() &&
          std::find(result.begin(), result.end(), pid) == result.end()) {
        next.push_back(pid);
      }
    }
    std::sort(next.begin(), next.end());
    result.insert(result.end(), next.begin(), next.end());
    level = std::move(next);
  }
  return result;
}

std::optional<pid_t> parse_pid_file(std::string_view text) {
  if (!text.empty() && text.back() == '\n') {
    text.remove_suffix(1);
  }
  pid_t pid = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), pid);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || pid <= 0) {
    return std::nullopt;
  }
  return pid;
}

bool status_shows_exit(std::string_view status) {
  bool umask = false;
  while (!status.empty()) {
    const auto end = status.find('\n');
    std::string_view line = status.substr(0, end);
    status = end == std::string_view::npos ? std::string_view() : status.substr(end + 1);
    if (line.starts_with("State:")) {
      line.remove_prefix(6);
      const auto state = line.find_first_not_of(" \t");
      if (state != std::string_view::npos && (line[state] == 'Z' || line[state] == 'X')) {
        return true;
      }
    } else if (line.starts_with("Umask:")) {
      umask = true;
    }
  }
  return !umask;
}

std::string security_context_text(std::string_view text) {
  while (!text.empty() && (text.back() == '\0' || text.back() == '\n')) {
    text.remove_suffix(1);
  }
  return std::string(text);
}

}  // namespace pgguard::audit
