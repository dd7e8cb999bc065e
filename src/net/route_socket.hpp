#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "net/route_messages.hpp"

// A NETLINK_ROUTE socket (RAII) that lists and changes IPv4 interface addresses: the kernel
// side of the VIP broker's up and down. Changing an address needs CAP_NET_ADMIN; listing does
// not.
namespace pgguard::net {

class RouteSocket {
 public:
  // Throws SystemError.
  static RouteSocket open();

  // Every IPv4 address of every interface (RTM_GETADDR dump). Throws SystemError.
  std::vector<InterfaceAddress> ipv4_addresses();

  // RTM_NEWADDR / RTM_DELADDR (route_messages.hpp); the kernel's answer: error 0 or a positive
  // errno, with the extended ack's text when it gave one. Throws SystemError only when the
  // exchange itself fails (send, receive, no answer within the timeout).
  RouteReply change(AddressChange change, unsigned index, const Address& address, int prefix);

 private:
  explicit RouteSocket(UniqueFd fd) : fd_(std::move(fd)) {}
  RouteReply exchange(const std::vector<std::uint8_t>& request, std::uint32_t sequence,
                      const std::string& what);

  UniqueFd fd_;
  std::uint32_t sequence_ = 1;
};

}  // namespace pgguard::net
