#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "net/isolation.hpp"

// The long-running form of `pgguard-isolate apply`, for monit's `check process` (monit 5.2.5 on
// the stemcells has no `check program`): it applies the configuration, then keeps the table and
// the sysctls in force until it is asked to stop. After a reboot, when no pre-start runs, it is
// what puts the rules back, and the service jobs depend on it in monit.
namespace pgguard::net {

struct GuardOptions {
  std::string config_path;
  // Written only once the table is in force, so "monit sees the guard running" means
  // "the isolation rules were in force at its last check".
  std::optional<std::string> pid_file;
  // Sysctls have no change events, and an event can be lost: everything is re-checked at
  // least this often. A check of an unchanged ruleset costs a few system calls.
  std::chrono::milliseconds recheck_interval{std::chrono::seconds(10)};
  EngineOptions engine;
};

// One line per event worth an operator's attention (start, repair, stop).
using GuardLog = std::function<void(std::string_view)>;

// Returns when SIGTERM or SIGINT arrives; the rules stay in force. Throws ConfigError on a bad
// configuration (before touching anything) and SystemError when the kernel refuses the first
// apply or a repair: the caller exits non-zero, monit restarts it, and the restart retries.
void run_isolation_guard(const GuardOptions& options, const GuardLog& log);

}  // namespace pgguard::net
