// pgguard-fence: beside each PostgreSQL node, under its own profile (monit process `fence` of
// pg-master and pg-standby). A primary that was frozen or cut off long enough for pgpool to
// promote its peer comes back still a primary; the fence sees the peer on a later timeline and
// stops it, so that monit starts it again and the start rewinds it into the standby
// (src/postgres/fence.hpp).
#include <time.h>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "common/program_main.hpp"
#include "postgres/fence.hpp"
#include "postgres/fence_service.hpp"

using namespace pgguard;

namespace {

constexpr const char* kUsage =
    R"(Usage: pgguard-fence --psql FILE --socket-dir DIR --user NAME --pid-file FILE
                     [--port N] [--interval SECONDS]
                     [--peer ADDRESS --role NAME --ca FILE --passfile FILE]

Every --interval seconds (default 5): while the node's own server (psql over the unix socket
in --socket-dir as --user) serves as a primary, asks the peer (IDENTIFY_SYSTEM over TLS
verify-full as the replication role --role) for its timeline. A peer of the same cluster on a
later timeline was promoted past this node: the postmaster in --pid-file (monit's) gets SIGINT
(fast shutdown), only if it is a postgres of --user. What it sees or does goes to stdout, each
line once, with the time (UTC). Without --peer it watches nothing. Runs until stopped.

Exit codes: 2 bad arguments; otherwise it does not exit by itself.
Reference: docs/high-availability.md
)";

std::string now_utc() {
  const std::time_t now = std::time(nullptr);
  std::tm parts{};
  ::gmtime_r(&now, &parts);
  char text[32];
  return std::string(text, std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &parts));
}

int run(int argc, char** argv) {
  const std::vector<std::string> words(argv + 1, argv + argc);
  if (words.size() == 1 && words[0] == "--help") {
    std::cout << kUsage;
    return 0;
  }
  const auto options = postgres::parse_fence_options(words);
  std::cout << now_utc() << " pgguard-fence: "
            << (options.peer.empty()
                    ? "no peer: nothing to fence"
                    : "watching the timelines of this node and its peer " + options.peer)
            << std::endl;
  std::string last;
  while (true) {
    const std::string seen = postgres::fence_round(options);
    if (!seen.empty() && seen != last) {
      std::cout << now_utc() << " pgguard-fence: " << seen << std::endl;
    }
    last = seen;
    std::this_thread::sleep_for(options.interval);
  }
}

}  // namespace

int main(int argc, char** argv) {
  return run_program("pgguard-fence", [&] { return run(argc, argv); });
}
