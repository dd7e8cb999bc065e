// pgguard-selinux: loads the release's SELinux policy module (run by pre-start as root).
//
//   pgguard-selinux load --module FILE.pp [--relabel PATH ...] [--required]
//
// libsemanage rather than semodule(8): one transaction covers the module and the port labels
// it needs (semodule cannot set ports; semanage(8) is Python and a second transaction), the
// installed module's bytes can be read back to skip an unchanged install, and errors come
// back as values instead of parsed tool output.
#include <boost/program_options.hpp>
#include <iostream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/program_main.hpp"
#include "selinux/loader.hpp"

namespace po = boost::program_options;

namespace {

constexpr const char* program = "pgguard-selinux";

void usage(std::ostream& out, const po::options_description& options) {
  out << "usage: " << program << " load --module FILE.pp [--relabel PATH ...] [--required]\n\n"
      << "Installs or upgrades the SELinux policy module when its content changed, labels the\n"
      << "release's ports, relabels PATHs and verifies the result. Without SELinux: one notice,\n"
      << "exit 0 (exit 4 with --required).\n\n"
      << options;
}

int run(int argc, char** argv) {
  po::options_description options("options of load");
  options.add_options()("help,h", "show this help")("module", po::value<std::string>()->required(),
                                                    "policy module package (.pp)")(
      "relabel", po::value<std::vector<std::string>>()->composing(),
      "a path to relabel recursively after the load (repeatable)")(
      "required", po::bool_switch(), "fail (exit 4) when SELinux is not enabled")(
      "store-root", po::value<std::string>(),
      "operate on the policy store under this root instead of the system's (tests, image "
      "builds): no kernel reload, no relabel");
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    usage(argc < 2 ? std::cerr : std::cout, options);
    return argc < 2 ? pgguard::to_int(pgguard::ExitCode::bad_input) : 0;
  }
  const std::string command = argv[1];
  if (command != "load") {
    throw pgguard::ConfigError(pgguard::Location{"command line", 0}, command,
                               "unknown command (the only one is 'load')");
  }
  po::variables_map arguments;
  try {
    po::store(po::command_line_parser(argc - 1, argv + 1).options(options).run(), arguments);
    if (arguments.count("help") != 0U) {
      usage(std::cout, options);
      return 0;
    }
    po::notify(arguments);
  } catch (const po::error& error) {
    throw pgguard::ConfigError(pgguard::Location{"command line", 0}, "", error.what());
  }

  pgguard::selinux::LoadRequest request;
  request.module_path = arguments["module"].as<std::string>();
  if (arguments.count("relabel") != 0U) {
    request.relabel_paths = arguments["relabel"].as<std::vector<std::string>>();
  }
  request.required = arguments["required"].as<bool>();
  if (arguments.count("store-root") != 0U) {
    request.store_root = arguments["store-root"].as<std::string>();
  }
  pgguard::selinux::load_module(request, std::cout);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return pgguard::run_program(program, [&] { return run(argc, argv); });
}
