#include "postgres/cluster.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <map>
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
  };
  // The replication password, for post-start's check and a standby's walreceiver and
  // pg_basebackup: libpq reads it only when nobody else can.
  files.emplace_back(pgpass_path(plan), render_pgpass(plan),
                     node::Ownership{plan.user, plan.user, 0600});
  if (plan.kind == NodeKind::primary) {
    files.emplace_back(initdb_profile_path(plan), instantiate("initdb.conf.in"), root_only);
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
  const bool has_cluster = exists(plan.paths.data + "/PG_VERSION");
  if (has_cluster && exists(plan.paths.data + "/standby.signal")) {
    return false;
  }
  if (has_cluster) {
    throw Error(ExitCode::system,
                plan.paths.data +
                    " holds a primary (no standby.signal): it is not overwritten, and it does not "
                    "start as a second primary; rejoin it as a standby by hand (docs/jobs.md)");
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
  const auto argv = launch(
      basebackup_profile_path(plan),
      {bin(plan, "pg_basebackup"), "--pgdata=" + staging, "--dbname=" + primary_conninfo(plan),
       "--wal-method=stream", "--slot=" + plan.replication_slots.front(), "--checkpoint=fast",
       "--no-password", "--progress"},
      plan);
  const auto result = run_child({argv, kEnvironment, std::nullopt, 60min});
  if (result.exit_code != 0) {
    throw Error(ExitCode::system, "pg_basebackup from " + plan.upstream_address + " failed (exit " +
                                      std::to_string(result.exit_code) + "):\n" + result.output);
  }
  const std::string signal = staging + "/standby.signal";
  UniqueFd fd(::openat(staging_fd.get(), "standby.signal",
                       O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd || ::fchown(fd.get(), user->uid, user->primary_gid) != 0 || ::fsync(fd.get()) != 0) {
    throw SystemError("cannot create " + signal, errno);
  }
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

void exec_server(const NodePlan& plan, std::chrono::seconds isolation_wait) {
  if (plan.kind == NodeKind::standby && !exists(plan.paths.data + "/standby.signal")) {
    throw Error(ExitCode::system, plan.paths.data +
                                      " has no standby.signal: a standby never starts as a "
                                      "primary (re-run pre-start to copy the primary)");
  }
  node::wait_for_isolation(plan.paths.isolation, isolation_wait, "PostgreSQL");
  node::exec_program(node::launcher_argv(plan.paths.launcher, server_profile_path(plan),
                                         {bin(plan, "postgres"), "-D", plan.paths.data, "-c",
                                          "config_file=" + postgresql_conf_path(plan)},
                                         server_pid_path(plan)),
                     kEnvironment);
}

std::string check_server(const NodePlan& plan, std::chrono::seconds wait) {
  const std::string endpoint = plan.listen_address + ":" + std::to_string(plan.port);
  // As a client would come: TCP to the VM's own address, the certificate verified against the
  // CA for that address, scram (pg_hba.conf offers nothing else over TCP). IDENTIFY_SYSTEM
  // needs a replication connection, which the replication role alone may open.
  const std::string conninfo = "host=" + plan.listen_address +
                               " port=" + std::to_string(plan.port) +
                               " user=" + plan.replication_role +
                               " dbname=replication replication=true sslmode=verify-full"
                               " sslrootcert=" +
                               plan.paths.config + "/" + plan.tls_ca +
                               " passfile=" + pgpass_path(plan) + " connect_timeout=5";
  const auto identify =
      run_child_until({launch(server_profile_path(plan),
                              {bin(plan, "psql"), "--no-psqlrc", "--no-align", "--tuples-only",
                               "--field-separator=\x1f", "--command=IDENTIFY_SYSTEM", conninfo},
                              plan),
                       kEnvironment, std::nullopt, 30s},
                      wait, [](const ChildResult& result) { return result.exit_code == 0; });
  if (identify.exit_code != 0) {
    throw Error(ExitCode::system, "postgres does not accept a TLS + scram login on " + endpoint +
                                      " (within " + std::to_string(wait.count()) +
                                      " s): " + identify.output);
  }
  // systemid, timeline, xlogpos (dbname is empty on a physical connection).
  const auto system = split(trim(identify.output), "\x1f");
  if (system.size() != 3) {
    throw Error(ExitCode::system, "IDENTIFY_SYSTEM on " + endpoint +
                                      " answered something unexpected: " + identify.output);
  }
  std::string line = plan.job + ": accepts TLS + scram on " + endpoint + " as " +
                     plan.replication_role + " (system " + system[0] + ", timeline " + system[1] +
                     ")";

  // The role it serves in: a primary never in recovery; a standby in recovery and streaming
  // from its primary (else synchronous commits on the primary wait).
  const std::string query = plan.kind == NodeKind::primary
                                ? "SELECT pg_is_in_recovery();"
                                : "SELECT pg_is_in_recovery(), status, sender_host "
                                  "FROM pg_stat_wal_receiver WHERE status = 'streaming';";
  const std::string expected =
      plan.kind == NodeKind::primary ? "f" : "t\x1fstreaming\x1f" + plan.upstream_address;
  const auto answered = [&expected](const ChildResult& result) {
    return result.exit_code == 0 && trim(result.output) == expected;
  };
  const auto role =
      run_child_until({socket_psql(plan, "postgres"), kEnvironment, query, 30s}, wait, answered);
  if (!answered(role)) {
    const std::string answer(trim(role.output));
    throw Error(ExitCode::system,
                plan.kind == NodeKind::primary
                    ? "postgres on " + endpoint + " is in recovery, not a primary: " + role.output
                    : "the standby on " + endpoint + " is not streaming from " +
                          plan.upstream_address + " (within " + std::to_string(wait.count()) +
                          " s): " + (answer.empty() ? "no walreceiver streaming" : role.output));
  }
  return line + (plan.kind == NodeKind::primary
                     ? "; primary"
                     : "; standby, streaming from " + plan.upstream_address);
}

std::string stop_server(const NodePlan& plan, std::chrono::seconds grace) {
  // SIGINT: fast shutdown (no new connections, running ones rolled back); SIGQUIT: immediate
  // shutdown, crash recovery at the next start, no data lost.
  return node::stop_process({server_pid_path(plan), plan.user, "postgres", SIGINT, grace, SIGQUIT,
                             "fast shutdown", "immediate shutdown"});
}

}  // namespace pgguard::postgres
