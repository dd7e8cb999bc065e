#include "pgpool/pool_plan.hpp"

#include <algorithm>
#include <set>

#include "common/strings.hpp"
#include "net/address.hpp"
#include "node/plan_values.hpp"
#include "node/setup_plan.hpp"
#include "postgres/node_plan.hpp"
#include "postgres/scram.hpp"

namespace pgguard::pgpool {

namespace {

using config::ConfigFile;
using config::Entry;
using node::address_of;
using node::integer_of;
using node::path_of;
using node::single;
using node::value_of;

const std::vector<config::KeyRule> kKeys = {
    {"job", false, true},
    {"user", false, true},
    {"node_id", false, true},
    {"listen_address", false, true},
    {"port", false, false},
    {"pcp_port", false, false},
    {"node", true, false},
    {"backend", true, false},
    {"client", true, false},
    {"paths.runtime", false, true},
    {"paths.state", false, true},
    {"paths.logs", false, true},
    {"paths.config", false, true},
    {"paths.pgpool_bin", false, true},
    {"paths.postgres", false, true},
    {"paths.pgguard", false, true},
    {"paths.isolation", false, true},
    {"paths.selinux_module", false, false},
    {"settings.num_init_children", false, false},
    {"settings.max_pool", false, false},
    {"settings.child_life_time", false, false},
    {"settings.client_idle_limit", false, false},
    {"settings.load_balance", false, false},
    {"settings.health_check_period", false, false},
    {"settings.health_check_timeout", false, false},
    {"settings.health_check_max_retries", false, false},
    {"settings.health_check_retry_delay", false, false},
    {"settings.sr_check_period", false, false},
    {"settings.restart_wait", false, false},
    {"settings.check_role", false, true},
    {"watchdog.port", false, false},
    {"watchdog.heartbeat_port", false, false},
    {"watchdog.heartbeat_keepalive", false, false},
    {"watchdog.heartbeat_deadtime", false, false},
    {"watchdog.authkey", false, false},
    {"vip.address", false, false},
    {"vip.interface", false, false},
    {"vip.broker_user", false, false},
    {"vip.runtime", false, false},
    {"tls.certificate", false, true},
    {"tls.private_key", false, true},
    {"tls.ca", false, true},
    {"users.user", true, false},
    {"users.pcp", false, true},
    {"users.failover", false, false},
};

// "NAME PASSWORD" with a percent-encoded password. pgpool reads pool_passwd and pcp.conf
// lines as NAME:SECRET, so neither may hold a ':' or a line break, and scram needs printable
// ASCII (no SASLprep differences between pgpool, libpq and the server).
PoolUser parse_user(const Entry& entry) {
  const auto fields = split(entry.value, " \t");
  if (fields.size() != 2) {
    throw ConfigError(entry.where, entry.key, "expected NAME PASSWORD (percent-encoded)");
  }
  PoolUser user{fields[0], node::percent_decode(fields[1], entry.where, entry.key), entry.where};
  postgres::check_identifier(user.name, entry.where, entry.key);
  if (const auto problem = postgres::password_problem(user.password)) {
    throw ConfigError(entry.where, entry.key, "user " + user.name + ": password " + *problem);
  }
  return user;
}

Backend parse_backend(const Entry& entry) {
  const auto fields = split(entry.value, " \t");
  if (fields.size() != 3) {
    throw ConfigError(entry.where, entry.key, "expected ADDRESS PORT APPLICATION_NAME");
  }
  Entry address = entry;
  address.value = fields[0];
  const auto port = node::parse_integer(fields[1], 1, 65535);
  if (!port) {
    throw ConfigError(entry.where, entry.key, "port '" + fields[1] + "' is not 1-65535");
  }
  postgres::check_identifier(fields[2], entry.where, entry.key);
  return {address_of(address), *port, fields[2]};
}

bool on_off(const ConfigFile& file, const std::string& key, bool fallback) {
  return node::choice_of(file, key, fallback ? "on" : "off", {"on", "off"}) == "on";
}

void parse_watchdog(const ConfigFile& file, PoolPlan& plan) {
  const bool configured = single(file, "watchdog.authkey") != nullptr;
  if (plan.nodes.size() == 1) {
    for (const char* key :
         {"watchdog.port", "watchdog.heartbeat_port", "watchdog.heartbeat_keepalive",
          "watchdog.heartbeat_deadtime", "watchdog.authkey"}) {
      if (single(file, key) != nullptr) {
        throw ConfigError(file.location_of(key), key,
                          "a single pgpool node runs no watchdog (three nodes do)");
      }
    }
    return;
  }
  if (!configured) {
    throw ConfigError(file.location_of("watchdog.authkey"), "watchdog.authkey",
                      "three pgpool nodes run the watchdog, which needs its authentication key");
  }
  Watchdog watchdog;
  watchdog.port = integer_of(file, "watchdog.port", 9000, 1, 65535);
  watchdog.heartbeat_port = integer_of(file, "watchdog.heartbeat_port", 9694, 1, 65535);
  watchdog.heartbeat_keepalive = integer_of(file, "watchdog.heartbeat_keepalive", 1, 1, 3600);
  watchdog.heartbeat_deadtime = integer_of(file, "watchdog.heartbeat_deadtime", 5, 1, 3600);
  // A deadtime of a single keepalive would declare a node lost for one late heartbeat.
  if (watchdog.heartbeat_deadtime < 2 * watchdog.heartbeat_keepalive) {
    throw ConfigError(file.location_of("watchdog.heartbeat_deadtime"),
                      "watchdog.heartbeat_deadtime",
                      "must be at least twice watchdog.heartbeat_keepalive (" +
                          std::to_string(watchdog.heartbeat_keepalive) + " s)");
  }
  const Entry& key = *single(file, "watchdog.authkey");
  watchdog.authkey = node::percent_decode(trim(key.value), key.where, key.key);
  // Written into pgpool.conf as a quoted string: printable, no quote or backslash.
  const bool plain = watchdog.authkey.size() >= 16 && watchdog.authkey.size() <= 128 &&
                     std::all_of(watchdog.authkey.begin(), watchdog.authkey.end(), [](char c) {
                       return c > 0x20 && c < 0x7f && c != '\'' && c != '\\';
                     });
  if (!plain) {
    throw ConfigError(key.where, key.key,
                      "must be 16-128 printable characters without space, quote or backslash");
  }
  plan.watchdog = watchdog;
}

void parse_vip(const ConfigFile& file, PoolPlan& plan) {
  const Entry* address = single(file, "vip.address");
  if (address == nullptr) {
    for (const char* key : {"vip.interface", "vip.broker_user", "vip.runtime"}) {
      if (single(file, key) != nullptr) {
        throw ConfigError(file.location_of(key), key, "given without vip.address");
      }
    }
    return;
  }
  if (!plan.watchdog) {
    throw ConfigError(address->where, address->key,
                      "a VIP needs the watchdog of three pgpool nodes to decide who holds it");
  }
  // IPV4/PREFIX: the VIP is a host inside the network the prefix names (ip addr add).
  const std::string text(trim(address->value));
  const auto slash = text.find('/');
  Vip vip;
  std::optional<int> prefix;
  if (slash != std::string::npos) {
    try {
      const auto host = net::Address::parse(text.substr(0, slash));
      if (host.family() == net::Family::ipv4) {
        vip.address = host.to_string();
        prefix = node::parse_integer(std::string_view(text).substr(slash + 1), 8, 32);
      }
    } catch (const net::AddressError&) {
      // reported below
    }
  }
  if (vip.address.empty() || !prefix) {
    throw ConfigError(address->where, address->key,
                      "'" + text +
                          "' is not IPV4/PREFIX with a prefix of 8-32 (pgpool's delegate IP is "
                          "IPv4)");
  }
  vip.prefix = *prefix;
  if (std::find(plan.nodes.begin(), plan.nodes.end(), vip.address) != plan.nodes.end()) {
    throw ConfigError(address->where, address->key,
                      "the VIP " + vip.address + " is the address of a pgpool VM");
  }
  vip.interface = value_of(file, "vip.interface");
  const bool interface_ok =
      !vip.interface.empty() && vip.interface.size() < 16 &&
      std::all_of(vip.interface.begin(), vip.interface.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
  if (!interface_ok) {
    throw ConfigError(file.location_of("vip.interface"), "vip.interface",
                      "'" + vip.interface + "' is not a network interface name");
  }
  vip.broker_user = value_of(file, "vip.broker_user");
  node::check_account_name(vip.broker_user, file.location_of("vip.broker_user"), "vip.broker_user");
  if (vip.broker_user == plan.user) {
    throw ConfigError(file.location_of("vip.broker_user"), "vip.broker_user",
                      "the VIP broker must not share pgpool's account");
  }
  vip.runtime = path_of(file, "vip.runtime");
  if (vip.runtime == plan.paths.runtime || vip.runtime == plan.paths.state) {
    throw ConfigError(file.location_of("vip.runtime"), "vip.runtime",
                      "the VIP broker's directory must not be pgpool's");
  }
  plan.vip = vip;
}

}  // namespace

PoolPlan parse_pool_plan(const ConfigFile& file) {
  static const auto keys = node::with_sandbox_keys(kKeys);
  file.check_keys(keys);
  PoolPlan plan;
  plan.job = value_of(file, "job");
  plan.user = value_of(file, "user");
  node::check_account_name(plan.user, file.location_of("user"), "user");
  plan.listen_address = address_of(*single(file, "listen_address"));
  plan.port = integer_of(file, "port", 9999, 1, 65535);
  plan.pcp_port = integer_of(file, "pcp_port", 9898, 1, 65535);

  std::set<std::string> seen;
  for (const auto* entry : file.all("node")) {
    plan.nodes.push_back(address_of(*entry));
    if (!seen.insert(plan.nodes.back()).second) {
      throw ConfigError(entry->where, entry->key, plan.nodes.back() + " is listed twice");
    }
  }
  if (plan.nodes.size() != 1 && plan.nodes.size() != 3) {
    throw ConfigError(file.location_of("node"), "node",
                      std::to_string(plan.nodes.size()) +
                          " pgpool nodes: run 1, or 3 (a watchdog quorum needs an odd number "
                          "above 1, and 3 is what the release is built and tested for)");
  }
  plan.node_id = integer_of(file, "node_id", 0, 0, static_cast<int>(plan.nodes.size()) - 1);
  if (plan.nodes[static_cast<std::size_t>(plan.node_id)] != plan.listen_address) {
    throw ConfigError(file.location_of("node_id"), "node_id",
                      "node " + std::to_string(plan.node_id) + " is " +
                          plan.nodes[static_cast<std::size_t>(plan.node_id)] +
                          ", not this VM's listen_address " + plan.listen_address);
  }

  for (const auto* entry : file.all("backend")) {
    plan.backends.push_back(parse_backend(*entry));
  }
  if (plan.backends.empty() || plan.backends.size() > 2) {
    throw ConfigError(file.location_of("backend"), "backend",
                      "expected the primary, and at most one standby");
  }
  for (const auto* entry : file.all("client")) {
    try {
      plan.client_cidrs.push_back(net::Cidr::parse(trim(entry->value)).to_string());
    } catch (const net::AddressError& error) {
      throw ConfigError(entry->where, entry->key, error.what());
    }
  }

  plan.paths = {path_of(file, "paths.runtime"),    path_of(file, "paths.state"),
                path_of(file, "paths.logs"),       path_of(file, "paths.config"),
                path_of(file, "paths.pgpool_bin"), path_of(file, "paths.postgres"),
                path_of(file, "paths.pgguard"),    path_of(file, "paths.isolation")};
  if (single(file, "paths.selinux_module") != nullptr) {
    plan.selinux_module = path_of(file, "paths.selinux_module");
  }
  plan.sandbox = node::parse_sandbox_settings(file);

  PoolSettings& settings = plan.settings;
  settings.num_init_children = integer_of(file, "settings.num_init_children", 32, 1, 10000);
  settings.max_pool = integer_of(file, "settings.max_pool", 4, 1, 100);
  settings.child_life_time = integer_of(file, "settings.child_life_time", 300, 0, 86400);
  settings.client_idle_limit = integer_of(file, "settings.client_idle_limit", 0, 0, 86400);
  settings.load_balance = on_off(file, "settings.load_balance", true);
  settings.health_check_period = integer_of(file, "settings.health_check_period", 1, 1, 3600);
  settings.health_check_timeout = integer_of(file, "settings.health_check_timeout", 2, 1, 3600);
  settings.health_check_max_retries =
      integer_of(file, "settings.health_check_max_retries", 2, 0, 100);
  settings.health_check_retry_delay =
      integer_of(file, "settings.health_check_retry_delay", 1, 1, 3600);
  settings.sr_check_period = integer_of(file, "settings.sr_check_period", 10, 1, 3600);
  settings.restart_wait = integer_of(file, "settings.restart_wait", 20, 1, 600);
  settings.check_role = value_of(file, "settings.check_role");

  for (const char* key : {"tls.certificate", "tls.private_key", "tls.ca"}) {
    node::check_file_name(*single(file, key));
  }
  plan.tls_certificate = value_of(file, "tls.certificate");
  plan.tls_private_key = value_of(file, "tls.private_key");
  plan.tls_ca = value_of(file, "tls.ca");

  std::set<std::string> names;
  for (const auto* entry : file.all("users.user")) {
    plan.users.push_back(parse_user(*entry));
    if (!names.insert(plan.users.back().name).second) {
      throw ConfigError(entry->where, entry->key,
                        "user " + plan.users.back().name + " is listed twice");
    }
  }
  if (names.count(settings.check_role) == 0) {
    throw ConfigError(file.location_of("settings.check_role"), "settings.check_role",
                      "'" + settings.check_role +
                          "' is not one of users.user: pgpool's checks log in with a password "
                          "from pool_passwd");
  }
  plan.pcp = parse_user(*single(file, "users.pcp"));
  if (const Entry* entry = single(file, "users.failover")) {
    plan.failover = parse_user(*entry);
    if (names.count(plan.failover->name) != 0) {
      throw ConfigError(entry->where, entry->key,
                        "'" + plan.failover->name +
                            "' is also in users.user: the failover role must not be a login "
                            "clients can use through pgpool");
    }
  }

  parse_watchdog(file, plan);
  parse_vip(file, plan);
  return plan;
}

}  // namespace pgguard::pgpool
