#include "postgres/node_plan.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "common/config_file.hpp"
#include "common/strings.hpp"
#include "node/plan_values.hpp"
#include "postgres/scram.hpp"

namespace pgguard::postgres {

namespace {

using config::ConfigFile;
using config::Entry;
using node::address_of;
using node::addresses_of;
using node::check_file_name;
using node::choice_of;
using node::integer_of;
using node::path_of;
using node::percent_decode;
using node::single;
using node::value_of;

// Roles PostgreSQL predefines that a role of the properties may be made a member of.
const std::set<std::string, std::less<>> kPredefinedRoles = {
    "pg_monitor",        "pg_read_all_settings", "pg_read_all_stats", "pg_stat_scan_tables",
    "pg_signal_backend", "pg_read_all_data",     "pg_write_all_data"};

const std::vector<config::KeyRule> kKeys = {
    {"kind", false, true},
    {"job", false, true},
    {"user", false, true},
    {"listen_address", false, true},
    {"port", false, false},
    {"replication_role", false, true},
    {"failover_role", false, false},
    {"replication_slot", true, false},
    {"stream_slot", false, false},
    {"synchronous_standby", true, false},
    {"upstream", false, false},
    {"replica", true, false},
    {"pgpool", true, false},
    {"vip", true, false},
    {"paths.data", false, true},
    {"paths.archive", false, true},
    {"paths.scratch", false, true},
    {"paths.runtime", false, true},
    {"paths.logs", false, true},
    {"paths.config", false, true},
    {"paths.postgres_bin", false, true},
    {"paths.launcher", false, true},
    {"paths.profiles", false, true},
    {"paths.isolation", false, true},
    {"paths.selinux_module", false, false},
    {"server.max_connections", false, false},
    {"server.shared_buffers", false, false},
    {"server.work_mem", false, false},
    {"server.max_slot_wal_keep_size", false, false},
    {"server.wal_keep_size", false, false},
    {"server.synchronous_commit", false, false},
    {"server.ssl_min_protocol_version", false, false},
    {"tls.certificate", false, true},
    {"tls.private_key", false, true},
    {"tls.ca", false, true},
    {"roles.role", true, false},
    {"roles.database", true, false},
};

// PostgreSQL memory settings: a number with kB, MB, GB or TB (the units it accepts).
std::string memory_of(const ConfigFile& file, const std::string& key, std::string fallback) {
  const Entry* entry = single(file, key);
  if (entry == nullptr) {
    return fallback;
  }
  std::string text(trim(entry->value));
  const auto digits = text.find_first_not_of("0123456789");
  const bool valid = digits != 0 && digits != std::string::npos &&
                     (text.substr(digits) == "kB" || text.substr(digits) == "MB" ||
                      text.substr(digits) == "GB" || text.substr(digits) == "TB");
  if (!valid || text.size() > 12) {
    throw ConfigError(entry->where, entry->key,
                      "'" + text + "' is not a size such as 128MB (units kB, MB, GB, TB)");
  }
  return text;
}

RoleSpec parse_role(const Entry& entry) {
  const auto fields = split(entry.value, " \t");
  if (fields.size() < 2) {
    throw ConfigError(entry.where, entry.key, "expected NAME PASSWORD [ATTRIBUTES...]");
  }
  RoleSpec role;
  role.where = entry.where;
  role.name = fields[0];
  check_identifier(role.name, entry.where, entry.key);
  role.password = percent_decode(fields[1], entry.where, entry.key);
  if (const auto problem = password_problem(role.password)) {
    throw ConfigError(entry.where, entry.key, "role " + role.name + ": password " + *problem);
  }
  for (std::size_t i = 2; i < fields.size(); ++i) {
    const std::string& attribute = fields[i];
    if (attribute == "login") {
      role.login = true;
    } else if (attribute == "nologin") {
      role.login = false;
    } else if (attribute == "createdb") {
      role.create_database = true;
    } else if (attribute == "createrole") {
      role.create_role = true;
    } else if (attribute == "replication") {
      role.replication = true;
    } else if (attribute.starts_with("member_of=")) {
      role.member_of = split(std::string_view(attribute).substr(10), ",");
    } else {
      throw ConfigError(entry.where, entry.key,
                        "role " + role.name + ": unknown attribute '" + attribute +
                            "' (login, nologin, createdb, createrole, replication, member_of=)");
    }
  }
  return role;
}

DatabaseSpec parse_database(const Entry& entry) {
  const auto fields = split(entry.value, " \t");
  if (fields.size() < 2 || fields.size() > 3 ||
      (fields.size() == 3 && !fields[2].starts_with("extensions="))) {
    throw ConfigError(entry.where, entry.key, "expected NAME OWNER [extensions=A,B]");
  }
  DatabaseSpec database{fields[0], fields[1], {}, entry.where};
  check_identifier(database.name, entry.where, entry.key);
  if (database.name == "postgres" || database.name == "template0" || database.name == "template1") {
    throw ConfigError(entry.where, entry.key,
                      "database '" + database.name + "' is PostgreSQL's own");
  }
  if (fields.size() == 3) {
    database.extensions = split(std::string_view(fields[2]).substr(11), ",");
    for (const auto& extension : database.extensions) {
      check_identifier(extension, entry.where, entry.key);
    }
  }
  return database;
}

}  // namespace

void check_identifier(const std::string& name, const Location& where, const std::string& key) {
  const bool plain =
      !name.empty() && name.size() <= 63 &&
      (std::islower(static_cast<unsigned char>(name.front())) || name.front() == '_') &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return std::islower(static_cast<unsigned char>(c)) ||
               std::isdigit(static_cast<unsigned char>(c)) || c == '_';
      });
  if (!plain) {
    throw ConfigError(
        where, key, "'" + name + "' is not a plain lower-case identifier ([a-z_][a-z0-9_]{0,62})");
  }
  if (name.starts_with("pg_")) {
    throw ConfigError(where, key, "'" + name + "' starts with pg_, which PostgreSQL reserves");
  }
}

NodePlan parse_node_plan(const ConfigFile& file) {
  static const auto keys = node::with_sandbox_keys(kKeys);
  file.check_keys(keys);

  NodePlan plan;
  const std::string kind = choice_of(file, "kind", "", {"primary", "standby"});
  plan.kind = kind == "primary" ? NodeKind::primary : NodeKind::standby;
  plan.job = value_of(file, "job");
  plan.user = value_of(file, "user");
  check_identifier(plan.user, file.location_of("user"), "user");
  plan.listen_address = address_of(*single(file, "listen_address"));
  plan.port = integer_of(file, "port", 5432, 1, 65535);

  plan.paths = {path_of(file, "paths.data"),         path_of(file, "paths.archive"),
                path_of(file, "paths.scratch"),      path_of(file, "paths.runtime"),
                path_of(file, "paths.logs"),         path_of(file, "paths.config"),
                path_of(file, "paths.postgres_bin"), path_of(file, "paths.launcher"),
                path_of(file, "paths.profiles"),     path_of(file, "paths.isolation")};
  if (single(file, "paths.selinux_module") != nullptr) {
    plan.selinux_module = path_of(file, "paths.selinux_module");
  }
  plan.sandbox = node::parse_sandbox_settings(file);

  plan.server.max_connections = integer_of(file, "server.max_connections", 100, 10, 10000);
  plan.server.shared_buffers = memory_of(file, "server.shared_buffers", "128MB");
  plan.server.work_mem = memory_of(file, "server.work_mem", "4MB");
  plan.server.max_slot_wal_keep_size = memory_of(file, "server.max_slot_wal_keep_size", "1GB");
  plan.server.wal_keep_size = memory_of(file, "server.wal_keep_size", "1GB");
  plan.server.synchronous_commit =
      choice_of(file, "server.synchronous_commit", "on", {"on", "off"}) == "on";
  plan.server.ssl_min_protocol_version =
      choice_of(file, "server.ssl_min_protocol_version", "TLSv1.2", {"TLSv1.2", "TLSv1.3"});

  for (const char* key : {"tls.certificate", "tls.private_key", "tls.ca"}) {
    check_file_name(*single(file, key));
  }
  plan.tls_certificate = value_of(file, "tls.certificate");
  plan.tls_private_key = value_of(file, "tls.private_key");
  plan.tls_ca = value_of(file, "tls.ca");

  plan.replica_addresses = addresses_of(file, "replica");
  plan.pgpool_addresses = addresses_of(file, "pgpool");
  plan.vip_addresses = addresses_of(file, "vip");
  if (const Entry* upstream = single(file, "upstream")) {
    plan.upstream_address = address_of(*upstream);
  }

  std::set<std::string, std::less<>> role_names;
  for (const auto* entry : file.all("roles.role")) {
    RoleSpec role = parse_role(*entry);
    if (role.name == plan.user) {
      throw ConfigError(entry->where, entry->key,
                        "role " + role.name +
                            " is the superuser, which has no password and "
                            "logs in only over the unix socket");
    }
    if (!role_names.insert(role.name).second) {
      throw ConfigError(entry->where, entry->key, "role " + role.name + " is listed twice");
    }
    plan.roles.push_back(std::move(role));
  }
  for (const auto& role : plan.roles) {
    for (const auto& group : role.member_of) {
      if (kPredefinedRoles.count(group) == 0 && role_names.count(group) == 0) {
        throw ConfigError(role.where, "roles.role",
                          "role " + role.name + ": member_of '" + group +
                              "' is neither a role of this plan nor one of PostgreSQL's "
                              "predefined monitoring roles");
      }
    }
  }
  std::set<std::string, std::less<>> database_names;
  for (const auto* entry : file.all("roles.database")) {
    DatabaseSpec database = parse_database(*entry);
    if (role_names.count(database.owner) == 0) {
      throw ConfigError(entry->where, entry->key,
                        "database " + database.name + ": owner '" + database.owner +
                            "' is not a role of this plan");
    }
    if (!database_names.insert(database.name).second) {
      throw ConfigError(entry->where, entry->key, "database " + database.name + " is listed twice");
    }
    plan.databases.push_back(std::move(database));
  }

  plan.replication_role = value_of(file, "replication_role");
  const auto replicator =
      std::find_if(plan.roles.begin(), plan.roles.end(),
                   [&plan](const RoleSpec& role) { return role.name == plan.replication_role; });
  if (replicator == plan.roles.end() || !replicator->replication || !replicator->login) {
    throw ConfigError(
        file.location_of("replication_role"), "replication_role",
        "'" + plan.replication_role + "' must be a role of this plan with login and replication");
  }
  for (const auto* entry : file.all("replication_slot")) {
    const std::string slot(trim(entry->value));
    check_identifier(slot, entry->where, entry->key);
    plan.replication_slots.push_back(slot);
  }
  for (const auto* entry : file.all("synchronous_standby")) {
    const std::string name(trim(entry->value));
    if (std::find(plan.replication_slots.begin(), plan.replication_slots.end(), name) ==
        plan.replication_slots.end()) {
      throw ConfigError(entry->where, entry->key,
                        "'" + name +
                            "' is not a replication_slot (standbys use their slot name as "
                            "application_name)");
    }
    plan.synchronous_standbys.push_back(name);
  }
  replicator->rewind = true;
  if (const Entry* entry = single(file, "failover_role")) {
    plan.failover_role = std::string(trim(entry->value));
    const auto failover =
        std::find_if(plan.roles.begin(), plan.roles.end(),
                     [&plan](const RoleSpec& role) { return role.name == plan.failover_role; });
    if (failover == plan.roles.end() || !failover->login || failover->replication ||
        failover->create_database || failover->create_role || !failover->member_of.empty()) {
      throw ConfigError(entry->where, entry->key,
                        "'" + plan.failover_role +
                            "' must be a role of this plan with login and nothing else (it is "
                            "granted only what a failover needs)");
    }
    failover->failover = true;
  }
  if (const Entry* entry = single(file, "stream_slot")) {
    plan.stream_slot = std::string(trim(entry->value));
    check_identifier(plan.stream_slot, entry->where, entry->key);
    if (std::find(plan.replication_slots.begin(), plan.replication_slots.end(), plan.stream_slot) !=
        plan.replication_slots.end()) {
      throw ConfigError(entry->where, entry->key,
                        "'" + plan.stream_slot +
                            "' is also a slot this node keeps for its peer: each node streams "
                            "through a slot of its own");
    }
  }
  if (plan.upstream_address.empty() != plan.stream_slot.empty()) {
    throw ConfigError(plan.upstream_address.empty() ? file.location_of("stream_slot")
                                                    : file.location_of("upstream"),
                      plan.upstream_address.empty() ? "stream_slot" : "upstream",
                      "upstream and stream_slot go together: the peer this node streams from "
                      "as a standby, and its slot there");
  }
  if (plan.kind == NodeKind::standby && plan.upstream_address.empty()) {
    throw ConfigError(file.location_of("upstream"), "upstream",
                      "a standby needs the address of the primary it streams from");
  }
  return plan;
}

}  // namespace pgguard::postgres
