// pgguard-failover: pgpool's failover_command and failback_command, run by pgpool inside its
// own sandbox (no capability, no SSH, no sudo). It logs in to the node pgpool names over TLS
// (verify-full) + scram as the failover role, which may only promote and switch synchronous
// replication (src/pgpool/failover.hpp).
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "common/child_process.hpp"
#include "common/error.hpp"
#include "common/program_main.hpp"
#include "pgpool/failover.hpp"

using namespace pgguard;

namespace {

constexpr const char* kUsage =
    R"(Usage: pgguard-failover detached|attached --psql FILE --ca FILE --passfile FILE
                        --role NAME -- %d %h %P %H %r %N %S

pgpool's failover_command (detached) and failback_command (attached), with pgpool's values in
this order, each quoted (pgpool passes empty values):
  detached, the primary:  SELECT pg_promote() on the new main node (%H:%r), then
                          synchronous_standby_names = '' there (its standby is the node lost)
  detached, the standby:  synchronous_standby_names = '' on the primary (%N:%S)
  attached, a standby:    synchronous_standby_names back to postgresql.conf's on the primary
Each action goes to stdout (pgpool's log). Every statement is idempotent.

Exit codes: 0 done (or nothing to do), 2 bad arguments, 3 psql failed (its output is printed).
Reference: docs/high-availability.md
)";

struct Arguments {
  std::string event;
  std::map<std::string, std::string> options;
  std::vector<std::string> values;
};

Arguments parse_arguments(int argc, char** argv) {
  const std::vector<std::string> words(argv + 1, argv + argc);
  if (words.empty() || words[0] == "--help") {
    throw Error(ExitCode::bad_input, std::string("missing the event\n") + kUsage);
  }
  Arguments arguments{words[0], {}, {}};
  if (arguments.event != "detached" && arguments.event != "attached") {
    throw Error(ExitCode::bad_input,
                "unknown event '" + arguments.event + "': expected detached or attached");
  }
  std::size_t i = 1;
  for (; i < words.size() && words[i] != "--"; i += 2) {
    const std::string& option = words[i];
    if (option != "--psql" && option != "--ca" && option != "--passfile" && option != "--role") {
      throw Error(ExitCode::bad_input, "unknown option '" + option + "'");
    }
    if (i + 1 >= words.size() || !arguments.options.emplace(option, words[i + 1]).second) {
      throw Error(ExitCode::bad_input, option + " needs exactly one value, given once");
    }
  }
  for (const char* option : {"--psql", "--ca", "--passfile", "--role"}) {
    if (arguments.options.count(option) == 0 || arguments.options[option].empty()) {
      throw Error(ExitCode::bad_input, std::string(option) + " is missing");
    }
  }
  if (i >= words.size()) {
    throw Error(ExitCode::bad_input, "missing '--' before pgpool's values");
  }
  arguments.values.assign(words.begin() + static_cast<std::ptrdiff_t>(i) + 1, words.end());
  return arguments;
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
  std::cout << "pgguard-failover: " << step.reason << std::endl;
  const auto statements = pgpool::step_statements(step.action);
  if (statements.empty()) {
    return 0;
  }
  std::vector<std::string> argv_psql = {arguments.options["--psql"], "--no-psqlrc", "--no-align",
                                        "--tuples-only", "--set=ON_ERROR_STOP=1"};
  for (const auto& statement : statements) {
    argv_psql.push_back("--command=" + statement);
  }
  argv_psql.push_back("host=" + step.host + " port=" + std::to_string(step.port) +
                      " dbname=postgres user=" + arguments.options["--role"] +
                      " sslmode=verify-full sslrootcert=" + arguments.options["--ca"] +
                      " passfile=" + arguments.options["--passfile"] + " connect_timeout=10");
  // pg_promote waits up to 60 s for the promotion to finish.
  const auto result = run_child(
      {argv_psql, {"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}, std::nullopt, std::chrono::seconds(90)});
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
