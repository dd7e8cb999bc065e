#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

// Runs a helper program to completion: fork, execve with exactly the given argv and
// environment (no shell, no PATH search), optional text on its stdin, its stdout and stderr
// captured. For the few external programs the helpers drive (useradd, the launcher running
// initdb or psql); every failure to run one is reported with the program's own output.
namespace pgguard {

struct ChildRequest {
  std::vector<std::string> argv;  // argv[0] is an absolute path
  std::vector<std::string> environment;
  std::optional<std::string> input;  // written to stdin, then closed; else /dev/null
  // The child is killed (SIGKILL) past this, and the run fails with the output so far.
  std::chrono::seconds timeout{std::chrono::minutes(10)};
};

struct ChildResult {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;
  std::string output;  // stdout and stderr, interleaved as written
};

// Throws SystemError when the program cannot be started, or on timeout.
ChildResult run_child(const ChildRequest& request);

// Runs the request again, a second apart, until `done` accepts its result or `patience` has
// passed; returns the last result. For checks of a service that may still be starting.
ChildResult run_child_until(const ChildRequest& request, std::chrono::seconds patience,
                            const std::function<bool(const ChildResult&)>& done);

// Starts a long-running program (e.g. a server) with stdin from /dev/null and stdout and stderr
// on `output_fd`, and returns its pid without waiting; the caller reaps it. Throws SystemError
// when it cannot be started (the exec's own error included).
pid_t spawn_child(const std::vector<std::string>& argv, const std::vector<std::string>& environment,
                  int output_fd);

// The command line, for messages ("/usr/sbin/useradd --system ...").
std::string describe_command(const std::vector<std::string>& argv);

}  // namespace pgguard
