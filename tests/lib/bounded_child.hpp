#pragma once

// Runs code that must return promptly in a child process with a deadline and a memory ceiling,
// so that a regression (an open(2) that blocks on a FIFO, a read of /dev/zero without end)
// fails the test instead of hanging the runner or exhausting its memory.
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace pgguard::test {

struct ChildOutcome {
  bool exited = false;  // false: killed by a signal (SIGALRM: the deadline passed)
  int exit_code = -1;
  int signal = 0;
  std::string output;  // what the action put in its message
};

// `action(std::string& message)` returns the child's exit code; `message` is handed back.
template <typename Action>
ChildOutcome run_bounded(Action action, unsigned seconds = 5) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return {};
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    // Boost.Test may handle SIGALRM itself; the child must die of it.
    ::signal(SIGALRM, SIG_DFL);
    sigset_t all;
    sigemptyset(&all);
    sigaddset(&all, SIGALRM);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    ::alarm(seconds);
#if !defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer reserves terabytes of address space; elsewhere 1 GiB is plenty.
    const rlimit memory{rlim_t{1} << 30, rlim_t{1} << 30};
    (void)::setrlimit(RLIMIT_AS, &memory);
#endif
    std::string message;
    int code = 99;
    try {
      code = action(message);
    } catch (...) {
      message = "unexpected exception";
    }
    (void)!::write(pipe_fds[1], message.data(), message.size());
    ::_exit(code);
  }
  ::close(pipe_fds[1]);
  ChildOutcome outcome;
  char buffer[4096];
  for (;;) {
    const ssize_t count = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (count <= 0) {
      break;
    }
    outcome.output.append(buffer, static_cast<std::size_t>(count));
  }
  ::close(pipe_fds[0]);
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) {
    return outcome;
  }
  outcome.exited = WIFEXITED(status);
  outcome.exit_code = outcome.exited ? WEXITSTATUS(status) : -1;
  outcome.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  return outcome;
}

}  // namespace pgguard::test
