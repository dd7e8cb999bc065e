#include "sandbox/account_files.hpp"

#include <array>
#include <charconv>
#include <cstdint>
#include <limits>

#include "common/error.hpp"

namespace pgguard::sandbox {

namespace {

constexpr std::size_t kPasswdFields = 7;  // name:password:uid:gid:gecos:home:shell
constexpr std::size_t kGroupFields = 4;   // name:password:gid:members

template <std::size_t Count>
struct Entry {
  std::array<std::string_view, Count> fields;
  bool complete = false;  // exactly Count fields
  int line = 0;
};

// Splits `line` into exactly Count colon-separated fields; more or fewer leaves complete false.
template <std::size_t Count>
Entry<Count> split_entry(std::string_view line, int line_number) {
  Entry<Count> entry;
  entry.line = line_number;
  std::size_t index = 0;
  std::size_t start = 0;
  for (;;) {
    const auto colon = line.find(':', start);
    if (index == Count) {
      return entry;  // a field too many
    }
    entry.fields[index++] =
        line.substr(start, colon == std::string_view::npos ? colon : colon - start);
    if (colon == std::string_view::npos) {
      break;
    }
    start = colon + 1;
  }
  entry.complete = index == Count;
  return entry;
}

// Ids are unsigned 32-bit; (uid_t)-1 means "unchanged" to setresuid and is never an account.
std::optional<std::uint32_t> parse_id(std::string_view text) {
  std::uint32_t value = 0;
  const auto* end = text.data() + text.size();
  const auto result = std::from_chars(text.data(), end, value);
  if (text.empty() || result.ec != std::errc() || result.ptr != end ||
      value == std::numeric_limits<std::uint32_t>::max()) {
    return std::nullopt;
  }
  return value;
}

// Calls visit(entry) for every line that may be an entry, in file order, until it returns true.
template <std::size_t Count, typename Visit>
void for_each_entry(std::string_view text, Visit visit) {
  int line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    const auto newline = text.find('\n', start);
    const auto line =
        text.substr(start, newline == std::string_view::npos ? newline : newline - start);
    start = newline == std::string_view::npos ? text.size() : newline + 1;
    ++line_number;
    if (line.empty() || line.front() == '#' || line.front() == '+' || line.front() == '-') {
      continue;
    }
    if (visit(split_entry<Count>(line, line_number))) {
      return;
    }
  }
}

[[noreturn]] void malformed(const std::string& path, int line, std::string_view what,
                            std::string_view name) {
  throw Error(ExitCode::bad_input, Location(path, line).to_string() + ": the entry of '" +
                                       std::string(name) + "' is malformed (" + std::string(what) +
                                       ")");
}

template <typename Matches>
std::optional<GroupEntry> find_group_where(std::string_view text, const std::string& path,
                                           Matches matches) {
  std::optional<GroupEntry> found;
  for_each_entry<kGroupFields>(text, [&](const Entry<kGroupFields>& entry) {
    const auto gid = parse_id(entry.fields[2]);
    if (!matches(entry.fields[0], gid)) {
      return false;
    }
    if (!entry.complete) {
      malformed(path, entry.line, "a group entry has 4 fields", entry.fields[0]);
    }
    if (!gid) {
      malformed(path, entry.line, "gid '" + std::string(entry.fields[2]) + "'", entry.fields[0]);
    }
    found = GroupEntry{std::string(entry.fields[0]), *gid};
    return true;
  });
  return found;
}

}  // namespace

std::optional<UserEntry> find_user(std::string_view passwd_text, std::string_view name,
                                   const std::string& path) {
  std::optional<UserEntry> found;
  for_each_entry<kPasswdFields>(passwd_text, [&](const Entry<kPasswdFields>& entry) {
    if (entry.fields[0] != name) {
      return false;
    }
    if (!entry.complete) {
      malformed(path, entry.line, "a passwd entry has 7 fields", name);
    }
    const auto uid = parse_id(entry.fields[2]);
    if (!uid) {
      malformed(path, entry.line, "uid '" + std::string(entry.fields[2]) + "'", name);
    }
    const auto gid = parse_id(entry.fields[3]);
    if (!gid) {
      malformed(path, entry.line, "gid '" + std::string(entry.fields[3]) + "'", name);
    }
    found = UserEntry{*uid, *gid, std::string(entry.fields[5])};
    return true;
  });
  return found;
}

std::optional<GroupEntry> find_group(std::string_view group_text, std::string_view name,
                                     const std::string& path) {
  return find_group_where(group_text, path,
                          [&](std::string_view entry_name, std::optional<std::uint32_t>) {
                            return entry_name == name;
                          });
}

std::optional<GroupEntry> find_group(std::string_view group_text, gid_t gid,
                                     const std::string& path) {
  // By gid, a line whose gid does not parse cannot be the one asked for: skipped.
  return find_group_where(
      group_text, path,
      [&](std::string_view, std::optional<std::uint32_t> entry_gid) { return entry_gid == gid; });
}

}  // namespace pgguard::sandbox
