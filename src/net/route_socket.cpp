#include "net/route_socket.hpp"

#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>

#include "common/error.hpp"

namespace pgguard::net {

namespace {

// Answers to a dump of a few hundred addresses fit several times over.
constexpr std::size_t kReceiveBufferSize = std::size_t{64} * 1024;

}  // namespace

RouteSocket RouteSocket::open() {
  UniqueFd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd) {
    throw SystemError("socket(AF_NETLINK, NETLINK_ROUTE)", errno);
  }
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
    throw SystemError("bind of the NETLINK_ROUTE socket", errno);
  }
  // The kernel's own explanation of a refusal, without the request echoed back; optional.
  const int on = 1;
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
  (void)::setsockopt(fd.get(), SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
  // A kernel that never answers must not hang the broker (and pgpool's failover with it).
  const timeval timeout{5, 0};
  if (::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) != 0) {
    throw SystemError("SO_RCVTIMEO on the NETLINK_ROUTE socket", errno);
  }
  return RouteSocket(std::move(fd));
}

RouteReply RouteSocket::exchange(const std::vector<std::uint8_t>& request, std::uint32_t sequence,
                                 const std::string& what) {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_.get(), request.data(), request.size(), 0,
               reinterpret_cast<const sockaddr*>(&kernel),
               sizeof kernel) != static_cast<ssize_t>(request.size())) {
    throw SystemError("cannot send " + what + " to the kernel", errno);
  }
  RouteReply reply;
  std::vector<std::uint8_t> buffer(kReceiveBufferSize);
  while (!reply.done) {
    sockaddr_nl sender{};
    socklen_t sender_size = sizeof sender;
    const ssize_t received = ::recvfrom(fd_.get(), buffer.data(), buffer.size(), 0,
                                        reinterpret_cast<sockaddr*>(&sender), &sender_size);
    if (received < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw SystemError("no answer from the kernel to " + what, errno);
    }
    if (sender.nl_pid != 0) {
      continue;  // only the kernel answers; never trust another process's message
    }
    parse_route_datagram(std::span(buffer.data(), static_cast<std::size_t>(received)), sequence,
                         reply);
  }
  return reply;
}

std::vector<InterfaceAddress> RouteSocket::ipv4_addresses() {
  const std::uint32_t sequence = sequence_++;
  RouteReply reply = exchange(ipv4_address_dump_request(sequence), sequence, "RTM_GETADDR");
  if (reply.error != 0) {
    throw SystemError("RTM_GETADDR (list the IPv4 addresses)", reply.error);
  }
  return std::move(reply.addresses);
}

RouteReply RouteSocket::change(AddressChange change, unsigned index, const Address& address,
                               int prefix) {
  const std::uint32_t sequence = sequence_++;
  return exchange(address_change_request(change, sequence, index, address, prefix), sequence,
                  change == AddressChange::add ? "RTM_NEWADDR" : "RTM_DELADDR");
}

}  // namespace pgguard::net
