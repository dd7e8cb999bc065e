#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/config_file.hpp"
#include "common/error.hpp"

// What a job's pre-start puts on the VM before anything of it runs: its own system accounts,
// directories with owner and mode, and files installed from the rendered job (configuration,
// TLS material) where the job's unprivileged user can read them with the right owner and mode.
// BOSH renders every template root-owned into /var/vcap/jobs; PostgreSQL refuses a private key
// that is not 0600 (or root-owned 0640), and a job user outside group vcap could not read the
// rendered files at all. Rendered by each job as config/setup.conf; applied by
// `pgguard-setup apply` (docs/jobs.md).
namespace pgguard::node {

struct Ownership {
  std::string owner;  // "root" or an account
  std::string group;  // "root" or a group (each account has its own group)
  mode_t mode = 0;
};

struct DirectorySpec {
  std::string path;
  Ownership ownership;
  Location where;
};

struct InstallSpec {
  std::string source;
  std::string destination;
  Ownership ownership;
  Location where;
};

struct SetupPlan {
  // System accounts this job runs processes as, each with a group of the same name. Never
  // root, never vcap: one process kind cannot signal or read another's files.
  std::vector<std::string> accounts;
  std::vector<DirectorySpec> directories;  // created in this order (parents first)
  std::vector<InstallSpec> installs;
};

// Pure. Throws ConfigError (file:line: key: message) on any problem: unknown keys, relative
// paths or paths with '.'/'..' components, modes other than 0 and three octal digits, owners that
// are neither root nor a declared account, a destination installed twice, an account name
// that is not a portable user name, root, or vcap.
SetupPlan parse_setup_plan(const config::ConfigFile& file);

// Pure: the checks parse_setup_plan applies to one account name; throws ConfigError.
void check_account_name(const std::string& name, const Location& where, const std::string& key);

}  // namespace pgguard::node
