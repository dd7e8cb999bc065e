#include "sandbox/contain.hpp"

#include <fcntl.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "common/file_io.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"
#include "sandbox/capabilities.hpp"
#include "sandbox/rlimits.hpp"
#include "sandbox/seccomp_load.hpp"

namespace pgguard::sandbox {

namespace {

// The pidfile is written before any change and emptied if a later step fails, so monit never
// sees a pid that is not the sandboxed target.
class Pidfile {
 public:
  explicit Pidfile(const std::optional<std::string>& path) {
    if (!path) {
      return;
    }
    path_ = *path;
    // O_NONBLOCK: a FIFO without a reader would block the open forever (with it: ENXIO).
    fd_.reset(::open(path->c_str(),
                     O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644));
    struct stat status {};
    if (!fd_) {
      const int saved = errno;
      if (saved == ENXIO && ::lstat(path->c_str(), &status) == 0) {
        refuse_type(status.st_mode);
      }
      throw SystemError("pidfile: open " + *path, saved);
    }
    // Checked before the first write, and never discarded: unlinking a device node named by
    // mistake would be worse than the mistake.
    if (::fstat(fd_.get(), &status) != 0) {
      throw SystemError("pidfile: fstat " + *path, errno);
    }
    if (!S_ISREG(status.st_mode)) {
      refuse_type(status.st_mode);
    }
    const std::string text = std::to_string(::getpid()) + "\n";
    if (::write(fd_.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      const int saved = errno;
      discard();
      throw SystemError("pidfile: write " + *path, saved);
    }
  }
  Pidfile(const Pidfile&) = delete;
  Pidfile& operator=(const Pidfile&) = delete;
  ~Pidfile() {
    if (!committed_) {
      discard();
    }
  }
  // The target is about to run under this pid: keep the file (unless execve fails).
  void commit() { committed_ = true; }
  void uncommit() { committed_ = false; }

 private:
  [[noreturn]] void refuse_type(mode_t mode) const {
    throw Error(ExitCode::bad_input,
                "pidfile: " + path_ + ": not a regular file (" + file_type_name(mode) + ")");
  }

  void discard() {
    if (fd_) {
      // After the user switch unlink may be refused; an empty pidfile names no process.
      (void)::ftruncate(fd_.get(), 0);
      (void)::unlink(path_.c_str());
    }
  }

  std::string path_;
  UniqueFd fd_;
  bool committed_ = false;
};

void notice(const std::string& text) {
  (void)std::fprintf(stderr, "pgguard-launch: notice: %s\n", text.c_str());
}

std::string read_process_status(int fd) {
  std::string text;
  if (const int error = read_to_end(fd, text); error != 0) {
    throw SystemError("read back: read /proc/self/status", error);
  }
  return text;
}

}  // namespace

std::string resolve_command(const std::string& command, const std::vector<std::string>& envp) {
  if (command.empty()) {
    throw Error(ExitCode::bad_input, "empty command");
  }
  if (command.find('/') != std::string::npos) {
    return command;
  }
  std::string search = "/usr/local/bin:/usr/bin:/bin";
  for (const auto& variable : envp) {
    if (variable.rfind("PATH=", 0) == 0) {
      search = variable.substr(5);
    }
  }
  for (const auto& directory : split(search, ":")) {
    std::string candidate = directory;
    candidate.append("/").append(command);
    struct stat status {};
    if (::stat(candidate.c_str(), &status) == 0 && S_ISREG(status.st_mode) &&
        (status.st_mode & 0111) != 0) {
      return candidate;
    }
  }
  throw Error(ExitCode::bad_input, "command '" + command + "' not found in PATH " + search);
}

std::vector<std::string> target_environment(const Profile& profile, char** caller) {
  std::vector<std::string> environment;
  for (const auto& name : profile.env_pass) {
    // A variable the profile sets is not passed: getenv(3) would find the first of two.
    const bool set_by_profile =
        std::any_of(profile.env_set.begin(), profile.env_set.end(),
                    [&](const EnvVariable& variable) { return variable.name == name; });
    if (set_by_profile) {
      continue;
    }
    for (char** entry = caller; entry != nullptr && *entry != nullptr; ++entry) {
      const std::string_view variable(*entry);
      if (variable.size() > name.size() && variable.compare(0, name.size(), name) == 0 &&
          variable[name.size()] == '=') {
        environment.emplace_back(variable);
        break;
      }
    }
  }
  for (const auto& variable : profile.env_set) {
    environment.push_back(variable.name + "=" + variable.value);
  }
  return environment;
}

namespace {

// Each step throws on failure, and nothing after a failed step runs. The order is forced by
// what each step still needs (docs/sandbox.md, "Order of steps"): limits and the bounding set
// need the privileges the user switch gives up; capabilities and securebits are settled after
// the switch, with keep-caps holding CAP_SETPCAP across it; the SELinux exec context is written
// before Landlock would forbid the write; no_new_privs precedes Landlock and seccomp, which
// need it; seccomp comes last because every earlier step makes system calls it may forbid.
[[noreturn]] void apply_and_exec(const SandboxPlan& plan, const BpfProgram& seccomp_program,
                                 const LaunchRequest& request) {
  const Profile& profile = plan.profile;
  if (::geteuid() != 0) {
    throw Error(ExitCode::system, "run: must start as root to switch to user '" +
                                      plan.identity.user + "' (euid is " +
                                      std::to_string(::geteuid()) + ")");
  }
  // 0. Nothing inherited leaks into the target but stdin, stdout and stderr.
  if (::close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    throw SystemError("fds: close_range(CLOEXEC)", errno);
  }
  Pidfile pidfile(request.pidfile);

  // 1. User resolved and seccomp compiled (or loaded and verified) by the caller: the plan
  //    and the program are inputs. Open what the later, confined steps need.
  const auto landlock_paths = open_landlock_paths(profile, plan.landlock);
  const UniqueFd status_file(::open("/proc/self/status", O_RDONLY | O_CLOEXEC));
  if (!status_file) {
    throw SystemError("read back: open /proc/self/status", errno);
  }

  // 2. Limits and priority, while still allowed to raise hard limits.
  apply_rlimits(profile);
  if (profile.nice && ::setpriority(PRIO_PROCESS, 0, *profile.nice) != 0) {
    throw SystemError(profile.file + ": nice: setpriority(" + std::to_string(*profile.nice) + ")",
                      errno);
  }
  ::umask(profile.umask);

  // 3. Bounding set, while CAP_SETPCAP is still held.
  drop_bounding_set(profile);

  // 4. Identity. keep-caps keeps CAP_SETPCAP across setresuid so the securebits can be locked
  //    below, and the ambient ones can be raised; step 6 turns keep-caps off again.
  if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
    throw SystemError("capabilities: prctl(PR_SET_KEEPCAPS)", errno);
  }
  switch_identity(plan.identity);
  if (profile.workdir && ::chdir(profile.workdir->value.c_str()) != 0) {
    const int saved = errno;
    throw Error(ExitCode::system, profile.workdir->where.to_string() + ": workdir: chdir('" +
                                      profile.workdir->value + "'): " + errno_text(saved));
  }

  // 5. Capabilities: CAP_SETPCAP for one more step, plus the ambient ones, then raise those.
  const std::uint64_t setpcap = std::uint64_t{1} << CAP_SETPCAP;
  set_capabilities(setpcap | plan.ambient, plan.ambient, "capabilities");
  raise_ambient(profile);

  // 6. Securebits locked (keep-caps off), then CAP_SETPCAP dropped for good.
  lock_securebits();
  set_capabilities(plan.ambient, plan.ambient, "capabilities (final)");

  // 7. SELinux exec context, before Landlock, which would deny the write to /proc/self/attr.
  if (plan.selinux.notice) {
    notice(*plan.selinux.notice);
  }
  apply_selinux(profile, plan.selinux);

  // 8. no_new_privs, always; Landlock and an unprivileged seccomp load need it.
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    throw SystemError("no_new_privs: prctl(PR_SET_NO_NEW_PRIVS)", errno);
  }

  // 9. Landlock, best effort by ABI (what is not enforced was said by the plan).
  for (const auto* texts : {&plan.landlock.notices, &plan.landlock.scope_notices}) {
    for (const auto& text : *texts) {
      notice("landlock: " + text);
    }
  }
  apply_landlock(profile, plan.landlock, landlock_paths);

  // 10. Seccomp last: every earlier step needed syscalls the filter may forbid.
  load_seccomp(seccomp_program);

  // 11. Read back and compare; any difference and the target is not started.
  const auto actual = parse_process_status(read_process_status(status_file.get()));
  const auto differences = compare_process_status(plan.expected_status, actual);
  if (!differences.empty()) {
    throw Error(ExitCode::system, profile.file +
                                      ": read back of /proc/self/status differs "
                                      "from the profile: " +
                                      join(differences, "; "));
  }

  // 12. execve: same pid, so the pidfile now names the target.
  std::vector<char*> argv;
  for (const auto& argument : request.argv) {
    argv.push_back(const_cast<char*>(argument.c_str()));
  }
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (const auto& variable : request.envp) {
    envp.push_back(const_cast<char*>(variable.c_str()));
  }
  envp.push_back(nullptr);
  pidfile.commit();
  ::execve(request.executable.c_str(), argv.data(), envp.data());
  const int saved = errno;
  // The pidfile must not keep naming a launcher that is about to exit.
  pidfile.uncommit();
  throw SystemError("exec " + request.executable, saved);
}

}  // namespace

void contain_and_exec(const SandboxPlan& plan, const BpfProgram& seccomp_program,
                      const LaunchRequest& request) {
  try {
    apply_and_exec(plan, seccomp_program, request);
  } catch (const Error& error) {
    // Every failure names the profile, whichever step raised it.
    const std::string what = error.what();
    if (what.rfind(plan.profile.file + ":", 0) == 0) {
      throw;
    }
    throw Error(error.code(), plan.profile.file + ": " + what);
  }
}

}  // namespace pgguard::sandbox
