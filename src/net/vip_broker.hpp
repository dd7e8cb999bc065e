#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "net/vip_config.hpp"
#include "net/vip_request.hpp"

// `pgguard-vip serve`: the VIP broker. The one long-running process of the release that holds
// CAP_NET_ADMIN and CAP_NET_RAW (ambient, from the vip-helper profile, docs/sandbox.md); pgpool,
// which can never hold a capability, asks it over a unix socket to bring the VIP up, take it
// down or announce it, and it does exactly that for exactly that address, in-process
// (rtnetlink, AF_PACKET): it executes nothing.
namespace pgguard::net {

// One line per event (start, each request with its peer and result, stop).
using BrokerLog = std::function<void(std::string_view)>;

// The client's uid, resolved in the local account file (no NSS, as the launcher does). Throws
// ConfigError naming the config's client line when the account does not exist or is root.
BrokerPolicy resolve_broker_policy(const VipConfig& config,
                                   const std::string& passwd_path = "/etc/passwd");

// The configured interface's index in this network namespace. Throws Error(bad_input) naming
// the config's interface line when there is no such interface.
unsigned vip_interface_index(const VipConfig& config);

// Checks the host (the interface exists, the client resolves), creates the socket, logs that it
// listens, then serves one request per connection, one connection at a time, until SIGTERM or
// SIGINT (the socket is removed, the VIP left as it is). Throws before the socket exists when
// something is wrong (exit 2 or 3), SystemError when accept or poll fails.
void run_vip_broker(const VipConfig& config, const BrokerLog& log);

// Carries out one request that judge_request() accepted, and returns the text of the ok answer
// ("up 198.18.7.10/24 on eth0: added"). Throws Error with the reason when it cannot.
std::string carry_out(const VipRequest& request, const VipConfig& config);

}  // namespace pgguard::net
