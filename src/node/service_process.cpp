#include "node/service_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"
#include "net/isolation.hpp"
#include "sandbox/account_files.hpp"

namespace pgguard::node {

namespace {

using namespace std::chrono_literals;

std::string read_proc_file(pid_t pid, const char* name) {
  std::string text;
  const UniqueFd fd(
      ::open(("/proc/" + std::to_string(pid) + "/" + name).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd || read_to_end(fd.get(), text) != 0) {
    return {};
  }
  return text;
}

bool process_alive(pid_t pid) {
  return ::kill(pid, 0) == 0 || errno == EPERM;
}

bool wait_gone(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (process_alive(pid)) {
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::this_thread::sleep_for(100ms);
  }
  return true;
}

// The pid a pid file holds (its first line; pgpool ends it with NULs), if it holds one.
std::optional<pid_t> pid_in(const std::string& pid_file) {
  std::string text;
  try {
    text = read_regular_file(pid_file);
  } catch (const SystemError& error) {
    if (error.errno_value() == ENOENT) {
      return std::nullopt;
    }
    throw;
  }
  const std::string first(trim(text.substr(0, text.find_first_of("\n\0", 0, 2))));
  if (first.empty() || first.size() > 9 ||
      first.find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return static_cast<pid_t>(std::stol(first));
}

}  // namespace

std::optional<uid_t> process_uid(pid_t pid) {
  const std::string status = read_proc_file(pid, "status");
  const auto line = status.find("\nUid:");
  if (line == std::string::npos) {
    return std::nullopt;
  }
  const auto fields = split(std::string_view(status).substr(line + 5, 64), " \t\n");
  return fields.empty() ? std::nullopt
                        : std::optional<uid_t>(static_cast<uid_t>(std::stoul(fields[0])));
}

bool is_zombie(pid_t pid) {
  const std::string status = read_proc_file(pid, "status");
  const auto line = status.find("\nState:");
  return line != std::string::npos &&
         trim(std::string_view(status).substr(line + 7, 3)).starts_with('Z');
}

std::vector<std::string> launcher_argv(const std::string& launcher, const std::string& profile,
                                       const std::vector<std::string>& command,
                                       const std::string& pid_file) {
  std::vector<std::string> argv = {launcher, "run", "--profile", profile};
  if (!pid_file.empty()) {
    argv.insert(argv.end(), {"--pidfile", pid_file});
  }
  argv.emplace_back("--");
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

void wait_for_isolation(const std::string& isolation_config, std::chrono::seconds wait,
                        const std::string& service) {
  struct stat status {};
  if (::lstat(isolation_config.c_str(), &status) != 0) {
    throw Error(ExitCode::system, "no isolation configuration at " + isolation_config +
                                      ": colocate the isolation job; " + service +
                                      " never starts unisolated");
  }
  // After a reboot the isolation guard may still be applying the table: wait for it, bounded.
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    const auto report = net::verify_isolation(net::read_config_source(isolation_config), {});
    if (report.differences.empty()) {
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      throw Error(ExitCode::system,
                  "the isolation table is not in force after " + std::to_string(wait.count()) +
                      " s (" + std::to_string(report.differences.size()) + " differences, first: " +
                      report.differences.front() + "); " + service + " is not started");
    }
    std::this_thread::sleep_for(500ms);
  }
}

void exec_program(std::vector<std::string> argv_strings, std::vector<std::string> environment) {
  std::vector<char*> argv;
  argv.reserve(argv_strings.size() + 1);
  for (auto& argument : argv_strings) {
    argv.push_back(argument.data());
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  envp.reserve(environment.size() + 1);
  for (auto& variable : environment) {
    envp.push_back(variable.data());
  }
  envp.push_back(nullptr);
  ::execve(argv[0], argv.data(), envp.data());
  throw SystemError("cannot execute " + argv_strings.front(), errno);
}

std::optional<pid_t> running_process(const std::string& pid_file, const std::string& user,
                                     const std::string& comm) {
  const auto pid = pid_in(pid_file);
  if (!pid) {
    return std::nullopt;
  }
  const auto account = sandbox::find_user(read_regular_file("/etc/passwd"), user, "/etc/passwd");
  const auto uid = process_uid(*pid);
  if (!account || !uid || *uid != account->uid || trim(read_proc_file(*pid, "comm")) != comm ||
      is_zombie(*pid)) {
    return std::nullopt;
  }
  return pid;
}

std::string stop_process(const StopRequest& request) {
  const auto pid = pid_in(request.pid_file);
  if (!pid) {
    return "not running (no pid file, or it holds no pid)";
  }
  const std::string pid_text = std::to_string(*pid);
  const auto forget = [&request] { ::unlink(request.pid_file.c_str()); };
  if (!process_uid(*pid)) {
    forget();
    return "not running (pid " + pid_text + " is gone)";
  }
  if (is_zombie(*pid)) {
    forget();
    return "not running (pid " + pid_text + " has exited)";
  }
  // monit would signal whatever the file names; only the job's own process is stopped.
  if (!running_process(request.pid_file, request.user, request.comm)) {
    return "not stopped: pid " + pid_text + " is not a " + request.comm + " process of " +
           request.user + " (a stale pid file)";
  }
  ::kill(*pid, request.signal);
  if (wait_gone(*pid, request.grace)) {
    forget();
    return "stopped pid " + pid_text + " (" + request.signal_meaning + ")";
  }
  ::kill(*pid, request.escalation);
  if (wait_gone(*pid, 10s)) {
    forget();
    return "stopped pid " + pid_text + " by " + request.escalation_meaning + " after " +
           std::to_string(request.grace.count()) + " s";
  }
  throw Error(ExitCode::system, "pid " + pid_text + " survived its " + request.signal_meaning +
                                    " and " + request.escalation_meaning);
}

namespace {

// Why `program` cannot be run, or nothing when it can.
std::optional<std::string> program_problem(const std::string& program) {
  struct stat status {};
  if (::stat(program.c_str(), &status) != 0) {
    return "cannot use " + program + ": " + errno_text(errno);
  }
  if (!S_ISREG(status.st_mode) || ::faccessat(AT_FDCWD, program.c_str(), X_OK, AT_EACCESS) != 0) {
    return program + " is not an executable file";
  }
  return std::nullopt;
}

}  // namespace

void require_programs(const std::vector<std::string>& programs, const std::string& property) {
  for (const auto& program : programs) {
    if (auto problem = program_problem(program)) {
      problem->insert(0, property + ": ");
      throw Error(ExitCode::bad_input, *problem);
    }
  }
}

}  // namespace pgguard::node
