#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config_file.hpp"

// Typed readers for the values of a job's rendered plan (config/node.conf, config/pool.conf),
// shared by the PostgreSQL and the pgpool plans. Pure; each throws ConfigError naming file,
// line and key.
namespace pgguard::node {

// The entry of a single-valued key; nullptr when absent.
const config::Entry* single(const config::ConfigFile& file, const std::string& key);
// Its trimmed value; empty when absent.
std::string value_of(const config::ConfigFile& file, const std::string& key);
// An absolute path without '..' and without space, quote or backslash (paths are written into
// generated configuration strings and sandbox profiles). The key must be present.
std::string path_of(const config::ConfigFile& file, const std::string& key);
// A numeric IP address, in canonical form; a DNS name is refused with a hint at
// `ip_addresses: true`.
std::string address_of(const config::Entry& entry);
std::vector<std::string> addresses_of(const config::ConfigFile& file, const std::string& key);
// The whole number `text` holds when it is one in [low, high]; nullopt otherwise.
std::optional<int> parse_integer(std::string_view text, int low, int high);
// A whole number in [low, high]; fallback when absent.
int integer_of(const config::ConfigFile& file, const std::string& key, int fallback, int low,
               int high);
// One of `choices`; fallback when absent.
std::string choice_of(const config::ConfigFile& file, const std::string& key, std::string fallback,
                      const std::vector<std::string>& choices);
// A plain file name (no '/', not hidden, no quotes): files that live in a known directory.
void check_file_name(const config::Entry& entry);
// "%41b%20c" -> "Ab c". Throws ConfigError for a malformed escape.
std::string percent_decode(std::string_view text, const Location& where, const std::string& key);

}  // namespace pgguard::node
