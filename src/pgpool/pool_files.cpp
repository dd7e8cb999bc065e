#include "pgpool/pool_files.hpp"

#include <algorithm>

#include "common/strings.hpp"
#include "net/address.hpp"
#include "pgpool/pool_crypto.hpp"
#include "postgres/server_files.hpp"

namespace pgguard::pgpool {

namespace {

std::string quoted(const std::string& value) {
  return "'" + value + "'";
}

// The VIP broker's client, as pgpool runs it: the program name relative to if_cmd_path or
// arping_path, then its arguments; pgpool splits on spaces and puts the VIP for $_IP_$.
std::string broker_command(const PoolPlan& plan, const char* verb) {
  return "pgguard-vip --socket " + vip_socket_path(plan) + " " + verb + " $_IP_$";
}

void watchdog_settings(const PoolPlan& plan, TextBuilder& out) {
  if (!plan.watchdog) {
    out << "\n# One pgpool node: no watchdog.\nuse_watchdog = off\n";
    return;
  }
  const Watchdog& watchdog = *plan.watchdog;
  out << "\n# Watchdog of the three pgpool nodes: heartbeat lifecheck; failover only by quorum\n"
      << "# and consensus; the VIP only with quorum.\n"
      << "use_watchdog = on\n";
  for (std::size_t i = 0; i < plan.nodes.size(); ++i) {
    out << "hostname" << i << " = " << quoted(plan.nodes[i]) << "\n"
        << "wd_port" << i << " = " << watchdog.port << "\n"
        << "pgpool_port" << i << " = " << plan.port << "\n";
  }
  out << "wd_authkey = " << quoted(watchdog.authkey) << "\n"
      << "wd_ipc_socket_dir = " << quoted(plan.paths.runtime) << "\n"
      << "wd_priority = 1\n"
      << "wd_lifecheck_method = 'heartbeat'\n"
      // pgpool's lifecheck compares the heartbeats' arrival times every wd_interval seconds,
      // and starts only once every node has sent one, retrying every 10 x wd_interval: with
      // pgpool's own 10 s, a holder lost in the first 100 s after a start went unseen by the
      // lifecheck (the watchdog's 30 s beacon timeout found it, then a 10 s isolation wait).
      << "wd_interval = " << watchdog.heartbeat_keepalive << "\n"
      << "wd_heartbeat_keepalive = " << watchdog.heartbeat_keepalive << "\n"
      << "wd_heartbeat_deadtime = " << watchdog.heartbeat_deadtime << "\n";
  for (std::size_t i = 0; i < plan.nodes.size(); ++i) {
    // No device: binding the heartbeat to an interface needs root.
    out << "heartbeat_hostname" << i << " = " << quoted(plan.nodes[i]) << "\n"
        << "heartbeat_port" << i << " = " << watchdog.heartbeat_port << "\n"
        << "heartbeat_device" << i << " = ''\n";
  }
  out << "failover_when_quorum_exists = on\n"
      << "failover_require_consensus = on\n"
      << "allow_multiple_failover_requests_from_node = off\n"
      << "enable_consensus_with_half_votes = off\n"
      << "wd_escalation_command = ''\n"
      << "wd_de_escalation_command = ''\n";
  // ping runs inside pgpool's sandbox: pgguard-ping (an ICMP datagram socket for pgpool's
  // group), never the setuid or file-capability iputils ping.
  out << "ping_path = " << quoted(plan.paths.pgguard + "/libexec/pgguard") << "\n"
      << "trusted_servers = ''\n";
  if (!plan.vip) {
    out << "delegate_IP = ''\n";
    return;
  }
  out << "\n# The VIP: pgpool holds no capability; the VIP broker (its own account, with\n"
      << "# CAP_NET_ADMIN + CAP_NET_RAW only) moves this one address on request.\n"
      << "delegate_IP = " << quoted(plan.vip->address) << "\n"
      << "if_cmd_path = " << quoted(plan.paths.pgguard + "/bin") << "\n"
      << "if_up_cmd = " << quoted(broker_command(plan, "up")) << "\n"
      << "if_down_cmd = " << quoted(broker_command(plan, "down")) << "\n"
      << "arping_path = " << quoted(plan.paths.pgguard + "/bin") << "\n"
      << "arping_cmd = " << quoted(broker_command(plan, "announce")) << "\n";
}

// pgguard-failover inside pgpool's sandbox (docs/high-availability.md): the failover role
// promotes; a standby attached again once it streams (auto_failback, the rewound old
// primary included) gets synchronous replication back.
std::string failover_settings(const PoolPlan& plan) {
  TextBuilder out;
  if (!plan.failover) {
    out << "\n# No failover role: pgpool detaches and attaches nodes; promotion is the "
           "operator's.\n"
        << "failover_command = ''\n"
        << "failback_command = ''\n"
        << "auto_failback = off\n";
  } else {
    // A detached primary whose VM refuses gets restart_wait to be back before its standby is
    // promoted; back, pgpool attaches it again over PCP's unix socket.
    const auto for_event = [&plan](const std::string& event, const std::string& options) {
      return plan.paths.pgguard + "/bin/pgguard-failover " + event + " --psql " +
             plan.paths.postgres_dir + "/bin/psql --ca " + plan.paths.config + "/" + plan.tls_ca +
             " --passfile " + pool_pgpass_path(plan) + " --role " + plan.failover->name + options +
             " -- \"%d\" \"%h\" \"%p\" \"%P\" \"%H\" \"%r\" \"%N\" \"%S\"";
    };
    const std::string restart_options =
        " --restart-wait " + std::to_string(plan.settings.restart_wait) + " --pcp-attach " +
        plan.paths.pgpool_bin + "/pcp_attach_node --pcp-socket " + plan.paths.runtime +
        " --pcp-port " + std::to_string(plan.pcp_port) + " --pcp-user " + plan.pcp.name +
        " --pcp-passfile " + pcp_pass_path(plan);
    out << "\n# Failover by pgguard-failover, as the failover role over TLS (no remote shell).\n"
        << "failover_command = " << quoted(for_event("detached", restart_options)) << "\n"
        << "failback_command = " << quoted(for_event("attached", "")) << "\n"
        << "auto_failback = on\n"
        << "auto_failback_interval = 10\n";
  }
  // After a failover_command pgpool looks for the primary among the nodes it has attached; a
  // primary kept (pgguard-failover) is attached again only once that search has ended.
  out << "follow_primary_command = ''\n"
      << "search_primary_node_timeout = 10\n";
  return out.str();
}

}  // namespace

std::map<std::string, std::string> profile_placeholders(const PoolPlan& plan) {
  std::vector<std::string> connect_ports;
  for (const auto& backend : plan.backends) {
    connect_ports.push_back(std::to_string(backend.port));
  }
  std::map<std::string, std::string> values = {{"USER", plan.user},
                                               {"GROUP", plan.user},
                                               {"RUN_DIR", plan.paths.state},
                                               {"SOCKET_DIR", plan.paths.runtime},
                                               {"LOG_DIR", plan.paths.logs},
                                               {"CONF_DIR", plan.paths.config},
                                               {"PGPOOL_DIR", plan.paths.pgpool_bin},
                                               {"POSTGRES_DIR", plan.paths.postgres_dir},
                                               {"PGGUARD_DIR", plan.paths.pgguard},
                                               {"PORT", std::to_string(plan.port)},
                                               {"PCP_PORT", std::to_string(plan.pcp_port)}};
  // pgpool's own port: post-start's check on this node; with the watchdog, the other nodes'.
  connect_ports.push_back(std::to_string(plan.port));
  if (plan.watchdog) {
    connect_ports.push_back(std::to_string(plan.watchdog->port));
    values["WD_PORT"] = std::to_string(plan.watchdog->port);
  }
  std::sort(connect_ports.begin(), connect_ports.end());
  connect_ports.erase(std::unique(connect_ports.begin(), connect_ports.end()), connect_ports.end());
  values["CONNECT_PORTS"] = join(connect_ports, ",");
  return values;
}

std::map<std::string, std::string> broker_placeholders(const PoolPlan& plan) {
  return {{"USER", plan.vip->broker_user},
          {"GROUP", plan.user},
          {"RUN_DIR", plan.vip->runtime + "/socket"},
          {"PGGUARD_DIR", plan.paths.pgguard},
          {"VIP_CONFIG", vip_broker_conf_path(plan)}};
}

std::string pgpool_conf_path(const PoolPlan& plan) {
  return plan.paths.config + "/pgpool.conf";
}
std::string pool_hba_conf_path(const PoolPlan& plan) {
  return plan.paths.config + "/pool_hba.conf";
}
std::string pcp_pass_path(const PoolPlan& plan) {
  return plan.paths.config + "/pcppass";
}

std::string pcp_conf_path(const PoolPlan& plan) {
  return plan.paths.config + "/pcp.conf";
}
std::string pool_passwd_path(const PoolPlan& plan) {
  return plan.paths.config + "/pool_passwd";
}
std::string pool_key_path(const PoolPlan& plan) {
  return plan.paths.config + "/pgpool.key";
}
std::string vip_broker_conf_path(const PoolPlan& plan) {
  return plan.paths.config + "/vip.conf";
}
std::string pool_pgpass_path(const PoolPlan& plan) {
  return plan.paths.config + "/pgpass";
}
std::string vip_socket_path(const PoolPlan& plan) {
  return plan.vip->runtime + "/socket/vip.sock";
}

std::string render_vip_broker_conf(const PoolPlan& plan) {
  if (!plan.vip) {
    return {};
  }
  TextBuilder out;
  out << "# Generated by pgguard-pgpool from " << plan.job
      << "'s config/pool.conf; do not edit (docs/jobs.md).\n"
      << "address = " << plan.vip->address << "/" << plan.vip->prefix << "\n"
      << "interface = " << plan.vip->interface << "\n"
      << "socket = " << vip_socket_path(plan) << "\n"
      << "client = " << plan.user << "\n";
  return out.str();
}

std::string render_pgpool_conf(const PoolPlan& plan) {
  const PoolSettings& settings = plan.settings;
  const std::string& runtime = plan.paths.runtime;
  TextBuilder out;
  out << "# Generated by pgguard-pgpool from " << plan.job
      << "'s config/pool.conf; do not edit (docs/jobs.md).\n"
      << "backend_clustering_mode = 'streaming_replication'\n"
      << "\n# Connections. With a VIP pgpool must accept on an address it does not hold yet: it\n"
      << "# listens on all, and the isolation table decides who reaches the port.\n"
      << "listen_addresses = " << quoted(plan.vip ? "*" : plan.listen_address) << "\n"
      << "port = " << plan.port << "\n"
      << "socket_dir = " << quoted(runtime) << "\n"
      << "pcp_listen_addresses = " << quoted(plan.listen_address) << "\n"
      << "pcp_port = " << plan.pcp_port << "\n"
      << "pcp_socket_dir = " << quoted(runtime) << "\n"
      << "num_init_children = " << settings.num_init_children << "\n"
      << "max_pool = " << settings.max_pool << "\n"
      << "child_life_time = " << settings.child_life_time << "\n"
      << "client_idle_limit = " << settings.client_idle_limit << "\n"
      << "reserved_connections = 0\n"
      << "\n# Authentication: pool_hba.conf (scram over TLS), passwords from pool_passwd.\n"
      << "enable_pool_hba = on\n"
      << "pool_passwd = " << quoted(pool_passwd_path(plan)) << "\n"
      << "allow_clear_text_frontend_auth = off\n"
      << "authentication_timeout = 60\n"
      << "\n# TLS for clients and backends. pgpool 4.3 has no minimum protocol setting; ciphers\n"
      << "# that exist only from TLS 1.2 on leave older versions nothing to negotiate.\n"
      << "ssl = on\n"
      << "ssl_cert = " << quoted(plan.paths.config + "/" + plan.tls_certificate) << "\n"
      << "ssl_key = " << quoted(plan.paths.config + "/" + plan.tls_private_key) << "\n"
      << "ssl_ciphers = 'ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL'\n"
      << "ssl_prefer_server_ciphers = on\n"
      << "ssl_ecdh_curve = 'prime256v1'\n"
      << "\n# Backends: 0 the primary (pg-master), 1 the standby.\n";
  for (std::size_t i = 0; i < plan.backends.size(); ++i) {
    out << "backend_hostname" << i << " = " << quoted(plan.backends[i].address) << "\n"
        << "backend_port" << i << " = " << plan.backends[i].port << "\n"
        << "backend_weight" << i << " = 1\n"
        << "backend_application_name" << i << " = " << quoted(plan.backends[i].application_name)
        << "\n"
        << "backend_flag" << i << " = 'ALLOW_TO_FAILOVER'\n";
  }
  out << "load_balance_mode = " << (settings.load_balance ? "on" : "off") << "\n"
      << "\n# Checks, as a non-superuser role; the empty passwords make pgpool take them from\n"
      << "# pool_passwd.\n"
      << "health_check_period = " << settings.health_check_period << "\n"
      << "health_check_timeout = " << settings.health_check_timeout << "\n"
      << "health_check_user = " << quoted(settings.check_role) << "\n"
      << "health_check_password = ''\n"
      << "health_check_database = 'postgres'\n"
      << "health_check_max_retries = " << settings.health_check_max_retries << "\n"
      << "health_check_retry_delay = " << settings.health_check_retry_delay
      << "\n"
      // pgpool's own connections to a backend (its children, the replication check) give up
      // as the health check does: with pgpool's 10 s the replication check, connecting to a
      // lost primary, held the lock pgpool's search for the new primary needs, and writes
      // resumed up to 9 s after the promotion.
      << "connect_timeout = " << settings.health_check_timeout * 1000 << "\n"
      << "sr_check_period = " << settings.sr_check_period << "\n"
      << "sr_check_user = " << quoted(settings.check_role) << "\n"
      << "sr_check_password = ''\n"
      << "sr_check_database = 'postgres'\n"
      << failover_settings(plan)
      << "\n# Files pgpool writes besides its sockets: all in its state directory.\n"
      << "pid_file_name = " << quoted(plan.paths.state + "/pgpool-main.pid") << "\n"
      << "logdir = " << quoted(plan.paths.state) << "\n"
      << "memory_cache_enabled = off\n"
      << "memqcache_oiddir = " << quoted(plan.paths.state + "/oiddir") << "\n"
      << "\n# Logging to stderr, which the job's log keeps.\n"
      << "log_destination = 'stderr'\n"
      << "logging_collector = off\n"
      << "log_line_prefix = '%m: %a pid %p: '\n"
      << "log_connections = on\n"
      << "log_disconnections = on\n"
      << "log_hostname = off\n";
  watchdog_settings(plan, out);
  return out.str();
}

std::string render_pool_hba_conf(const PoolPlan& plan) {
  TextBuilder out;
  out << "# Generated by pgguard-pgpool from " << plan.job
      << "'s config/pool.conf; do not edit (docs/jobs.md).\n"
      << "# TYPE  DATABASE  USER  ADDRESS  METHOD\n"
      << "# The superuser never logs in through pgpool (nor remotely at all).\n"
      << "hostssl all postgres 0.0.0.0/0 reject\n"
      << "hostssl all postgres ::/0 reject\n"
      << "# post-start's check, from this VM's own address.\n"
      << "hostssl " << kCheckDatabase << " " << plan.settings.check_role << " "
      << net::Cidr::host(net::Address::parse(plan.listen_address)).to_string() << " scram-sha-256\n"
      << "# Applications: TLS and scram-sha-256 only; a plain connection matches no line.\n";
  for (const auto& cidr : plan.client_cidrs) {
    out << "hostssl all all " << cidr << " scram-sha-256\n";
  }
  return out.str();
}

std::string render_pool_pgpass(const PoolPlan& plan) {
  const auto user = std::find_if(plan.users.begin(), plan.users.end(), [&plan](const PoolUser& u) {
    return u.name == plan.settings.check_role;
  });
  std::string out = postgres::passfile_entry(plan.listen_address, plan.port, kCheckDatabase,
                                             user->name, user->password);
  if (plan.failover) {
    for (const auto& backend : plan.backends) {
      out += postgres::passfile_entry(backend.address, backend.port, "postgres",
                                      plan.failover->name, plan.failover->password);
    }
  }
  return out;
}

std::string render_pcp_pass(const PoolPlan& plan) {
  // libpq's format without the database field; the host field matches the socket directory.
  return "*:" + std::to_string(plan.pcp_port) + ":" + plan.pcp.name + ":" +
         postgres::passfile_escape(plan.pcp.password) + "\n";
}

std::string render_pcp_conf(const PoolPlan& plan) {
  return "# Generated by pgguard-pgpool; do not edit.\n" + plan.pcp.name + ":" +
         md5_hex(plan.pcp.password) + "\n";
}

std::string render_pool_passwd(const PoolPlan& plan, std::string_view key) {
  std::string out;
  for (const auto& user : plan.users) {
    out += user.name + ":" + aes_pool_password(user.password, key) + "\n";
  }
  return out;
}

std::string render_node_id(const PoolPlan& plan) {
  return std::to_string(plan.node_id) + "\n";
}

}  // namespace pgguard::pgpool
