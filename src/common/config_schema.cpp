// The Boost half of ConfigFile: typed validation against an options_description. In its own
// translation unit so that a program using only parse() and check_keys() (pgguard-launch,
// which runs on every process start) links no Boost.Program_options code, whose iostream and
// locale initialisation cost ~0.2 ms per start.
#include <algorithm>
#include <unordered_map>

#include "common/config_file.hpp"

namespace po = boost::program_options;

namespace pgguard::config {

namespace {

bool is_repeatable(const po::option_description& description) {
  return dynamic_cast<const po::typed_value<Repeatable>*>(description.semantic().get()) != nullptr;
}

// Boost reads an empty value as true: a key written without its value would switch a
// protection on or off by accident, so a boolean needs its word.
bool is_boolean(const po::option_description& description) {
  return dynamic_cast<const po::typed_value<bool>*>(description.semantic().get()) != nullptr;
}

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
    if (is_boolean(*description) &&
        std::any_of(indices.begin(), indices.end(),
                    [&](std::size_t index) { return entries[index].value.empty(); })) {
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

void validate(boost::any& value, const std::vector<std::string>& /*tokens*/, Repeatable*, int) {
  value = Repeatable{};
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
    if (entry.value.empty() && is_boolean(*state->second.description)) {
      throw ConfigError(entry.where, entry.key, "empty value: expected true or false");
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
