#pragma once

#include <string>

#include "common/unique_fd.hpp"

namespace pgguard {

// The pid file of a long-running helper that monit watches (`check process ... with pidfile`).
// monit takes "the file names a live process" to mean "the service runs", so the file is
// locked first (a second copy of the program refuses to start) and filled only by publish(),
// once the service is really in force. The destructor removes a published file, so a clean
// exit leaves monit nothing stale to believe.
class PidFile {
 public:
  // Creates or opens `path` and locks it. Throws SystemError when it cannot, or when another
  // process holds the lock (the message names its pid).
  static PidFile acquire(const std::string& path);

  PidFile(PidFile&& other) noexcept;
  PidFile& operator=(PidFile&&) = delete;
  PidFile(const PidFile&) = delete;
  PidFile& operator=(const PidFile&) = delete;
  ~PidFile();

  // Writes this process's pid. Throws SystemError.
  void publish();

 private:
  PidFile(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}

  std::string path_;
  UniqueFd fd_;
  bool published_ = false;
};

}  // namespace pgguard
