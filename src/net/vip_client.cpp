#include "net/vip_client.hpp"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace pgguard::net {

Answer ask_vip_broker(const std::string& socket_path, const VipRequest& request,
                      std::chrono::seconds timeout) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof address.sun_path) {
    throw Error(ExitCode::bad_input, "--socket '" + socket_path + "' is not a unix socket path");
  }
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  const UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) {
    throw SystemError("socket(AF_UNIX)", errno);
  }
  // Bounds connect (a full backlog), the send and every receive.
  const timeval limit{static_cast<time_t>(timeout.count()), 0};
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw SystemError("cannot reach the VIP broker at " + socket_path, errno);
  }
  const std::string line = request_line(request);
  // A broker that refuses this peer answers and closes before reading: the send then fails
  // (EPIPE), and the answer is still there to read.
  int send_error = 0;
  if (::send(fd.get(), line.data(), line.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(line.size())) {
    send_error = errno;
  } else {
    (void)::shutdown(fd.get(), SHUT_WR);
  }
  // An answer is one short line; more than this is not the broker talking.
  constexpr std::size_t kMaxAnswer = 1024;
  std::string received;
  char buffer[256];
  while (received.size() < kMaxAnswer) {
    const ssize_t count = ::recv(fd.get(), buffer, sizeof buffer, 0);
    if (count < 0) {
      if (errno == EINTR) {
        continue;
      }
      // A broker that refused this peer before reading its request closed a connection with
      // unread data: the kernel reports ECONNRESET after the answer has been read.
      if (!received.empty() || send_error != 0) {
        break;
      }
      throw SystemError("no answer from the VIP broker at " + socket_path, errno);
    }
    if (count == 0) {
      break;
    }
    received.append(buffer, static_cast<std::size_t>(count));
  }
  if (received.empty() && send_error != 0) {
    throw SystemError("cannot send the request to the VIP broker at " + socket_path, send_error);
  }
  if (received.empty()) {
    throw Error(ExitCode::system,
                "the VIP broker at " + socket_path + " closed the connection without an answer");
  }
  return parse_answer(received);
}

}  // namespace pgguard::net
