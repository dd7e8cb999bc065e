#include "common/config_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <unordered_map>

#include "common/strings.hpp"
#include "common/unique_fd.hpp"

namespace po = boost::program_options;

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

bool is_repeatable(const po::option_description& description) {
  return dynamic_cast<const po::typed_value<Repeatable>*>(description.semantic().get()) != nullptr;
}

}  // namespace

void validate(boost::any& value, const std::vector<std::string>& /*tokens*/, Repeatable*, int) {
  value = Repeatable{};
}

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
  char buffer[16384];
  for (;;) {
    const ssize_t count = ::read(fd.get(), buffer, sizeof buffer);
    if (count < 0 && errno == EINTR) {
      continue;
    }
    if (count < 0) {
      throw ConfigError(Location{path, 0}, "", "error while reading file: " + errno_text(errno));
    }
    if (count == 0) {
      break;
    }
    contents.append(buffer, static_cast<std::size_t>(count));
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

namespace {

// One Boost parse per key with all its values: the per-entry pass below costs several string
// copies and a boost::any update per entry, which dominated 100,000-line files. Returns false
// on any problem; the per-entry pass then reports it with its line.
bool validate_whole_keys(const std::vector<Entry>& entries,
                         const std::unordered_map<std::string, std::vector<std::size_t>>& by_key,
                         const po::options_description& schema, po::variables_map& variables) {
  std::vector<std::pair<const std::vector<std::size_t>*, bool>> keys;  // (indices, repeatable)
  keys.reserve(by_key.size());
  for (const auto& [key, indices] : by_key) {
    const auto* description = schema.find_nothrow(key, false);
    if (description == nullptr) {
      return false;
    }
    keys.emplace_back(&indices, is_repeatable(*description));
  }
  // File order of first appearance, as the per-entry pass stores them.
  std::sort(keys.begin(), keys.end(),
            [](const auto& a, const auto& b) { return a.first->front() < b.first->front(); });
  po::parsed_options parsed(&schema);
  parsed.options.reserve(keys.size());
  for (const auto& [indices, repeatable] : keys) {
    po::option option;
    option.string_key = entries[indices->front()].key;
    if (repeatable) {
      option.value.push_back(entries[indices->front()].value);
    } else {
      option.value.reserve(indices->size());
      for (const std::size_t index : *indices) {
        option.value.push_back(entries[index].value);
      }
    }
    parsed.options.push_back(std::move(option));
  }
  for (const auto& description : schema.options()) {
    if (description->semantic()->is_required() && by_key.count(description->long_name()) == 0) {
      return false;
    }
  }
  try {
    po::store(parsed, variables);
    po::notify(variables);
  } catch (const po::error&) {
    return false;
  }
  return true;
}

}  // namespace

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

po::variables_map ConfigFile::validate(const po::options_description& schema) const {
  if (po::variables_map variables;
      validate_whole_keys(entries_, entries_by_key_, schema, variables)) {
    return variables;
  }
  // Parse entry by entry first, so a bad value or a repeated key is reported with its line.
  // Boost's option lookup is a linear scan, so it runs once per distinct key, not per entry.
  struct KeyState {
    const po::option_description* description = nullptr;
    boost::any value;
    int first_line = 0;
    std::size_t option_index = 0;  // into parsed.options: one option carries all of a key's values
  };
  std::unordered_map<std::string, KeyState> keys;
  po::parsed_options parsed(&schema);
  for (const auto& entry : entries_) {
    auto [state, first] = keys.try_emplace(entry.key);
    if (first) {
      state->second.description = schema.find_nothrow(entry.key, false);
      if (state->second.description == nullptr) {
        throw ConfigError(entry.where, entry.key, "unknown key");
      }
      state->second.first_line = entry.where.line;
      state->second.option_index = parsed.options.size();
      po::option option;
      option.string_key = entry.key;
      parsed.options.push_back(std::move(option));
    }
    try {
      state->second.description->semantic()->parse(state->second.value, {entry.value}, false);
    } catch (const po::multiple_occurrences&) {
      throw ConfigError(
          entry.where, entry.key,
          "given more than once (first on line " + std::to_string(state->second.first_line) + ")");
    } catch (const po::error&) {
      throw ConfigError(entry.where, entry.key, "invalid value '" + entry.value + "'");
    }
    auto& option = parsed.options[state->second.option_index];
    option.value.push_back(entry.value);
    option.original_tokens.push_back(entry.value);
  }

  for (const auto& description : schema.options()) {
    const auto& key = description->long_name();
    if (description->semantic()->is_required() && keys.count(key) == 0) {
      throw ConfigError(Location{file_name_, 0}, key, "required key is missing");
    }
  }

  po::variables_map variables;
  try {
    po::store(parsed, variables);
    po::notify(variables);
  } catch (const po::error& error) {
    throw ConfigError(Location{file_name_, 0}, "", error.what());
  }
  return variables;
}

}  // namespace pgguard::config
