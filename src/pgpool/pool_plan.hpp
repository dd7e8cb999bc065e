#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/config_file.hpp"
#include "common/error.hpp"
#include "node/sandbox_settings.hpp"

// The data one pgpool-II node of the release runs from: what the pgpool job rendered from its
// properties and links (config/pool.conf), read by pgguard-pgpool for pre-start, monit's start
// and stop. pgpool.conf, pool_hba.conf, pcp.conf, pool_passwd and the sandbox profiles are
// generated from it (pool_files.hpp). Reference: docs/jobs.md.
namespace pgguard::pgpool {

struct PoolPaths {
  std::string runtime;       // unix sockets and the pid file monit watches (tmpfs: gone at reboot)
  std::string state;         // pgpool's own pid file, pgpool_status, the query cache's oid dir
  std::string logs;          // pgguard-pgpool's and pgpool's output
  std::string config;        // generated files and TLS material: read-only for pgpool
  std::string pgpool_bin;    // the directory holding pgpool (the pgpool2 package's bin/)
  std::string postgres_dir;  // the postgres-15 package (libpq, which pgpool links)
  std::string pgguard;    // the pgguard package: bin/ (launcher, VIP client), libexec/pgguard/ping,
                          // share/pgguard/profiles/ (the profile templates)
  std::string isolation;  // the colocated isolation job's config: must be in force
};

struct Backend {
  std::string address;
  int port = 5432;
  // Its application_name (= its slot name) when it streams as a standby: pgpool finds it in
  // the primary's pg_stat_replication by this name (auto_failback, the replication check).
  std::string application_name;
};

// A login that reaches PostgreSQL through pgpool: pool_passwd holds its password (AES form),
// which pgpool needs to answer the client's scram exchange and to run its own with the backend.
struct PoolUser {
  std::string name;
  std::string password;
  Location where;
};

struct PoolSettings {
  int num_init_children = 32;  // concurrent client sessions
  int max_pool = 4;            // cached backend connections per child
  int child_life_time = 300;   // seconds an idle child lives
  int client_idle_limit = 0;   // seconds; 0 = no limit
  bool load_balance = true;    // read-only queries to the standby too
  // A lost primary counts as down after at most period + (retries + 1) x timeout + retries x
  // delay = 9 s; a crashed one, refusing, after about 3 s, and pgguard-failover then waits
  // restart_wait for monit to bring it back before promoting.
  int health_check_period = 1;
  int health_check_timeout = 2;
  int health_check_max_retries = 2;
  int health_check_retry_delay = 1;
  int sr_check_period = 10;
  // Seconds a detached primary whose VM refuses connections (a postmaster monit is starting
  // again) gets before its standby is promoted (pgguard-failover --restart-wait).
  int restart_wait = 20;
  std::string check_role;  // health and streaming-replication checks: a non-superuser
};

// The watchdog of three pgpool nodes (quorum and consensus): absent for a single node.
struct Watchdog {
  int port = 9000;
  int heartbeat_port = 9694;
  // Seconds between heartbeats, and without one before a node counts as lost: the deadtime is
  // most of the time the VIP takes to leave a lost holder.
  int heartbeat_keepalive = 1;
  int heartbeat_deadtime = 5;
  std::string authkey;
};

// The virtual IP the watchdog leader holds, moved by the VIP broker (pgguard-vip) on request.
struct Vip {
  std::string address;  // IPv4: pgpool's delegate_ip is IPv4 only
  int prefix = 32;
  std::string interface;
  std::string broker_user;  // the broker's account: holds CAP_NET_ADMIN + CAP_NET_RAW, nothing else
  std::string runtime;      // the broker's directory: its pid file (root's) and socket/ (its own)
};

struct PoolPlan {
  std::string job;   // "pgpool": names the processes in logs and the errand
  std::string user;  // pgpool's account
  int node_id = 0;   // pgpool_node_id: this VM's index among `nodes`
  std::string listen_address;
  int port = 9999;
  int pcp_port = 9898;
  std::vector<std::string> nodes;  // every pgpool VM, by index: 1 or 3
  std::vector<Backend> backends;   // backend 0 the primary (pg-master), 1 the standby
  std::vector<std::string> client_cidrs;
  PoolPaths paths;
  PoolSettings settings;
  std::vector<PoolUser> users;
  PoolUser pcp;
  // The role pgguard-failover logs in as to promote a standby and switch synchronous
  // replication (pgpool's failover and failback commands). None: pgpool only detaches and
  // attaches nodes, and promotion is the operator's.
  std::optional<PoolUser> failover;
  std::optional<Watchdog> watchdog;
  std::optional<Vip> vip;
  std::string tls_certificate;  // file names below paths.config
  std::string tls_private_key;
  std::string tls_ca;
  node::SandboxSettings sandbox;  // the job's sandbox properties (pgpool's profile)
  // The release's SELinux policy module package, loaded by pre-start where SELinux is
  // enabled; empty: none named.
  std::string selinux_module;
};

// Pure. Throws ConfigError (file:line: key: message) for every problem: unknown or missing
// keys; a node count other than 1 or 3, or a node_id outside it; listen_address not among the
// nodes; watchdog settings without three nodes or three nodes without them; a VIP without the
// watchdog, not IPv4, or equal to a node; the check role missing from users; names that are not
// plain identifiers; passwords pgpool cannot store; relative paths; a CIDR that is no network.
PoolPlan parse_pool_plan(const config::ConfigFile& file);

}  // namespace pgguard::pgpool
