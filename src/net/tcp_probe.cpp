#include "net/tcp_probe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "net/address.hpp"

namespace pgguard::net {

namespace {

TcpAnswer answer_of(int error) {
  if (error == 0) {
    return TcpAnswer::connected;
  }
  // Only a refusal proves the VM's kernel is there; an ICMP "unreachable" comes from a router
  // that cannot reach it.
  return error == ECONNREFUSED ? TcpAnswer::refused : TcpAnswer::silent;
}

}  // namespace

TcpAnswer probe_tcp(const std::string& address, int port, std::chrono::milliseconds timeout) {
  const Address parsed = Address::parse(address);
  sockaddr_storage peer{};
  socklen_t length = 0;
  if (parsed.family() == Family::ipv4) {
    auto* in = reinterpret_cast<sockaddr_in*>(&peer);
    in->sin_family = AF_INET;
    in->sin_port = htons(static_cast<std::uint16_t>(port));
    std::memcpy(&in->sin_addr, parsed.data(), parsed.size());
    length = sizeof(sockaddr_in);
  } else {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&peer);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(static_cast<std::uint16_t>(port));
    std::memcpy(&in6->sin6_addr, parsed.data(), parsed.size());
    length = sizeof(sockaddr_in6);
  }
  const UniqueFd socket_fd(
      ::socket(peer.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP));
  if (!socket_fd) {
    throw SystemError("cannot create a TCP socket to probe " + address, errno);
  }
  if (::connect(socket_fd.get(), reinterpret_cast<const sockaddr*>(&peer), length) == 0) {
    return TcpAnswer::connected;
  }
  if (errno != EINPROGRESS) {
    return answer_of(errno);
  }
  pollfd waiting{socket_fd.get(), POLLOUT, 0};
  int ready = 0;
  do {
    ready = ::poll(&waiting, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  if (ready < 0) {
    throw SystemError("cannot wait for the TCP probe of " + address, errno);
  }
  if (ready == 0) {
    return TcpAnswer::silent;
  }
  int error = 0;
  socklen_t size = sizeof(error);
  if (::getsockopt(socket_fd.get(), SOL_SOCKET, SO_ERROR, &error, &size) != 0) {
    throw SystemError("cannot read the TCP probe's result for " + address, errno);
  }
  return answer_of(error);
}

}  // namespace pgguard::net
