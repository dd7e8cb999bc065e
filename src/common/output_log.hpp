#pragma once

#include <string>

namespace pgguard {

// Sends this process's stdout and stderr to the end of `path` (created 0640): monit discards
// what its start and stop programs print, and a service's first messages (before its own
// logging runs) land there too, through the inherited descriptors. Never follows a symlink:
// the log directory belongs to the service's account, which must not be able to point root's
// writes elsewhere. Throws SystemError.
void append_output_to(const std::string& path);

}  // namespace pgguard
