#pragma once

#include <cstddef>
#include <string>

#include "common/config_file.hpp"
#include "common/error.hpp"
#include "net/address.hpp"

// The configuration of the VIP broker, `pgguard-vip serve --config FILE` (docs/sandbox.md, "The
// VIP broker"): the one address it may bring up and down, where, and for whom.
//
//   address = 198.18.7.10/24     # the VIP with its prefix (IPv4)
//   interface = eth0             # where it lives
//   socket = /var/vcap/sys/run/pgpool-vip/socket/vip.sock
//   client = pgpool              # the only user whose requests are carried out
//   announce_count = 3           # optional, 1-10: ARP announcements per `announce`
namespace pgguard::net {

struct VipConfig {
  std::string file;
  Address address;  // IPv4, a host address of its prefix
  int prefix = 32;
  std::string interface;
  Location interface_where;
  std::string socket_path;
  Location socket_where;
  std::string client;  // an account name, resolved in /etc/passwd when the broker starts
  Location client_where;
  int announce_count = 3;

  // "198.18.7.10/24"
  std::string address_text() const;
};

// Pure: every value is checked here (file:line: key: message, ExitCode::bad_input), nothing on
// the host is looked at. Which interfaces exist and which uid the client has are the broker's
// to check when it starts.
VipConfig parse_vip_config(const config::ConfigFile& file);

// The shipped file is a few lines; anything near the cap is not a broker configuration.
inline constexpr std::size_t kMaxVipConfigSize = std::size_t{64} * 1024;
// Reads FILE (a regular file of at most kMaxVipConfigSize bytes), then parse_vip_config.
VipConfig load_vip_config(const std::string& path);

// sun_path holds 108 bytes including the NUL; the broker binds PATH.new first and renames it.
inline constexpr std::size_t kMaxSocketPathLength = 100;

}  // namespace pgguard::net
