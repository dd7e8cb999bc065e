#include "pgpool/pool_node.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>

#include "common/child_process.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/job_command_line.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"
#include "node/crash_leftovers.hpp"
#include "node/sandbox_settings.hpp"
#include "node/selinux_policy.hpp"
#include "node/service_process.hpp"
#include "node/setup_apply.hpp"
#include "pgpool/pool_crypto.hpp"
#include "pgpool/pool_files.hpp"
#include "sandbox/account_files.hpp"

namespace pgguard::pgpool {

namespace {

// The launcher keeps only what the profile names; this is what it itself needs.
const std::vector<std::string> kEnvironment = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};

std::string launcher(const PoolPlan& plan) {
  return plan.paths.pgguard + "/bin/pgguard-launch";
}

// The key pool_passwd is encrypted with: made once, then kept, so that an unchanged password
// list leaves pool_passwd unchanged. Readable by pgpool alone (pgpool refuses a key file others
// can read).
std::string pool_key(const PoolPlan& plan, std::vector<std::string>& written) {
  const std::string path = pool_key_path(plan);
  std::string key;
  try {
    key = std::string(trim(read_regular_file(path)));
  } catch (const SystemError& error) {
    if (error.errno_value() != ENOENT) {
      throw;
    }
  }
  if (key.size() < 32 || key.find_first_not_of("0123456789abcdef") != std::string::npos) {
    key = random_hex_key(32);
    written.push_back("made a new pool_passwd key " + path);
  }
  if (node::install_content(path, key + "\n", node::Ownership{plan.user, plan.user, 0600}) &&
      written.empty()) {
    written.push_back("wrote " + path);
  }
  return key;
}

}  // namespace

std::string pgpool_profile_path(const PoolPlan& plan) {
  return plan.paths.config + "/pgpool.profile";
}
std::string pgpool_pid_path(const PoolPlan& plan) {
  return plan.paths.runtime + "/pgpool.pid";
}
std::string vip_broker_profile_path(const PoolPlan& plan) {
  return plan.paths.config + "/vip-helper.profile";
}
std::string vip_broker_pid_path(const PoolPlan& plan) {
  return plan.vip->runtime + "/broker.pid";
}

std::vector<std::string> load_policy(const PoolPlan& plan) {
  std::vector<std::string> paths = {
      directory_of(plan.paths.config),     plan.paths.logs,         plan.paths.runtime,
      directory_of(plan.paths.pgpool_bin), plan.paths.postgres_dir, plan.paths.pgguard};
  if (plan.vip) {
    paths.push_back(plan.vip->runtime);
  }
  return node::load_selinux_policy({plan.selinux_module, paths, plan.sandbox.selinux_required});
}

std::vector<std::string> write_pool_files(const PoolPlan& plan) {
  std::vector<std::string> written;
  const std::string key = pool_key(plan, written);
  const auto values = profile_placeholders(plan);
  const std::string profiles = plan.paths.pgguard + "/share/pgguard/profiles/";
  const std::string template_path =
      profiles + (plan.watchdog ? "pgpool-watchdog.conf.in" : "pgpool.conf.in");
  // pgpool gets the operator's sandbox settings; the broker, which holds capabilities, only
  // what is required.
  const auto render = [](const std::string& path,
                         const std::map<std::string, std::string>& placeholders,
                         node::ProfileAdjustment adjustment, std::string_view domain) {
    adjustment.selinux_context = node::selinux_domain(domain);
    return node::render_profile(read_regular_file(path), path, placeholders, adjustment);
  };
  // Read by pgpool (group), written by root only; the profile is read by the launcher (root).
  const node::Ownership readable{"root", plan.user, 0640};
  std::vector<std::tuple<std::string, std::string, node::Ownership>> files = {
      {pgpool_conf_path(plan), render_pgpool_conf(plan), readable},
      {plan.paths.config + "/pgpool_node_id", render_node_id(plan), readable},
      {pool_hba_conf_path(plan), render_pool_hba_conf(plan), readable},
      {pcp_conf_path(plan), render_pcp_conf(plan), readable},
      {pool_passwd_path(plan), render_pool_passwd(plan, key), readable},
      {pool_pgpass_path(plan), render_pool_pgpass(plan),
       node::Ownership{plan.user, plan.user, 0600}},
      {pcp_pass_path(plan), render_pcp_pass(plan), node::Ownership{plan.user, plan.user, 0600}},
      {pgpool_profile_path(plan),
       render(template_path, values, node::service_adjustment(plan.sandbox), "secpg_pgpool_t"),
       node::Ownership{"root", "root", 0600}},
  };
  if (plan.vip) {
    // The broker runs as its own account in pgpool's group: the socket it creates (0660) then
    // reaches pgpool and nobody else.
    const std::string broker_template = profiles + "vip-helper.conf.in";
    // Read by the broker through the group it runs with (pgpool's); it holds no secret.
    files.emplace_back(vip_broker_conf_path(plan), render_vip_broker_conf(plan),
                       node::Ownership{"root", plan.user, 0640});
    files.emplace_back(vip_broker_profile_path(plan),
                       render(broker_template, broker_placeholders(plan),
                              node::tool_adjustment(plan.sandbox), "secpg_vip_t"),
                       node::Ownership{"root", "root", 0600});
  }
  for (const auto& [path, content, ownership] : files) {
    if (node::install_content(path, content, ownership)) {
      written.push_back("wrote " + path);
    }
  }
  return written;
}

void exec_vip_broker(const PoolPlan& plan) {
  if (!plan.vip) {
    throw Error(ExitCode::bad_input, "the plan has no VIP: there is no broker to start");
  }
  node::exec_program(node::launcher_argv(launcher(plan), vip_broker_profile_path(plan),
                                         {plan.paths.pgguard + "/bin/pgguard-vip", "serve",
                                          "--config", vip_broker_conf_path(plan)},
                                         vip_broker_pid_path(plan)),
                     kEnvironment);
}

std::string stop_vip_broker(const PoolPlan& plan, std::chrono::seconds grace) {
  if (!plan.vip) {
    return "no VIP, no broker";
  }
  return node::stop_process({vip_broker_pid_path(plan), plan.vip->broker_user, "pgguard-vip",
                             SIGTERM, grace, SIGKILL, "stop", "kill"});
}

void exec_pgpool(const PoolPlan& plan, std::chrono::seconds isolation_wait) {
  node::wait_for_isolation(plan.paths.isolation, isolation_wait, "pgpool");
  if (plan.watchdog) {
    // pgguard-ping's ICMP datagram socket needs pgpool's group in this range (per network
    // namespace, lost at reboot: set at every start). Only pgpool's group, nothing wider.
    const auto user =
        sandbox::find_user(read_regular_file("/etc/passwd"), plan.user, "/etc/passwd");
    if (!user) {
      throw Error(ExitCode::system, "account " + plan.user + " does not exist (run pre-start)");
    }
    const std::string range =
        std::to_string(user->primary_gid) + "\t" + std::to_string(user->primary_gid) + "\n";
    const UniqueFd sysctl(
        ::open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY | O_TRUNC | O_CLOEXEC));
    if (!sysctl ||
        ::write(sysctl.get(), range.data(), range.size()) != static_cast<ssize_t>(range.size())) {
      throw SystemError("cannot set net.ipv4.ping_group_range to pgpool's group", errno);
    }
  }
  // pgpool refuses to start while its own pid file names a live process, which after a crash
  // may be any process that got the pid since.
  const std::string own_pid_file = plan.paths.state + "/pgpool-main.pid";
  if (!node::running_process(own_pid_file, plan.user, "pgpool") &&
      !node::running_process(pgpool_pid_path(plan), plan.user, "pgpool")) {
    if (::unlink(own_pid_file.c_str()) != 0 && errno != ENOENT) {
      throw SystemError("cannot remove the stale " + own_pid_file, errno);
    }
    // No pgpool runs, so any pgpool process of the account is the orphan of a main process
    // killed with -9: it holds the ports the new pgpool must bind, and the dead one's shared
    // memory would otherwise stay until the VM reboots.
    print_lines(
        node::clear_crash_leftovers({"pgpool", plan.user, plan.paths.pgpool_bin + "/pgpool"}));
  }
  node::exec_program(node::launcher_argv(launcher(plan), pgpool_profile_path(plan),
                                         {plan.paths.pgpool_bin + "/pgpool", "-n", "-f",
                                          pgpool_conf_path(plan), "-F", pcp_conf_path(plan), "-a",
                                          pool_hba_conf_path(plan), "-k", pool_key_path(plan)},
                                         pgpool_pid_path(plan)),
                     kEnvironment);
}

std::string check_pgpool(const PoolPlan& plan, std::chrono::seconds wait) {
  const std::string endpoint = plan.listen_address + ":" + std::to_string(plan.port);
  const std::string conninfo =
      "host=" + plan.listen_address + " port=" + std::to_string(plan.port) +
      " user=" + plan.settings.check_role + " dbname=" + kCheckDatabase +
      " sslmode=verify-full sslrootcert=" + plan.paths.config + "/" + plan.tls_ca +
      " passfile=" + pool_pgpass_path(plan) + " connect_timeout=5";
  // psql from the postgres-15 package, under pgpool's own profile and account: nothing of this
  // check runs as root.
  const auto result =
      run_child_until({node::launcher_argv(launcher(plan), pgpool_profile_path(plan),
                                           {plan.paths.postgres_dir + "/bin/psql", "--no-psqlrc",
                                            "--no-align", "--tuples-only", "--field-separator=|",
                                            "--command=SHOW pool_nodes", conninfo}),
                       kEnvironment, std::nullopt, std::chrono::seconds(30)},
                      wait, [](const ChildResult& answer) { return answer.exit_code == 0; });
  if (result.exit_code != 0) {
    throw Error(ExitCode::system, "pgpool does not accept a TLS + scram login on " + endpoint +
                                      " (within " + std::to_string(wait.count()) +
                                      " s): " + result.output);
  }
  // node_id|hostname|port|status|pg_status|lb_weight|role|...: "hostname status role" each.
  std::vector<std::string> backends;
  for (const auto& row : split(result.output, "\n")) {
    const auto fields = split(row, "|");
    if (fields.size() >= 7) {
      backends.push_back(fields[1] + " " + fields[3] + " " + fields[6]);
    }
  }
  if (backends.empty()) {
    throw Error(ExitCode::system,
                "SHOW pool_nodes through " + endpoint + " answered no backend: " + result.output);
  }
  return plan.job + ": accepts TLS + scram on " + endpoint + " as " + plan.settings.check_role +
         "; backends: " + join(backends, ", ");
}

std::string stop_pgpool(const PoolPlan& plan, std::chrono::seconds grace) {
  return node::stop_process({pgpool_pid_path(plan), plan.user, "pgpool", SIGINT, grace, SIGQUIT,
                             "fast shutdown", "immediate shutdown"});
}

}  // namespace pgguard::pgpool
