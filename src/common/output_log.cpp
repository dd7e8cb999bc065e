#include "common/output_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace pgguard {

void append_output_to(const std::string& path) {
  const UniqueFd fd(
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640));
  if (!fd) {
    throw SystemError("cannot open log " + path, errno);
  }
  if (::dup2(fd.get(), STDOUT_FILENO) < 0 || ::dup2(fd.get(), STDERR_FILENO) < 0) {
    throw SystemError("cannot redirect output to " + path, errno);
  }
}

}  // namespace pgguard
