#include "audit/host_audit.hpp"

#include "common/strings.hpp"

namespace pgguard::audit {

std::vector<Row> confinement_rows(const HostConfinement& host, bool selinux_required) {
  std::vector<Row> rows;
  if (!host.selinux_enabled) {
    Row row{"confinement", "this VM",
            selinux_required ? "SELinux enforcing (selinux.required)"
                             : "SELinux, or else Landlock (kernel ABI >= 1)",
            "SELinux not enabled; ", false};
    if (host.landlock_abi >= 1) {
      row.found += "Landlock confines the processes (kernel Landlock ABI " +
                   std::to_string(host.landlock_abi) + ")";
      row.ok = !selinux_required;
    } else {
      row.found += "no Landlock either (kernel Landlock ABI 0): nothing confines file access";
    }
    rows.push_back(std::move(row));
    return rows;
  }

  Row module{"selinux module", "secure_postgres",
             "loaded: the kernel's policy knows its types (" + join(host.module_types, ", ") + ")",
             "", host.missing_types.empty()};
  module.found = host.missing_types.empty()
                     ? "loaded"
                     : "not loaded: the kernel does not know " + join(host.missing_types, ", ") +
                           " (run pgguard-selinux load)";
  rows.push_back(std::move(module));

  Row mode{"selinux mode", "this VM",
           selinux_required ? "enforcing (selinux.required)" : "enforcing (permissive is shown)",
           "", false};
  if (!host.selinux_enforcing) {
    mode.found = "/sys/fs/selinux/enforce unreadable";
  } else if (*host.selinux_enforcing) {
    mode.found = "enforcing";
    mode.ok = true;
  } else {
    mode.found = "permissive: the policy only logs, it confines nothing";
    mode.ok = !selinux_required;
  }
  rows.push_back(std::move(mode));
  return rows;
}

Row isolation_row(const std::string& config_path, const net::VerifyReport& report) {
  Row row{"isolation", "table inet " + report.table,
          "in sync with " + config_path + " (pgguard-isolate verify)", "", false};
  if (report.differences.empty()) {
    row.found = "in sync (table and sysctls)";
    row.ok = true;
  } else {
    row.found = std::to_string(report.differences.size()) +
                " differences: " + join(report.differences, "; ");
  }
  return row;
}

Row isolation_failure_row(const std::string& config_path, const std::string& why) {
  return {"isolation", "isolation job", "in sync with " + config_path + " (pgguard-isolate verify)",
          why, false};
}

}  // namespace pgguard::audit
