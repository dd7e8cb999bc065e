// pgguard-ping: the `ping` pgpool's watchdog execs from ping_path (`ping -q -c3 ADDRESS`) to
// check the delegate IP after if_up_cmd and to ping trusted_servers, inside pgpool's sandbox.
// See src/net/icmp_echo.hpp.
#include <cstdio>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/program_main.hpp"
#include "net/icmp_echo.hpp"

using namespace pgguard;

namespace {

constexpr const char* kUsage = R"(usage: pgguard-ping [-q] [-n] [-c COUNT] [-W SECONDS] ADDRESS

The `ping` that pgpool's watchdog runs (ping_path) to check the delegate IP after if_up_cmd
and to ping trusted_servers, inside pgpool's sandbox and without a capability: ICMP echo over
a datagram socket, which net.ipv4.ping_group_range must allow for the caller's group.

  -c COUNT    echo requests to send, 1-100 (default 3)
  -W SECONDS  how long to wait for each reply, 1-60 (default 1)
  -q, -n      accepted for pgpool's command line; the output is always iputils' summary
              and no address is resolved
  -h, --help  show this help

Exit codes (iputils' ping, which pgpool reads): 0 at least one reply, 1 none, 2 bad usage,
3 the kernel refused the socket, 5 out of memory.

Reference: docs/sandbox.md
)";

}  // namespace

int main(int argc, char** argv) {
  return run_program("pgguard-ping", [&] {
    const std::vector<std::string_view> arguments(argv + 1, argv + argc);
    if (arguments.size() == 1 && (arguments[0] == "--help" || arguments[0] == "-h")) {
      (void)std::fputs(kUsage, stdout);
      return 0;
    }
    const auto request = net::parse_ping_arguments(arguments);
    const auto result = net::send_echo_requests(request);
    if (!result.unreachable.empty()) {
      (void)std::fprintf(stderr, "pgguard-ping: %s\n", result.unreachable.c_str());
    }
    (void)std::fputs(net::ping_summary(request, result).c_str(), stdout);
    // As iputils: 0 with any reply, 1 with none.
    return result.round_trips_ms.empty() ? 1 : 0;
  });
}
