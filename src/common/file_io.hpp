#pragma once

#include <string>

namespace pgguard {

// Appends everything left to read from fd (until end of file) to contents, retrying on EINTR.
// Returns 0, or the errno of the read that failed; callers wrap it in their own error type.
int read_to_end(int fd, std::string& contents);

}  // namespace pgguard
