#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/config_file.hpp"
#include "common/error.hpp"
#include "node/sandbox_settings.hpp"

// The data one PostgreSQL node of the release runs from: what its job rendered from properties
// and links (config/node.conf), read by pgguard-postgres for pre-start, monit's start and stop.
// The same format serves pg-master (kind = primary) and pg-standby (kind = standby); what the
// two share (postgresql.conf, pg_hba.conf, the sandbox profiles) is generated from it by one
// piece of code. Reference: docs/jobs.md.
namespace pgguard::postgres {

enum class NodeKind { primary, standby };

struct NodePaths {
  std::string data;          // the cluster (PGDATA), on the persistent disk
  std::string archive;       // WAL archive (archive_command), persistent disk
  std::string scratch;       // COPY files and tablespaces, ephemeral disk
  std::string runtime;       // unix socket, pid file, rendered profiles
  std::string logs;          // server log
  std::string config;        // postgresql.conf, pg_hba.conf, TLS files: read-only for postgres
  std::string postgres_bin;  // initdb, postgres, psql, pg_basebackup
  std::string launcher;      // pgguard-launch
  std::string profiles;      // the profile templates shipped with pgguard
  std::string isolation;     // the colocated isolation job's config: must be in force
};

struct ServerSettings {
  int max_connections = 100;
  std::string shared_buffers = "128MB";
  std::string work_mem = "4MB";
  std::string max_slot_wal_keep_size = "1GB";
  std::string wal_keep_size = "1GB";  // kept for a rewind of the peer (pg_rewind)
  bool synchronous_commit = true;
  std::string ssl_min_protocol_version = "TLSv1.2";
};

// A role of the properties. Passwords are kept only until hashed into verifiers.
struct RoleSpec {
  std::string name;
  std::string password;
  bool login = true;
  bool create_database = false;
  bool create_role = false;
  bool replication = false;
  // Function and parameter privileges beyond the attributes (roles_plan.hpp has the grants):
  // the failover role promotes a standby and switches synchronous replication; the
  // replication role reads the files pg_rewind needs from its peer.
  bool failover = false;
  bool rewind = false;
  std::vector<std::string> member_of;  // e.g. pg_monitor for pgpool's checks
  Location where;
};

struct DatabaseSpec {
  std::string name;
  std::string owner;
  std::vector<std::string> extensions;
  Location where;
};

struct NodePlan {
  NodeKind kind = NodeKind::primary;
  std::string job;  // pg-master | pg-standby: names the processes in logs and the errand
  std::string user;
  std::string listen_address;
  int port = 5432;
  NodePaths paths;
  ServerSettings server;
  std::string tls_certificate;  // file names below paths.config
  std::string tls_private_key;
  std::string tls_ca;
  // Who may connect: replication only from `replica_addresses` (the other PostgreSQL VM, in
  // either role after a failover), everything else only from pgpool and the VIP.
  std::vector<std::string> replica_addresses;
  std::vector<std::string> pgpool_addresses;
  std::vector<std::string> vip_addresses;
  std::string replication_role;  // one of `roles`, with replication
  // One of `roles`, logging in only from pgpool: pgpool's failover and failback commands
  // (pgguard-failover) promote and switch synchronous replication as this role. Empty: none.
  std::string failover_role;
  // Either VM may be the primary: the pg-standby VM after a failover, the pg-master VM again
  // after it rejoined. Which one it is now is the data directory's standby.signal, never the
  // job (cluster.hpp). The plan holds both sides:
  // - as a primary: the physical slots it keeps for its peer, and the synchronous standbys;
  std::vector<std::string> replication_slots;
  std::vector<std::string> synchronous_standbys;  // application_name = slot name
  // - as a standby: the peer it copies and streams from, and its own slot there (also its
  //   application_name). Empty on a pg-master without a standby.
  std::string upstream_address;
  std::string stream_slot;
  std::vector<RoleSpec> roles;
  std::vector<DatabaseSpec> databases;
  node::SandboxSettings sandbox;  // the job's sandbox properties
  // The release's SELinux policy module package, loaded by pre-start where SELinux is
  // enabled; empty: none named.
  std::string selinux_module;
};

// Pure. Throws ConfigError (file:line: key: message) for every problem: unknown or missing
// keys, names that are not plain SQL identifiers, passwords the release cannot hash, addresses
// that are not IP addresses, relative paths, references to undeclared roles.
NodePlan parse_node_plan(const config::ConfigFile& file);

// Pure: lower-case SQL identifiers only ([a-z_][a-z0-9_]{0,62}, not pg_*): names end up in
// statements, in pg_hba.conf and in psql meta-commands, and need no quoting rules anywhere.
void check_identifier(const std::string& name, const Location& where, const std::string& key);

}  // namespace pgguard::postgres
