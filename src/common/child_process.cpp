#include "common/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace pgguard {

namespace {

struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

Pipe make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw SystemError("pipe2", errno);
  }
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

Pipe make_socket_pair() {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
    throw SystemError("socketpair", errno);
  }
  ::shutdown(fds[0], SHUT_WR);
  ::shutdown(fds[1], SHUT_RD);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& text : strings) {
    out.push_back(text.data());
  }
  out.push_back(nullptr);
  return out;
}

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(int stdin_fd, int output_fd, char* const* argv, char* const* envp,
                             int report_fd) {
  if (::dup2(stdin_fd, STDIN_FILENO) < 0 || ::dup2(output_fd, STDOUT_FILENO) < 0 ||
      ::dup2(output_fd, STDERR_FILENO) < 0) {
    const int error = errno;
    (void)!::write(report_fd, &error, sizeof error);
    ::_exit(127);
  }
  ::execve(argv[0], argv, envp);
  const int error = errno;
  (void)!::write(report_fd, &error, sizeof error);
  ::_exit(127);
}

}  // namespace

std::string describe_command(const std::vector<std::string>& argv) {
  std::string text;
  for (const auto& argument : argv) {
    text += (text.empty() ? "" : " ") + argument;
  }
  return text;
}

ChildResult run_child(const ChildRequest& request) {
  if (request.argv.empty() || request.argv.front().empty() || request.argv.front()[0] != '/') {
    throw Error(ExitCode::bad_input, "run_child: argv[0] must be an absolute path");
  }
  auto argv_strings = request.argv;
  auto env_strings = request.environment;
  const auto argv = pointers(argv_strings);
  const auto envp = pointers(env_strings);

  // The input is a socket pair, not a pipe: send(MSG_NOSIGNAL) to a child that exited without
  // reading it all fails with EPIPE instead of raising SIGPIPE in this process. Only when there
  // is input: a caller inside a sandbox without socketpair (pgguard-failover under pgpool's
  // profile) runs children all the same.
  Pipe input = request.input ? make_socket_pair() : Pipe{};
  Pipe output = make_pipe();
  Pipe report = make_pipe();  // the exec's errno, when it fails; closed by a successful exec
  UniqueFd null_input;
  if (!request.input) {
    null_input.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    if (!null_input) {
      throw SystemError("open /dev/null", errno);
    }
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw SystemError("fork for " + request.argv.front(), errno);
  }
  if (pid == 0) {
    exec_child(request.input ? input.read_end.get() : null_input.get(), output.write_end.get(),
               argv.data(), envp.data(), report.write_end.get());
  }
  input.read_end.reset();
  output.write_end.reset();
  report.write_end.reset();

  // The child's stdin is fed while its output is read: a chatty child must not block on a
  // full pipe while we block writing to it.
  std::string_view pending = request.input ? std::string_view(*request.input) : "";
  if (!request.input || pending.empty()) {
    input.write_end.reset();
  } else {
    ::fcntl(input.write_end.get(), F_SETFL, O_NONBLOCK);
  }
  ChildResult result;
  const auto deadline = std::chrono::steady_clock::now() + request.timeout;
  bool timed_out = false;
  char buffer[4096];
  while (output.read_end) {
    pollfd watched[2] = {{output.read_end.get(), POLLIN, 0}, {input.write_end.get(), POLLOUT, 0}};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    const int ready = ::poll(watched, input.write_end ? 2 : 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      break;
    }
    if (input.write_end && (watched[1].revents & (POLLOUT | POLLERR | POLLHUP)) != 0) {
      const ssize_t written =
          ::send(input.write_end.get(), pending.data(), pending.size(), MSG_NOSIGNAL);
      if (written > 0) {
        pending.remove_prefix(static_cast<std::size_t>(written));
      }
      if (written < 0 && errno != EAGAIN && errno != EINTR) {
        pending = {};
      }
      if (pending.empty()) {
        input.write_end.reset();
      }
    }
    if ((watched[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      const ssize_t got = ::read(output.read_end.get(), buffer, sizeof buffer);
      if (got > 0) {
        result.output.append(buffer, static_cast<std::size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        output.read_end.reset();
      }
    }
  }
  if (timed_out) {
    ::kill(pid, SIGKILL);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      throw SystemError("waitpid for " + request.argv.front(), errno);
    }
  }
  int exec_error = 0;
  if (::read(report.read_end.get(), &exec_error, sizeof exec_error) ==
      static_cast<ssize_t>(sizeof exec_error)) {
    throw SystemError("cannot execute " + request.argv.front(), exec_error);
  }
  if (timed_out) {
    throw Error(ExitCode::system, describe_command(request.argv) + " did not finish within " +
                                      std::to_string(request.timeout.count()) +
                                      " s and was killed; its output:\n" + result.output);
  }
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
  return result;
}

ChildResult run_child_until(const ChildRequest& request, std::chrono::seconds patience,
                            const std::function<bool(const ChildResult&)>& done) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (true) {
    auto result = run_child(request);
    if (done(result) || std::chrono::steady_clock::now() >= deadline) {
      return result;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

pid_t spawn_child(const std::vector<std::string>& argv, const std::vector<std::string>& environment,
                  int output_fd) {
  if (argv.empty() || argv.front().empty() || argv.front()[0] != '/') {
    throw Error(ExitCode::bad_input, "spawn_child: argv[0] must be an absolute path");
  }
  auto argv_strings = argv;
  auto env_strings = environment;
  const auto argv_pointers = pointers(argv_strings);
  const auto env_pointers = pointers(env_strings);
  UniqueFd null_input(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!null_input) {
    throw SystemError("open /dev/null", errno);
  }
  Pipe report = make_pipe();
  const pid_t pid = ::fork();
  if (pid < 0) {
    throw SystemError("fork for " + argv.front(), errno);
  }
  if (pid == 0) {
    exec_child(null_input.get(), output_fd, argv_pointers.data(), env_pointers.data(),
               report.write_end.get());
  }
  report.write_end.reset();
  int exec_error = 0;
  // Returns at the exec (the pipe closes on exec) or with the exec's errno.
  if (::read(report.read_end.get(), &exec_error, sizeof exec_error) ==
      static_cast<ssize_t>(sizeof exec_error)) {
    ::waitpid(pid, nullptr, 0);
    throw SystemError("cannot execute " + argv.front(), exec_error);
  }
  return pid;
}

}  // namespace pgguard
