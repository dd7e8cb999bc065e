#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>

// For monit's start programs. The stemcells' monit 5.2.5 detaches a start program and then
// watches the pid file; newer monit releases wait for the start program to exit and treat one
// that does not as failed. A start program that forks the service, waits until the service is
// really up and then exits with its verdict works under both, and tells monit the truth.
namespace pgguard {

// Forks. In the child (now the leader of a session of its own, stdin on /dev/null) it returns,
// and the caller goes on as the service. The parent never returns: it exits 0 once
// `started(child)` holds, with the child's exit status if the child exits first (the child's
// own messages went to the inherited stderr), and 3 with a message if neither happens within
// `limit` (the child is left running: it may still come up, and monit will see it).
void continue_in_background(const std::function<bool(pid_t child)>& started,
                            std::chrono::seconds limit);

}  // namespace pgguard
