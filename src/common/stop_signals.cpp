#include "common/stop_signals.hpp"

#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/error.hpp"

namespace pgguard {

StopSignals::StopSignals(std::initializer_list<int> signals) {
  sigset_t set;
  sigemptyset(&set);
  for (const int signal_number : signals) {
    sigaddset(&set, signal_number);
  }
  if (sigprocmask(SIG_BLOCK, &set, &previous_) != 0) {
    throw SystemError("cannot block the stop signals", errno);
  }
  fd_.reset(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd_) {
    const int error = errno;
    sigprocmask(SIG_SETMASK, &previous_, nullptr);
    throw SystemError("cannot open a signalfd for the stop signals", error);
  }
}

StopSignals::~StopSignals() {
  sigprocmask(SIG_SETMASK, &previous_, nullptr);
}

std::string StopSignals::received() const {
  signalfd_siginfo info{};
  if (::read(fd_.get(), &info, sizeof info) != static_cast<ssize_t>(sizeof info)) {
    return {};
  }
  const char* name = sigabbrev_np(static_cast<int>(info.ssi_signo));
  return std::string("SIG") + (name != nullptr ? name : "?");
}

}  // namespace pgguard
