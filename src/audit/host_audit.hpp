#pragma once

#include <optional>
#include <string>
#include <vector>

#include "audit/report.hpp"
#include "net/isolation.hpp"

// Pure: the rows about the VM as a whole: the isolation table and what confines processes.
namespace pgguard::audit {

// What the host offers to confine processes (read by proc_reader.hpp).
struct HostConfinement {
  bool selinux_enabled = false;
  std::optional<bool> selinux_enforcing;   // /sys/fs/selinux/enforce; nullopt: unreadable
  std::vector<std::string> module_types;   // the release module's types the kernel was asked
  std::vector<std::string> missing_types;  // ... and does not know
  int landlock_abi = 0;
};

// SELinux enabled: one row for the release's module (its types known to the kernel), one for
// the mode (permissive = FAIL when selinux.required). SELinux off: one row saying Landlock is
// what confines, with the kernel's ABI (FAIL when selinux.required, or when there is no
// Landlock either).
std::vector<Row> confinement_rows(const HostConfinement& host, bool selinux_required);

// The isolation row from verify_isolation's report.
Row isolation_row(const std::string& config_path, const net::VerifyReport& report);
// ... when there is no isolation job on this VM, or its check failed before comparing.
Row isolation_failure_row(const std::string& config_path, const std::string& why);

}  // namespace pgguard::audit
