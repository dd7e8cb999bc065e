// pgguard-setup: a job's accounts, directories and installed files (src/node/setup_plan.hpp).
#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "common/config_file.hpp"
#include "common/error.hpp"
#include "common/program_main.hpp"
#include "node/setup_apply.hpp"
#include "node/setup_plan.hpp"

namespace po = boost::program_options;
using namespace pgguard;

namespace {

constexpr const char* kUsage = R"(Usage: pgguard-setup <command> --plan FILE

Commands:
  apply   create the plan's system accounts, directories (owner, mode) and installed files;
          a second run changes nothing. One line per change on stdout.
  check   validate the plan only (touches nothing)

Exit codes: 0 done, 2 bad plan (file:line: key:, nothing changed), 3 the system refused
(what was changed before the failure is named). Reference: docs/jobs.md
)";

int run(int argc, char** argv) {
  po::options_description options;
  options.add_options()("plan", po::value<std::string>())("help,h", "")("command",
                                                                        po::value<std::string>());
  po::positional_options_description positional;
  positional.add("command", 1);
  po::variables_map arguments;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(),
              arguments);
  } catch (const po::error& error) {
    throw Error(ExitCode::bad_input, std::string(error.what()) + " (see --help)");
  }
  if (arguments.count("help") != 0) {
    std::cout << kUsage;
    return 0;
  }
  if (arguments.count("command") == 0 || arguments.count("plan") == 0) {
    throw Error(ExitCode::bad_input, "usage: pgguard-setup apply|check --plan FILE (see --help)");
  }
  const auto command = arguments["command"].as<std::string>();
  if (command != "apply" && command != "check") {
    throw Error(ExitCode::bad_input, "unknown command '" + command + "': expected apply or check");
  }
  const auto path = arguments["plan"].as<std::string>();
  const auto plan = node::parse_setup_plan(config::ConfigFile::load(path));
  if (command == "check") {
    std::cout << path << ": ok (" << plan.accounts.size() << " accounts, "
              << plan.directories.size() << " directories, " << plan.installs.size()
              << " installs)\n";
    return 0;
  }
  const auto report = node::apply_setup(plan);
  for (const auto& change : report.changes) {
    std::cout << change << "\n";
  }
  if (report.changes.empty()) {
    std::cout << path << ": nothing changed\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_program("pgguard-setup", [&] { return run(argc, argv); });
}
