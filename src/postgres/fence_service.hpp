#pragma once

#include <string>

#include "postgres/fence.hpp"

// The fence's I/O (fence.hpp has its decisions): one look at the node and its peer, and the
// step-down, run by pgguard-fence every few seconds inside its sandbox.
namespace pgguard::postgres {

// Asks the node's own server (psql over the unix socket) and, while it serves as a primary,
// its peer (IDENTIFY_SYSTEM over TLS); when the peer was promoted past it, sends the
// postmaster monit's pid file names SIGINT (fast shutdown), only if it is a postgres of the
// node's account. A server or peer that does not answer within 10 s is no evidence: nothing is
// done, and the reason is returned. Returns what it saw or did, for the log (empty when all is
// as it should be); never throws for what the servers answer.
std::string fence_round(const FenceOptions& options);

}  // namespace pgguard::postgres
