#include "postgres/cluster.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <string_view>
#include <thread>

#include "common/child_process.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"
#include "node/sandbox_settings.hpp"
#include "node/selinux_policy.hpp"
#include "node/service_process.hpp"
#include "node/setup_apply.hpp"
#include "postgres/fence.hpp"
#include "postgres/roles_plan.hpp"
#include "postgres/scram.hpp"
#include "postgres/server_files.hpp"
#include "sandbox/account_files.hpp"

namespace pgguard::postgres {

namespace {

using namespace std::chrono_literals;

// The SELinux domain of the server and its tools (docs/selinux.md).
constexpr std::string_view kDomain = "secpg_postgres_t";

// The launcher keeps only what the profile names; this is what it itself needs.
const std::vector<std::string> kEnvironment = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin"};

bool exists(const std::string& path) {
  struct stat status {};
  return ::lstat(path.c_str(), &status) == 0;
}

std::vector<std::string> launch(const std::string& profile, const std::vector<std::string>& command,
                                const NodePlan& plan) {
  return node::launcher_argv(plan.paths.launcher, profile, command);
}

std::string bin(const NodePlan& plan, const char* program) {
  return plan.paths.postgres_bin + "/" + program;
}

// psql as the superuser over the unix socket, under the server profile, reading SQL from stdin;
// unaligned, tuples only, fields separated by US.
std::vector<std::string> socket_psql(const NodePlan& plan, const std::string& database) {
  return launch(server_profile_path(plan),
                {bin(plan, "psql"), "--no-psqlrc", "--quiet", "--no-align", "--tuples-only",
                 "--field-separator=\x1f", "--set=ON_ERROR_STOP=1", "--host=" + plan.paths.runtime,
                 "--port=" + std::to_string(plan.port), "--username=" + plan.user,
                 "--dbname=" + database, "--file=-"},
                plan);
}

bool directory_is_empty(const std::string& path) {
  std::unique_ptr<DIR, int (*)(DIR*)> directory(::opendir(path.c_str()), ::closedir);
  if (!directory) {
    throw SystemError("cannot list " + path, errno);
  }
  while (const dirent* entry = ::readdir(directory.get())) {
    const std::string_view name = entry->d_name;
    if (name != "." && name != "..") {
      return false;
    }
  }
  return true;
}

std::string tail(const std::string& text, std::size_t lines) {
  std::size_t position = text.size();
  while (lines-- > 0 && position > 0) {
    position = text.rfind('\n', position - 1);
    if (position == std::string::npos) {
      return text;
    }
  }
  return text.substr(position + 1);
}

// standby.signal in the directory `directory_fd` names, owned by the node's user, on disk.
void create_standby_signal(int directory_fd, const std::string& directory, const NodePlan& plan) {
  const auto user = sandbox::find_user(read_regular_file("/etc/passwd"), plan.user, "/etc/passwd");
  if (!user) {
    throw Error(ExitCode::system, "account " + plan.user + " does not exist");
  }
  const std::string signal = directory + "/standby.signal";
  const UniqueFd fd(
      ::openat(directory_fd, "standby.signal", O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd || ::fchown(fd.get(), user->uid, user->primary_gid) != 0 || ::fsync(fd.get()) != 0 ||
      ::fsync(directory_fd) != 0) {
    throw SystemError("cannot create " + signal, errno);
  }
}

// A replication connection (TLS verify-full, scram, the node's password file) as `user`, or a
// normal one to database postgres when `database` is set.
std::string peer_conninfo_as(const NodePlan& plan, const std::string& user, const std::string& host,
                             bool database) {
  return "host=" + host + " port=" + std::to_string(plan.port) + " user=" + user +
         (database ? " dbname=postgres" : " dbname=replication replication=true") +
         " sslmode=verify-full sslrootcert=" + plan.paths.config + "/" + plan.tls_ca +
         " passfile=" + pgpass_path(plan) + " connect_timeout=5";
}

// As the replication role; with `database`, pg_rewind's source.
std::string peer_conninfo(const NodePlan& plan, const std::string& host, bool database) {
  return peer_conninfo_as(plan, plan.replication_role, host, database);
}

std::vector<std::string> replication_psql(const NodePlan& plan, const std::string& host,
                                          const std::string& command) {
  return launch(
      server_profile_path(plan),
      {bin(plan, "psql"), "--no-psqlrc", "--no-align", "--tuples-only", "--field-separator=\x1f",
       "--command=" + command, peer_conninfo(plan, host, false)},
      plan);
}

// psql under the server profile running `sql` on the peer's database postgres, as the
// replication role over TLS (verify-full): unaligned, tuples only.
std::vector<std::string> peer_sql(const NodePlan& plan, const std::string& sql) {
  return launch(server_profile_path(plan),
                {bin(plan, "psql"), "--no-psqlrc", "--no-align", "--tuples-only",
                 "--command=" + sql, peer_conninfo(plan, plan.upstream_address, true)},
                plan);
}

// The cluster's own identity from its control file (pg_controldata under the server profile):
// the timeline of its latest checkpoint, which pg_rewind advances only once it completed.
SystemIdentity control_identity(const NodePlan& plan) {
  const auto argv = launch(server_profile_path(plan),
                           {bin(plan, "pg_controldata"), "--pgdata=" + plan.paths.data}, plan);
  const auto result = run_child({argv, {"LC_ALL=C", kEnvironment.front()}, std::nullopt, 30s});
  const auto value = [&result](std::string_view label) -> std::string {
    for (const auto& line : split(result.output, "\n")) {
      if (line.starts_with(label)) {
        return std::string(trim(std::string_view(line).substr(label.size())));
      }
    }
    return {};
  };
  SystemIdentity identity{value("Database system identifier:"), 0,
                          value("Database cluster state:")};
  const std::string timeline = value("Latest checkpoint's TimeLineID:");
  if (result.exit_code != 0 || identity.system.empty() ||
      std::from_chars(timeline.data(), timeline.data() + timeline.size(), identity.timeline).ec !=
          std::errc{}) {
    throw Error(ExitCode::system, "pg_controldata of " + plan.paths.data + " failed (exit " +
                                      std::to_string(result.exit_code) + "): " + result.output);
  }
  return identity;
}

// The fence's profile and the pid file monit watches (only this file starts and stops it).
std::string fence_profile_path(const NodePlan& plan) {
  return plan.paths.config + "/postgres-fence.profile";
}

std::string fence_pid_path(const NodePlan& plan) {
  return plan.paths.runtime + "/fence.pid";
}

}  // namespace

std::string initdb_profile_path(const NodePlan& plan) {
  return plan.paths.config + "/initdb.profile";
}
std::string server_profile_path(const NodePlan& plan) {
  return plan.paths.config + "/postgres-server.profile";
}
std::string server_pid_path(const NodePlan& plan) {
  return plan.paths.runtime + "/postgres.pid";
}
std::string basebackup_profile_path(const NodePlan& plan) {
  return plan.paths.config + "/pg_basebackup.profile";
}
bool has_standby_signal(const NodePlan& plan) {
  return exists(plan.paths.data + "/standby.signal");
}

std::string rewind_profile_path(const NodePlan& plan) {
  return plan.paths.config + "/pg_rewind.profile";
}

std::vector<std::string> load_policy(const NodePlan& plan) {
  return node::load_selinux_policy(
      {plan.selinux_module,
       {directory_of(plan.paths.data), directory_of(plan.paths.config), plan.paths.logs,
        plan.paths.runtime, directory_of(plan.paths.postgres_bin)},
       plan.sandbox.selinux_required});
}

std::vector<std::string> write_server_files(const NodePlan& plan) {
  const auto values = profile_placeholders(plan);
  // The server gets the operator's sandbox settings; the tools beside it only what is
  // required. All share one SELinux domain (docs/selinux.md).
  const auto domain = node::selinux_domain(kDomain);
  auto server = node::service_adjustment(plan.sandbox);
  server.selinux_context = domain;
  auto tool = node::tool_adjustment(plan.sandbox);
  tool.selinux_context = domain;
  const auto instantiate = [&plan, &values, &server, &tool](const std::string& name) {
    const std::string path = plan.paths.profiles + "/" + name;
    return node::render_profile(read_regular_file(path), path, values,
                                name == "postgres-server.conf.in" ? server : tool);
  };
  // Read by postgres (group), written by root only; the profiles are read by the launcher
  // (root) alone.
  const node::Ownership readable{"root", plan.user, 0640};
  const node::Ownership root_only{"root", "root", 0600};
  std::vector<std::tuple<std::string, std::string, node::Ownership>> files = {
      {postgresql_conf_path(plan), render_postgresql_conf(plan), readable},
      {pg_hba_conf_path(plan), render_pg_hba_conf(plan), readable},
      {server_profile_path(plan), instantiate("postgres-server.conf.in"), root_only},
      {fence_profile_path(plan), instantiate("postgres-fence.conf.in"), root_only},
  };
  // The replication password, for post-start's check and a standby's walreceiver and
  // pg_basebackup: libpq reads it only when nobody else can.
  files.emplace_back(pgpass_path(plan), render_pgpass(plan),
                     node::Ownership{plan.user, plan.user, 0600});
  if (plan.kind == NodeKind::primary) {
    files.emplace_back(initdb_profile_path(plan), instantiate("initdb.conf.in"), root_only);
  }
  if (!plan.upstream_address.empty()) {
    files.emplace_back(rewind_profile_path(plan), instantiate("pg_rewind.conf.in"), root_only);
  }
  std::vector<std::string> written;
  for (const auto& [path, content, ownership] : files) {
    if (node::install_content(path, content, ownership)) {
      written.push_back("wrote " + path);
    }
  }
  return written;
}

bool initialize_cluster(const NodePlan& plan) {
  if (exists(plan.paths.data + "/PG_VERSION")) {
    return false;
  }
  if (!directory_is_empty(plan.paths.data)) {
    throw Error(ExitCode::system, plan.paths.data +
                                      " holds files but no cluster (no PG_VERSION): refusing to "
                                      "initialise over data this program does not recognise");
  }
  const auto argv =
      launch(initdb_profile_path(plan),
             {bin(plan, "initdb"), "--pgdata=" + plan.paths.data, "--username=" + plan.user,
              "--auth-local=peer", "--auth-host=scram-sha-256", "--data-checksums",
              "--encoding=UTF8", "--locale=C.UTF-8", "--no-instructions"},
             plan);
  const auto result = run_child({argv, kEnvironment, std::nullopt, 5min});
  if (result.exit_code != 0) {
    throw Error(ExitCode::system, "initdb failed (exit " + std::to_string(result.exit_code) +
                                      "): " + describe_command(argv) + "\n" + result.output);
  }
  return true;
}

bool clone_primary(const NodePlan& plan) {
  // A cluster is kept whatever it is now: a standby, or the primary this VM became by a
  // failover (rejoin_if_superseded decides whether it may stay one).
  if (exists(plan.paths.data + "/PG_VERSION")) {
    return false;
  }
  if (!directory_is_empty(plan.paths.data)) {
    throw Error(ExitCode::system, plan.paths.data +
                                      " holds files but no cluster: refusing to copy over data "
                                      "this program does not recognise");
  }
  const std::string staging = basebackup_staging_path(plan);
  const auto user = sandbox::find_user(read_regular_file("/etc/passwd"), plan.user, "/etc/passwd");
  if (!user) {
    throw Error(ExitCode::system, "account " + plan.user + " does not exist");
  }
  // A staging directory left by an interrupted copy holds nothing of value: start over.
  (void)run_child({{"/bin/rm", "-rf", "--", staging}, kEnvironment, std::nullopt});
  // Through a descriptor, never the path: the parent directory belongs to postgres, which
  // must not be able to swap in a link and have root chown or write somewhere else.
  if (::mkdir(staging.c_str(), 0700) != 0) {
    throw SystemError("cannot create " + staging, errno);
  }
  const UniqueFd staging_fd(
      ::open(staging.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!staging_fd || ::fchown(staging_fd.get(), user->uid, user->primary_gid) != 0) {
    throw SystemError("cannot create " + staging, errno);
  }
  auto values = profile_placeholders(plan);
  values["DATA_DIR"] = staging;
  const std::string template_path = plan.paths.profiles + "/pg_basebackup.conf.in";
  auto tool = node::tool_adjustment(plan.sandbox);
  tool.selinux_context = node::selinux_domain(kDomain);
  node::install_content(
      basebackup_profile_path(plan),
      node::render_profile(read_regular_file(template_path), template_path, values, tool),
      node::Ownership{"root", "root", 0600});
  const auto argv =
      launch(basebackup_profile_path(plan),
             {bin(plan, "pg_basebackup"), "--pgdata=" + staging,
              "--dbname=" + primary_conninfo(plan), "--wal-method=stream",
              "--slot=" + plan.stream_slot, "--checkpoint=fast", "--no-password", "--progress"},
             plan);
  const auto result = run_child({argv, kEnvironment, std::nullopt, 60min});
  if (result.exit_code != 0) {
    throw Error(ExitCode::system, "pg_basebackup from " + plan.upstream_address + " failed (exit " +
                                      std::to_string(result.exit_code) + "):\n" + result.output);
  }
  create_standby_signal(staging_fd.get(), staging, plan);
  if (::rmdir(plan.paths.data.c_str()) != 0 ||
      ::rename(staging.c_str(), plan.paths.data.c_str()) != 0) {
    throw SystemError("cannot move the copy " + staging + " to " + plan.paths.data, errno);
  }
  return true;
}

LocalServer::LocalServer(const NodePlan& plan) : plan_(plan) {
  const std::string log_path = plan.paths.logs + "/pre-start-server.log";
  // O_NOFOLLOW: the log directory belongs to postgres, and this descriptor is opened as root
  // and handed to postgres; a planted link must not give it another file.
  UniqueFd log(
      ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640));
  if (!log) {
    throw SystemError("cannot open " + log_path, errno);
  }
  const auto argv =
      launch(server_profile_path(plan),
             {bin(plan, "postgres"), "-D", plan.paths.data, "-c",
              "config_file=" + postgresql_conf_path(plan),
              // Reachable over the unix socket only, and with nobody to wait for: pre-start's
              // statements must neither be exposed nor block on an absent standby.
              "-c", "listen_addresses=", "-c", "synchronous_standby_names=", "-c",
              "logging_collector=off"},
             plan);
  pid_ = spawn_child(argv, kEnvironment, log.get());
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  const std::string socket = plan.paths.runtime + "/.s.PGSQL." + std::to_string(plan.port);
  while (true) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw Error(ExitCode::system, "the pre-start server exited during start-up; " + log_path +
                                        " ends with:\n" + tail(read_regular_file(log_path), 15));
    }
    if (exists(socket)) {
      try {
        run_sql("postgres", "SELECT 1;");
        return;
      } catch (const Error&) {
        // Still starting (e.g. crash recovery): retried until the deadline.
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      stop();
      throw Error(ExitCode::system,
                  "the pre-start server did not accept connections within "
                  "60 s; " +
                      log_path + " ends with:\n" + tail(read_regular_file(log_path), 15));
    }
    std::this_thread::sleep_for(200ms);
  }
}

LocalServer::~LocalServer() {
  stop();
}

void LocalServer::stop() noexcept {
  if (pid_ < 0) {
    return;
  }
  ::kill(pid_, SIGINT);
  for (int i = 0; i < 600; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(100ms);
  }
  ::kill(pid_, SIGQUIT);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string LocalServer::run_sql(const std::string& database, const std::string& sql) const {
  const auto result = run_child({socket_psql(plan_, database), kEnvironment, sql, 5min});
  if (result.exit_code != 0) {
    throw Error(ExitCode::system, "psql in database " + database + " failed (exit " +
                                      std::to_string(result.exit_code) + "): " + result.output);
  }
  return result.output;
}

std::vector<std::string> converge_cluster(const NodePlan& plan, const LocalServer& server) {
  const ClusterState state = parse_cluster_state(server.run_sql("postgres", cluster_state_query()));
  const SqlPlan sql = plan_sql(
      plan, state,
      [&server](const std::string& database) {
        return parse_extensions(server.run_sql(database, extensions_query()));
      },
      random_salt);
  if (!sql.cluster_statements.empty()) {
    server.run_sql("postgres", join(sql.cluster_statements, "\n") + "\n");
  }
  for (const auto& [database, statement] : sql.database_statements) {
    server.run_sql(database, statement + "\n");
  }
  return sql.changes;
}

std::optional<std::string> rejoin_if_superseded(const NodePlan& plan) {
  if (plan.upstream_address.empty() || has_standby_signal(plan)) {
    return std::nullopt;
  }
  const auto answer = run_child({replication_psql(plan, plan.upstream_address, "IDENTIFY_SYSTEM"),
                                 kEnvironment, std::nullopt, 30s});
  const auto peer = answer.exit_code == 0 ? parse_identify_system(answer.output) : std::nullopt;
  if (!peer) {
    // Nobody to defer to. If the peer was promoted and is only cut off from here, pgpool
    // keeps this node detached, and its synchronous commits wait for a standby that never
    // comes: no acknowledged commit lands on the wrong primary (docs/high-availability.md).
    std::string why(trim(answer.output));
    std::replace_if(
        why.begin(), why.end(), [](char c) { return c == '\n' || c == '\t'; }, ' ');
    std::cerr << plan.job << ": notice: the peer " << plan.upstream_address
              << " does not answer; this node serves as the primary (" << why << ")" << std::endl;
    return std::nullopt;
  }
  const auto own = control_identity(plan);
  if (peer->system != own.system) {
    throw Error(ExitCode::system,
                "the peer " + plan.upstream_address + " holds another cluster (system " +
                    peer->system + ", this one " + own.system +
                    "): refusing to start as a primary beside it, or to rewind from it");
  }
  if (peer->timeline < own.timeline) {
    return std::nullopt;  // this node is the newer primary; the peer is the one to rejoin
  }
  if (peer->timeline == own.timeline) {
    // Normal for the primary of a healthy pair: its peer is a standby on its timeline. A peer
    // serving as a primary on the same timeline means this node was never promoted (e.g.
    // standby.signal removed by hand): it must not become a second primary.
    const auto recovery =
        run_child({peer_sql(plan, "SELECT pg_is_in_recovery()"), kEnvironment, std::nullopt, 30s});
    if (recovery.exit_code == 0 && trim(recovery.output) == "t") {
      return std::nullopt;
    }
    throw Error(ExitCode::system,
                plan.paths.data + " has no standby.signal, and the peer " + plan.upstream_address +
                    " serves on the same timeline " + std::to_string(own.timeline) +
                    (recovery.exit_code == 0 ? " as a primary"
                                             : " (is it a primary? " + recovery.output + ")") +
                    ": refusing to start as a second primary (docs/high-availability.md)");
  }
  // The peer was promoted past this node's timeline: this node must never serve as a second
  // primary. Its slot on the new primary first, so that the WAL it needs is kept from now on.
  const auto slot = run_child(
      {replication_psql(plan, plan.upstream_address,
                        "CREATE_REPLICATION_SLOT " + plan.stream_slot + " PHYSICAL RESERVE_WAL"),
       kEnvironment, std::nullopt, 30s});
  if (slot.exit_code != 0 && slot.output.find("already exists") == std::string::npos) {
    throw Error(ExitCode::system, "cannot create slot " + plan.stream_slot +
                                      " on the new primary " + plan.upstream_address + ": " +
                                      slot.output);
  }
  // pg_rewind needs a cleanly shut down target. After a crash, the server itself finishes
  // crash recovery in single-user mode under its own profile (pg_rewind would run it under
  // pg_rewind's, which has no server syscalls), with the node's settings: its shutdown
  // checkpoint keeps wal_keep_size of WAL, which the rewind reads back to the last
  // checkpoint before the two diverged.
  if (own.state != "shut down" && own.state != "shut down in recovery") {
    const auto single = launch(
        server_profile_path(plan),
        {bin(plan, "postgres"), "--single", "-F", "-D", plan.paths.data, "-c",
         "config_file=" + postgresql_conf_path(plan), "-c", "logging_collector=off", "template1"},
        plan);
    const auto recovered = run_child({single, kEnvironment, std::nullopt, 60min});
    if (recovered.exit_code != 0) {
      throw Error(ExitCode::system,
                  "crash recovery of " + plan.paths.data + " in single-user mode failed (exit " +
                      std::to_string(recovered.exit_code) + "): " + recovered.output);
    }
  }
  // A peer promoted a moment ago names the old timeline in its control file until its first
  // checkpoint, and pg_rewind would find "no rewind required" (the replication role is a
  // member of pg_checkpoint for this).
  const auto checkpoint =
      run_child({peer_sql(plan, "CHECKPOINT"), kEnvironment, std::nullopt, 10min});
  if (checkpoint.exit_code != 0) {
    throw Error(ExitCode::system, "CHECKPOINT on the new primary " + plan.upstream_address +
                                      " failed; the node stays down rather than serve as a "
                                      "second primary: " +
                                      checkpoint.output);
  }
  // pg_rewind replaces the whole file set, standby.signal included: it is written again after.
  const auto argv = launch(rewind_profile_path(plan),
                           {bin(plan, "pg_rewind"), "--target-pgdata=" + plan.paths.data,
                            "--source-server=" + peer_conninfo(plan, plan.upstream_address, true),
                            "--no-ensure-shutdown", "--progress"},
                           plan);
  const auto rewind = run_child({argv, kEnvironment, std::nullopt, 60min});
  if (rewind.exit_code != 0) {
    throw Error(ExitCode::system, "pg_rewind from the new primary " + plan.upstream_address +
                                      " failed (exit " + std::to_string(rewind.exit_code) +
                                      "); the node stays down rather than serve as a second "
                                      "primary:\n" +
                                      rewind.output);
  }
  const UniqueFd data(
      ::open(plan.paths.data.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!data) {
    throw SystemError("cannot open " + plan.paths.data, errno);
  }
  create_standby_signal(data.get(), plan.paths.data, plan);
  return plan.job + ": the peer " + plan.upstream_address + " was promoted (timeline " +
         std::to_string(peer->timeline) + ", this node " + std::to_string(own.timeline) +
         "): rewound with pg_rewind, rejoining as its standby through slot " + plan.stream_slot +
         "\n" + std::string(trim(rewind.output));
}

void exec_server(const NodePlan& plan, std::chrono::seconds isolation_wait) {
  node::wait_for_isolation(plan.paths.isolation, isolation_wait, "PostgreSQL");
  // Before anything serves: a node superseded while it was down rejoins as a standby.
  if (const auto rejoined = rejoin_if_superseded(plan)) {
    std::cout << *rejoined << std::endl;
  }
  node::exec_program(node::launcher_argv(plan.paths.launcher, server_profile_path(plan),
                                         {bin(plan, "postgres"), "-D", plan.paths.data, "-c",
                                          "config_file=" + postgresql_conf_path(plan)},
                                         server_pid_path(plan)),
                     kEnvironment);
}

void exec_fence(const NodePlan& plan) {
  FenceOptions options;
  options.psql = bin(plan, "psql");
  options.socket_dir = plan.paths.runtime;
  options.port = plan.port;
  options.user = plan.user;
  options.pid_file = server_pid_path(plan);
  if (!plan.upstream_address.empty()) {
    options.peer = plan.upstream_address;
    options.role = plan.replication_role;
    options.ca = plan.paths.config + "/" + plan.tls_ca;
    options.passfile = pgpass_path(plan);
  }
  node::exec_program(
      node::launcher_argv(
          plan.paths.launcher, fence_profile_path(plan),
          fence_command(directory_of(plan.paths.launcher) + "/pgguard-fence", options),
          fence_pid_path(plan)),
      kEnvironment);
}

std::string stop_fence(const NodePlan& plan) {
  return node::stop_process({fence_pid_path(plan), plan.user, "pgguard-fence", SIGTERM, 10s,
                             SIGKILL, "SIGTERM", "SIGKILL"});
}

std::string check_server(const NodePlan& plan, std::chrono::seconds wait) {
  const std::string endpoint = plan.listen_address + ":" + std::to_string(plan.port);
  // As a client would come: TCP to the VM's own address, the certificate verified against the
  // CA for that address, scram (pg_hba.conf offers nothing else over TCP). IDENTIFY_SYSTEM
  // needs a replication connection, which the replication role alone may open.
  const auto identify =
      run_child_until({replication_psql(plan, plan.listen_address, "IDENTIFY_SYSTEM"), kEnvironment,
                       std::nullopt, 30s},
                      wait, [](const ChildResult& result) { return result.exit_code == 0; });
  if (identify.exit_code != 0) {
    throw Error(ExitCode::system, "postgres does not accept a TLS + scram login on " + endpoint +
                                      " (within " + std::to_string(wait.count()) +
                                      " s): " + identify.output);
  }
  const auto system = parse_identify_system(identify.output);
  if (!system) {
    throw Error(ExitCode::system, "IDENTIFY_SYSTEM on " + endpoint +
                                      " answered something unexpected: " + identify.output);
  }
  std::string line = plan.job + ": accepts TLS + scram on " + endpoint + " as " +
                     plan.replication_role + " (system " + system->system + ", timeline " +
                     std::to_string(system->timeline) + ")";

  // The role it serves in now, whatever the job (a failover swaps them): a primary never in
  // recovery; a standby in recovery and streaming from its peer (else synchronous commits on
  // the primary wait).
  const bool standby = has_standby_signal(plan);
  const std::string query = standby ? "SELECT pg_is_in_recovery(), status, sender_host "
                                      "FROM pg_stat_wal_receiver WHERE status = 'streaming';"
                                    : "SELECT pg_is_in_recovery();";
  const std::string expected = standby ? "t\x1fstreaming\x1f" + plan.upstream_address : "f";
  const auto answered = [&expected](const ChildResult& result) {
    return result.exit_code == 0 && trim(result.output) == expected;
  };
  const auto role =
      run_child_until({socket_psql(plan, "postgres"), kEnvironment, query, 30s}, wait, answered);
  if (!answered(role)) {
    const std::string answer(trim(role.output));
    throw Error(ExitCode::system,
                standby
                    ? "the standby on " + endpoint + " is not streaming from " +
                          plan.upstream_address + " (within " + std::to_string(wait.count()) +
                          " s): " + (answer.empty() ? "no walreceiver streaming" : role.output)
                    : "postgres on " + endpoint + " is in recovery, not a primary: " + role.output);
  }
  return line + (standby ? "; standby, streaming from " + plan.upstream_address : "; primary");
}

bool peer_streams(const NodePlan& plan, std::chrono::seconds wait) {
  if (plan.upstream_address.empty() || has_standby_signal(plan)) {
    return false;
  }
  // With synchronous commit the peer counts only once it is a synchronous standby again: a
  // node that rejoined is asynchronous until pgpool has attached it (failback_command), and
  // pgpool can promote only a node it has attached.
  const std::string query =
      "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND client_addr = '" +
      plan.upstream_address + "'";
  const auto streams = [](const ChildResult& result) {
    return result.exit_code == 0 && trim(result.output) != "0";
  };
  if (!streams(run_child({socket_psql(plan, "postgres"), kEnvironment, query + ";", 30s}))) {
    return false;
  }
  if (!plan.server.synchronous_commit || plan.synchronous_standbys.empty()) {
    return true;
  }
  return streams(run_child_until({socket_psql(plan, "postgres"), kEnvironment,
                                  query + " AND sync_state IN ('sync', 'quorum');", 30s},
                                 wait, streams));
}

std::optional<std::string> hand_over(const NodePlan& plan, std::chrono::seconds wait) {
  // The fast shutdown sent the peer every WAL record up to the shutdown checkpoint, and the
  // server exited only once the peer had them: the peer has every commit and may be promoted
  // now. pgpool finds this node refusing and its peer already the primary, and does not wait
  // for a restart that will not come (docs/high-availability.md).
  std::string promotion;
  if (!plan.failover_role.empty()) {
    std::vector<std::string> argv = {bin(plan, "psql"), "--no-psqlrc", "--no-align",
                                     "--tuples-only", "--set=ON_ERROR_STOP=1"};
    for (const auto& statement : promotion_statements()) {
      argv.push_back("--command=" + statement);
    }
    argv.push_back(peer_conninfo_as(plan, plan.failover_role, plan.upstream_address, true));
    const auto promoted =
        run_child({launch(server_profile_path(plan), argv, plan), kEnvironment, std::nullopt, 90s});
    promotion = promoted.exit_code == 0 ? "promoted it"
                                        : "could not promote it, pgpool will (" +
                                              std::string(trim(promoted.output)) + ")";
  }
  const auto promoted = run_child_until(
      {peer_sql(plan, "SELECT pg_is_in_recovery()"), kEnvironment, std::nullopt, 30s}, wait,
      [](const ChildResult& result) {
        return result.exit_code == 0 && trim(result.output) == "f";
      });
  const std::string how = promotion.empty() ? "" : " (" + promotion + ")";
  if (promoted.exit_code == 0 && trim(promoted.output) == "f") {
    return plan.job + ": handed over: the peer " + plan.upstream_address + " is the primary" + how;
  }
  return plan.job + ": notice: the peer " + plan.upstream_address + " was not promoted within " +
         std::to_string(wait.count()) + " s (" + std::string(trim(promoted.output)) + ")" + how +
         "; this node stays the primary when it starts again";
}

std::string stop_server(const NodePlan& plan, std::chrono::seconds grace) {
  // SIGINT: fast shutdown (no new connections, running ones rolled back); SIGQUIT: immediate
  // shutdown, crash recovery at the next start, no data lost.
  return node::stop_process({server_pid_path(plan), plan.user, "postgres", SIGINT, grace, SIGQUIT,
                             "fast shutdown", "immediate shutdown"});
}

}  // namespace pgguard::postgres
