#include "common/config_file.hpp"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <unordered_map>

#include "common/file_io.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"

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

}  // namespace

ConfigFile ConfigFile::parse(std::string_view text, std::string file_name) {
  ConfigFile file;
  file.file_name_ = std::make_shared<const std::string>(std::move(file_name));
  // Rendered files hold up to 100,000 lines: size the containers once.
  file.entries_.reserve(static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
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
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++line_number;

    Location where{file.file_name_, line_number};
    if (const auto hash = line.find('#'); hash != std::string_view::npos) {
      line = line.substr(0, hash);
    }
    line = trim(line);
    if (line.empty()) {
      continue;
    }
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

ConfigFile ConfigFile::load(const std::string& path) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    throw ConfigError(Location{path, 0}, "", "cannot read file: " + errno_text(errno));
  }
  std::string contents;
  if (const int error = read_to_end(fd.get(), contents); error != 0) {
    throw ConfigError(Location{path, 0}, "", "error while reading file: " + errno_text(error));
  }
  return parse(contents, path);
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
