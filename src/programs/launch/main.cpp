// pgguard-launch: starts one process of the release under its sandbox profile.
// See docs/sandbox.md for the profile keys, the order of steps and the exit codes.
#include <sys/stat.h>
#include <unistd.h>

#include <boost/program_options.hpp>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "sandbox/contain.hpp"
#include "sandbox/identity.hpp"
#include "sandbox/landlock.hpp"
#include "sandbox/profile.hpp"
#include "sandbox/sandbox_plan.hpp"
#include "sandbox/seccomp_policy.hpp"
#include "sandbox/selinux_context.hpp"

extern char** environ;

namespace po = boost::program_options;
using namespace pgguard;
using namespace pgguard::sandbox;

namespace {

constexpr const char* kUsage =
    "usage:\n"
    "  pgguard-launch run --profile FILE [--pidfile FILE] [--seccomp-bpf FILE] -- CMD [ARGS...]\n"
    "  pgguard-launch explain --profile FILE\n"
    "  pgguard-launch compile --profile FILE --output FILE.bpf\n"
    "  pgguard-launch check --profile FILE\n"
    "exit codes: 0 ok, 2 bad input (usage, profile, stale BPF file), 3 the kernel refused a\n"
    "step or the read-back differed (target not started), 4 a required feature is missing\n";

struct Options {
  std::string command;
  std::string profile;
  std::optional<std::string> pidfile;
  std::optional<std::string> seccomp_bpf;
  std::optional<std::string> output;
  std::vector<std::string> target;
};

Options parse_command_line(int argc, char** argv) {
  if (argc < 2) {
    throw Error(ExitCode::bad_input, std::string("missing command\n") + kUsage);
  }
  Options options;
  options.command = argv[1];
  if (options.command == "--help" || options.command == "-h" || options.command == "help") {
    std::cout << kUsage;
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
  for (++index; index < argc; ++index) {
    options.target.emplace_back(argv[index]);
  }

  po::options_description description("options");
  description.add_options()("profile", po::value<std::string>()->required(), "profile file")(
      "pidfile", po::value<std::string>(), "write the target's pid here")(
      "seccomp-bpf", po::value<std::string>(), "precompiled filter from 'compile'")(
      "output", po::value<std::string>(), "BPF file to write");
  po::variables_map variables;
  try {
    po::store(po::command_line_parser(ours).options(description).run(), variables);
    po::notify(variables);
  } catch (const po::error& error) {
    throw Error(ExitCode::bad_input, std::string(error.what()) + "\n" + kUsage);
  }
  options.profile = variables["profile"].as<std::string>();
  const auto optional = [&](const char* name) -> std::optional<std::string> {
    if (variables.count(name) == 0) {
      return std::nullopt;
    }
    return variables[name].as<std::string>();
  };
  options.pidfile = optional("pidfile");
  options.seccomp_bpf = optional("seccomp-bpf");
  options.output = optional("output");

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

SandboxPlan plan_for(const std::string& profile_path) {
  Profile profile = load_profile(profile_path);
  Identity identity = resolve_identity(profile);
  const HostFacts host{landlock_abi(), selinux_enabled()};
  return make_sandbox_plan(std::move(profile), std::move(identity), host);
}

void warn_missing_paths(const Profile& profile) {
  for (const auto* paths : {&profile.landlock.read, &profile.landlock.write}) {
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
  const SandboxPlan plan = plan_for(options.profile);
  if (options.command == "check") {
    (void)compile_seccomp(plan.seccomp);
    warn_missing_paths(plan.profile);
    std::cout << options.profile << ": ok (user " << plan.identity.user << ", "
              << plan.seccomp.allowed.size() << " syscalls allowed, Landlock ABI "
              << plan.landlock.abi << ")\n";
    return 0;
  }
  if (options.command == "explain") {
    std::cout << explain_plan(plan);
    return 0;
  }
  if (options.command == "compile") {
    const BpfProgram program = compile_seccomp(plan.seccomp);
    write_bpf_file(*options.output, plan.seccomp, program, options.profile);
    std::cout << *options.output << ": " << program.instructions.size()
              << " instructions, policy sha256 " << plan.seccomp.digest() << "\n";
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
  try {
    return run_command(parse_command_line(argc, argv));
  } catch (const Error& error) {
    (void)std::fprintf(stderr, "pgguard-launch: %s\n", error.what());
    return to_int(error.code());
  } catch (const std::exception& error) {
    (void)std::fprintf(stderr, "pgguard-launch: %s\n", error.what());
    return to_int(ExitCode::system);
  }
}
