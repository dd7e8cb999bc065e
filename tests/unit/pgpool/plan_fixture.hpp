#pragma once

#include <string>

#include "common/config_file.hpp"
#include "lib/require.hpp"
#include "pgpool/pool_plan.hpp"

namespace pgguard::pgpool::test {

inline std::string source_path(const std::string& relative) {
  return pgguard::test::test_environment("PGGUARD_SOURCE_DIR") + "/" + relative;
}

// The pgpool job's golden pool.conf (spec/jobs/pgpool renders it from the job's templates):
// node 1 of three, both backends, the watchdog.
inline PoolPlan golden_plan() {
  return parse_pool_plan(config::ConfigFile::load(source_path("spec/fixtures/pgpool/pool.conf")));
}

}  // namespace pgguard::pgpool::test
