#include "audit/smoke_config.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include "common/strings.hpp"

namespace pgguard::audit {

namespace {

const std::set<std::string, std::less<>> kRolePorts{"postgres", "pgpool", "pcp", "watchdog",
                                                    "heartbeat"};

void check_absolute_path(const std::string& path, const Location& where, const std::string& key,
                         const std::string& what) {
  const bool normalized = !path.empty() && path.front() == '/' && path.back() != '/' &&
                          path.find("//") == std::string::npos &&
                          path.find("/./") == std::string::npos &&
                          path.find("/../") == std::string::npos;
  if (!normalized) {
    throw ConfigError(where, key, what + " '" + path + "' is not a normalized absolute path");
  }
}

void check_name(const std::string& name, const Location& where, const std::string& key,
                const std::string& what, std::size_t max_size) {
  const bool valid =
      !name.empty() && name.size() <= max_size && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      });
  if (!valid) {
    throw ConfigError(where, key,
                      what + " '" + name + "' must be 1-" + std::to_string(max_size) +
                          " characters of a-z, 0-9, - and _");
  }
}

bool parse_bool(const config::Entry& entry) {
  const auto value = trim(entry.value);
  if (value == "true") {
    return true;
  }
  if (value == "false") {
    return false;
  }
  throw ConfigError(entry.where, entry.key, "'" + std::string(value) + "' is not true or false");
}

Protocol parse_protocol(std::string_view text, const Location& where, const std::string& key) {
  if (text == "tcp") {
    return Protocol::tcp;
  }
  if (text == "udp") {
    return Protocol::udp;
  }
  throw ConfigError(where, key, "protocol '" + std::string(text) + "' is not tcp or udp");
}

ProcessEntry parse_process(const config::Entry& entry) {
  // JOB NAME COMM PID_FILE PROFILE|root [if-profile-exists]
  const auto fields = split(entry.value, " \t");
  if (fields.size() != 5 && fields.size() != 6) {
    throw ConfigError(entry.where, entry.key,
                      "expected JOB NAME COMM PID_FILE PROFILE|root [if-profile-exists]");
  }
  ProcessEntry process;
  process.where = entry.where;
  process.job = fields[0];
  process.name = fields[1];
  process.comm = fields[2];
  process.pid_file = fields[3];
  check_name(process.job, entry.where, entry.key, "job", 64);
  check_name(process.name, entry.where, entry.key, "name", 64);
  // The kernel keeps the first 15 bytes of a program name (TASK_COMM_LEN 16).
  if (process.comm.empty() || process.comm.size() > 15) {
    throw ConfigError(entry.where, entry.key,
                      "comm '" + process.comm + "' must be 1-15 characters, as /proc/PID/comm");
  }
  check_absolute_path(process.pid_file, entry.where, entry.key, "pid file");
  if (fields[4] != "root") {
    check_absolute_path(fields[4], entry.where, entry.key, "profile");
    process.profile = fields[4];
  }
  if (fields.size() == 6) {
    if (fields[5] != "if-profile-exists") {
      throw ConfigError(entry.where, entry.key,
                        "unknown flag '" + fields[5] + "' (known: if-profile-exists)");
    }
    if (!process.profile) {
      throw ConfigError(entry.where, entry.key, "if-profile-exists needs a profile, not root");
    }
    process.only_if_profile_exists = true;
  }
  return process;
}

}  // namespace

std::string_view protocol_name(Protocol protocol) {
  return protocol == Protocol::tcp ? "tcp" : "udp";
}

ListenerRule parse_listener_rule(std::string_view text, const Location& where,
                                 const std::string& key) {
  const auto fail = [&](const std::string& why) -> ListenerRule {
    throw ConfigError(where, key,
                      "'" + std::string(text) + "' " + why +
                          " (expected PROTOCOL:ADDRESS:PORT, e.g. tcp:127.0.0.1:2822, "
                          "udp:[::1]:323, tcp:*:22)");
  };
  const auto first = text.find(':');
  const auto last = text.rfind(':');
  if (first == std::string_view::npos || last == first) {
    return fail("has no address and port");
  }
  ListenerRule rule;
  const auto protocol = text.substr(0, first);
  if (protocol != "tcp" && protocol != "udp") {
    return fail("names no protocol tcp or udp");
  }
  rule.protocol = protocol == "tcp" ? Protocol::tcp : Protocol::udp;
  std::string_view address = text.substr(first + 1, last - first - 1);
  const std::string_view port = text.substr(last + 1);
  unsigned number = 0;
  const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
  if (port.empty() || error != std::errc() || end != port.data() + port.size() || number == 0 ||
      number > 65535) {
    return fail("has no port 1-65535");
  }
  rule.port = static_cast<std::uint16_t>(number);
  if (address != "*") {
    const bool bracketed = address.size() > 2 && address.front() == '[' && address.back() == ']';
    if (bracketed) {
      address = address.substr(1, address.size() - 2);
    }
    try {
      rule.address = net::Address::parse(address);
    } catch (const net::AddressError& problem) {
      return fail(std::string("has no valid address: ") + problem.what());
    }
    if ((rule.address->family() == net::Family::ipv6) != bracketed) {
      return fail(bracketed ? "brackets an IPv4 address" : "has an IPv6 address without [ ]");
    }
  }
  rule.reason = "allowed_listeners " + std::string(text);
  return rule;
}

SmokeConfig parse_smoke_config(const config::ConfigFile& file) {
  file.check_keys({{"jobs_dir", false, true},
                   {"isolation_config", false, true},
                   {"selinux_required", false, true},
                   {"landlock_required", false, true},
                   {"processes.process", true, false},
                   {"listeners.job_port", true, false},
                   {"listeners.allow", true, false}});
  SmokeConfig config;
  for (const auto& entry : file.entries()) {
    const std::string value(trim(entry.value));
    if (entry.key == "jobs_dir") {
      check_absolute_path(value, entry.where, entry.key, "directory");
      config.jobs_dir = value;
    } else if (entry.key == "isolation_config") {
      check_absolute_path(value, entry.where, entry.key, "file");
      config.isolation_config = value;
    } else if (entry.key == "selinux_required") {
      config.selinux_required = parse_bool(entry);
    } else if (entry.key == "landlock_required") {
      config.landlock_required = parse_bool(entry);
    }
  }

  std::set<std::string> pid_files;
  for (const auto* entry : file.all("processes.process")) {
    auto process = parse_process(*entry);
    if (!pid_files.insert(process.pid_file).second) {
      throw ConfigError(entry->where, entry->key,
                        "pid file '" + process.pid_file + "' is listed twice");
    }
    config.processes.push_back(std::move(process));
  }
  for (const auto* entry : file.all("listeners.job_port")) {
    const auto fields = split(entry->value, " \t");
    if (fields.size() != 3) {
      throw ConfigError(entry->where, entry->key, "expected JOB tcp|udp PORT_NAME");
    }
    check_name(fields[0], entry->where, entry->key, "job", 64);
    if (kRolePorts.count(fields[2]) == 0) {
      throw ConfigError(entry->where, entry->key,
                        "'" + fields[2] +
                            "' is no port of the isolation config (postgres, pgpool, pcp, "
                            "watchdog, heartbeat)");
    }
    config.job_ports.push_back(
        {fields[0], parse_protocol(fields[1], entry->where, entry->key), fields[2]});
  }
  for (const auto* entry : file.all("listeners.allow")) {
    config.allowed.push_back(parse_listener_rule(trim(entry->value), entry->where, entry->key));
  }
  return config;
}

}  // namespace pgguard::audit
