// pgguard-launch: starts one process of the release under its sandbox profile.
// See docs/sandbox.md for the profile keys, the order of steps and the exit codes.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/program_main.hpp"
#include "sandbox/bpf_file.hpp"
#include "sandbox/contain.hpp"
#include "sandbox/identity.hpp"
#include "sandbox/landlock.hpp"
#include "sandbox/profile.hpp"
#include "sandbox/sandbox_plan.hpp"
#include "sandbox/seccomp_compile.hpp"
#include "sandbox/selinux_context.hpp"

extern char** environ;

using namespace pgguard;
using namespace pgguard::sandbox;

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  pgguard-launch run --profile FILE [--pidfile FILE] [--seccomp-bpf FILE] [--landlock-abi N]\n"
    "                     -- CMD [ARGS...]\n"
    "  pgguard-launch explain --profile FILE [--landlock-abi N]\n"
    "  pgguard-launch compile --profile FILE --output FILE.bpf\n"
    "  pgguard-launch check --profile FILE [--landlock-abi N]\n"
    "--landlock-abi N: enforce only what Landlock ABI N (0 to this kernel's) can, to try here\n"
    "what an older kernel enforces (stemcells: Jammy 1, Noble 4); never set by the jobs\n"
    "exit codes: 0 ok, 2 bad input (usage, profile, stale BPF file), 3 the kernel refused a\n"
    "step or the read-back differed (target not started), 4 a required feature is missing\n"
    "(run, compile, check; explain reports it at the top and exits 0), 5 out of memory (target\n"
    "not started)\n";

struct Options {
  std::string command;
  std::string profile;
  std::optional<std::string> pidfile;
  std::optional<std::string> seccomp_bpf;
  std::optional<std::string> output;
  std::optional<int> landlock_abi;  // lowered by --landlock-abi
  std::vector<std::string> target;
};

int parse_landlock_abi(const std::string& text) {
  const int kernel = landlock_abi();
  int value = -1;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) {
    throw Error(ExitCode::bad_input, "--landlock-abi: '" + text + "' is not an ABI number");
  }
  if (value > kernel) {
    throw Error(ExitCode::bad_input, "--landlock-abi " + text + ": this kernel's Landlock ABI is " +
                                         std::to_string(kernel) +
                                         "; only an older ABI can be tried here");
  }
  return value;
}

Options parse_command_line(int argc, char** argv) {
  if (argc < 2) {
    throw Error(ExitCode::bad_input, std::string("missing command\n") + kUsage);
  }
  Options options;
  options.command = argv[1];
  if (options.command == "--help" || options.command == "-h" || options.command == "help") {
    (void)std::fputs(kUsage, stdout);
    std::exit(0);
  }
  if (options.command != "run" && options.command != "explain" && options.command != "compile" &&
      options.command != "check") {
    throw Error(ExitCode::bad_input, "unknown command '" + options.command + "'\n" + kUsage);
  }
  // Everything after "--" is the target's command line, never parsed as our options.
  std::vector<std::string> ours;
  int index = 2;
  for (; index < argc && std::string(argv[index]) != "--"; ++index) {
    ours.emplace_back(argv[index]);
  }
  const bool has_separator = index < argc;
  std::optional<std::string> profile;
  std::optional<std::string> landlock_abi;
  for (++index; index < argc; ++index) {
    options.target.emplace_back(argv[index]);
  }

  // Five options, parsed by hand: Boost.Program_options' command-line parser brings in iostream
  // and locale initialisation that cost ~0.2 ms of every process start (docs/sandbox.md).
  const std::vector<std::pair<std::string_view, std::optional<std::string>*>> known{
      {"profile", &profile},
      {"pidfile", &options.pidfile},
      {"seccomp-bpf", &options.seccomp_bpf},
      {"output", &options.output},
      {"landlock-abi", &landlock_abi}};
  for (std::size_t i = 0; i < ours.size(); ++i) {
    const std::string& word = ours[i];
    if (word.rfind("--", 0) != 0 || word.size() == 2) {
      throw Error(ExitCode::bad_input, "unexpected argument '" + word + "'\n" + kUsage);
    }
    const auto equals = word.find('=');
    const std::string name =
        word.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
    const auto option = std::find_if(known.begin(), known.end(),
                                     [&name](const auto& entry) { return entry.first == name; });
    if (option == known.end()) {
      throw Error(ExitCode::bad_input, "unknown option '--" + name + "'\n" + kUsage);
    }
    std::string value;
    if (equals != std::string::npos) {
      value = word.substr(equals + 1);
    } else if (i + 1 < ours.size()) {
      value = ours[++i];
    } else {
      throw Error(ExitCode::bad_input, "--" + name + " needs a value\n" + kUsage);
    }
    if (value.empty()) {
      throw Error(ExitCode::bad_input, "--" + name + " needs a non-empty value");
    }
    if (*option->second) {
      throw Error(ExitCode::bad_input, "--" + name + " given more than once");
    }
    *option->second = std::move(value);
  }
  if (!profile) {
    throw Error(ExitCode::bad_input, "--profile FILE is required\n" + std::string(kUsage));
  }
  options.profile = *profile;

  const auto only_for = [&](const std::optional<std::string>& value, const char* name,
                            const char* command) {
    if (value && options.command != command) {
      throw Error(ExitCode::bad_input,
                  std::string("--") + name + " is only valid with '" + command + "'");
    }
  };
  only_for(options.pidfile, "pidfile", "run");
  only_for(options.seccomp_bpf, "seccomp-bpf", "run");
  only_for(options.output, "output", "compile");
  if (landlock_abi) {
    if (options.command == "compile") {
      throw Error(ExitCode::bad_input, "--landlock-abi is not valid with 'compile'");
    }
    options.landlock_abi = parse_landlock_abi(*landlock_abi);
  }
  if (options.command == "run" && (!has_separator || options.target.empty())) {
    throw Error(ExitCode::bad_input, "run needs '-- CMD [ARGS...]'\n" + std::string(kUsage));
  }
  if (options.command != "run" && has_separator) {
    throw Error(ExitCode::bad_input, "'--' and a command are only valid with 'run'");
  }
  if (options.command == "compile" && !options.output) {
    throw Error(ExitCode::bad_input, "compile needs --output FILE.bpf");
  }
  return options;
}

SandboxPlan plan_for(const Options& options, UnmetRequirement unmet) {
  Profile profile = load_profile(options.profile);
  Identity identity = resolve_identity(profile);
  const int kernel_abi = landlock_abi();
  const HostFacts host{options.landlock_abi.value_or(kernel_abi), selinux_enabled(),
                       selinux_enforcing().value_or(false)};
  SandboxPlan plan = make_sandbox_plan(std::move(profile), std::move(identity), host, unmet);
  if (options.landlock_abi) {
    // Said first, at launch and in explain: a lowered ABI enforces less than this kernel could.
    plan.landlock.notices.insert(
        plan.landlock.notices.begin(),
        "--landlock-abi " + std::to_string(*options.landlock_abi) + ": only Landlock ABI " +
            std::to_string(*options.landlock_abi) + "'s rights are handled (this kernel has ABI " +
            std::to_string(kernel_abi) + ")");
  }
  return plan;
}

void warn_missing_paths(const Profile& profile) {
  const auto& landlock = profile.landlock;
  for (const auto* paths :
       {&landlock.read, &landlock.execute, &landlock.write, &landlock.write_execute}) {
    for (const auto& path : *paths) {
      struct stat status {};
      if (::stat(path.value.c_str(), &status) != 0) {
        (void)std::fprintf(stderr,
                           "pgguard-launch: warning: %s: %s: '%s' does not exist here; run "
                           "will refuse to start until it does\n",
                           path.where.to_string().c_str(), path.key.c_str(), path.value.c_str());
      }
    }
  }
}

int run_command(const Options& options) {
  // explain reads a profile on any host; the other commands act here, so they refuse.
  const SandboxPlan plan = plan_for(
      options, options.command == "explain" ? UnmetRequirement::report : UnmetRequirement::refuse);
  if (options.command == "check") {
    (void)compile_seccomp(plan.seccomp);
    warn_missing_paths(plan.profile);
    (void)std::printf("%s: ok (user %s, %zu syscalls allowed, Landlock ABI %d)%s\n",
                      options.profile.c_str(), plan.identity.user.c_str(),
                      plan.seccomp.allowed.size(), plan.landlock.abi,
                      plan.profile.seccomp.staging
                          ? "; STAGING: seccomp default action log, every syscall allowed"
                          : "");
    return 0;
  }
  if (options.command == "explain") {
    (void)std::fputs(explain_plan(plan).c_str(), stdout);
    return 0;
  }
  if (options.command == "compile") {
    const BpfProgram program = compile_seccomp(plan.seccomp);
    write_bpf_file(*options.output, plan.seccomp, program, options.profile);
    (void)std::printf("%s: %zu instructions, policy sha256 %s\n", options.output->c_str(),
                      program.instructions.size(), plan.seccomp.digest().c_str());
    return 0;
  }
  // run
  const BpfProgram program = options.seccomp_bpf ? read_bpf_file(*options.seccomp_bpf, plan.seccomp)
                                                 : compile_seccomp(plan.seccomp);
  LaunchRequest request;
  request.envp = target_environment(plan.profile, environ);
  request.executable = resolve_command(options.target.front(), request.envp);
  request.argv = options.target;
  request.pidfile = options.pidfile;
  contain_and_exec(plan, program, request);
}

}  // namespace

int main(int argc, char** argv) {
  return run_program("pgguard-launch", [&] { return run_command(parse_command_line(argc, argv)); });
}
