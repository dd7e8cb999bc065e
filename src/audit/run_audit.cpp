#include "audit/run_audit.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <optional>
#include <set>

#include "audit/host_audit.hpp"
#include "audit/listeners.hpp"
#include "audit/proc_reader.hpp"
#include "audit/proc_text.hpp"
#include "audit/process_audit.hpp"
#include "common/file_io.hpp"
#include "common/strings.hpp"
#include "net/isolation.hpp"
#include "sandbox/identity.hpp"
#include "sandbox/profile.hpp"

namespace pgguard::audit {

namespace {

bool is_directory(const std::string& path) {
  struct stat status {};
  return ::stat(path.c_str(), &status) == 0 && S_ISDIR(status.st_mode);
}

bool exists(const std::string& path) {
  struct stat status {};
  return ::stat(path.c_str(), &status) == 0;
}

// The isolation row; fills `isolation` with the parsed configuration when it can be read.
Row check_isolation(const std::string& path, std::optional<net::IsolationConfig>& isolation) {
  if (!exists(path)) {
    return isolation_failure_row(path, "no " + path + ": the isolation job is not on this VM");
  }
  try {
    const net::ConfigSource source = net::read_config_source(path);
    isolation = net::parse_config_source(source);
    net::EngineOptions options;
    options.use_state = false;  // an audit compares with the kernel, whatever was recorded
    return isolation_row(path, net::verify_isolation(source, options));
  } catch (const Error& error) {
    return isolation_failure_row(path, error.what());
  }
}

ProcessObservation observe(const ProcessEntry& entry, bool security_context,
                           std::optional<std::vector<std::pair<pid_t, pid_t>>>& parents) {
  ProcessObservation observation;
  try {
    observation.pid_file_text = read_if_exists(entry.pid_file);
  } catch (const Error& error) {
    observation.pid_file_error = error.what();
    return observation;
  }
  const auto pid =
      observation.pid_file_text ? parse_pid_file(*observation.pid_file_text) : std::nullopt;
  if (!pid || !process_exists(*pid)) {
    return observation;
  }
  observation.main = read_process(*pid, security_context);
  if (!observation.main->error.empty() && !process_exists(*pid)) {
    observation.main.reset();  // exited between the two looks
    return observation;
  }
  if (!parents) {
    parents = process_parents();
  }
  for (const auto child : descendants_of(*pid, *parents)) {
    auto sample = read_process(child, security_context);
    // Children come and go (a backend per connection, a health check every second): one that
    // exited between the listing and the reading, or while it was read, is no finding.
    if (sample.error.empty() ? !status_shows_exit(sample.status) : process_exists(child)) {
      observation.descendants.push_back(std::move(sample));
    }
  }
  return observation;
}

// The plan of the entry's profile on this host, or why there is none.
std::optional<sandbox::SandboxPlan> plan_of(const std::string& path, const HostConfinement& host,
                                            std::string& error) {
  try {
    sandbox::Profile profile = sandbox::load_profile(path);
    sandbox::Identity identity = sandbox::resolve_identity(profile);
    return audit_plan(
        std::move(profile), std::move(identity),
        {host.landlock_abi, host.selinux_enabled, host.selinux_enforcing.value_or(false)});
  } catch (const Error& problem) {
    error = problem.what();
    return std::nullopt;
  }
}

// One row per directory holding a configured profile: no rendered profile there may carry
// seccomp.staging (docs/sandbox.md: the errand flags every rendered profile that carries it).
Row staging_row(const std::string& directory) {
  Row row{"staging", directory + "/*.profile",
          "no rendered profile with seccomp.staging = true (default action log)", "", false};
  std::vector<std::string> staging;
  std::vector<std::string> invalid;
  const auto files = files_with_suffix(directory, ".profile");
  for (const auto& file : files) {
    try {
      const auto profile = sandbox::load_profile(file);
      if (profile.seccomp.staging) {
        staging.push_back(profile.seccomp.staging_where.to_string());
      }
    } catch (const Error& error) {
      invalid.push_back(error.what());
    }
  }
  if (staging.empty() && invalid.empty()) {
    row.found = std::to_string(files.size()) + " profiles, none staging";
    row.ok = true;
    return row;
  }
  std::vector<std::string> found;
  if (!staging.empty()) {
    found.push_back("STAGING: " + join(staging, ", "));
  }
  if (!invalid.empty()) {
    found.push_back("invalid (pgguard-launch would refuse): " + join(invalid, "; "));
  }
  row.found = join(found, "; ");
  return row;
}

}  // namespace

AuditOutcome run_audit(const SmokeConfig& config) {
  AuditOutcome outcome;
  std::set<std::string> named_jobs;
  for (const auto& entry : config.processes) {
    named_jobs.insert(entry.job);
  }
  for (const auto& job_port : config.job_ports) {
    named_jobs.insert(job_port.job);
  }
  std::set<std::string> present;
  for (const auto& job : named_jobs) {
    if (is_directory(config.jobs_dir + "/" + job)) {
      present.insert(job);
      outcome.jobs_present.push_back(job);
    }
  }

  std::optional<net::IsolationConfig> isolation;
  outcome.rows.push_back(check_isolation(config.isolation_config, isolation));

  const HostConfinement host = read_host_confinement();
  for (auto& row : confinement_rows(host, config.selinux_required)) {
    outcome.rows.push_back(std::move(row));
  }

  const AuditPolicy policy{config.landlock_required, config.selinux_required};
  std::optional<std::vector<std::pair<pid_t, pid_t>>> parents;
  std::vector<std::string> profile_directories;
  for (const auto& entry : config.processes) {
    if (present.count(entry.job) == 0) {
      continue;  // the job is not on this VM
    }
    if (entry.profile && entry.only_if_profile_exists && !exists(*entry.profile)) {
      continue;  // the job did not render this process's profile: it is not expected here
    }
    std::string profile_error;
    std::optional<sandbox::SandboxPlan> plan;
    if (entry.profile) {
      plan = plan_of(*entry.profile, host, profile_error);
      const auto directory = directory_of(*entry.profile);
      if (std::find(profile_directories.begin(), profile_directories.end(), directory) ==
          profile_directories.end()) {
        profile_directories.push_back(directory);
      }
    }
    const auto observation = observe(entry, host.selinux_enabled, parents);
    for (auto& row : audit_process(entry, observation, plan, profile_error, policy)) {
      outcome.rows.push_back(std::move(row));
    }
  }
  for (const auto& directory : profile_directories) {
    outcome.rows.push_back(staging_row(directory));
  }

  const auto sockets = listening_sockets();
  std::set<std::uint64_t> inodes;
  for (const auto& socket : sockets) {
    inodes.insert(socket.inode);
  }
  const auto rules = allowed_listeners(config, isolation.value_or(net::IsolationConfig{}), present,
                                       ephemeral_ports());
  for (auto& row : audit_listeners(sockets, rules, socket_owners(inodes))) {
    outcome.rows.push_back(std::move(row));
  }
  return outcome;
}

}  // namespace pgguard::audit
