#pragma once

#include <chrono>
#include <string>

// One TCP connection attempt, to tell a VM whose server is down (its kernel refuses) from a VM
// that is gone (nothing answers): pgguard-failover's look at a detached primary.
namespace pgguard::net {

enum class TcpAnswer {
  connected,  // the port accepted a connection
  refused,    // the VM's kernel answered: nothing listens (the server is down, the VM is not)
  silent,     // nothing answered within the timeout, or the network says the host is unreachable
};

// Connects to `address` (IPv4 or IPv6, no name) and `port`, closes at once. Throws
// AddressError for an address that is not one, SystemError when no socket can be made.
TcpAnswer probe_tcp(const std::string& address, int port, std::chrono::milliseconds timeout);

}  // namespace pgguard::net
