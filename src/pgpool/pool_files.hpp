#pragma once

#include <map>
#include <string>
#include <string_view>

#include "pgpool/pool_plan.hpp"

// pgpool-II's configuration, generated from the pool plan. The same pgpool.conf on every node
// (pgpool >= 4.2 reads its own id from pgpool_node_id beside it).
namespace pgguard::pgpool {

// Pure. pgpool.conf: streaming-replication clustering over both backends; clients over TLS
// 1.2+ only, authenticated by pool_hba.conf (enable_pool_hba on, no clear-text frontend
// auth); health and streaming-replication checks as a non-superuser role whose password comes
// from pool_passwd; with three nodes the watchdog (heartbeat, quorum, consensus) and, with a
// VIP, if_up/if_down/arping through the VIP broker's client and ping through pgguard-ping.
std::string render_pgpool_conf(const PoolPlan& plan);

// Pure. pool_hba.conf, first match wins: the superuser refused; the check role from the VM's
// own address (post-start's check); every role of pool_passwd over TLS with scram-sha-256 from
// the application networks; nothing else (no line matches: refused).
std::string render_pool_hba_conf(const PoolPlan& plan);

// Pure. pcp.conf: the PCP user with the MD5 of its password.
std::string render_pcp_conf(const PoolPlan& plan);
// pcp_attach_node's password file (PCPPASSFILE), pgpool's own: pgguard-failover attaches a
// primary it kept.
std::string render_pcp_pass(const PoolPlan& plan);

// Pure. pool_passwd: every user's password in AES form under `key`.
std::string render_pool_passwd(const PoolPlan& plan, std::string_view key);

// Pure. The VIP broker's configuration (pgguard-vip serve --config): the VIP with its prefix,
// the interface, the socket, pgpool's account as the one client. Empty without a VIP.
std::string render_vip_broker_conf(const PoolPlan& plan);
// The broker's socket: in a directory of its own below vip.runtime, which holds the pid file
// root writes (the broker may write the socket directory, never the file monit trusts).
std::string vip_socket_path(const PoolPlan& plan);

// Pure. pgpool's password file (libpq's format; written 0600 for pgpool: libpq ignores it
// otherwise): the check role's for post-start's login through pgpool on the VM's own address,
// and the failover role's for pgguard-failover on each backend.
std::string render_pool_pgpass(const PoolPlan& plan);
// The database post-start's check logs in to.
inline constexpr const char* kCheckDatabase = "postgres";

// Pure. The values of the placeholders of pgpool's profile template and, with a VIP, of the
// broker's (src/profiles/README.md).
std::map<std::string, std::string> profile_placeholders(const PoolPlan& plan);
std::map<std::string, std::string> broker_placeholders(const PoolPlan& plan);

// Pure. pgpool_node_id.
std::string render_node_id(const PoolPlan& plan);

// Where the files live: paths.config, root-owned and read-only for pgpool, which must not be
// able to rewrite its own access rules or sandbox.
std::string pgpool_conf_path(const PoolPlan& plan);
std::string pool_hba_conf_path(const PoolPlan& plan);
std::string pcp_conf_path(const PoolPlan& plan);
std::string pcp_pass_path(const PoolPlan& plan);
std::string pool_passwd_path(const PoolPlan& plan);
std::string pool_key_path(const PoolPlan& plan);
std::string vip_broker_conf_path(const PoolPlan& plan);
std::string pool_pgpass_path(const PoolPlan& plan);

}  // namespace pgguard::pgpool
