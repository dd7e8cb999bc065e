#include "net/gratuitous_arp.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace pgguard::net {

std::array<std::uint8_t, 28> arp_announcement(const Address& address, const MacAddress& mac) {
  if (address.family() != Family::ipv4) {
    throw AddressError("an ARP announcement is for IPv4 addresses only");
  }
  std::array<std::uint8_t, 28> payload{};
  const auto put16 = [&payload](std::size_t at, std::uint16_t value) {
    payload[at] = static_cast<std::uint8_t>(value >> 8);
    payload[at + 1] = static_cast<std::uint8_t>(value & 0xff);
  };
  put16(0, ARPHRD_ETHER);   // hardware type
  put16(2, ETHERTYPE_IP);   // protocol type
  payload[4] = 6;           // hardware address length
  payload[5] = 4;           // protocol address length
  put16(6, ARPOP_REQUEST);  // an announcement is a request (RFC 5227)
  std::memcpy(&payload[8], mac.data(), mac.size());
  std::memcpy(&payload[14], address.data(), 4);
  // Target hardware address stays zero.
  std::memcpy(&payload[24], address.data(), 4);
  return payload;
}

namespace {

struct IfaddrsDeleter {
  void operator()(ifaddrs* list) const { ::freeifaddrs(list); }
};

// getifaddrs names an IPv4 address by its label, which is the device name or "device:suffix"
// (`ip addr add ... label eth0:vip`, as pgpool's if_up_cmd usually does).
bool label_of_interface(std::string_view label, std::string_view interface) {
  return label == interface ||
         (label.size() > interface.size() && label.substr(0, interface.size()) == interface &&
          label[interface.size()] == ':');
}

bool address_on_interface(const std::string& interface, const Address& address) {
  ifaddrs* raw = nullptr;
  if (::getifaddrs(&raw) != 0) {
    throw SystemError("getifaddrs", errno);
  }
  const std::unique_ptr<ifaddrs, IfaddrsDeleter> list(raw);
  for (const ifaddrs* entry = list.get(); entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET ||
        !label_of_interface(entry->ifa_name, interface)) {
      continue;
    }
    const auto* inet = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr);
    if (std::memcmp(&inet->sin_addr, address.data(), 4) == 0) {
      return true;
    }
  }
  return false;
}

}  // namespace

void announce_address(const AnnounceRequest& request) {
  if (request.address.family() != Family::ipv4) {
    throw Error(ExitCode::bad_input, "address " + request.address.to_string() +
                                         ": an ARP announcement is for IPv4 addresses only");
  }
  if (request.interface.empty() || request.interface.size() >= IFNAMSIZ) {
    throw Error(ExitCode::bad_input, "interface '" + request.interface + "' is not a valid name");
  }
  const unsigned index = ::if_nametoindex(request.interface.c_str());
  if (index == 0) {
    throw Error(ExitCode::bad_input, "interface " + request.interface + ": no such interface");
  }
  if (!address_on_interface(request.interface, request.address)) {
    throw Error(ExitCode::bad_input, "address " + request.address.to_string() +
                                         " is not configured on " + request.interface +
                                         ": refusing to announce an address this host does "
                                         "not hold");
  }
  const UniqueFd socket(::socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP)));
  if (!socket) {
    throw SystemError("socket(AF_PACKET) for the ARP announcement (needs CAP_NET_RAW)", errno);
  }
  ifreq interface_request{};
  std::memcpy(interface_request.ifr_name, request.interface.c_str(), request.interface.size());
  if (::ioctl(socket.get(), SIOCGIFFLAGS, &interface_request) != 0) {
    throw SystemError("SIOCGIFFLAGS " + request.interface, errno);
  }
  if ((interface_request.ifr_flags & IFF_UP) == 0) {
    throw Error(ExitCode::bad_input, "interface " + request.interface + " is down");
  }
  if (::ioctl(socket.get(), SIOCGIFHWADDR, &interface_request) != 0) {
    throw SystemError("SIOCGIFHWADDR " + request.interface, errno);
  }
  if (interface_request.ifr_hwaddr.sa_family != ARPHRD_ETHER) {
    throw Error(ExitCode::bad_input, "interface " + request.interface + " is not Ethernet");
  }
  MacAddress mac{};
  std::memcpy(mac.data(), interface_request.ifr_hwaddr.sa_data, mac.size());
  const auto payload = arp_announcement(request.address, mac);

  sockaddr_ll destination{};
  destination.sll_family = AF_PACKET;
  destination.sll_protocol = htons(ETH_P_ARP);
  destination.sll_ifindex = static_cast<int>(index);
  destination.sll_halen = 6;
  std::memset(destination.sll_addr, 0xff, 6);  // link-layer broadcast
  for (int sent = 0; sent < request.count; ++sent) {
    if (sent > 0) {
      const timespec pause{request.interval_ms / 1000, (request.interval_ms % 1000) * 1000000L};
      ::nanosleep(&pause, nullptr);
    }
    if (::sendto(socket.get(), payload.data(), payload.size(), 0,
                 reinterpret_cast<const sockaddr*>(&destination),
                 sizeof destination) != static_cast<ssize_t>(payload.size())) {
      throw SystemError("sendto: ARP announcement on " + request.interface, errno);
    }
  }
}

}  // namespace pgguard::net
