#pragma once

#include <cstddef>
#include <string>
#include <vector>

// The security smoke test's result: one row per check, printed as one table (docs/jobs.md,
// "security-smoke-tests errand").
namespace pgguard::audit {

struct Row {
  std::string check;     // what kind of check: "isolation", "identity", "listener", ...
  std::string subject;   // what was checked: "pg-master/postgres pid 4242", "tcp 10.0.0.5:5432"
  std::string expected;  // what the release promises
  std::string found;     // what the VM shows
  bool ok = false;
};

// The table: columns check, subject, expected, found, result ("ok" or "FAIL"), each at most a
// bounded width; longer cells continue on the following lines of the same row. Pure.
std::string render_table(const std::vector<Row>& rows);

std::size_t failed_rows(const std::vector<Row>& rows);

}  // namespace pgguard::audit
