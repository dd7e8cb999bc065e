// pgguard-failover: pgpool's failover_command and failback_command, run by pgpool inside its
// own sandbox (no capability, no SSH, no sudo). It logs in to the node pgpool names over TLS
// (verify-full) + scram as the failover role, which may only promote and switch synchronous
// replication (src/pgpool/failover.hpp).
#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/child_process.hpp"
#include "common/error.hpp"
#include "common/program_main.hpp"
#include "common/strings.hpp"
#include "net/tcp_probe.hpp"
#include "pgpool/failover.hpp"

using namespace pgguard;

namespace {

constexpr const char* kUsage =
    R"(Usage: pgguard-failover detached|attached --psql FILE --ca FILE --passfile FILE
                        --role NAME [--restart-wait SECONDS --pcp-attach FILE
                        --pcp-socket DIR --pcp-port PORT --pcp-user NAME --pcp-passfile FILE]
                        -- %d %h %p %P %H %r %N %S

pgpool's failover_command (detached) and failback_command (attached), with pgpool's values in
this order, each quoted (pgpool passes empty values):
  detached, any node:     with --restart-wait, first looks at the node's address: while its
                          VM refuses (a postmaster monit is starting again), looks again each
                          second for up to SECONDS; when it serves again in the role it had,
                          asks pgpool to attach it back (pcp_attach_node over PCP's unix
                          socket) and changes nothing else. Nothing answering, another role,
                          or the budget spent: the step below
  detached, the primary:  SELECT pg_promote() on the new main node (%H:%r), then
                          synchronous_standby_names = '' there (its standby is the node lost)
  detached, the standby:  synchronous_standby_names = '' on the primary (%N:%S)
  attached, a standby:    synchronous_standby_names back to postgresql.conf's on the primary
Each action goes to stdout (pgpool's log). Every statement is idempotent.

Exit codes: 0 done (or nothing to do), 2 bad arguments, 3 psql failed (its output is
printed). A pcp_attach_node that fails is printed, and the step goes ahead.
Reference: docs/high-availability.md
)";

constexpr std::array kRequired = {"--psql", "--ca", "--passfile", "--role"};
constexpr std::array kRestartOptions = {"--restart-wait", "--pcp-attach", "--pcp-socket",
                                        "--pcp-port",     "--pcp-user",   "--pcp-passfile"};

struct Arguments {
  std::string event;
  std::map<std::string, std::string> options;
  std::vector<std::string> values;
  int restart_wait = 0;  // seconds; 0: promote without looking
  int pcp_port = 0;
};

int whole_number(const std::string& text, const std::string& option, int minimum, int maximum) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < minimum ||
      value > maximum) {
    throw Error(ExitCode::bad_input, option + ": '" + text + "' is not a whole number from " +
                                         std::to_string(minimum) + " to " +
                                         std::to_string(maximum));
  }
  return value;
}

Arguments parse_arguments(int argc, char** argv) {
  const std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty() || words[0] == "--help") {
    throw Error(ExitCode::bad_input, std::string("missing the event\n") + kUsage);
  }
  Arguments arguments{words[0], {}, {}, 0, 0};
  if (arguments.event != "detached" && arguments.event != "attached") {
    throw Error(ExitCode::bad_input,
                "unknown event '" + arguments.event + "': expected detached or attached");
  }
  const auto known = [](const std::string& option) {
    return std::find(kRequired.begin(), kRequired.end(), option) != kRequired.end() ||
           std::find(kRestartOptions.begin(), kRestartOptions.end(), option) !=
               kRestartOptions.end();
  };
  std::size_t i = 1;
  for (; i < words.size() && words[i] != "--"; i += 2) {
    const std::string& option = words[i];
    if (!known(option)) {
      throw Error(ExitCode::bad_input, "unknown option '" + option + "'");
    }
    if (i + 1 >= words.size() || !arguments.options.emplace(option, words[i + 1]).second) {
      throw Error(ExitCode::bad_input, option + " needs exactly one value, given once");
    }
  }
  for (const char* option : kRequired) {
    if (arguments.options.count(option) == 0 || arguments.options[option].empty()) {
      throw Error(ExitCode::bad_input, std::string(option) + " is missing");
    }
  }
  // The restart budget and the way back into pgpool come together: a node kept must be
  // attached again.
  const auto given =
      std::count_if(kRestartOptions.begin(), kRestartOptions.end(),
                    [&](const char* option) { return !arguments.options[option].empty(); });
  if (given != 0 && given != static_cast<std::ptrdiff_t>(kRestartOptions.size())) {
    throw Error(ExitCode::bad_input,
                "--restart-wait, --pcp-attach, --pcp-socket, --pcp-port, --pcp-user and "
                "--pcp-passfile come together");
  }
  if (given != 0) {
    arguments.restart_wait =
        whole_number(arguments.options["--restart-wait"], "--restart-wait", 1, 600);
    arguments.pcp_port = whole_number(arguments.options["--pcp-port"], "--pcp-port", 1, 65535);
  }
  if (i >= words.size()) {
    throw Error(ExitCode::bad_input, "missing '--' before pgpool's values");
  }
  arguments.values.assign(words.begin() + static_cast<std::ptrdiff_t>(i) + 1, words.end());
  return arguments;
}

// psql as the failover role on host:port over TLS (verify-full), each statement on its own.
ChildRequest failover_psql(Arguments& arguments, const std::string& host, int port,
                           const std::vector<std::string>& statements, int connect_timeout,
                           std::chrono::seconds limit) {
  std::vector<std::string> argv = {arguments.options["--psql"], "--no-psqlrc", "--no-align",
                                   "--tuples-only", "--set=ON_ERROR_STOP=1"};
  for (const auto& statement : statements) {
    argv.push_back("--command=" + statement);
  }
  argv.push_back("host=" + host + " port=" + std::to_string(port) +
                 " dbname=postgres user=" + arguments.options["--role"] +
                 " sslmode=verify-full sslrootcert=" + arguments.options["--ca"] +
                 " passfile=" + arguments.options["--passfile"] +
                 " connect_timeout=" + std::to_string(connect_timeout));
  return {argv, {"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}, std::nullopt, limit};
}

struct Look {
  pgpool::NodeAnswer answer;
  std::string detail;  // psql's last line when it failed
};

Look look_at(Arguments& arguments, const std::string& host, int port) {
  const auto tcp = net::probe_tcp(host, port, std::chrono::seconds(1));
  if (tcp != net::TcpAnswer::connected) {
    return {pgpool::classify_answer(tcp, -1, ""), {}};
  }
  ChildResult result;
  try {
    result = run_child(failover_psql(arguments, host, port, {"SELECT pg_is_in_recovery()"}, 3,
                                     std::chrono::seconds(10)));
  } catch (const SystemError& error) {
    // Logged in, then no answer (a server stopped mid-query): as silent as a lost VM.
    return {pgpool::NodeAnswer::silent, error.what()};
  }
  std::string detail;
  if (result.exit_code != 0) {
    const auto lines = split(trim(result.output), "\n");
    detail = lines.empty() ? "psql failed" : lines.back();
  }
  return {pgpool::classify_answer(tcp, result.exit_code, result.output), detail};
}

// The detached node, looked at each second while its VM refuses and the budget lasts.
// Returns whether it serves again in the role it had.
bool comes_back(Arguments& arguments, const pgpool::NodeEvent& event, bool was_primary) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(arguments.restart_wait);
  std::optional<pgpool::NodeAnswer> said;
  for (;;) {
    const auto [answer, detail] = look_at(arguments, event.host, event.port);
    // A primary that refuses may have been stopped by its drain, which promoted the peer; one
    // that serves must not be attached beside a promoted peer.
    const bool peer_promoted =
        was_primary &&
        (answer == pgpool::NodeAnswer::refuses || answer == pgpool::NodeAnswer::serves_primary) &&
        !event.new_main_host.empty() && event.new_main_host != event.host &&
        look_at(arguments, event.new_main_host, event.new_main_port).answer ==
            pgpool::NodeAnswer::serves_primary;
    const auto verdict = pgpool::judge_detached(answer, was_primary, peer_promoted,
                                                std::chrono::steady_clock::now() >= deadline);
    if (answer != said) {
      std::cout << "pgguard-failover: node " << event.node << " (" << event.host
                << "): " << pgpool::describe(answer) << (detail.empty() ? "" : " (" + detail + ")")
                << std::endl;
      said = answer;
    }
    if (verdict == pgpool::DetachedVerdict::keep) {
      return true;
    }
    if (verdict == pgpool::DetachedVerdict::proceed) {
      if (peer_promoted) {
        std::cout << "pgguard-failover: its peer " << event.new_main_host
                  << " already serves as the primary (a drain handed over)" << std::endl;
      } else if (answer == pgpool::NodeAnswer::refuses) {
        std::cout << "pgguard-failover: node " << event.node << " not back within "
                  << arguments.restart_wait << " s" << std::endl;
      }
      return false;
    }
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

// pgpool detached a node that serves again: pcp_attach_node queues its return, which
// pgpool's main process takes up once this command has returned. Returns whether PCP took it.
bool attach_again(Arguments& arguments, const pgpool::NodeEvent& event, bool was_primary) {
  const auto result = run_child(
      {{arguments.options["--pcp-attach"], "-h", arguments.options["--pcp-socket"], "-p",
        std::to_string(arguments.pcp_port), "-U", arguments.options["--pcp-user"], "-n",
        std::to_string(event.node), "-w"},
       {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "PCPPASSFILE=" + arguments.options["--pcp-passfile"]},
       std::nullopt,
       std::chrono::seconds(30)});
  if (result.exit_code != 0) {
    std::cout << "pgguard-failover: pcp_attach_node " << event.node << " failed (exit "
              << result.exit_code << "): " << trim(result.output) << std::endl;
    return false;
  }
  std::cout << "pgguard-failover: node " << event.node << " (" << event.host << ") serves as "
            << (was_primary ? "the primary" : "a standby")
            << " again: nothing else changes, pgpool attaches it back" << std::endl;
  return true;
}

int run(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--help") {
    std::cout << kUsage;
    return 0;
  }
  auto arguments = parse_arguments(argc, argv);
  const auto event = pgpool::parse_node_event(arguments.values);
  const auto step =
      arguments.event == "detached" ? pgpool::plan_detached(event) : pgpool::plan_attached(event);
  if (arguments.event == "detached" && arguments.restart_wait > 0) {
    const bool was_primary = event.node == event.old_primary;
    std::cout << "pgguard-failover: node " << event.node << " (" << event.host << "), "
              << (was_primary ? "the primary" : "a standby")
              << ", detached: looking at its VM before anything else" << std::endl;
    // A node pgpool cannot take back would leave it without that node for good: the step
    // goes ahead (a second primary is stopped by its fence, its timeline being the older).
    if (comes_back(arguments, event, was_primary) && attach_again(arguments, event, was_primary)) {
      return 0;
    }
  }
  std::cout << "pgguard-failover: " << step.reason << std::endl;
  const auto statements = pgpool::step_statements(step.action);
  if (statements.empty()) {
    return 0;
  }
  // pg_promote waits up to 60 s for the promotion to finish.
  const auto result = run_child(
      failover_psql(arguments, step.host, step.port, statements, 10, std::chrono::seconds(90)));
  if (result.exit_code != 0) {
    throw Error(ExitCode::system, "psql on " + step.host + ":" + std::to_string(step.port) +
                                      " failed (exit " + std::to_string(result.exit_code) +
                                      "): " + result.output);
  }
  std::cout << "pgguard-failover: done on " << step.host << ":" << step.port << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_program("pgguard-failover", [&] { return run(argc, argv); });
}
