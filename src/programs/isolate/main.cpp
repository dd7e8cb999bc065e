// pgguard-isolate: instance network isolation (docs/isolation.md).
#include <boost/program_options.hpp>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "common/background.hpp"
#include "common/config_file.hpp"
#include "common/error.hpp"
#include "common/program_main.hpp"
#include "net/isolation.hpp"
#include "net/isolation_config.hpp"
#include "net/isolation_guard.hpp"
#include "net/nft_text.hpp"
#include "net/ruleset_plan.hpp"

namespace po = boost::program_options;
using namespace pgguard;

namespace {

constexpr const char* kUsage = R"(Usage: pgguard-isolate <command> [options]

Commands:
  apply  --config FILE [--full]
                         make this network namespace's nftables table and sysctls match FILE
                         (one atomic netlink transaction; nothing is sent when already in sync)
  verify --config FILE [--full]
                         compare the kernel with FILE over netlink; print the differences
  guard  --config FILE [--pid-file FILE] [--recheck-seconds N] [--background]
                         apply, write the pid file, then keep the table and sysctls in force:
                         re-apply at once on any nf_tables commit that changed them, and check
                         every N seconds (default 10); stop on SIGTERM/SIGINT, rules kept.
                         The form monit runs (`check process`); one line per repair on stdout.
                         --background: return (0) once the rules are in force and the guard
                         runs on in its own session; its exit status if it fails first
  show   --config FILE   print the desired table in `nft -f` syntax (touches nothing)
  remove [--config FILE | --table NAME]
                         delete our table (default inet secure_postgres), nothing else

Options:
)";

constexpr const char* kExitCodes = R"(
Exit codes:
  0  success; verify: in sync; guard: stopped by SIGTERM or SIGINT (rules kept)
  1  verify: drift (differences printed on stdout)
  2  bad input: usage or configuration error (file:line: key:), nothing changed
  3  system error: the kernel refused (its error is printed), previous ruleset kept;
     guard: also when a repair was refused or another guard holds the pid file
  5  out of memory; nothing was changed
  6  apply/remove incomplete: the new table is in force but a sysctl could not be written,
     or the kernel's answers to the batch were lost and reading back could not tell which
     ruleset is in force (the message says what is known); run verify

Reference: docs/isolation.md
)";

const std::string& load_path(const std::optional<std::string>& path) {
  if (!path) {
    throw Error(ExitCode::bad_input, "--config FILE is required for this command");
  }
  return *path;
}

net::ConfigSource load_source(const std::optional<std::string>& path) {
  return net::read_config_source(load_path(path));
}

// UTC, to the second, as the other BOSH job logs on the VM stamp their lines.
std::string timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32] = {};
  return std::strftime(text, sizeof text, "%FT%TZ", &utc) == 0 ? "?" : text;
}

int run(int argc, char** argv) {
  po::options_description visible;
  visible.add_options()                                                               //
      ("config", po::value<std::string>(), "configuration file (docs/isolation.md)")  //
      ("table", po::value<std::string>(), "table name for remove without --config")   //
      ("pid-file", po::value<std::string>(),
       "guard: pid file, written once the rules are in force")                                   //
      ("recheck-seconds", po::value<unsigned>(), "guard: seconds between full checks (1-3600)")  //
      ("background", "guard: return once the rules are in force, the guard running on")          //
      ("full",
       "apply/verify: compare with the kernel even when the configuration is unchanged "
       "since the last run and no nf_tables transaction happened since")  //
      ("help,h", "show this help");
  po::options_description all = visible;
  all.add_options()("command", po::value<std::string>());
  po::positional_options_description positional;
  positional.add("command", 1);

  po::variables_map arguments;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(),
              arguments);
    po::notify(arguments);
  } catch (const po::error& error) {
    throw Error(ExitCode::bad_input, std::string(error.what()) + " (see --help)");
  }
  if (arguments.count("help") != 0) {
    std::cout << kUsage << visible << kExitCodes;
    return 0;
  }
  if (arguments.count("command") == 0) {
    throw Error(ExitCode::bad_input,
                "missing command: apply, verify, guard, show or remove (see --help)");
  }
  const auto command = arguments["command"].as<std::string>();
  std::optional<std::string> config_path;
  if (arguments.count("config") != 0) {
    config_path = arguments["config"].as<std::string>();
  }
  if (arguments.count("table") != 0 && command != "remove") {
    throw Error(ExitCode::bad_input, "--table is only for remove");
  }

  net::EngineOptions options;
  options.use_state = arguments.count("full") == 0;
  if (!options.use_state && command != "apply" && command != "verify") {
    throw Error(ExitCode::bad_input, "--full is only for apply and verify");
  }

  if ((arguments.count("pid-file") != 0 || arguments.count("recheck-seconds") != 0 ||
       arguments.count("background") != 0) &&
      command != "guard") {
    throw Error(ExitCode::bad_input,
                "--pid-file, --recheck-seconds and --background are only for guard");
  }
  if (command == "guard") {
    net::GuardOptions guard;
    guard.config_path = load_path(config_path);
    guard.engine = options;
    if (arguments.count("pid-file") != 0) {
      guard.pid_file = arguments["pid-file"].as<std::string>();
    }
    if (arguments.count("recheck-seconds") != 0) {
      const unsigned seconds = arguments["recheck-seconds"].as<unsigned>();
      if (seconds < 1 || seconds > 3600) {
        throw Error(ExitCode::bad_input,
                    "--recheck-seconds " + std::to_string(seconds) + " is out of range (1-3600)");
      }
      guard.recheck_interval = std::chrono::seconds(seconds);
    }
    if (arguments.count("background") != 0) {
      if (!guard.pid_file) {
        throw Error(ExitCode::bad_input,
                    "--background needs --pid-file: it tells when the guard is up");
      }
      // Up = the child published its pid, which it does only with the rules in force.
      continue_in_background(
          [&guard](pid_t child) {
            std::ifstream file(*guard.pid_file);
            pid_t published = 0;
            return static_cast<bool>(file >> published) && published == child;
          },
          std::chrono::seconds(60));
    }
    net::run_isolation_guard(
        guard, [](std::string_view line) { std::cout << timestamp() << " " << line << std::endl; });
    return 0;
  }
  if (command == "show") {
    std::cout << net::render_nft(
        net::plan_ruleset(net::parse_config_source(load_source(config_path))));
    return 0;
  }
  if (command == "apply") {
    std::cout << net::describe_apply(net::apply_isolation(load_source(config_path), options))
              << "\n";
    return 0;
  }
  if (command == "verify") {
    const auto report = net::verify_isolation(load_source(config_path), options);
    if (report.differences.empty()) {
      std::cout << "table inet " << report.table << " and sysctls in sync"
                << (report.unchanged_since_last_run ? " (unchanged since the last run)" : "")
                << "\n";
      return 0;
    }
    std::cout << "drift from " << *config_path << " (" << report.differences.size()
              << " differences):\n";
    for (const auto& line : report.differences) {
      std::cout << "  " << line << "\n";
    }
    return to_int(ExitCode::drift);
  }
  if (command == "remove") {
    if (config_path && arguments.count("table") != 0) {
      throw Error(ExitCode::bad_input, "give either --config or --table, not both");
    }
    std::string table = net::kDefaultTable;
    if (config_path) {
      table = net::parse_config_source(load_source(config_path)).table;
    } else if (arguments.count("table") != 0) {
      table = arguments["table"].as<std::string>();
      net::check_table_name(table, Location{"command line", 0}, "--table");
    }
    const bool existed = net::remove_isolation(table, options);
    std::cout << "table inet " << table << (existed ? " removed" : " did not exist") << "\n";
    return 0;
  }
  throw Error(ExitCode::bad_input,
              "unknown command '" + command + "': expected apply, verify, guard, show or remove");
}

}  // namespace

int main(int argc, char** argv) {
  return run_program("pgguard-isolate", [&] { return run(argc, argv); });
}
