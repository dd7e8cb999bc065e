#include "node/plan_values.hpp"

#include <algorithm>
#include <charconv>

#include "common/strings.hpp"
#include "net/address.hpp"

namespace pgguard::node {

using config::ConfigFile;
using config::Entry;

const Entry* single(const ConfigFile& file, const std::string& key) {
  const auto entries = file.all(key);
  return entries.empty() ? nullptr : entries.front();
}

std::string value_of(const ConfigFile& file, const std::string& key) {
  const Entry* entry = single(file, key);
  return entry != nullptr ? std::string(trim(entry->value)) : std::string();
}

std::string path_of(const ConfigFile& file, const std::string& key) {
  const Entry* entry = single(file, key);
  if (entry == nullptr) {
    throw ConfigError(file.location_of(key), key, "missing");
  }
  std::string path(trim(entry->value));
  if (path.empty() || path.front() != '/' || path.find("/../") != std::string::npos ||
      path.ends_with("/..")) {
    throw ConfigError(entry->where, entry->key, "'" + path + "' is not an absolute path");
  }
  if (path.find_first_of(" \t'\"\\") != std::string::npos) {
    throw ConfigError(entry->where, entry->key, "'" + path + "' holds a space, quote or backslash");
  }
  return path;
}

std::string address_of(const Entry& entry) {
  const std::string text(trim(entry.value));
  try {
    return net::Address::parse(text).to_string();
  } catch (const net::AddressError&) {
    throw ConfigError(entry.where, entry.key,
                      "'" + text +
                          "' is not an IP address (consume the link with "
                          "ip_addresses: true)");
  }
}

std::vector<std::string> addresses_of(const ConfigFile& file, const std::string& key) {
  std::vector<std::string> out;
  for (const auto* entry : file.all(key)) {
    out.push_back(address_of(*entry));
  }
  return out;
}

std::optional<int> parse_integer(std::string_view text, int low, int high) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < low || value > high) {
    return std::nullopt;
  }
  return value;
}

int integer_of(const ConfigFile& file, const std::string& key, int fallback, int low, int high) {
  const Entry* entry = single(file, key);
  if (entry == nullptr) {
    return fallback;
  }
  const std::string text(trim(entry->value));
  const auto value = parse_integer(text, low, high);
  if (!value) {
    throw ConfigError(entry->where, entry->key,
                      "'" + text + "' is not a whole number from " + std::to_string(low) + " to " +
                          std::to_string(high));
  }
  return *value;
}

std::string choice_of(const ConfigFile& file, const std::string& key, std::string fallback,
                      const std::vector<std::string>& choices) {
  const Entry* entry = single(file, key);
  if (entry == nullptr) {
    return fallback;
  }
  std::string text(trim(entry->value));
  if (std::find(choices.begin(), choices.end(), text) == choices.end()) {
    throw ConfigError(entry->where, entry->key,
                      "'" + text + "' is not one of: " + join(choices, ", "));
  }
  return text;
}

void check_file_name(const Entry& entry) {
  const std::string name(trim(entry.value));
  if (name.empty() || name.find('/') != std::string::npos || name.front() == '.' ||
      name.find_first_of(" \t'\"\\") != std::string::npos) {
    throw ConfigError(entry.where, entry.key,
                      "'" + name + "' is not a plain file name (the file lives in paths.config)");
  }
}

std::string percent_decode(std::string_view text, const Location& where, const std::string& key) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    unsigned value = 0;
    const bool complete = i + 2 < text.size();
    const auto result = complete
                            ? std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16)
                            : std::from_chars_result{};
    if (!complete || result.ec != std::errc{} || result.ptr != text.data() + i + 3) {
      throw ConfigError(where, key,
                        "malformed percent escape at character " + std::to_string(i + 1));
    }
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

}  // namespace pgguard::node
