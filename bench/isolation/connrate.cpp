// New-TCP-connection rate between two network namespaces, for bench/isolation/run.sh.
//
//   connrate server <port>                         accept and close, forever (killed by run.sh)
//   connrate client <addr> <port> <seconds> <inflight> graceful|reset
//       keeps <inflight> non-blocking connects outstanding for <seconds>; each one that completes
//       the handshake is counted and closed: "graceful" with FIN as clients close (run.sh sets
//       tcp_tw_reuse in the client namespace, so TIME_WAIT does not exhaust its ports), "reset"
//       with RST (SO_LINGER 0), the cheapest connection there is.
//       Prints "<completed connections per second> <failed>".
//
// One thread per side: the machine has two cores, one for each end.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "connrate: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

int serve(int port) {
  const int listener = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (listener < 0)
    die("socket");
  const int off = 0;
  const int on = 1;
  ::setsockopt(listener, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_any;
  address.sin6_port = htons(static_cast<uint16_t>(port));
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
    die("bind");
  if (::listen(listener, 4096) != 0)
    die("listen");
  std::printf("listening\n");
  std::fflush(stdout);
  for (;;) {
    const int connection = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (connection >= 0)
      ::close(connection);
  }
}

struct Target {
  sockaddr_storage address{};
  socklen_t length = 0;
};

Target parse_target(const char* text, int port) {
  Target target;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&target.address);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&target.address);
  if (::inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(static_cast<uint16_t>(port));
    target.length = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(static_cast<uint16_t>(port));
    target.length = sizeof(sockaddr_in6);
  } else {
    std::fprintf(stderr, "connrate: bad address %s\n", text);
    std::exit(2);
  }
  return target;
}

enum class CloseMode { graceful, reset };

void close_connection(int fd, CloseMode mode) {
  if (mode == CloseMode::reset) {
    const linger abort_on_close{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  }
  ::close(fd);
}

int client(const Target& target, double seconds, int inflight, CloseMode close_mode) {
  const int poller = ::epoll_create1(EPOLL_CLOEXEC);
  if (poller < 0)
    die("epoll_create1");
  long completed = 0;
  long failed = 0;
  auto start_one = [&] {
    const int fd =
        ::socket(target.address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
      die("socket");
    const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&target.address), target.length);
    if (rc != 0 && errno != EINPROGRESS) {
      ++failed;
      ::close(fd);
      return false;
    }
    epoll_event event{};
    event.events = EPOLLOUT;
    event.data.fd = fd;
    if (::epoll_ctl(poller, EPOLL_CTL_ADD, fd, &event) != 0)
      die("epoll_ctl");
    return true;
  };
  using Clock = std::chrono::steady_clock;
  const auto begin = Clock::now();
  const auto end =
      begin + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  int outstanding = 0;
  for (int i = 0; i < inflight; ++i)
    outstanding += start_one() ? 1 : 0;
  epoll_event events[256];
  bool stopping = false;
  Clock::time_point finished = end;
  while (outstanding > 0) {
    const int ready = ::epoll_wait(poller, events, 256, 1000);
    if (ready < 0 && errno != EINTR)
      die("epoll_wait");
    if (!stopping && Clock::now() >= end) {
      stopping = true;
      finished = Clock::now();
    }
    for (int i = 0; i < ready; ++i) {
      const int fd = events[i].data.fd;
      int error = 0;
      socklen_t length = sizeof error;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length);
      if (error == 0 && !stopping) {
        ++completed;
      } else if (error != 0) {
        ++failed;
      }
      ::epoll_ctl(poller, EPOLL_CTL_DEL, fd, nullptr);
      close_connection(fd, close_mode);
      --outstanding;
      if (!stopping && start_one())
        ++outstanding;
    }
    if (ready == 0 && stopping)
      break;  // dropped SYNs would wait for their retransmits
  }
  const double elapsed = std::chrono::duration<double>(finished - begin).count();
  std::printf("%.0f %ld\n", static_cast<double>(completed) / elapsed, failed);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string(argv[1]) == "server")
    return serve(std::atoi(argv[2]));
  if (argc == 7 && std::string(argv[1]) == "client" &&
      (std::string(argv[6]) == "graceful" || std::string(argv[6]) == "reset")) {
    const auto mode = std::string(argv[6]) == "graceful" ? CloseMode::graceful : CloseMode::reset;
    return client(parse_target(argv[2], std::atoi(argv[3])), std::atof(argv[4]), std::atoi(argv[5]),
                  mode);
  }
  std::fprintf(stderr,
               "usage: connrate server PORT | "
               "connrate client ADDR PORT SECONDS INFLIGHT graceful|reset\n");
  return 2;
}
