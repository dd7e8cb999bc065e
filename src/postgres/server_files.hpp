#pragma once

#include <map>
#include <string>
#include <string_view>

#include "postgres/node_plan.hpp"

// The server's configuration, generated from the node plan by the same code on the primary and
// the standby: after a failover the two swap roles, so both must already allow what the other
// role needs (replication from the other PostgreSQL VM, clients from pgpool).
namespace pgguard::postgres {

// Pure. postgresql.conf: listens on the VM's own address and the unix socket only; TLS on with
// a minimum protocol version; scram-sha-256 password storage; connection logging; WAL and
// replication settings for streaming with slots; synchronous commit by property.
std::string render_postgresql_conf(const NodePlan& plan);

// Pure. pg_hba.conf, first match wins: the superuser only over the unix socket as its own OS
// user (peer); no remote superuser at all; replication only from the other PostgreSQL VM;
// every other TCP client only from pgpool's VMs and the VIP, over TLS with scram-sha-256; an
// explicit reject for everything else.
std::string render_pg_hba_conf(const NodePlan& plan);

// Pure. The values of the shipped profile templates' placeholders for this node
// (src/profiles/README.md).
std::map<std::string, std::string> profile_placeholders(const NodePlan& plan);

// Where pg_basebackup copies the primary before the copy is renamed into paths.data (its
// profile's DATA_DIR).
std::string basebackup_staging_path(const NodePlan& plan);

// Pure. A field of libpq's password file (and pcp's), its ':' and '\' escaped.
std::string passfile_escape(std::string_view field);

// Pure. One line of libpq's password file, its ':' and '\' escaped.
std::string passfile_entry(const std::string& host, int port, const std::string& database,
                           const std::string& user, const std::string& password);

// Pure. The replication role's password file (libpq's passfile format, database
// "replication"): for post-start's check on the node's own address, and on a standby for its
// connection to the primary; with a failover role, also that role's to the peer, with which the
// drain of a primary promotes its peer. Written 0600 for the node's user: libpq ignores a
// password file that others can read.
std::string render_pgpass(const NodePlan& plan);
std::string pgpass_path(const NodePlan& plan);

// Pure. The libpq connection string a standby streams and copies its primary with: TLS with the
// primary's certificate verified against the CA, the password from the password file, the slot
// name as application_name (what synchronous_standby_names on the primary lists).
std::string primary_conninfo(const NodePlan& plan);

// Where the generated files live: paths.config, root-owned and read-only for postgres, which
// must not be able to rewrite its own access rules or sandbox.
std::string postgresql_conf_path(const NodePlan& plan);
std::string pg_hba_conf_path(const NodePlan& plan);

}  // namespace pgguard::postgres
