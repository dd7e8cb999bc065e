#include "common/pid_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <utility>

#include "common/error.hpp"

namespace pgguard {

namespace {

std::string holder_of(int fd) {
  char buffer[32] = {};
  const ssize_t length = ::pread(fd, buffer, sizeof buffer - 1, 0);
  std::string text(buffer, length > 0 ? static_cast<std::size_t>(length) : 0);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text.empty() ? "a process that has not published its pid yet" : "pid " + text;
}

}  // namespace

PidFile PidFile::acquire(const std::string& path) {
  // O_NOFOLLOW: the directory belongs to the job, but a link planted there must not make a
  // root process truncate another file.
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd) {
    throw SystemError("cannot open pid file " + path, errno);
  }
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) {
    throw SystemError("cannot inspect pid file " + path, errno);
  }
  if (!S_ISREG(status.st_mode)) {
    throw Error(ExitCode::bad_input, "pid file " + path + " is not a regular file");
  }
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    if (error == EWOULDBLOCK) {
      throw Error(ExitCode::system,
                  "another copy holds the pid file " + path + " (" + holder_of(fd.get()) + ")");
    }
    throw SystemError("cannot lock pid file " + path, error);
  }
  // Whatever an earlier, killed copy left behind names no live service of ours.
  if (::ftruncate(fd.get(), 0) != 0) {
    throw SystemError("cannot empty pid file " + path, errno);
  }
  return PidFile(path, std::move(fd));
}

PidFile::PidFile(PidFile&& other) noexcept
    : path_(std::move(other.path_)),
      fd_(std::move(other.fd_)),
      published_(std::exchange(other.published_, false)) {}

PidFile::~PidFile() {
  if (!fd_ || !published_) {
    return;
  }
  // Only the file we hold: if the path was removed and made anew meanwhile, it is another
  // copy's now.
  struct stat ours {};
  struct stat at_path {};
  if (::fstat(fd_.get(), &ours) == 0 && ::lstat(path_.c_str(), &at_path) == 0 &&
      ours.st_dev == at_path.st_dev && ours.st_ino == at_path.st_ino) {
    ::unlink(path_.c_str());
  }
}

void PidFile::publish() {
  const std::string text = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_.get(), 0) != 0 ||
      ::pwrite(fd_.get(), text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) {
    throw SystemError("cannot write pid file " + path_, errno);
  }
  published_ = true;
}

}  // namespace pgguard
