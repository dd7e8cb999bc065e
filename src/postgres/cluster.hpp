#pragma once

#include <sys/types.h>

#include <chrono>
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

// Runs initdb (data checksums, scram-sha-256, UTF-8) under the initdb profile when
// paths.data holds no cluster. Refuses (Error(system)) a non-empty directory without
// PG_VERSION: it never initialises over data it does not recognise. Returns whether it ran.
bool initialize_cluster(const NodePlan& plan);

// A standby's data: kept when it is a standby already (PG_VERSION and standby.signal); copied
// from the primary with pg_basebackup under its profile, through the standby's slot, when the
// directory is empty. The copy goes to a staging directory beside it and is renamed into place
// with standby.signal only when complete, so an interrupted copy never looks like a cluster.
// Refuses (Error(system)) a directory holding a primary: a standby never becomes, or replaces,
// a primary by accident. Returns whether it copied.
bool clone_primary(const NodePlan& plan);

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

// monit's start: waits (bounded) until the colocated isolation table is in force, then replaces
// this process with the launcher running postgres under the server profile, with the pid file
// monit watches. Throws when isolation is missing or out of sync after `isolation_wait`.
[[noreturn]] void exec_server(const NodePlan& plan, std::chrono::seconds isolation_wait);

// post-start: waits (bounded by `wait`) until postgres accepts a TLS (verify-full) + scram
// replication login on the VM's own address, then checks the role it serves in: a primary
// out of recovery; a standby in recovery, streaming from its primary. Returns one line saying
// so; throws Error(system) with what was seen otherwise.
std::string check_server(const NodePlan& plan, std::chrono::seconds wait);

// The pid file monit watches.
std::string server_pid_path(const NodePlan& plan);

// monit's stop: SIGINT (fast shutdown) to the postmaster named by the pid file, only if that
// process runs as the node's user and is postgres; SIGQUIT after `grace`. Returns a line
// saying what happened.
std::string stop_server(const NodePlan& plan, std::chrono::seconds grace);

}  // namespace pgguard::postgres
