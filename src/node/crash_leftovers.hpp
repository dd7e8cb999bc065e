#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

// What a service killed with SIGKILL (the OOM killer, a crash, an operator's kill -9) leaves on
// its VM, and its removal before monit starts the service again. pgpool-II is the case: its
// children outlive the main process, keep its ports (the next pgpool's watchdog cannot bind,
// so every restart fails), and its System V shared memory (130 MB) and semaphores are removed
// only on a clean exit, so each restart would leak them until the VM reboots.
namespace pgguard::node {

// One row of /proc/sysvipc/shm or /proc/sysvipc/sem. `creator` and `attached` exist only for
// shared memory (0 for a semaphore set).
struct SysvObject {
  int id = 0;
  uid_t owner = 0;
  uid_t creator_uid = 0;
  pid_t creator = 0;
  unsigned long attached = 0;
  unsigned long long size = 0;  // bytes for shared memory, semaphores for a set
};

// Parses a /proc/sysvipc table by its header's column names (the kernel has added columns
// over the years); `source` names it in errors. Throws Error(system) on a table it cannot
// read, rather than guessing.
std::vector<SysvObject> parse_sysv_table(std::string_view text, const std::string& source);

// The objects of `account` (owner and creator) that no process uses any more: for shared
// memory, nothing attached and its creator no longer running (`runs(pid)`; a segment being
// created has its creator running). Semaphore sets carry no creator: ask for them
// only once none of the service's processes exist.
std::vector<SysvObject> stale_shared_memory(const std::vector<SysvObject>& segments, uid_t account,
                                            const std::function<bool(pid_t)>& runs);
std::vector<SysvObject> stale_semaphores(const std::vector<SysvObject>& sets, uid_t account);

// /proc/PID/exe as the kernel reports it, without the " (deleted)" a replaced binary gets:
// a package update while the orphans ran must not hide them.
std::string executable_path(std::string_view exe_link);

struct LeftoverRequest {
  std::string service;     // for the report: "pgpool"
  std::string user;        // the account the service runs as
  std::string executable;  // the service's binary; a symbolic link is resolved
};

// Kills every process of `user` running `executable` on this VM (in the caller's network and
// IPC namespaces) and waits until they are gone, then
// removes the System V objects of `user` that nothing uses. The caller must have made sure the
// service is not running (its pid files name no live process): everything found then is a
// leftover. Returns the report lines ("killed 18 leftover pgpool processes ..."), empty when
// there was nothing. Throws Error(system) when a leftover survives SIGKILL, or a removal
// fails; what was removed before stays removed (each removal is whole).
std::vector<std::string> clear_crash_leftovers(const LeftoverRequest& request);

}  // namespace pgguard::node
