// The launcher profiles of a pgpool node as its pre-start writes them: the shipped templates
// with the node's placeholders and sandbox settings (no SELinux domain: this host has none).
#include <boost/test/unit_test.hpp>

#include "lib/golden.hpp"
#include "lib/shipped_profile.hpp"
#include "node/sandbox_settings.hpp"
#include "pgpool/pool_files.hpp"
#include "plan_fixture.hpp"

using namespace pgguard::pgpool;
using pgguard::pgpool::test::golden_plan;
using pgguard::test::check_golden;
using pgguard::test::render_shipped_profile;

BOOST_AUTO_TEST_SUITE(profiles)

BOOST_AUTO_TEST_CASE(golden_pgpool_watchdog_profile) {
  const auto plan = golden_plan();
  check_golden(render_shipped_profile("pgpool-watchdog.conf.in", profile_placeholders(plan),
                                      pgguard::node::service_adjustment(plan.sandbox)),
               "tests/unit/pgpool/data/pgpool-watchdog.profile");
}

BOOST_AUTO_TEST_CASE(golden_vip_broker_profile) {
  auto plan = golden_plan();
  plan.vip = Vip{"198.18.1.20", 24, "eth0", "pgpool-vip", "/var/vcap/sys/run/pgpool-vip"};
  check_golden(render_shipped_profile("vip-helper.conf.in", broker_placeholders(plan),
                                      pgguard::node::tool_adjustment(plan.sandbox)),
               "tests/unit/pgpool/data/vip-helper.profile");
}

BOOST_AUTO_TEST_SUITE_END()
