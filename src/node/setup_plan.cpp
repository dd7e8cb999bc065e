#include "node/setup_plan.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "common/config_file.hpp"
#include "common/strings.hpp"

namespace pgguard::node {

namespace {

// Accounts whose processes the release must never run as, nor hand files to.
const std::set<std::string, std::less<>> kForbiddenAccounts = {"root", "vcap", "nobody"};

void check_path(const std::string& path, const Location& where, const std::string& key) {
  if (path.empty() || path.front() != '/') {
    throw ConfigError(where, key, "'" + path + "' is not an absolute path");
  }
  for (const auto& component : split(path, "/")) {
    if (component == "." || component == "..") {
      throw ConfigError(where, key,
                        std::string("'")
                            .append(path)
                            .append("' has a '")
                            .append(component)
                            .append("' component"));
    }
  }
  if (path.size() > 1 && path.back() == '/') {
    throw ConfigError(where, key, "'" + path + "' ends with '/'");
  }
  if (std::any_of(path.begin(), path.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; })) {
    throw ConfigError(where, key, "path holds a control character");
  }
}

// "0" and three octal digits: the form leaves no room for set-user-ID, set-group-ID or sticky
// bits, which nothing of a job needs.
mode_t parse_mode(const std::string& text, const Location& where, const std::string& key) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 8);
  if (text.size() != 4 || text.front() != '0' || error != std::errc{} ||
      end != text.data() + text.size()) {
    throw ConfigError(where, key, "mode '" + text + "' is not four octal digits (e.g. 0750)");
  }
  return static_cast<mode_t>(value);
}

Ownership parse_ownership(const std::vector<std::string>& fields, std::size_t first,
                          const std::set<std::string, std::less<>>& accounts, const Location& where,
                          const std::string& key) {
  Ownership ownership{fields[first + 1], fields[first + 2], parse_mode(fields[first], where, key)};
  for (const auto* name : {&ownership.owner, &ownership.group}) {
    if (*name != "root" && accounts.count(*name) == 0) {
      throw ConfigError(where, key, "'" + *name + "' is neither root nor an account of this plan");
    }
  }
  return ownership;
}

}  // namespace

void check_account_name(const std::string& name, const Location& where, const std::string& key) {
  const bool portable =
      !name.empty() && name.size() <= 32 && (std::islower(name.front()) || name.front() == '_') &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '-';
      });
  if (!portable) {
    throw ConfigError(where, key,
                      "'" + name + "' is not a portable user name ([a-z_][a-z0-9_-]{0,31})");
  }
  if (kForbiddenAccounts.count(name) != 0) {
    throw ConfigError(where, key, "'" + name + "' is reserved: each job runs as its own account");
  }
}

SetupPlan parse_setup_plan(const config::ConfigFile& file) {
  file.check_keys({{"account", true, false}, {"directory", true, false}, {"install", true, false}});

  SetupPlan plan;
  std::set<std::string, std::less<>> accounts;
  for (const auto* entry : file.all("account")) {
    const std::string name(trim(entry->value));
    check_account_name(name, entry->where, entry->key);
    if (!accounts.insert(name).second) {
      throw ConfigError(entry->where, entry->key, "account '" + name + "' is listed twice");
    }
    plan.accounts.push_back(name);
  }

  std::set<std::string> directories;
  for (const auto* entry : file.all("directory")) {
    const auto fields = split(entry->value, " \t");
    if (fields.size() != 4) {
      throw ConfigError(entry->where, entry->key, "expected PATH MODE OWNER GROUP");
    }
    check_path(fields[0], entry->where, entry->key);
    if (!directories.insert(fields[0]).second) {
      throw ConfigError(entry->where, entry->key, "directory '" + fields[0] + "' is listed twice");
    }
    plan.directories.push_back(
        {fields[0], parse_ownership(fields, 1, accounts, entry->where, entry->key), entry->where});
  }

  std::set<std::string> destinations;
  for (const auto* entry : file.all("install")) {
    const auto fields = split(entry->value, " \t");
    if (fields.size() != 5) {
      throw ConfigError(entry->where, entry->key, "expected SOURCE DESTINATION MODE OWNER GROUP");
    }
    check_path(fields[0], entry->where, entry->key);
    check_path(fields[1], entry->where, entry->key);
    if (!destinations.insert(fields[1]).second) {
      throw ConfigError(entry->where, entry->key,
                        "destination '" + fields[1] + "' is installed twice");
    }
    if (directories.count(fields[1]) != 0) {
      throw ConfigError(entry->where, entry->key,
                        "destination '" + fields[1] + "' is also a directory of this plan");
    }
    plan.installs.push_back({fields[0], fields[1],
                             parse_ownership(fields, 2, accounts, entry->where, entry->key),
                             entry->where});
  }
  return plan;
}

}  // namespace pgguard::node
