#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config_file.hpp"
#include "net/address.hpp"

namespace pgguard::net {

enum class Role { master, standby, pgpool };

std::string_view role_name(Role role);
bool is_postgres_role(Role role);

struct Member {
  Role role;
  Address address;
};

enum class RateUnit { second, minute, hour, day };

std::string_view rate_unit_name(RateUnit unit);

struct Rate {
  std::uint64_t count = 0;
  RateUnit unit = RateUnit::second;
  friend bool operator==(const Rate&, const Rate&) = default;
};

struct RolePorts {
  std::uint16_t postgres = 5432;
  std::uint16_t pgpool = 9999;
  std::uint16_t pcp = 9898;
  std::uint16_t watchdog = 9000;
  std::uint16_t heartbeat = 9694;  // udp
};

// Which host-hardening sysctls apply/verify manage (true: enforce the hardened value).
struct SysctlPolicy {
  bool strict_reverse_path_filter = true;
  bool ignore_redirects = true;
  bool disable_send_redirects = true;
  bool disable_source_route = true;
  bool ignore_broadcast_echo = true;
  bool ignore_bogus_icmp_errors = true;
  bool tcp_syncookies = true;
  bool log_martians = true;
  bool ignore_router_advertisements = true;
};

// A validated configuration: every invariant docs/isolation.md lists holds, so the planner
// never sees bad input.
struct IsolationConfig {
  std::string table = "secure_postgres";
  std::vector<Address> self;
  Role role = Role::pgpool;  // the role of the self addresses among the members
  std::vector<Member> members;
  std::vector<Address> vips;
  RolePorts ports;
  std::vector<Cidr> clients;
  std::vector<Cidr> control;
  std::vector<std::uint16_t> control_tcp_ports;
  std::vector<std::uint16_t> control_udp_ports;
  std::vector<Cidr> service_network;
  Rate echo_rate{10, RateUnit::second};
  std::uint32_t echo_burst = 20;
  std::string drop_log_prefix = "pgguard-isolate drop";
  Rate log_rate{10, RateUnit::minute};
  std::uint32_t log_burst = 5;
  SysctlPolicy sysctl;
};

inline constexpr const char* kDefaultTable = "secure_postgres";

// The largest configuration file pgguard-isolate reads. Measured: 100,000 members at the
// longest address text (RFC 5952 IPv6, 39 characters) render to 5.6 MB, 100,000 IPv4 members to
// 3.1 MB, and 100,000 client CIDRs at full IPv6 length add 5.0 MB; 16 MiB holds the first and
// last together with room for the rest. The cap also bounds the parser's memory (about 100
// bytes per entry) before a wrong --config (a log, /dev/zero) is refused.
inline constexpr std::size_t kMaxConfigSize = std::size_t{16} << 20;
static_assert(kMaxConfigSize <= config::ConfigFile::kDefaultMaxSize,
              "ConfigFile's default cap is meant to fit the largest configuration");

// Throws ConfigError (file:line: key: message) on the first problem.
IsolationConfig parse_isolation_config(const config::ConfigFile& file);

// Exposed for the command line's --table.
void check_table_name(const std::string& name, const Location& where, const std::string& key);

}  // namespace pgguard::net
