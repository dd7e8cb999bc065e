#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

// What every service process of the release shares under monit (PostgreSQL, pgpool, the VIP
// broker): the isolation gate before it starts, the launcher that sandboxes it and writes the
// pid file monit watches, and a stop that signals only the process the job started.
namespace pgguard::node {

// The command line that runs `command` through pgguard-launch under `profile`; with a pid
// file when `pid_file` is not empty.
std::vector<std::string> launcher_argv(const std::string& launcher, const std::string& profile,
                                       const std::vector<std::string>& command,
                                       const std::string& pid_file = {});

// Pre-start's look at the programs that monit's start and the job's helpers will run: each
// must be an executable regular file (symbolic links followed). Throws Error(bad_input) naming
// the program and `property`, the job property that points at its directory, so that a wrong
// directory fails the deploy at pre-start, before anything changes, instead of at monit's
// start timeout.
void require_programs(const std::vector<std::string>& programs, const std::string& property);

// Waits, bounded, until the colocated isolation job's table is in force (verified against its
// config through netlink, in-process). Throws Error(system) naming `service` when the config
// is missing (the isolation job is not colocated) or the table is still out of sync after
// `wait`: nothing of the release serves unisolated.
void wait_for_isolation(const std::string& isolation_config, std::chrono::seconds wait,
                        const std::string& service);

// Replaces this process with `argv` (argv[0] an absolute path) and exactly `environment`.
[[noreturn]] void exec_program(std::vector<std::string> argv, std::vector<std::string> environment);

// The real uid a process runs as, from /proc/PID/status; nullopt when it is gone.
std::optional<uid_t> process_uid(pid_t pid);

// A killed process stays a zombie until its parent reaps it: it holds its pid, uid and comm,
// and kill(pid, 0) still succeeds, but it runs nothing (and has detached its shared memory).
bool is_zombie(pid_t pid);

// The process a pid file names, when it still runs as `user` with command name `comm`;
// nullopt otherwise (no file, no pid, gone, a zombie not yet reaped, or another program: a
// stale file).
std::optional<pid_t> running_process(const std::string& pid_file, const std::string& user,
                                     const std::string& comm);

struct StopRequest {
  std::string pid_file;
  std::string user;  // the account the process must run as
  std::string comm;  // its /proc/PID/comm
  int signal = 0;    // the clean stop (SIGINT: fast shutdown for PostgreSQL and pgpool)
  std::chrono::seconds grace{20};
  int escalation = 0;  // after the grace (SIGQUIT: immediate shutdown)
  // For the log line: what the two signals mean to the program ("fast shutdown").
  std::string signal_meaning;
  std::string escalation_meaning;
};

// monit's stop: signals the process the pid file names only when it is the job's own (uid and
// comm), waits for it to go, escalates after the grace, and removes the pid file once the
// process is gone (a file left behind would make monit take whatever process gets that pid
// next for the service). Returns a line saying what happened; throws Error(system) when the
// process survives both signals.
std::string stop_process(const StopRequest& request);

}  // namespace pgguard::node
