#pragma once

#include <string>

#include "common/config_file.hpp"
#include "lib/require.hpp"
#include "postgres/node_plan.hpp"

namespace pgguard::postgres::test {

inline std::string source_path(const std::string& relative) {
  return pgguard::test::test_environment("PGGUARD_SOURCE_DIR") + "/" + relative;
}

// The pg-master job's golden node.conf (spec/jobs/pg-master renders it from the job's
// templates), so these tests read exactly what the job renders.
inline const char* kGoldenNodeConf = "spec/fixtures/pg-master/node.conf";

inline NodePlan golden_plan() {
  return parse_node_plan(config::ConfigFile::load(source_path(kGoldenNodeConf)));
}

inline NodePlan parse_plan(const std::string& text) {
  return parse_node_plan(config::ConfigFile::parse(text, "node.conf"));
}

}  // namespace pgguard::postgres::test
