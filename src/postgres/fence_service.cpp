#include "postgres/fence_service.hpp"

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/child_process.hpp"
#include "common/error.hpp"
#include "node/service_process.hpp"

namespace pgguard::postgres {

namespace {

using namespace std::chrono_literals;

const std::vector<std::string> kEnvironment = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8"};

// psql's answer to `command`; nullopt when it fails or takes longer than 10 s (a frozen
// server accepts the connection and answers nothing).
std::optional<std::string> ask(const FenceOptions& options, const std::string& command,
                               const std::string& conninfo) {
  try {
    const auto result = run_child({{options.psql, "--no-psqlrc", "--no-align", "--tuples-only",
                                    "--field-separator=\x1f", "--command=" + command, conninfo},
                                   kEnvironment,
                                   std::nullopt,
                                   10s});
    if (result.exit_code == 0) {
      return result.output;
    }
  } catch (const SystemError&) {
    // Timed out: no answer.
  }
  return std::nullopt;
}

}  // namespace

std::string fence_round(const FenceOptions& options) {
  if (options.peer.empty()) {
    return {};
  }
  const auto own_answer = ask(options, kOwnPrimaryQuery, own_conninfo(options));
  if (!own_answer) {
    return {};
  }
  std::optional<SystemIdentity> own;
  try {
    own = parse_own_primary(*own_answer);
  } catch (const Error& error) {
    return error.what();
  }
  if (!own) {
    return {};
  }
  const auto peer_answer = ask(options, "IDENTIFY_SYSTEM", peer_replication_conninfo(options));
  const auto peer = peer_answer ? parse_identify_system(*peer_answer) : std::nullopt;
  const auto decision = decide_fence(own, peer, options.peer);
  if (!decision.step_down) {
    return decision.reason;
  }
  const auto postmaster = node::running_process(options.pid_file, options.user, "postgres");
  if (!postmaster) {
    return decision.reason + "; but " + options.pid_file + " names no running postgres of " +
           options.user;
  }
  if (::kill(*postmaster, SIGINT) != 0) {
    return decision.reason + "; but SIGINT to the postmaster (pid " + std::to_string(*postmaster) +
           ") failed: " + std::strerror(errno);
  }
  return decision.reason + ": sent the postmaster (pid " + std::to_string(*postmaster) +
         ") SIGINT (fast shutdown); monit starts it again, and its start rewinds it";
}

}  // namespace pgguard::postgres
