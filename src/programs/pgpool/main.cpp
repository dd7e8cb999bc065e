// pgguard-pgpool: one pgpool-II node of the release, from its job's config/pool.conf
// (src/pgpool/pool_plan.hpp): pre-start, monit's start and stop of pgpool and its VIP broker.
#include <sys/stat.h>

#include <chrono>
#include <iostream>
#include <string>

#include "common/background.hpp"
#include "common/config_file.hpp"
#include "common/error.hpp"
#include "common/job_command_line.hpp"
#include "common/program_main.hpp"
#include "node/service_process.hpp"
#include "node/setup_apply.hpp"
#include "pgpool/pool_files.hpp"
#include "pgpool/pool_node.hpp"
#include "pgpool/pool_plan.hpp"

using namespace pgguard;

namespace {

constexpr const char* kUsage = R"(Usage: pgguard-pgpool <command> --plan FILE [options]

Commands:
  pre-start [--setup FILE]
          the job's setup plan first (accounts, directories, TLS files; pgguard-setup apply),
          the SELinux policy module where SELinux is enabled (refused where it is not, or
          permissive, with selinux_required), then pgpool.conf, pool_hba.conf, pcp.conf, pool_passwd (AES form, under a key made
          once), pgpool_node_id and the sandbox profile into paths.config. A second run
          changes nothing. One line per change.
  start [--setup FILE] [--isolation-wait SECONDS]
          monit's start program: the setup plan again (after a reboot /var/vcap/sys/run is
          empty and pre-start does not run), then waits (default 30 s) until the
          colocated isolation table is in force, then runs pgguard-launch, which execs
          pgpool under its profile and writes the pid file
          monit watches; returns 0 once pgpool runs, or the failure's exit status.
  post-start [--wait SECONDS]
          BOSH's post-start: waits (default 60 s) until pgpool accepts a TLS (verify-full) +
          scram login as the check role on the VM's own address and answers SHOW pool_nodes;
          prints the backends it sees. Fails the deploy otherwise.
  stop [--grace SECONDS]
          monit's stop program: fast shutdown (SIGINT) of the pgpool in the pid file, only if it
          runs as pgpool's account; immediate shutdown after the grace (default 20 s).
  drain [--grace SECONDS]
          BOSH's drain: the same clean stop while the VIP broker still runs (pgpool gives the
          VIP up through it, and another node takes it over), then prints only "0" on stdout;
          what it did goes to --log. Safe to repeat.
  start-vip [--setup FILE]
          monit's start program of the VIP broker (only with a VIP): the setup plan again, then
          pgguard-launch runs `pgguard-vip serve` under the vip-helper profile as the broker's
          account; returns 0 once the broker listens on its socket.
  stop-vip [--grace SECONDS]
          monit's stop program of the VIP broker: SIGTERM (the VIP stays where it is), SIGKILL
          after the grace (default 10 s), only to the broker of the broker's account.
  show --file pgpool.conf|pool_hba.conf
          print a generated file (touches nothing)
  check   validate the plan only

Options for every command:
  --log FILE   append everything printed (and the launcher's and pgpool's output) to FILE

Exit codes: 0 done, 2 bad plan or usage (file:line: key:, nothing changed), 3 the system refused
(isolation not in force, the launcher or pgpool failed), 4 a required layer (SELinux, Landlock)
is missing on this host. Reference: docs/jobs.md
)";

int run(int argc, char** argv) {
  const auto arguments =
      parse_job_command_line(argc, argv,
                             {"pgguard-pgpool",
                              "pre-start|start|post-start|stop|drain|start-vip|stop-vip|show|check",
                              {"pre-start", "start", "start-vip"},
                              {"start"},
                              {"stop", "drain", "stop-vip"},
                              {"post-start"},
                              {"show"},
                              {"drain"}});
  if (arguments.help) {
    std::cout << kUsage;
    return 0;
  }
  const auto& command = arguments.command;
  const auto& plan_path = arguments.plan_path;
  const auto plan = pgpool::parse_pool_plan(config::ConfigFile::load(plan_path));

  if (command == "check") {
    std::cout << plan_path << ": ok (" << plan.job << ", node " << plan.node_id << " of "
              << plan.nodes.size() << ", " << plan.backends.size() << " backends, "
              << plan.users.size() << " users" << (plan.vip ? ", VIP " + plan.vip->address : "")
              << ")\n";
    return 0;
  }
  if (command == "show") {
    const auto file = arguments.file.value_or("");
    if (file == "pgpool.conf") {
      std::cout << pgpool::render_pgpool_conf(plan);
    } else if (file == "pool_hba.conf") {
      std::cout << pgpool::render_pool_hba_conf(plan);
    } else {
      throw Error(ExitCode::bad_input, "--file must be pgpool.conf or pool_hba.conf");
    }
    return 0;
  }
  if (command == "pre-start") {
    node::require_programs(
        {plan.paths.pgpool_bin + "/pgpool", plan.paths.pgpool_bin + "/pcp_attach_node"},
        "pgpool.bin_dir");
    node::require_programs({plan.paths.postgres_dir + "/bin/psql"}, "pgpool.postgres_dir");
    auto changes = node::apply_setup_file(arguments.setup_path);
    for (auto& line : pgpool::load_policy(plan)) {
      changes.push_back(std::move(line));
    }
    for (auto& line : pgpool::write_pool_files(plan)) {
      changes.push_back(std::move(line));
    }
    report_changes(plan.job, changes);
    return 0;
  }
  if (command == "start" || command == "start-vip") {
    // /var/vcap/sys/run is a tmpfs: after a reboot, when pre-start does not run, the
    // runtime directories are gone. The setup plan is idempotent; it changes nothing else.
    print_lines(node::apply_setup_file(arguments.setup_path));
  }
  if (command == "start-vip") {
    if (!plan.vip) {
      throw Error(ExitCode::bad_input, plan_path + " has no VIP: there is no broker to start");
    }
    // Returns once the broker listens: its socket appears only then.
    const std::string socket = pgpool::vip_socket_path(plan);
    continue_in_background(
        [&socket](pid_t child) {
          struct stat status {};
          return process_runs(child, "pgguard-vip") && ::stat(socket.c_str(), &status) == 0 &&
                 S_ISSOCK(status.st_mode);
        },
        std::chrono::seconds(30));
    pgpool::exec_vip_broker(plan);
  }
  if (command == "stop-vip") {
    const unsigned grace = arguments.grace.value_or(10);
    std::cout << plan.job
              << " VIP broker: " << pgpool::stop_vip_broker(plan, std::chrono::seconds(grace))
              << "\n";
    return 0;
  }
  if (command == "start") {
    const unsigned wait = arguments.isolation_wait.value_or(30);
    // Returns to monit once pgpool itself runs (the launcher exec'd it, sandboxed); with the
    // failure's exit status when the isolation gate or the launcher refuses.
    continue_in_background([](pid_t child) { return process_runs(child, "pgpool"); },
                           std::chrono::seconds(wait + 30));
    pgpool::exec_pgpool(plan, std::chrono::seconds(wait));
  }
  if (command == "post-start") {
    const unsigned wait = arguments.wait.value_or(60);
    std::cout << pgpool::check_pgpool(plan, std::chrono::seconds(wait)) << "\n";
    return 0;
  }
  if (command == "stop" || command == "drain") {
    const unsigned grace = arguments.grace.value_or(20);
    std::cout << plan.job << ": " << pgpool::stop_pgpool(plan, std::chrono::seconds(grace))
              << std::endl;
    if (command == "drain") {
      answer_drain(arguments);
    }
    return 0;
  }
  throw Error(ExitCode::bad_input, "unknown command '" + command +
                                       "': expected pre-start, start, post-start, stop, drain, "
                                       "start-vip, stop-vip, show or check");
}

}  // namespace

int main(int argc, char** argv) {
  return run_program("pgguard-pgpool", [&] { return run(argc, argv); });
}
