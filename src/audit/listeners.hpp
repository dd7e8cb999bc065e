#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "audit/report.hpp"
#include "audit/smoke_config.hpp"
#include "net/address.hpp"
#include "net/isolation_config.hpp"

// Pure: the sockets that accept traffic on this VM, against the listeners the design names.
namespace pgguard::audit {

struct ListeningSocket {
  Protocol protocol = Protocol::tcp;
  net::Address address;  // IPv4-mapped IPv6 addresses are given as IPv4
  std::uint16_t port = 0;
  std::uint64_t inode = 0;
};

// The listening sockets of one /proc/net table (tcp, tcp6, udp or udp6 of the reader's network
// namespace): TCP sockets in state LISTEN, and UDP sockets that are not connected (a bound,
// unconnected UDP socket takes datagrams from anyone). The addresses are decoded as the kernel
// prints them, each 32-bit word in this host's byte order. Throws Error(system) on a malformed
// line.
std::vector<ListeningSocket> parse_proc_net(std::string_view text, Protocol protocol,
                                            net::Family family);

struct SocketOwner {
  pid_t pid = 0;
  std::string comm;
};

// The kernel's range of source ports it picks for an unbound socket
// (net.ipv4.ip_local_port_range).
struct EphemeralPorts {
  std::uint16_t first = 32768;
  std::uint16_t last = 60999;
};

// The listeners this VM may have: the control plane's ports of the isolation config (any
// address), the role ports of the jobs present on the VM (`job_ports`, any address), and the
// errand's allowed_listeners. Where the pgpool job is, also pgpool's watchdog heartbeat
// senders: unconnected UDP sockets held by pgpool on a port from `ephemeral` (the kernel bound
// them at their first send; the isolation table admits UDP from peers only to the heartbeat
// port, so nothing reaches them from outside).
std::vector<ListenerRule> allowed_listeners(const SmokeConfig& config,
                                            const net::IsolationConfig& isolation,
                                            const std::set<std::string>& present_jobs,
                                            EphemeralPorts ephemeral = {});

// One row per listening socket: ok when a rule allows it (a rule with an owner_comm only when
// every process holding the socket has that comm), FAIL naming protocol, address, port and the
// owning processes otherwise. `owners` maps socket inodes to the processes holding them.
std::vector<Row> audit_listeners(const std::vector<ListeningSocket>& sockets,
                                 const std::vector<ListenerRule>& allowed,
                                 const std::map<std::uint64_t, std::vector<SocketOwner>>& owners);

}  // namespace pgguard::audit
