#include "net/tcp_probe.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <chrono>
#include <optional>
#include <vector>

#include "common/unique_fd.hpp"
#include "net/address.hpp"

using namespace pgguard;
using namespace pgguard::net;
using namespace std::chrono_literals;

namespace {

// A TCP socket on 127.0.0.1 with a port the kernel chose; listening when `backlog` is set.
struct LoopbackSocket {
  UniqueFd fd;
  int port = 0;
};

LoopbackSocket loopback_socket(std::optional<int> backlog) {
  LoopbackSocket socket_of{UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)), 0};
  BOOST_TEST_REQUIRE(socket_of.fd.valid());
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_TEST_REQUIRE(
      ::bind(socket_of.fd.get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
  socklen_t length = sizeof(address);
  BOOST_TEST_REQUIRE(
      ::getsockname(socket_of.fd.get(), reinterpret_cast<sockaddr*>(&address), &length) == 0);
  socket_of.port = ntohs(address.sin_port);
  if (backlog) {
    BOOST_TEST_REQUIRE(::listen(socket_of.fd.get(), *backlog) == 0);
  }
  return socket_of;
}

}  // namespace

// Only loopback sockets the test itself opens: no root, nothing left behind.
BOOST_AUTO_TEST_SUITE(tcp_probe)

BOOST_AUTO_TEST_CASE(a_listening_port_is_connected) {
  const auto listener = loopback_socket(16);
  BOOST_TEST((probe_tcp("127.0.0.1", listener.port, 1s) == TcpAnswer::connected));
}

BOOST_AUTO_TEST_CASE(a_port_nothing_listens_on_is_refused_by_the_kernel) {
  // Bound, not listening: the port stays ours, and the kernel answers with a reset.
  const auto bound = loopback_socket(std::nullopt);
  BOOST_TEST((probe_tcp("127.0.0.1", bound.port, 1s) == TcpAnswer::refused));
}

BOOST_AUTO_TEST_CASE(a_peer_that_drops_the_handshake_is_silent) {
  // A full accept queue makes the kernel drop further SYNs: what a stopped VM's peer sees.
  const auto listener = loopback_socket(0);
  std::vector<UniqueFd> queued;
  for (int i = 0; i < 3; ++i) {
    queued.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(listener.port));
    const int result =
        ::connect(queued.back().get(), reinterpret_cast<sockaddr*>(&address), sizeof(address));
    BOOST_TEST_REQUIRE((result == 0 || errno == EINPROGRESS));
  }
  BOOST_TEST((probe_tcp("127.0.0.1", listener.port, 300ms) == TcpAnswer::silent));
}

BOOST_AUTO_TEST_CASE(a_name_is_not_an_address) {
  BOOST_CHECK_THROW(probe_tcp("pg.example", 5432, 1s), AddressError);
}

BOOST_AUTO_TEST_SUITE_END()
