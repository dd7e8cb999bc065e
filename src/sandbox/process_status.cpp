#include "sandbox/process_status.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <optional>

#include "common/error.hpp"
#include "common/strings.hpp"

namespace pgguard::sandbox {

namespace {

[[noreturn]] void malformed(const std::string& field, const std::string& why) {
  throw Error(ExitCode::system, "/proc/self/status: " + field + ": " + why);
}

template <typename Number>
Number number_of(const std::string& field, std::string_view text, int base) {
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
    malformed(field, "'" + std::string(text) + "' is not a number");
  }
  return value;
}

template <typename Id>
std::array<Id, 4> four_ids(const std::string& field, const std::string& value) {
  const auto pieces = split(value, " \t");
  if (pieces.size() != 4) {
    malformed(field, "expected 4 ids, found '" + value + "'");
  }
  std::array<Id, 4> ids{};
  for (std::size_t i = 0; i < 4; ++i) {
    ids[i] = number_of<Id>(field, pieces[i], 10);
  }
  return ids;
}

}  // namespace

ProcessStatus parse_process_status(std::string_view text) {
  // One pass over ~60 lines keeping views of the 11 fields compared: this runs on every
  // launch, between the seccomp load and execve.
  constexpr std::array<std::string_view, 11> wanted{"Uid",        "Gid",     "Groups", "CapInh",
                                                    "CapPrm",     "CapEff",  "CapBnd", "CapAmb",
                                                    "NoNewPrivs", "Seccomp", "Umask"};
  std::array<std::optional<std::string_view>, wanted.size()> values;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) {
      continue;
    }
    const auto known = std::find(wanted.begin(), wanted.end(), line.substr(0, colon));
    if (known != wanted.end()) {
      values[static_cast<std::size_t>(known - wanted.begin())] = trim(line.substr(colon + 1));
    }
  }
  const auto field = [&](const std::string& name) -> std::string {
    const auto known = std::find(wanted.begin(), wanted.end(), name);
    const auto& value = values[static_cast<std::size_t>(known - wanted.begin())];
    if (!value) {
      malformed(name, "missing");
    }
    return std::string(*value);
  };
  ProcessStatus status;
  status.uid = four_ids<uid_t>("Uid", field("Uid"));
  status.gid = four_ids<gid_t>("Gid", field("Gid"));
  for (const auto& group : split(field("Groups"), " \t")) {
    status.groups.push_back(number_of<gid_t>("Groups", group, 10));
  }
  std::sort(status.groups.begin(), status.groups.end());
  status.cap_inheritable = number_of<std::uint64_t>("CapInh", field("CapInh"), 16);
  status.cap_permitted = number_of<std::uint64_t>("CapPrm", field("CapPrm"), 16);
  status.cap_effective = number_of<std::uint64_t>("CapEff", field("CapEff"), 16);
  status.cap_bounding = number_of<std::uint64_t>("CapBnd", field("CapBnd"), 16);
  status.cap_ambient = number_of<std::uint64_t>("CapAmb", field("CapAmb"), 16);
  status.no_new_privs = number_of<int>("NoNewPrivs", field("NoNewPrivs"), 10);
  status.seccomp = number_of<int>("Seccomp", field("Seccomp"), 10);
  status.umask = number_of<unsigned>("Umask", field("Umask"), 8);
  return status;
}

std::string format_mask(std::uint64_t mask) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i) {
    text[static_cast<std::size_t>(i)] = digits[mask & 0xf];
    mask >>= 4;
  }
  return text;
}

std::vector<std::string> compare_process_status(const ProcessStatus& expected,
                                                const ProcessStatus& actual) {
  std::vector<std::string> differences;
  const auto ids = [](const auto& values) {
    std::string text;
    for (const auto value : values) {
      text += (text.empty() ? "" : " ") + std::to_string(value);
    }
    return text.empty() ? std::string("(none)") : text;
  };
  const auto differ = [&](const std::string& name, const std::string& want,
                          const std::string& have) {
    if (want != have) {
      differences.push_back(name + ": expected " + want + ", found " + have);
    }
  };
  differ("Uid", ids(expected.uid), ids(actual.uid));
  differ("Gid", ids(expected.gid), ids(actual.gid));
  differ("Groups", ids(expected.groups), ids(actual.groups));
  differ("CapInh", format_mask(expected.cap_inheritable), format_mask(actual.cap_inheritable));
  differ("CapPrm", format_mask(expected.cap_permitted), format_mask(actual.cap_permitted));
  differ("CapEff", format_mask(expected.cap_effective), format_mask(actual.cap_effective));
  differ("CapBnd", format_mask(expected.cap_bounding), format_mask(actual.cap_bounding));
  differ("CapAmb", format_mask(expected.cap_ambient), format_mask(actual.cap_ambient));
  differ("NoNewPrivs", std::to_string(expected.no_new_privs), std::to_string(actual.no_new_privs));
  differ("Seccomp", std::to_string(expected.seccomp), std::to_string(actual.seccomp));
  const auto octal = [](unsigned value) {
    char text[8];
    (void)std::snprintf(text, sizeof text, "%04o", value);
    return std::string(text);
  };
  differ("Umask", octal(expected.umask), octal(actual.umask));
  return differences;
}

}  // namespace pgguard::sandbox
