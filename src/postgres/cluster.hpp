#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "postgres/node_plan.hpp"

// The I/O half of a PostgreSQL node: files, initdb, a socket-only server for pre-start's SQL,
// the monit start (isolation gate, then the launcher) and stop. Every PostgreSQL program runs
// through pgguard-launch under the node's profiles, never as root and never unsandboxed.
namespace pgguard::postgres {

// pre-start, before anything of the node runs: the release's SELinux policy module loaded and
// the node's directories and package relabelled where SELinux is enabled
// (node/selinux_policy.hpp). Returns one line per change.
std::vector<std::string> load_policy(const NodePlan& plan);

// Writes postgresql.conf, pg_hba.conf and the launcher profiles (initdb, server) into
// paths.config, root-owned, readable by the node's user's group; only what differs is
// rewritten. The profiles carry the plan's sandbox settings and, where SELinux is enabled, the
// node's domain; each is parsed before it is written. Returns one line per file written.
std::vector<std::string> write_server_files(const NodePlan& plan);

// The paths of the rendered profiles.
std::string initdb_profile_path(const NodePlan& plan);
std::string server_profile_path(const NodePlan& plan);
std::string basebackup_profile_path(const NodePlan& plan);

// Whether the node's data says it is a standby (standby.signal): which role it serves in now,
// whatever its job.
bool has_standby_signal(const NodePlan& plan);

// Runs initdb (data checksums, scram-sha-256, UTF-8) under the initdb profile when
// paths.data holds no cluster. Refuses (Error(system)) a non-empty directory without
// PG_VERSION: it never initialises over data it does not recognise. Returns whether it ran.
bool initialize_cluster(const NodePlan& plan);

// A standby's data: kept when it holds a cluster (a standby, or the primary a failover made
// of it); copied from the primary with pg_basebackup under its profile, through the standby's
// slot, when the directory is empty. The copy goes to a staging directory beside it and is
// renamed into place with standby.signal only when complete, so an interrupted copy never
// looks like a cluster. Returns whether it copied.
bool clone_primary(const NodePlan& plan);

// The fence of a node about to serve as a primary (no standby.signal) that has a peer: asks
// the peer (IDENTIFY_SYSTEM over TLS as the replication role). A peer on a later timeline was
// promoted while this node was away: this node creates its slot there, rewinds its data with
// pg_rewind under its profile, writes standby.signal and so starts as the peer's standby; it
// never serves as a second primary. A peer on an earlier timeline, or a standby on the same
// one, leaves it a primary; a primary on the same timeline is refused (this node was never
// promoted). A peer that does not answer leaves it a primary too, with a notice on stderr:
// pgpool keeps such a node detached and its synchronous commits wait
// (docs/high-availability.md). Throws Error(system) when the peer holds another cluster, or
// the rewind fails (the node then stays down). Returns a line when it rejoined.
std::optional<std::string> rejoin_if_superseded(const NodePlan& plan);

// A server on the unix socket only (no TCP listener, no synchronous standby to wait for), for
// pre-start's SQL. Started under the server profile; stopped with a fast shutdown when it goes
// out of scope.
class LocalServer {
 public:
  explicit LocalServer(const NodePlan& plan);
  LocalServer(const LocalServer&) = delete;
  LocalServer& operator=(const LocalServer&) = delete;
  ~LocalServer();

  // psql as the superuser over the socket, under the server profile; ON_ERROR_STOP. Returns
  // its unaligned, tuples-only output (fields separated by US). Throws Error(system) with
  // psql's output when it fails.
  std::string run_sql(const std::string& database, const std::string& sql) const;

 private:
  void stop() noexcept;

  const NodePlan& plan_;
  pid_t pid_ = -1;
};

// Reads the cluster's roles, databases, extensions and slots and makes them match the plan.
// Returns one line per change (empty: nothing changed).
std::vector<std::string> converge_cluster(const NodePlan& plan, const LocalServer& server);

// monit's start: waits (bounded) until the colocated isolation table is in force, fences the
// node (rejoin_if_superseded), then replaces this process with the launcher running postgres
// under the server profile, with the pid file monit watches: a primary, or a standby where
// standby.signal says so. Throws when isolation is missing or out of sync after `isolation_wait`.
[[noreturn]] void exec_server(const NodePlan& plan, std::chrono::seconds isolation_wait);

// post-start: waits (bounded by `wait`) until postgres accepts a TLS (verify-full) + scram
// replication login on the VM's own address, then checks the role it serves in now (its
// standby.signal, not its job): a primary out of recovery; a standby in recovery, streaming
// from its peer. Returns one line saying
// so; throws Error(system) with what was seen otherwise.
std::string check_server(const NodePlan& plan, std::chrono::seconds wait);

// The pid file monit watches.
std::string server_pid_path(const NodePlan& plan);

// monit's stop: SIGINT (fast shutdown) to the postmaster named by the pid file, only if that
// process runs as the node's user and is postgres; SIGQUIT after `grace`. Returns a line
// saying what happened.
std::string stop_server(const NodePlan& plan, std::chrono::seconds grace);

// monit's start of the fence (fence.hpp): replaces this process with the launcher running
// pgguard-fence under its own profile (the node's account, psql and a signal to its own
// postmaster, nothing else), with the pid file monit watches. The fence needs no isolation
// gate: it only connects out, to the node and its peer.
[[noreturn]] void exec_fence(const NodePlan& plan);

// monit's stop of the fence: SIGTERM, SIGKILL after 10 s, only to the pid file's
// pgguard-fence of the node's account. Returns a line saying what happened.
std::string stop_fence(const NodePlan& plan);

// Whether this node serves as the primary and its peer streams from it, as a synchronous
// standby when synchronous commit is on (read over the unix socket; false when the server
// does not answer or nothing streams). A streaming peer gets up to `wait` to become
// synchronous: one that rejoined a moment ago is so only once pgpool has attached it, and only
// then can pgpool promote it.
bool peer_streams(const NodePlan& plan, std::chrono::seconds wait);

// drain of the primary, after its clean stop: a planned switchover. Waits (bounded by `wait`)
// until pgpool has promoted the peer, which has every WAL record of the stopped primary, so
// that BOSH updates this VM only once the other one serves; when it starts again it rejoins
// as the standby (rejoin_if_superseded). Nothing without a peer. Returns a line saying what
// happened; the peer not promoted in time is a notice, not a failure (the node then stays the
// primary when it starts again). Only for a primary whose peer streamed (peer_streams).
std::optional<std::string> hand_over(const NodePlan& plan, std::chrono::seconds wait);

}  // namespace pgguard::postgres
