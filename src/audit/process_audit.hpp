#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "audit/report.hpp"
#include "audit/smoke_config.hpp"
#include "sandbox/identity.hpp"
#include "sandbox/profile.hpp"
#include "sandbox/sandbox_plan.hpp"

// Pure: what /proc shows of a process of the release, against what its profile says.
namespace pgguard::audit {

// What /proc shows of one process (read by proc_reader.hpp; given by hand in the unit tests).
struct ProcessSample {
  pid_t pid = 0;
  std::string comm;
  std::string status;                           // /proc/PID/status
  std::string limits;                           // /proc/PID/limits
  std::optional<std::string> security_context;  // /proc/PID/attr/current, where SELinux is on
  std::string error;                            // could not be read (e.g. it exited meanwhile)
};

struct ProcessObservation {
  std::optional<std::string> pid_file_text;  // nullopt: no pid file
  std::string pid_file_error;                // the pid file exists but cannot be read
  std::optional<ProcessSample> main;         // nullopt: the pid names no running process
  std::vector<ProcessSample> descendants;    // every process below it
};

struct AuditPolicy {
  bool landlock_required = false;  // the errand's landlock.required
  bool selinux_required = false;   // the errand's selinux.required
};

// The plan the launcher would make for `profile` on this host, without refusing what the
// profile requires and the host lacks (the audit reports that instead, as a FAIL row). Throws
// what make_sandbox_plan throws otherwise (e.g. an unknown syscall name).
sandbox::SandboxPlan audit_plan(sandbox::Profile profile, sandbox::Identity identity,
                                sandbox::HostFacts host);

// "pg-master/postgres": how the table names an entry.
std::string subject_of(const ProcessEntry& entry);

// The "process" row: the pid file names a running process whose comm is the entry's. Sets
// `running` to whether the rows about the process's sandbox can be made.
Row process_row(const ProcessEntry& entry, const ProcessObservation& observation, bool& running);

// Every row about a running process's sandbox: identity, umask, capabilities, no_new_privs,
// seccomp mode, the profile's seccomp default action (staging = FAIL), rlimits, Landlock,
// SELinux domain (where SELinux is enabled), and the same sandbox on every descendant.
std::vector<Row> sandbox_rows(const ProcessEntry& entry, const ProcessObservation& observation,
                              const sandbox::SandboxPlan& plan, const AuditPolicy& policy);

// All rows of an entry: process_row, then sandbox_rows when it runs and has a plan. `plan` is
// nullopt for a root process (the isolation guard) and when the profile could not be read, in
// which case `profile_error` says why (a FAIL row).
std::vector<Row> audit_process(const ProcessEntry& entry, const ProcessObservation& observation,
                               const std::optional<sandbox::SandboxPlan>& plan,
                               const std::string& profile_error, const AuditPolicy& policy);

}  // namespace pgguard::audit
