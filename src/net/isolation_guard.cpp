#include "net/isolation_guard.hpp"

#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string>

#include "common/error.hpp"
#include "common/pid_file.hpp"
#include "common/stop_signals.hpp"
#include "net/ruleset_events.hpp"

namespace pgguard::net {

namespace {

ConfigSource read_once(const std::string& path) {
  // A copy, not the mapping: BOSH rewrites the file on the next deploy, and this process must
  // keep enforcing the configuration it was started with until monit restarts it.
  const ConfigSource mapped = read_config_source(path);
  return ConfigSource::from_text(path, std::string(mapped.text()));
}

// Why a check ran, for the log line of a repair. Our own commits are left out of the text
// only: the kernel names the committer by its pid in the initial pid namespace, so a match
// is not proof enough to skip a check, and the check after our own commit is cheap anyway.
std::string cause_of(const DrainedEvents& drained, pid_t self) {
  if (drained.lost) {
    return "nf_tables events were lost";
  }
  std::string cause;
  for (const auto& commit : drained.commits) {
    if (commit.pid && *commit.pid == static_cast<std::uint32_t>(self)) {
      continue;
    }
    cause += (cause.empty() ? "" : ", ") + describe_commit(commit);
  }
  return cause.empty() ? "a ruleset commit" : cause;
}

}  // namespace

void run_isolation_guard(const GuardOptions& options, const GuardLog& log) {
  const StopSignals stop{SIGTERM, SIGINT};
  std::optional<PidFile> pid_file;
  if (options.pid_file) {
    pid_file.emplace(PidFile::acquire(*options.pid_file));
  }
  const ConfigSource source = read_once(options.config_path);
  // Subscribed before the first apply, so no commit between that apply and the loop is missed.
  RulesetEvents events = RulesetEvents::subscribe();

  log("started: " + describe_apply(apply_isolation(source, options.engine)));
  if (pid_file) {
    pid_file->publish();
  }

  const pid_t self = ::getpid();
  constexpr std::chrono::milliseconds kLongestWait = std::chrono::hours(24);
  const auto timeout_ms = static_cast<int>(std::clamp<std::chrono::milliseconds::rep>(
      options.recheck_interval.count(), 1, kLongestWait.count()));
  while (true) {
    pollfd watched[] = {{stop.fd(), POLLIN, 0}, {events.fd(), POLLIN, 0}};
    const int ready = ::poll(watched, 2, timeout_ms);
    if (ready < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw SystemError("poll failed", errno);
    }
    if ((watched[0].revents & POLLIN) != 0) {
      log("stopping on " + stop.received() + "; the rules stay in force");
      return;
    }
    std::string cause = "periodic check";
    if ((watched[1].revents & POLLIN) != 0) {
      const DrainedEvents drained = events.drain();
      cause = cause_of(drained, self);
    }
    const ApplyReport report = apply_isolation(source, options.engine);
    if (report.table_changed || report.sysctls_written > 0) {
      log("repaired after " + cause + ": " + describe_apply(report));
    }
  }
}

}  // namespace pgguard::net
