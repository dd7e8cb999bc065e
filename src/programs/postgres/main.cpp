// pgguard-postgres: one PostgreSQL node of the release, from its job's config/node.conf
// (src/postgres/node_plan.hpp): pre-start, monit's start and stop.
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

#include "common/background.hpp"
#include "common/config_file.hpp"
#include "common/error.hpp"
#include "common/job_command_line.hpp"
#include "common/program_main.hpp"
#include "node/service_process.hpp"
#include "node/setup_apply.hpp"
#include "postgres/cluster.hpp"
#include "postgres/node_plan.hpp"
#include "postgres/server_files.hpp"

using namespace pgguard;

namespace {

constexpr const char* kUsage = R"(Usage: pgguard-postgres <command> --plan FILE [options]

Commands:
  pre-start [--setup FILE]
          the job's setup plan first (accounts, directories, TLS files; pgguard-setup apply),
          the SELinux policy module where SELinux is enabled (refused where it is not, or
          permissive, with selinux_required), then postgresql.conf, pg_hba.conf and the
          sandbox profiles (with the plan's [sandbox] settings) into paths.config; initdb
          (pg-master) or pg_basebackup (pg-standby) under its profile when there is no
          cluster; a node superseded by its peer's promotion rejoins as its standby
          (pg_rewind); on the node that is the primary now, roles, passwords, grants,
          databases, extensions and replication slots converged on the plan through a server
          on the unix socket only. A second run changes nothing. One line per change.
  start [--setup FILE] [--isolation-wait SECONDS]
          monit's start program: the setup plan again (after a reboot /var/vcap/sys/run is
          empty and pre-start does not run), then waits (default 30 s) until the
          colocated isolation table is in force, then runs pgguard-launch, which execs
          postgres under the server profile and writes the pid file monit watches;
          returns 0 once postgres runs, or the failure's exit status.
          A node about to start as a primary first asks its peer: a peer promoted past its
          timeline makes it rewind (pg_rewind under its profile) and start as its standby.
  post-start [--wait SECONDS]
          BOSH's post-start: waits (default 60 s) until postgres accepts a TLS (verify-full) +
          scram login on the VM's own address, then checks its role: a primary out of
          recovery, a standby streaming from its primary. Fails the deploy otherwise.
  start-fence
          monit's start program of the fence: runs pgguard-fence through pgguard-launch under
          its own profile (written by pre-start), with the pid file monit watches; it stops
          this node's postmaster when the peer was promoted past it (docs/high-availability.md)
  stop-fence
          monit's stop program of the fence: SIGTERM to the pid file's pgguard-fence, only if
          it runs as the node's user; SIGKILL after 10 s.
  stop [--grace SECONDS]
          monit's stop program: fast shutdown (SIGINT) of the postmaster in the pid file, only if
          it runs as the node's user; immediate shutdown after the grace (default 20 s).
  drain [--grace SECONDS]
          BOSH's drain: the same clean stop (BOSH has unmonitored postgres); on a primary
          whose standby streams, a planned switchover: first waits (up to 60 s) until the
          standby is synchronous again (pgpool has attached it), then stops, then waits (up to
          60 s) until pgpool has promoted the peer, which has every WAL record of the stop. Then prints only "0" on stdout, as BOSH
          requires; what it did goes to --log. Safe to repeat.
  show --file postgresql.conf|pg_hba.conf
          print a generated file (touches nothing)
  check   validate the plan only

Options for every command:
  --log FILE   append everything printed (and the launcher's and postgres' early output) to FILE

Exit codes: 0 done, 2 bad plan or usage (file:line: key:, nothing changed), 3 the system refused
(initdb, psql or the server failed; isolation not in force; the program's output is printed),
4 a required layer (SELinux, Landlock) is missing on this host.
Reference: docs/jobs.md
)";

int run(int argc, char** argv) {
  const auto arguments = parse_job_command_line(argc, argv,
                                                {"pgguard-postgres",
                                                 "pre-start|start|start-fence|post-start|stop|"
                                                 "stop-fence|drain|show|check",
                                                 {"pre-start", "start"},
                                                 {"start"},
                                                 {"stop", "drain"},
                                                 {"post-start"},
                                                 {"show"},
                                                 {"drain"}});
  if (arguments.help) {
    std::cout << kUsage;
    return 0;
  }
  const auto& command = arguments.command;
  const auto& plan_path = arguments.plan_path;
  const auto plan = postgres::parse_node_plan(config::ConfigFile::load(plan_path));

  if (command == "check") {
    std::cout << plan_path << ": ok (" << plan.job << ", "
              << (plan.kind == postgres::NodeKind::primary ? "primary" : "standby") << ", "
              << plan.roles.size() << " roles, " << plan.databases.size() << " databases)\n";
    return 0;
  }
  if (command == "show") {
    const auto file = arguments.file.value_or("");
    if (file == "postgresql.conf") {
      std::cout << postgres::render_postgresql_conf(plan);
    } else if (file == "pg_hba.conf") {
      std::cout << postgres::render_pg_hba_conf(plan);
    } else {
      throw Error(ExitCode::bad_input, "--file must be postgresql.conf or pg_hba.conf");
    }
    return 0;
  }
  if (command == "pre-start") {
    std::vector<std::string> programs;
    for (const char* program :
         {"postgres", "initdb", "psql", "pg_basebackup", "pg_controldata", "pg_rewind"}) {
      programs.push_back(plan.paths.postgres_bin + "/" + program);
    }
    node::require_programs(programs, "postgres.bin_dir");
    auto changes = node::apply_setup_file(arguments.setup_path);
    for (auto& line : postgres::load_policy(plan)) {
      changes.push_back(std::move(line));
    }
    for (auto& line : postgres::write_server_files(plan)) {
      changes.push_back(std::move(line));
    }
    if (plan.kind == postgres::NodeKind::standby) {
      if (postgres::clone_primary(plan)) {
        changes.push_back("copied the primary " + plan.upstream_address + " into " +
                          plan.paths.data + " (pg_basebackup, slot " + plan.stream_slot + ")");
      }
    } else if (postgres::initialize_cluster(plan)) {
      changes.push_back("initialised the cluster in " + plan.paths.data);
    }
    // Whichever VM is the primary now converges the cluster; a node superseded while it was
    // away rejoins as a standby first, and converges nothing.
    if (auto rejoined = postgres::rejoin_if_superseded(plan)) {
      changes.push_back(std::move(*rejoined));
    }
    if (!postgres::has_standby_signal(plan)) {
      // A standby's roles and databases are the primary's, replicated.
      const postgres::LocalServer server(plan);
      for (auto& line : postgres::converge_cluster(plan, server)) {
        changes.push_back(std::move(line));
      }
    }
    report_changes(plan.job, changes);
    return 0;
  }
  if (command == "start") {
    // /var/vcap/sys/run is a tmpfs: after a reboot, when pre-start does not run, the
    // runtime directories are gone. The setup plan is idempotent; it changes nothing else.
    print_lines(node::apply_setup_file(arguments.setup_path));
    const unsigned wait = arguments.isolation_wait.value_or(30);
    // Returns to monit once postgres itself runs (the launcher exec'd it, sandboxed); with the
    // failure's exit status when the isolation gate or the launcher refuses.
    continue_in_background([](pid_t child) { return process_runs(child, "postgres"); },
                           std::chrono::seconds(wait + 30));
    postgres::exec_server(plan, std::chrono::seconds(wait));
  }
  if (command == "start-fence") {
    // Returns to monit once the fence itself runs (sandboxed by the launcher).
    continue_in_background([](pid_t child) { return process_runs(child, "pgguard-fence"); },
                           std::chrono::seconds(30));
    postgres::exec_fence(plan);
  }
  if (command == "stop-fence") {
    std::cout << plan.job << ": fence: " << postgres::stop_fence(plan) << std::endl;
    return 0;
  }
  if (command == "post-start") {
    const unsigned wait = arguments.wait.value_or(60);
    std::cout << postgres::check_server(plan, std::chrono::seconds(wait)) << "\n";
    return 0;
  }
  if (command == "stop" || command == "drain") {
    const unsigned grace = arguments.grace.value_or(20);
    // Read before the stop: only a primary whose standby streams hands over.
    const bool hand_over =
        command == "drain" && postgres::peer_streams(plan, std::chrono::seconds(60));
    std::cout << plan.job << ": " << postgres::stop_server(plan, std::chrono::seconds(grace))
              << std::endl;
    if (command == "drain") {
      if (hand_over) {
        if (const auto handed = postgres::hand_over(plan, std::chrono::seconds(60))) {
          std::cout << *handed << std::endl;
        }
      }
      answer_drain(arguments);
    }
    return 0;
  }
  throw Error(ExitCode::bad_input, "unknown command '" + command +
                                       "': expected pre-start, start, start-fence, post-start, "
                                       "stop, stop-fence, drain, show or check");
}

}  // namespace

int main(int argc, char** argv) {
  return run_program("pgguard-postgres", [&] { return run(argc, argv); });
}
