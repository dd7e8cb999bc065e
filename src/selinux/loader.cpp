#include "selinux/loader.hpp"

#include <selinux/selinux.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <iterator>
#include <sstream>

#include "common/error.hpp"
#include "sandbox/sha256.hpp"
#include "selinux/load_plan.hpp"
#include "selinux/module_package.hpp"
#include "selinux/policy_store.hpp"
#include "selinux/relabel.hpp"

namespace pgguard::selinux {
namespace {

constexpr std::size_t max_package_size = std::size_t{64} * 1024 * 1024;

std::string read_package(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    const int error = errno;
    throw ConfigError(Location{path, 0}, "--module", "cannot open: " + errno_text(error));
  }
  std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) {
    throw ConfigError(Location{path, 0}, "--module", "read error");
  }
  if (bytes.size() > max_package_size) {
    throw ConfigError(Location{path, 0}, "--module", "larger than any policy module (64 MiB)");
  }
  return bytes;
}

std::string short_hash(const std::string& sha256) {
  return sha256.substr(0, 12);
}

void verify_store(PolicyStore& store, const std::string& name, const std::string& sha256) {
  const std::optional<InstalledModule> installed = store.installed_module(name);
  if (!installed) {
    throw Error(ExitCode::system,
                "verification failed: module " + name + " is not in the policy store");
  }
  if (sandbox::sha256_hex(installed->package) != sha256) {
    throw Error(ExitCode::system,
                "verification failed: the policy store holds other bytes for module " + name);
  }
  if (!installed->enabled) {
    throw Error(ExitCode::system, "verification failed: module " + name + " is disabled");
  }
  const std::vector<PortLabel> ports = store.local_ports();
  for (const PortLabel& wanted : release_port_labels()) {
    if (std::find(ports.begin(), ports.end(), wanted) == ports.end()) {
      throw Error(ExitCode::system,
                  "verification failed: port " + to_string(wanted) + " is not set");
    }
  }
}

void verify_kernel() {
  for (const PortLabel& label : release_port_labels()) {
    const std::string context = "system_u:object_r:" + label.type + ":s0";
    if (!kernel_knows_context(context)) {
      throw Error(ExitCode::system,
                  "verification failed: the running kernel policy does not know " + context +
                      " (module not active)");
    }
  }
}

void relabel_and_verify(const std::vector<std::string>& paths, std::ostream& out) {
  for (const std::string& path : paths) {
    restore_labels(path);
  }
  for (const std::string& path : paths) {
    const LabelCheck check = check_labels(path);
    if (!check.mismatches.empty()) {
      std::string message =
          "verification failed: labels under " + path + " differ from the policy:";
      for (const std::string& mismatch : check.mismatches) {
        message += "\n  " + mismatch;
      }
      throw Error(ExitCode::system, message);
    }
    out << "pgguard-selinux: " << path << ": " << check.checked << " labels match the policy\n";
  }
}

}  // namespace

void load_module(const LoadRequest& request, std::ostream& out) {
  const bool sandboxed = request.store_root.has_value();
  // SELinux first: a host without it needs neither the module nor the policy tools, and the
  // package may have been compiled without selinux-policy-dev (then it holds no .pp).
  if (!sandboxed && is_selinux_enabled() != 1) {
    if (request.required) {
      throw UnsupportedError(
          "SELinux is not enabled on this host, and it is required "
          "(selinux.required): policy module not loaded");
    }
    out << "pgguard-selinux: SELinux is not enabled on this host: policy module "
        << request.module_path
        << " not loaded, nothing changed (Landlock confines the processes instead)\n";
    return;
  }
  const std::string expected_name = expected_module_name(request.module_path);
  const std::string package = read_package(request.module_path);
  const ModuleHeader header = parse_module_header(package, request.module_path);
  if (header.name != expected_name) {
    throw ConfigError(Location{request.module_path, 0}, "--module",
                      "the package holds module '" + header.name + "', its file name says '" +
                          expected_name + "'");
  }
  const std::string sha256 = sandbox::sha256_hex(package);

  if (sandboxed && !request.relabel_paths.empty()) {
    throw ConfigError(Location{"command line", 0}, "--relabel",
                      "cannot relabel files for a sandbox store (--store-root)");
  }
  // Resolve every path before the store changes: a typo must not leave a new module behind.
  std::vector<std::string> relabel_paths;
  for (const std::string& path : request.relabel_paths) {
    relabel_paths.push_back(canonical_existing_path(path));
  }

  PolicyStore store(request.store_root);
  const std::optional<InstalledModule> previous = store.installed_module(header.name);
  StoreState state;
  if (previous) {
    state.installed_sha256 = sandbox::sha256_hex(previous->package);
    state.enabled = previous->enabled;
  }
  state.local_ports = store.local_ports();
  const LoadPlan plan = plan_load(sha256, state, release_port_labels());

  const std::string described =
      "module " + header.name + " " + header.version + " (sha256 " + short_hash(sha256) + ")";
  if (!plan.changes_store()) {
    out << "pgguard-selinux: " << described << " already installed and enabled; store unchanged\n";
  } else {
    store.apply(header.name,
                plan.install_module ? std::optional<std::string>(package) : std::nullopt,
                plan.install_module || plan.enable_module, plan.ports_to_set);
    if (plan.install_module) {
      out << "pgguard-selinux: " << (previous ? "upgraded to " : "installed ") << described
          << (previous ? " from sha256 " + short_hash(*state.installed_sha256) : std::string())
          << "\n";
    } else if (plan.enable_module) {
      out << "pgguard-selinux: enabled " << described << "\n";
    }
    for (const PortLabel& label : plan.ports_to_set) {
      out << "pgguard-selinux: port " << to_string(label) << "\n";
    }
  }
  verify_store(store, header.name, sha256);

  if (sandboxed) {
    return;
  }
  verify_kernel();
  try {
    relabel_and_verify(relabel_paths, out);
  } catch (const Error& error) {
    if (plan.install_module && previous) {
      // The old module goes back in force; the error still fails the caller.
      store.apply(header.name, previous->package, previous->enabled, {});
      throw Error(error.code(), std::string(error.what()) + "\n(the previous module, sha256 " +
                                    short_hash(*state.installed_sha256) + ", was put back)");
    }
    throw;
  }
}

}  // namespace pgguard::selinux
