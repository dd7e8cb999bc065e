#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/address.hpp"

// rtnetlink messages for IPv4 interface addresses, built and parsed without touching a socket
// (route_socket.hpp sends them): what `ip -4 addr show`, `ip addr add` and `ip addr del` send,
// for the VIP broker, which does them in-process instead of executing ip.
//
// Framed here rather than with libmnl: the broker links as a static PIE (no dynamic loader, no
// library directory its sandbox must be able to read and execute), and Debian ships libmnl only
// as a shared library. Three message kinds and their answers are a few dozen lines, every byte
// covered by tests/unit/net/route_messages_test.cpp.
namespace pgguard::net {

struct InterfaceAddress {
  unsigned index = 0;  // interface index
  Address address;     // IFA_LOCAL (IFA_ADDRESS when there is no IFA_LOCAL)
  int prefix = 0;

  friend bool operator==(const InterfaceAddress&, const InterfaceAddress&) = default;
};

enum class AddressChange { add, remove };

// RTM_GETADDR, NLM_F_DUMP, for AF_INET.
std::vector<std::uint8_t> ipv4_address_dump_request(std::uint32_t sequence);

// RTM_NEWADDR with NLM_F_CREATE | NLM_F_EXCL (an address already there is EEXIST, never
// replaced), or RTM_DELADDR; both NLM_F_ACK, with IFA_LOCAL and IFA_ADDRESS set to the address
// (so that a delete matches the prefix too, as `ip addr del` does). IPv4 only.
std::vector<std::uint8_t> address_change_request(AddressChange change, std::uint32_t sequence,
                                                 unsigned index, const Address& address,
                                                 int prefix);

// What the kernel answered to one request, accumulated over the datagrams of its answer.
struct RouteReply {
  std::vector<InterfaceAddress> addresses;  // RTM_NEWADDR messages (a dump's content)
  bool done = false;                        // NLMSG_DONE or NLMSG_ERROR arrived
  int error = 0;                            // positive errno; 0: success (or no answer yet)
  std::string kernel_message;               // the extended ack's text, when there is one
};

// Adds the messages of one received datagram that answer `sequence` to `reply`; others (another
// request's, another port's) are skipped. Throws Error(system) naming the problem for a
// datagram that is not well-formed netlink.
void parse_route_datagram(std::span<const std::uint8_t> datagram, std::uint32_t sequence,
                          RouteReply& reply);

}  // namespace pgguard::net
