#include "common/job_command_line.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/program_options.hpp>
#include <cerrno>
#include <fstream>
#include <iostream>

#include "common/error.hpp"
#include "common/output_log.hpp"

namespace po = boost::program_options;

namespace pgguard {

namespace {

void restrict_option(const po::variables_map& arguments, const std::string& command,
                     const char* option, const std::vector<std::string>& commands) {
  if (arguments.count(option) != 0 &&
      std::find(commands.begin(), commands.end(), command) == commands.end()) {
    throw Error(ExitCode::bad_input, std::string("--") + option + " does not apply to " + command);
  }
}

template <typename Value>
std::optional<Value> optional_value(const po::variables_map& arguments, const char* option) {
  return arguments.count(option) != 0 ? std::optional<Value>(arguments[option].as<Value>())
                                      : std::nullopt;
}

}  // namespace

JobCommandLine parse_job_command_line(int argc, char** argv, const JobCommands& commands) {
  po::options_description options;
  options.add_options()("plan", po::value<std::string>())("setup", po::value<std::string>())(
      "isolation-wait", po::value<unsigned>())("grace", po::value<unsigned>())(
      "wait", po::value<unsigned>())("file", po::value<std::string>())(
      "log", po::value<std::string>())("help,h", "")("command", po::value<std::string>());
  po::positional_options_description positional;
  positional.add("command", 1);
  po::variables_map arguments;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(),
              arguments);
  } catch (const po::error& error) {
    throw Error(ExitCode::bad_input, std::string(error.what()) + " (see --help)");
  }
  JobCommandLine line;
  if (arguments.count("help") != 0) {
    line.help = true;
    return line;
  }
  if (arguments.count("command") == 0 || arguments.count("plan") == 0) {
    throw Error(ExitCode::bad_input, "usage: " + std::string(commands.program) + " " +
                                         std::string(commands.all) + " --plan FILE (see --help)");
  }
  line.command = arguments["command"].as<std::string>();
  restrict_option(arguments, line.command, "setup", commands.setup);
  restrict_option(arguments, line.command, "isolation-wait", commands.isolation_wait);
  restrict_option(arguments, line.command, "grace", commands.grace);
  restrict_option(arguments, line.command, "wait", commands.wait);
  restrict_option(arguments, line.command, "file", commands.file);
  if (std::find(commands.answer.begin(), commands.answer.end(), line.command) !=
      commands.answer.end()) {
    line.answer_output = UniqueFd(::fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3));
    if (!line.answer_output) {
      throw SystemError("cannot keep stdout for the drain answer", errno);
    }
  }
  if (const auto log = optional_value<std::string>(arguments, "log")) {
    append_output_to(*log);
  }
  line.plan_path = arguments["plan"].as<std::string>();
  line.setup_path = optional_value<std::string>(arguments, "setup");
  line.isolation_wait = optional_value<unsigned>(arguments, "isolation-wait");
  line.grace = optional_value<unsigned>(arguments, "grace");
  line.wait = optional_value<unsigned>(arguments, "wait");
  line.file = optional_value<std::string>(arguments, "file");
  return line;
}

void print_lines(const std::vector<std::string>& lines) {
  for (const auto& line : lines) {
    std::cout << line << "\n";
  }
  std::cout.flush();
}

void answer_drain(const JobCommandLine& line) {
  constexpr std::string_view answer = "0\n";
  if (!line.answer_output) {
    throw SystemError("no stdout kept for the drain answer", EBADF);
  }
  if (::write(line.answer_output.get(), answer.data(), answer.size()) !=
      static_cast<ssize_t>(answer.size())) {
    throw SystemError("cannot write the drain answer to stdout", errno);
  }
}

void report_changes(std::string_view who, const std::vector<std::string>& changes) {
  print_lines(changes);
  if (changes.empty()) {
    std::cout << who << ": nothing changed\n";
  }
}

bool process_runs(pid_t pid, std::string_view comm) {
  std::ifstream file("/proc/" + std::to_string(pid) + "/comm");
  std::string name;
  return static_cast<bool>(std::getline(file, name)) && name == comm;
}

}  // namespace pgguard
