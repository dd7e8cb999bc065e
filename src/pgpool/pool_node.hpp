#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "pgpool/pool_plan.hpp"

// The I/O half of a pgpool node: generated files, monit's start (isolation gate, then the
// launcher) and stop. pgpool runs only through pgguard-launch under its profile, as its own
// account, never as root and never unsandboxed.
namespace pgguard::pgpool {

// pre-start, before anything of the node runs: the release's SELinux policy module loaded and
// the job's directories and packages relabelled where SELinux is enabled
// (node/selinux_policy.hpp). Returns one line per change.
std::vector<std::string> load_policy(const PoolPlan& plan);

// Writes pgpool.conf, pool_hba.conf, pcp.conf, pool_passwd, pgpool_node_id and the launcher
// profile into paths.config; creates the pool_passwd key once (pgpool.key, 0600 for pgpool)
// and keeps it. Only what differs is rewritten. Returns one line per file written.
std::vector<std::string> write_pool_files(const PoolPlan& plan);

std::string pgpool_profile_path(const PoolPlan& plan);
std::string vip_broker_profile_path(const PoolPlan& plan);
std::string vip_broker_pid_path(const PoolPlan& plan);
// The pid file monit watches (the launcher writes it); pgpool's own is pgpool-main.pid.
std::string pgpool_pid_path(const PoolPlan& plan);

// monit's start: waits (bounded) until the colocated isolation table is in force, lets
// pgpool's group open ICMP datagram sockets (the watchdog's pings), removes a stale pid file of
// pgpool's own (pgpool refuses to start over one that names a live process), then replaces
// this process with the launcher running pgpool in the foreground under its profile.
[[noreturn]] void exec_pgpool(const PoolPlan& plan, std::chrono::seconds isolation_wait);

// monit's start of the VIP broker (only with a VIP): replaces this process with the launcher
// running `pgguard-vip serve` under the vip-helper profile, as the broker's account, with the
// pid file monit watches. Throws Error(bad_input) without a VIP.
[[noreturn]] void exec_vip_broker(const PoolPlan& plan);

// monit's stop of the VIP broker: SIGTERM (it finishes the request in hand and removes its
// socket; the VIP stays where it is: pgpool's if_down_cmd decides) to the broker the pid file
// names, only if it is pgguard-vip of the broker's account; SIGKILL after `grace`.
std::string stop_vip_broker(const PoolPlan& plan, std::chrono::seconds grace);

// post-start: waits (bounded by `wait`) until pgpool accepts a TLS (verify-full) + scram login
// as the check role on the VM's own address and answers SHOW pool_nodes; returns one line with
// the backends it sees. Throws Error(system) otherwise.
std::string check_pgpool(const PoolPlan& plan, std::chrono::seconds wait);

// monit's stop: SIGINT (fast shutdown: pgpool gives the VIP up and ends its sessions) to the
// pgpool named by the pid file, only if it runs as pgpool's account; SIGQUIT after `grace`.
std::string stop_pgpool(const PoolPlan& plan, std::chrono::seconds grace);

}  // namespace pgguard::pgpool
