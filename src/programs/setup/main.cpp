// pgguard-setup: a job's accounts, directories and installed files (src/node/setup_plan.hpp).
#include <cstdio>
#include <iostream>
#include <string>

#include "common/config_file.hpp"
#include "common/error.hpp"
#include "common/job_command_line.hpp"
#include "common/program_main.hpp"
#include "node/setup_apply.hpp"
#include "node/setup_plan.hpp"

using namespace pgguard;

namespace {

constexpr const char* kUsage = R"(Usage: pgguard-setup <command> --plan FILE [--log FILE]

Commands:
  apply   create the plan's system accounts, directories (owner, mode) and installed files;
          a second run changes nothing. One line per change on stdout.
  check   validate the plan only (touches nothing)

  --log FILE   append everything printed to FILE

Exit codes: 0 done, 2 bad plan (file:line: key:, nothing changed), 3 the system refused
(what was changed before the failure is named). Reference: docs/jobs.md
)";

int run(int argc, char** argv) {
  const auto arguments =
      parse_job_command_line(argc, argv, {"pgguard-setup", "apply|check", {}, {}, {}, {}, {}, {}});
  if (arguments.help) {
    std::cout << kUsage;
    return 0;
  }
  const auto& command = arguments.command;
  if (command != "apply" && command != "check") {
    throw Error(ExitCode::bad_input, "unknown command '" + command + "': expected apply or check");
  }
  const auto& path = arguments.plan_path;
  const auto plan = node::parse_setup_plan(config::ConfigFile::load(path));
  if (command == "check") {
    std::cout << path << ": ok (" << plan.accounts.size() << " accounts, "
              << plan.directories.size() << " directories, " << plan.installs.size()
              << " installs)\n";
    return 0;
  }
  report_changes(path, node::apply_setup(plan).changes);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return run_program("pgguard-setup", [&] { return run(argc, argv); });
}
