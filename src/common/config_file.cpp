#include "common/config_file.hpp"

#include <algorithm>
#include <cerrno>
#include <optional>
#include <unordered_map>

#include "common/file_io.hpp"
#include "common/strings.hpp"

namespace pgguard::config {

namespace {

bool is_key_character(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

bool is_valid_key(std::string_view key) {
  if (key.empty()) {
    return false;
  }
  for (char c : key) {
    if (!is_key_character(c)) {
      return false;
    }
  }
  return true;
}

// Tab is whitespace in this syntax (around '=' and between list items), so it stays allowed.
bool is_control_character(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return (byte < 0x20 && c != '\t') || byte == 0x7f;
}

std::string control_character_name(char c) {
  static constexpr const char* kNames[] = {"NUL", "SOH", "STX", "ETX", "EOT", "ENQ", "ACK", "BEL",
                                           "BS",  "TAB", "LF",  "VT",  "FF",  "CR",  "SO",  "SI",
                                           "DLE", "DC1", "DC2", "DC3", "DC4", "NAK", "SYN", "ETB",
                                           "CAN", "EM",  "SUB", "ESC", "FS",  "GS",  "RS",  "US"};
  const auto byte = static_cast<unsigned char>(c);
  constexpr char kHex[] = "0123456789abcdef";
  std::string text = "0x";
  text += kHex[byte >> 4];
  text += kHex[byte & 0xf];
  text += " (";
  text += byte == 0x7f ? "DEL" : kNames[byte];
  text += ")";
  return text;
}

// A control character changes what a value means after every check has passed: the checks
// compare the whole string, but whatever takes it as a C string (libseccomp, open(2), the
// kernel's attr files, execve's environment) stops at a NUL, so 'clone\0x' is checked as an
// unknown name and applied as clone. Refused for every value of every file, here, once.
void refuse_control_characters(std::string_view raw_line, std::string_view content,
                               const std::string& section, const Location& where) {
  const auto found = std::find_if(content.begin(), content.end(), is_control_character);
  if (found == content.end()) {
    return;
  }
  // Columns count from the raw line, as an editor shows them.
  const auto column = static_cast<std::size_t>(found - raw_line.begin()) + 1;
  const auto offset = static_cast<std::size_t>(found - content.begin());
  std::string key;
  if (content.front() != '[') {
    const auto equals = content.find('=');
    if (equals != std::string_view::npos && offset > equals) {
      if (const auto name = trim(content.substr(0, equals)); is_valid_key(name)) {
        key = section + std::string(name);
      }
    }
  }
  throw ConfigError(where, key,
                    "control character " + control_character_name(*found) + " at column " +
                        std::to_string(column) + ": keys and values must be printable text");
}

}  // namespace

ConfigFile ConfigFile::parse(std::string_view text, std::string file_name) {
  ConfigFile file;
  file.file_name_ = std::make_shared<const std::string>(std::move(file_name));
  // Rendered files hold up to 100,000 lines: size the containers once, but never by more than
  // that from the line count alone, which a file of blank lines makes as large as the file.
  constexpr std::size_t kReserveAtMost = 131072;
  file.entries_.reserve(std::min(
      static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1, kReserveAtMost));
  std::string section;
  // Consecutive lines usually repeat the key ("member = ..."): skip the hash lookup then.
  std::vector<std::size_t>* last_indices = nullptr;
  int line_number = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) {
      end = text.size();
    }
    const std::string_view raw_line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;

    Location where{file.file_name_, line_number};
    std::string_view line = raw_line;
    if (const auto hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = trim(line);
    if (line.empty()) {
      continue;
    }
    refuse_control_characters(raw_line, line, section, where);
    if (line.front() == '[') {
      if (line.back() != ']') {
        throw ConfigError(where, "", "malformed section header '" + std::string(line) + "'");
      }
      const auto name = trim(line.substr(1, line.size() - 2));
      if (!is_valid_key(name)) {
        throw ConfigError(where, "", "invalid section name '" + std::string(name) + "'");
      }
      section = std::string(name) + ".";
      continue;
    }
    const auto equals = line.find('=');
    if (equals == std::string_view::npos) {
      throw ConfigError(where, "", "expected 'key = value', found '" + std::string(line) + "'");
    }
    const auto key = trim(line.substr(0, equals));
    if (!is_valid_key(key)) {
      throw ConfigError(where, "", "invalid key '" + std::string(key) + "'");
    }
    std::string full_key;
    full_key.reserve(section.size() + key.size());
    full_key.append(section).append(key);
    if (last_indices == nullptr || file.entries_.empty() || file.entries_.back().key != full_key) {
      last_indices = &file.entries_by_key_[full_key];
    }
    last_indices->push_back(file.entries_.size());
    file.entries_.push_back(
        Entry{std::move(full_key), std::string(trim(line.substr(equals + 1))), std::move(where)});
  }
  return file;
}

ConfigFile ConfigFile::load(const std::string& path, std::size_t max_size) {
  const Location whole{path, 0};
  const RegularFile file = open_regular_file(path);
  if (file.error != 0) {
    throw ConfigError(whole, "", "cannot read file: " + errno_text(file.error));
  }
  if (!file.ok()) {
    throw ConfigError(whole, "", file.problem());
  }
  check_size(path, static_cast<std::uint64_t>(file.status.st_size), max_size);
  std::string contents;
  contents.reserve(static_cast<std::size_t>(file.status.st_size));
  if (const int error = read_at_most(file.fd.get(), max_size, contents); error == EFBIG) {
    throw ConfigError(whole, "", "grew beyond " + size_text(max_size) + " while being read");
  } else if (error != 0) {
    throw ConfigError(whole, "", "error while reading file: " + errno_text(error));
  }
  return parse(contents, path);
}

void ConfigFile::check_size(const std::string& path, std::uint64_t size, std::size_t max_size) {
  if (size > max_size) {
    throw ConfigError(Location{path, 0}, "",
                      "the file is " + std::to_string(size) + " bytes, more than the " +
                          size_text(max_size) + " such a file may have");
  }
}

std::vector<const Entry*> ConfigFile::all(const std::string& key) const {
  std::vector<const Entry*> found;
  if (const auto indices = entries_by_key_.find(key); indices != entries_by_key_.end()) {
    found.reserve(indices->second.size());
    for (const std::size_t index : indices->second) {
      found.push_back(&entries_[index]);
    }
  }
  return found;
}

Location ConfigFile::location_of(const std::string& key, std::size_t occurrence) const {
  const auto found = all(key);
  if (occurrence < found.size()) {
    return found[occurrence]->where;
  }
  return Location{file_name_, 0};
}

void ConfigFile::check_keys(const std::vector<KeyRule>& rules) const {
  std::vector<const Entry*> first_of_rule(rules.size(), nullptr);
  for (const auto& entry : entries_) {
    const auto rule = std::find_if(rules.begin(), rules.end(),
                                   [&entry](const KeyRule& r) { return r.key == entry.key; });
    if (rule == rules.end()) {
      throw ConfigError(entry.where, entry.key, "unknown key");
    }
    const Entry*& first = first_of_rule[static_cast<std::size_t>(rule - rules.begin())];
    if (first != nullptr && !rule->repeatable) {
      throw ConfigError(
          entry.where, entry.key,
          "given more than once (first on line " + std::to_string(first->where.line) + ")");
    }
    if (first == nullptr) {
      first = &entry;
    }
  }
  for (std::size_t i = 0; i < rules.size(); ++i) {
    if (rules[i].required && first_of_rule[i] == nullptr) {
      throw ConfigError(Location{file_name_, 0}, rules[i].key, "required key is missing");
    }
  }
}

}  // namespace pgguard::config
