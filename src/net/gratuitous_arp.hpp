#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "net/address.hpp"

// Announcing the VIP: after `ip addr add`, the new holder tells the link that the address now
// lives at its MAC, so neighbours and the gateway stop sending to the old holder. pgpool runs
// this as arping_cmd. iputils' arping cannot run in the sandbox: it insists on
// prctl(PR_SET_KEEPCAPS), which the locked securebits refuse. This is the same unsolicited ARP
// request (`arping -U`) from the tiny VIP helper, which holds CAP_NET_RAW.
namespace pgguard::net {

using MacAddress = std::array<std::uint8_t, 6>;

// The 28-byte ARP payload (Ethernet/IPv4, RFC 826) of an unsolicited request: sender and
// target protocol address both `address`, sender hardware address `mac`, target hardware
// address zero (RFC 5227, section 3: an "ARP Announcement"). Pure; throws AddressError for an
// IPv6 address.
std::array<std::uint8_t, 28> arp_announcement(const Address& address, const MacAddress& mac);

struct AnnounceRequest {
  std::string interface;
  Address address;
  int count = 3;  // announcements, one per interval; RFC 5227 sends two, arping -U one
  int interval_ms = 200;
};

// Sends the announcements on the interface (AF_PACKET, link-layer broadcast). Refuses with
// ExitCode::bad_input an interface that does not exist or is not up, or an address that is not
// configured on it: announcing an address this host does not hold would hijack it.
// SystemError (ExitCode::system) when the kernel refuses (no CAP_NET_RAW: EPERM).
void announce_address(const AnnounceRequest& request);

}  // namespace pgguard::net
