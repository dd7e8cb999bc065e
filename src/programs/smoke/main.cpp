// pgguard-smoke: the security-smoke-tests errand. Checks on this VM what the release promises
// and prints one table (docs/jobs.md, "security-smoke-tests errand").
#include <boost/program_options.hpp>
#include <iostream>
#include <string>

#include "audit/report.hpp"
#include "audit/run_audit.hpp"
#include "audit/smoke_config.hpp"
#include "common/config_file.hpp"
#include "common/error.hpp"
#include "common/program_main.hpp"
#include "common/strings.hpp"

namespace po = boost::program_options;
using namespace pgguard;

namespace {

constexpr const char* kUsage = R"(Usage: pgguard-smoke --config FILE [--check-config]

Checks on this VM, as root, what the secure-postgres release promises: the isolation table in
sync with its configuration, every process of the release's jobs running as its sandbox profile
says (children included), SELinux or Landlock confining them, no staging seccomp profile, and no
listener the design does not name. Prints one table, one row per check.

Options:
)";

constexpr const char* kExitCodes = R"(
Exit codes:
  0  every check passed
  1  at least one check failed (the FAIL rows of the table say which)
  2  bad input: usage or configuration error (file:line: key:); nothing was checked
  5  out of memory

Reference: docs/jobs.md ("security-smoke-tests errand"), docs/exit-codes.md
)";

int run(int argc, char** argv) {
  po::options_description options;
  options.add_options()                                                             //
      ("config", po::value<std::string>(), "the errand's smoke.conf")               //
      ("check-config", "only parse and validate the configuration, check nothing")  //
      ("help,h", "show this help");
  po::variables_map arguments;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).run(), arguments);
    po::notify(arguments);
  } catch (const po::error& error) {
    throw Error(ExitCode::bad_input, std::string(error.what()) + " (see --help)");
  }
  if (arguments.count("help") != 0) {
    std::cout << kUsage << options << kExitCodes;
    return 0;
  }
  if (arguments.count("config") == 0) {
    throw Error(ExitCode::bad_input, "--config FILE is required (see --help)");
  }
  const auto path = arguments["config"].as<std::string>();
  const audit::SmokeConfig config =
      audit::parse_smoke_config(config::ConfigFile::load(path, std::size_t{1} << 20));
  if (arguments.count("check-config") != 0) {
    std::cout << path << ": ok (" << config.processes.size() << " processes, "
              << config.job_ports.size() << " job ports, " << config.allowed.size()
              << " allowed listeners)\n";
    return 0;
  }

  const audit::AuditOutcome outcome = audit::run_audit(config);
  const std::size_t failed = audit::failed_rows(outcome.rows);
  std::cout << audit::render_table(outcome.rows)
            << "\nsecurity-smoke-tests: " << outcome.rows.size() << " checks, " << failed
            << " failed (jobs on this VM: "
            << (outcome.jobs_present.empty() ? std::string("none")
                                             : join(outcome.jobs_present, ", "))
            << ")\n";
  return to_int(failed == 0 ? ExitCode::ok : ExitCode::drift);
}

}  // namespace

int main(int argc, char** argv) {
  std::ios_base::sync_with_stdio(true);
  return run_program("pgguard-smoke", [&] { return run(argc, argv); });
}
