#include "common/file_io.hpp"

#include <unistd.h>

#include <cerrno>

namespace pgguard {

int read_to_end(int fd, std::string& contents) {
  char buffer[16384];
  for (;;) {
    const ssize_t count = ::read(fd, buffer, sizeof buffer);
    if (count < 0) {
      if (errno == EINTR) {
        continue;
      }
      return errno;
    }
    if (count == 0) {
      return 0;
    }
    contents.append(buffer, static_cast<std::size_t>(count));
  }
}

}  // namespace pgguard
