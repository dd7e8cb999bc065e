#include "common/file_io.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <limits>

#include "common/error.hpp"

namespace pgguard {

int read_at_most(int fd, std::size_t max_size, std::string& contents) {
  char buffer[16384];
  std::size_t total = 0;
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
    total += static_cast<std::size_t>(count);
    if (total > max_size) {
      return EFBIG;
    }
    contents.append(buffer, static_cast<std::size_t>(count));
  }
}

std::string RegularFile::problem() const {
  if (error != 0) {
    return "cannot open: " + errno_text(error);
  }
  if (wrong_type != nullptr) {
    return std::string("not a regular file (") + wrong_type + ")";
  }
  return {};
}

RegularFile open_regular_file(const std::string& path, int extra_flags) {
  RegularFile file;
  file.fd.reset(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | extra_flags));
  if (!file.fd) {
    file.error = errno;
    return file;
  }
  if (::fstat(file.fd.get(), &file.status) != 0) {
    file.error = errno;
    file.fd.reset();
    return file;
  }
  if (!S_ISREG(file.status.st_mode)) {
    file.wrong_type = file_type_name(file.status.st_mode);
    file.fd.reset();
    return file;
  }
  // Reads of a regular file never block anyway; cleared so the descriptor behaves as any
  // other for whoever reads it.
  const int flags = ::fcntl(file.fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(file.fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) {
    file.error = errno;
    file.fd.reset();
  }
  return file;
}

const char* file_type_name(mode_t mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "a regular file";
    case S_IFDIR:
      return "a directory";
    case S_IFIFO:
      return "a FIFO";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFSOCK:
      return "a socket";
    case S_IFLNK:
      return "a symbolic link";
    default:
      return "an unknown file type";
  }
}

std::string size_text(std::size_t bytes) {
  constexpr std::size_t kKiB = 1024;
  if (bytes >= kKiB * kKiB && bytes % (kKiB * kKiB) == 0) {
    return std::to_string(bytes / (kKiB * kKiB)) + " MiB";
  }
  if (bytes >= kKiB && bytes % kKiB == 0) {
    return std::to_string(bytes / kKiB) + " KiB";
  }
  return std::to_string(bytes) + " bytes";
}

int read_to_end(int fd, std::string& contents) {
  return read_at_most(fd, std::numeric_limits<std::size_t>::max(), contents);
}

std::string read_regular_file(const std::string& path, int extra_flags) {
  const RegularFile file = open_regular_file(path, extra_flags);
  if (file.error != 0) {
    throw SystemError("cannot read " + path, file.error);
  }
  if (!file.ok()) {
    throw Error(ExitCode::system, path + ": " + file.problem());
  }
  std::string text;
  if (const int error = read_to_end(file.fd.get(), text); error != 0) {
    throw SystemError("cannot read " + path, error);
  }
  return text;
}

std::string directory_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == 0 ? std::string("/") : path.substr(0, slash);
}

}  // namespace pgguard
