// The launcher profiles of a PostgreSQL node as its pre-start writes them: the shipped templates
// with the node's placeholders and sandbox settings (no SELinux domain: this host has none).
#include <boost/test/unit_test.hpp>

#include "lib/golden.hpp"
#include "lib/shipped_profile.hpp"
#include "node/sandbox_settings.hpp"
#include "plan_fixture.hpp"
#include "postgres/server_files.hpp"

using namespace pgguard::postgres;
using pgguard::postgres::test::golden_plan;
using pgguard::postgres::test::source_path;
using pgguard::test::check_golden;
using pgguard::test::render_shipped_profile;

namespace {

NodePlan standby_plan() {
  return parse_node_plan(
      pgguard::config::ConfigFile::load(source_path("spec/fixtures/pg-standby/node.conf")));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(profiles)

BOOST_AUTO_TEST_CASE(golden_server_profile) {
  const auto plan = golden_plan();
  check_golden(render_shipped_profile("postgres-server.conf.in", profile_placeholders(plan),
                                      pgguard::node::service_adjustment(plan.sandbox)),
               "tests/unit/postgres/data/postgres-server.profile");
}

BOOST_AUTO_TEST_CASE(golden_initdb_profile) {
  const auto plan = golden_plan();
  check_golden(render_shipped_profile("initdb.conf.in", profile_placeholders(plan),
                                      pgguard::node::tool_adjustment(plan.sandbox)),
               "tests/unit/postgres/data/initdb.profile");
}

BOOST_AUTO_TEST_CASE(golden_basebackup_profile) {
  const auto plan = standby_plan();
  auto placeholders = profile_placeholders(plan);
  placeholders["DATA_DIR"] = basebackup_staging_path(plan);
  check_golden(render_shipped_profile("pg_basebackup.conf.in", placeholders,
                                      pgguard::node::tool_adjustment(plan.sandbox)),
               "tests/unit/postgres/data/pg_basebackup.profile");
}

// The standby's server profile differs from the primary's in its paths only.
BOOST_AUTO_TEST_CASE(golden_standby_server_profile) {
  const auto plan = standby_plan();
  check_golden(render_shipped_profile("postgres-server.conf.in", profile_placeholders(plan),
                                      pgguard::node::service_adjustment(plan.sandbox)),
               "tests/unit/postgres/data/postgres-server-standby.profile");
}

// The fence gets no operator setting: none of its limits is a server's.
BOOST_AUTO_TEST_CASE(golden_fence_profile) {
  const auto plan = golden_plan();
  check_golden(render_shipped_profile("postgres-fence.conf.in", profile_placeholders(plan),
                                      pgguard::node::tool_adjustment(plan.sandbox)),
               "tests/unit/postgres/data/postgres-fence.profile");
}

BOOST_AUTO_TEST_SUITE_END()
