#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <string>

#include "common/unique_fd.hpp"

namespace pgguard {

// Appends everything left to read from fd (until end of file) to contents, retrying on EINTR.
// Returns 0, or the errno of the read that failed; callers wrap it in their own error type.
int read_to_end(int fd, std::string& contents);

// As read_to_end, but reads at most max_size bytes in all: returns EFBIG when the file holds
// more (a file that grew after its size was checked, or one whose size fstat cannot tell).
int read_at_most(int fd, std::size_t max_size, std::string& contents);

// A file named on a command line, opened for reading only if it is a regular file.
struct RegularFile {
  UniqueFd fd;  // open (blocking reads again) when ok()
  struct stat status {};
  int error = 0;                     // errno of open or fstat when the file cannot be opened
  const char* wrong_type = nullptr;  // "a FIFO", "a directory", ... when it is no regular file

  bool ok() const { return fd.valid() && wrong_type == nullptr; }
  // Why the file cannot be read, for a message: "cannot open: <errno text>" or "not a regular
  // file (a FIFO)". Empty when ok().
  std::string problem() const;
};

// Opens `path` read-only with O_NONBLOCK, so that a FIFO without a writer or a device cannot
// block the open, checks with fstat on the descriptor (not the name, which could be swapped in
// between) that it is a regular file, and clears O_NONBLOCK again. Anything else is closed at
// once and reported. `extra_flags` (e.g. O_NOFOLLOW) are added to the open.
RegularFile open_regular_file(const std::string& path, int extra_flags = 0);

// The whole content of a regular file (open_regular_file, then read_to_end). Throws
// SystemError carrying the errno when the file cannot be opened or read, Error(system) when it
// is no regular file.
std::string read_regular_file(const std::string& path, int extra_flags = 0);

// "a FIFO", "a character device", ... for messages; "a regular file" for S_IFREG.
const char* file_type_name(mode_t mode);

// "1 MiB", "16 MiB", "96 KiB" or "N bytes": the sizes of the caps in messages.
std::string size_text(std::size_t bytes);

// The directory part of a path: "/a/b" -> "/a", "/a" -> "/". Pure.
std::string directory_of(const std::string& path);

}  // namespace pgguard
