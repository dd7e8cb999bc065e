#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Pure parsers of the /proc texts the smoke test reads (the I/O is in proc_reader.hpp).
namespace pgguard::audit {

struct LimitValues {
  rlim_t soft = 0;
  rlim_t hard = 0;
};

// /proc/PID/limits: RLIMIT_* -> soft and hard ("unlimited" = RLIM_INFINITY). Throws
// Error(system) naming the line when the table is malformed; lines of unknown limits are
// skipped (a newer kernel may add one).
std::map<int, LimitValues> parse_proc_limits(std::string_view text);

// The parent pid from /proc/PID/stat ("pid (comm) state ppid ..."; comm may hold spaces and
// parentheses, so the fields after the last ')' are read). nullopt when malformed.
std::optional<pid_t> parse_stat_parent(std::string_view text);

// Every pid below `root` in the tree of (pid, parent pid) pairs, children before grandchildren,
// each level in ascending pid order.
std::vector<pid_t> descendants_of(pid_t root, const std::vector<std::pair<pid_t, pid_t>>& parents);

// A pid file's content: a decimal pid above 0, optionally followed by a newline. nullopt
// otherwise (empty, garbage, several lines).
std::optional<pid_t> parse_pid_file(std::string_view text);

// Whether /proc/PID/status shows a process that is exiting: its State is Z (zombie) or X
// (dead), or its Umask line is gone (the kernel drops it once the exit has released the
// process's filesystem context, before the state turns Z). Such a process runs no code any
// more: there is no sandbox left to compare.
bool status_shows_exit(std::string_view status);

// /proc/PID/attr/current as the kernel gives it: the context, then a NUL and/or a newline.
std::string security_context_text(std::string_view text);

}  // namespace pgguard::audit
