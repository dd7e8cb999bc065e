#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/address.hpp"

// The ping that pgpool's watchdog runs: after if_up_cmd it pings the delegate IP (up to three
// times, `ping -q -c3 VIP`) and reports "failed to acquire the delegate IP address" when no
// reply comes; trusted_servers are pinged the same way. It execs `<ping_path>/ping` and takes
// the average after the fourth '/' of the output. iputils' ping cannot run in pgpool's sandbox
// (a file capability outside the empty bounding set: exec refused), so pgguard-ping sends the
// echo requests from an unprivileged ICMP datagram socket, which the kernel allows to the
// groups in net.ipv4.ping_group_range, no capability involved. Pure parts here; the socket
// work is in icmp_echo_socket.cpp.
namespace pgguard::net {

struct EchoRequest {
  Address destination;
  std::string destination_text;  // as given on the command line
  int count = 3;
  int timeout_ms = 1000;  // wait for each reply
  int interval_ms = 200;  // between requests (iputils' smallest unprivileged interval)
};

// Parses iputils' options as pgpool passes them: -q, -n, -c N (or -cN), -W SECONDS (or
// -WSECONDS), one numeric IPv4 or IPv6 address. Host names are refused: resolving them would
// need DNS inside pgpool's sandbox, and BOSH links give addresses. Throws Error(bad_input).
EchoRequest parse_ping_arguments(std::span<const std::string_view> arguments);

// The 8-byte ICMP (or ICMPv6) echo request header plus payload. Identifier and checksum are
// left zero: on a datagram socket the kernel sets both.
std::vector<std::uint8_t> echo_request(Family family, std::uint16_t sequence);

// The sequence number of an echo reply as a datagram socket delivers it (ICMP header first);
// nullopt for anything else (errors, other types, short data).
std::optional<std::uint16_t> echo_reply_sequence(Family family,
                                                 std::span<const std::uint8_t> packet);

struct EchoResult {
  int transmitted = 0;
  std::vector<double> round_trips_ms;  // one per reply received
  double elapsed_ms = 0;
  std::string unreachable;  // why nothing was sent: no route to the destination
};

// Sends request.count echo requests, request.interval_ms apart, each waiting up to
// request.timeout_ms for its reply, from an ICMP datagram socket connected to the destination
// (replies from elsewhere never reach it); with no route to it, sends nothing and says why in
// `unreachable`. Throws Error(system) naming
// net.ipv4.ping_group_range when the kernel refuses the socket to this process's group.
EchoResult send_echo_requests(const EchoRequest& request);

// iputils' quiet output: the PING line, the statistics, and (with any reply) the
// "rtt min/avg/max/mdev = a/b/c/d ms" line whose second number pgpool reads.
std::string ping_summary(const EchoRequest& request, const EchoResult& result);

}  // namespace pgguard::net
