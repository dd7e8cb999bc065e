#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config_file.hpp"
#include "common/error.hpp"
#include "net/address.hpp"

// config/smoke.conf of the security-smoke-tests errand: which processes of the release to look
// for on this VM, and which listeners the design names beyond the isolation config's ports.
namespace pgguard::audit {

// One monit process of the release: looked for only when /var/vcap/jobs/<job> exists.
struct ProcessEntry {
  std::string job;       // the job whose directory says the process belongs on this VM
  std::string name;      // what the table calls it ("postgres", "guard")
  std::string comm;      // /proc/PID/comm of the process the pid file must name
  std::string pid_file;  // written by pgguard-launch (or the guard itself)
  // The sandbox profile the process runs under; empty: it runs as root by design (the isolation
  // guard programs nftables and sysctls), and only that it runs and is `comm` is checked.
  std::optional<std::string> profile;
  // The process is expected only when the job rendered its profile (the VIP broker).
  bool only_if_profile_exists = false;
  Location where;
};

enum class Protocol { tcp, udp };
std::string_view protocol_name(Protocol protocol);

// A listener the design allows. No address: on any address.
struct ListenerRule {
  Protocol protocol = Protocol::tcp;
  std::optional<net::Address> address;
  std::uint16_t port = 0;
  std::string reason;  // shown in the table: "isolation ports.postgres (pg-master)"
  // A range of ports instead of one (port..port_last), for sockets held only by processes
  // named owner_comm: UDP senders whose source port the kernel chose.
  std::uint16_t port_last = 0;
  std::string owner_comm;
};

// A role port of the isolation config ([ports] key) that a job's process listens on.
struct JobPort {
  std::string job;
  Protocol protocol = Protocol::tcp;
  std::string port;  // postgres, pgpool, pcp, watchdog or heartbeat
};

struct SmokeConfig {
  std::string jobs_dir = "/var/vcap/jobs";
  std::string isolation_config;  // the isolation job's rendered isolation.conf
  bool selinux_required = false;
  bool landlock_required = false;
  std::vector<ProcessEntry> processes;
  std::vector<JobPort> job_ports;
  std::vector<ListenerRule> allowed;  // allowed_listeners of the errand's properties
};

// Throws ConfigError (file:line: key: message) on the first problem.
SmokeConfig parse_smoke_config(const config::ConfigFile& file);

// "tcp:127.0.0.1:2822", "udp:[::1]:323", "tcp:*:22". Throws AddressError-free ConfigError.
ListenerRule parse_listener_rule(std::string_view text, const Location& where,
                                 const std::string& key);

}  // namespace pgguard::audit
