#pragma once

#include <string>
#include <vector>

#include "audit/report.hpp"
#include "audit/smoke_config.hpp"

// The security smoke test on this VM: reads what it must (proc_reader.hpp), lets the pure
// checks decide (host_audit, process_audit, listeners), returns the rows in table order.
namespace pgguard::audit {

struct AuditOutcome {
  std::vector<Row> rows;
  std::vector<std::string> jobs_present;  // of the jobs the configuration names
};

AuditOutcome run_audit(const SmokeConfig& config);

}  // namespace pgguard::audit
