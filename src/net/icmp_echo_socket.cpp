#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/unique_fd.hpp"
#include "net/icmp_echo.hpp"

namespace pgguard::net {

namespace {

using Clock = std::chrono::steady_clock;

double milliseconds_between(Clock::time_point start, Clock::time_point end) {
  return std::chrono::duration<double, std::milli>(end - start).count();
}

std::string ping_group_range() {
  const UniqueFd file(::open("/proc/sys/net/ipv4/ping_group_range", O_RDONLY | O_CLOEXEC));
  std::string text;
  if (!file || read_to_end(file.get(), text) != 0) {
    return "unreadable";
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  for (auto& character : text) {
    character = character == '\t' ? ' ' : character;
  }
  return "'" + text + "'";
}

// An empty fd with `unreachable` set when there is no route to the destination.
UniqueFd connected_echo_socket(const Address& destination, std::string& unreachable) {
  const bool ipv4 = destination.family() == Family::ipv4;
  const int protocol = ipv4 ? static_cast<int>(IPPROTO_ICMP) : static_cast<int>(IPPROTO_ICMPV6);
  UniqueFd socket(::socket(ipv4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, protocol));
  if (!socket) {
    const int error = errno;
    if (error == EACCES || error == EPERM) {
      throw Error(ExitCode::system, "the kernel refuses ICMP datagram sockets to gid " +
                                        std::to_string(::getgid()) +
                                        ": net.ipv4.ping_group_range is " + ping_group_range() +
                                        " in this network namespace (" + errno_text(error) + ")");
    }
    throw SystemError("socket(ICMP datagram)", error);
  }
  sockaddr_storage address{};
  socklen_t length = 0;
  if (ipv4) {
    auto& v4 = reinterpret_cast<sockaddr_in&>(address);
    v4.sin_family = AF_INET;
    std::memcpy(&v4.sin_addr, destination.data(), 4);
    length = sizeof v4;
  } else {
    auto& v6 = reinterpret_cast<sockaddr_in6&>(address);
    v6.sin6_family = AF_INET6;
    std::memcpy(&v6.sin6_addr, destination.data(), 16);
    length = sizeof v6;
  }
  if (::connect(socket.get(), reinterpret_cast<const sockaddr*>(&address), length) != 0) {
    const int error = errno;
    if (error == ENETUNREACH || error == EHOSTUNREACH) {
      unreachable = "no route to " + destination.to_string() + ": " + errno_text(error);
      return {};
    }
    throw SystemError("connect(ICMP datagram) to " + destination.to_string(), error);
  }
  return socket;
}

}  // namespace

EchoResult send_echo_requests(const EchoRequest& request) {
  const Family family = request.destination.family();
  EchoResult result;
  const UniqueFd socket = connected_echo_socket(request.destination, result.unreachable);
  if (!socket) {
    return result;
  }
  std::vector<Clock::time_point> sent(static_cast<std::size_t>(request.count) + 1);
  std::vector<bool> answered(sent.size(), false);
  const auto start = Clock::now();
  std::uint8_t buffer[1500];
  for (int sequence = 1; sequence <= request.count; ++sequence) {
    const auto packet = echo_request(family, static_cast<std::uint16_t>(sequence));
    sent[sequence] = Clock::now();
    ++result.transmitted;
    if (::send(socket.get(), packet.data(), packet.size(), 0) < 0) {
      continue;  // unreachable network or host: a lost request, as iputils counts it
    }
    const auto deadline = sent[sequence] + std::chrono::milliseconds(request.timeout_ms);
    while (!answered[sequence]) {
      const auto now = Clock::now();
      if (now >= deadline) {
        break;
      }
      pollfd readable{socket.get(), POLLIN, 0};
      const auto wait = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
      const int ready = ::poll(&readable, 1, static_cast<int>(wait));
      if (ready < 0 && errno != EINTR) {
        throw SystemError("poll(ICMP datagram)", errno);
      }
      if (ready <= 0) {
        continue;
      }
      const ssize_t length = ::recv(socket.get(), buffer, sizeof buffer, MSG_DONTWAIT);
      if (length < 0) {
        if (errno == EAGAIN || errno == EINTR) {
          continue;
        }
        break;  // an ICMP error for this request (host unreachable, ...): no reply
      }
      const auto reply = echo_reply_sequence(
          family, std::span<const std::uint8_t>(buffer, static_cast<std::size_t>(length)));
      // A late reply to an earlier request still counts, as in iputils.
      if (reply && *reply >= 1 && *reply <= sequence && !answered[*reply]) {
        answered[*reply] = true;
        result.round_trips_ms.push_back(milliseconds_between(sent[*reply], Clock::now()));
      }
    }
    if (sequence < request.count) {
      std::this_thread::sleep_until(sent[sequence] +
                                    std::chrono::milliseconds(request.interval_ms));
    }
  }
  result.elapsed_ms = milliseconds_between(start, Clock::now());
  return result;
}

}  // namespace pgguard::net
