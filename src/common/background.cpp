#include "common/background.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <thread>

#include "common/error.hpp"

namespace pgguard {

void continue_in_background(const std::function<bool(pid_t child)>& started,
                            std::chrono::seconds limit) {
  (void)std::fflush(nullptr);
  const pid_t child = ::fork();
  if (child < 0) {
    throw SystemError("fork", errno);
  }
  if (child == 0) {
    ::setsid();
    const int null_input = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_input >= 0) {
      ::dup2(null_input, STDIN_FILENO);
      ::close(null_input);
    }
    return;
  }
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) {
      std::_Exit(WIFEXITED(status) ? WEXITSTATUS(status) : to_int(ExitCode::system));
    }
    if (started(child)) {
      std::_Exit(0);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      (void)std::fprintf(stderr, "pid %d did not come up within %lld s; it keeps running\n",
                         static_cast<int>(child), static_cast<long long>(limit.count()));
      std::_Exit(to_int(ExitCode::system));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace pgguard
