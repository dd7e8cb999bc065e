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

int main(int argc, char** argv) {
  return run_program("pgguard-ping", [&] {
    const std::vector<std::string_view> arguments(argv + 1, argv + argc);
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
