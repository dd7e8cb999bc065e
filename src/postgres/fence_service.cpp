#include "postgres/fence_service.hpp"

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/child_process.hpp"
#include "common/error.hpp"
#include "common/strings.hpp"
#include "node/service_process.hpp"

namespace pgguard::postgres {

namespace {

using namespace std::chrono_literals;

const std::vector<std::string> kEnvironment = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8"};

// psql's answer to `command`, or why there is none (its first line of output, or the timeout:
// a frozen server accepts the connection and answers nothing).
struct Answer {
  std::optional<std::string> output;
  std::string failure;
};

Answer ask(const FenceOptions& options, const std::string& command, const std::string& conninfo) {
  try {
    const auto result = run_child({{options.psql, "--no-psqlrc", "--no-align", "--tuples-only",
                                    "--field-separator=\x1f", "--command=" + command, conninfo},
                                   kEnvironment,
                                   std::nullopt,
                                   10s});
    if (result.exit_code == 0) {
      return {result.output, {}};
    }
    const auto lines = split(result.output, "\n");
    return {std::nullopt, lines.empty() ? "psql exit " + std::to_string(result.exit_code)
                                        : std::string(trim(lines.front()))};
  } catch (const SystemError& error) {
    return {std::nullopt, error.what()};
  }
}

}  // namespace

std::string fence_round(const FenceOptions& options) {
  if (options.peer.empty()) {
    return {};
  }
  // What stops the fence from seeing is said once (the caller prints a line when it changes):
  // a fence that cannot ask must not look like one with nothing to do.
  const auto own_answer = ask(options, kOwnPrimaryQuery, own_conninfo(options));
  if (!own_answer.output) {
    return "no answer from this node's server: " + own_answer.failure;
  }
  std::optional<SystemIdentity> own;
  try {
    own = parse_own_primary(*own_answer.output);
  } catch (const Error& error) {
    return error.what();
  }
  if (!own) {
    return {};
  }
  const auto peer_answer = ask(options, "IDENTIFY_SYSTEM", peer_replication_conninfo(options));
  if (!peer_answer.output) {
    return "this node serves as a primary; no answer from the peer " + options.peer + ": " +
           peer_answer.failure;
  }
  const auto peer = parse_identify_system(*peer_answer.output);
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
