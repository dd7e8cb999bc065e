#pragma once

#include <signal.h>

#include <initializer_list>
#include <string>

#include "common/unique_fd.hpp"

namespace pgguard {

// The stop signals of a long-running helper, blocked and read from a signalfd (RAII: the old
// mask comes back), so that a SIGTERM arriving in the middle of one step (an nf_tables
// transaction, a VIP request) waits for the step to finish; the helper polls fd() between
// steps.
class StopSignals {
 public:
  // Throws SystemError.
  StopSignals(std::initializer_list<int> signals);
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  ~StopSignals();

  int fd() const { return fd_.get(); }

  // The name of the signal that arrived ("SIGTERM"), or empty when none is pending.
  std::string received() const;

 private:
  sigset_t previous_{};
  UniqueFd fd_;
};

}  // namespace pgguard
