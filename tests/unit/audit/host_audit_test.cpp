#include "audit/host_audit.hpp"

#include <boost/test/unit_test.hpp>

using namespace pgguard;
using namespace pgguard::audit;

namespace {

HostConfinement selinux_host(bool enforcing) {
  HostConfinement host;
  host.selinux_enabled = true;
  host.selinux_enforcing = enforcing;
  host.module_types = {"secpg_postgres_port_t", "secpg_pgpool_port_t"};
  host.landlock_abi = 7;
  return host;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(host_audit)

BOOST_AUTO_TEST_CASE(without_selinux_landlock_confines_and_the_row_says_its_abi) {
  HostConfinement host;
  host.landlock_abi = 4;
  auto rows = confinement_rows(host, false);
  BOOST_TEST_REQUIRE(rows.size() == 1U);
  BOOST_TEST(rows[0].ok);
  BOOST_TEST(rows[0].found ==
             "SELinux not enabled; Landlock confines the processes (kernel Landlock ABI 4)");
  BOOST_TEST(!confinement_rows(host, true)[0].ok);  // selinux.required
  host.landlock_abi = 0;
  BOOST_TEST(!confinement_rows(host, false)[0].ok);  // nothing confines
}

BOOST_AUTO_TEST_CASE(selinux_enforcing_with_the_module_passes) {
  const auto rows = confinement_rows(selinux_host(true), true);
  BOOST_TEST_REQUIRE(rows.size() == 2U);
  BOOST_TEST(rows[0].check == "selinux module");
  BOOST_TEST(rows[0].ok);
  BOOST_TEST(rows[1].found == "enforcing");
  BOOST_TEST(rows[1].ok);
}

BOOST_AUTO_TEST_CASE(permissive_is_shown_and_fails_when_selinux_is_required) {
  auto rows = confinement_rows(selinux_host(false), false);
  BOOST_TEST(rows[1].ok);
  BOOST_TEST(rows[1].found == "permissive: the policy only logs, it confines nothing");
  rows = confinement_rows(selinux_host(false), true);
  BOOST_TEST(!rows[1].ok);
  BOOST_TEST(rows[1].expected == "enforcing (selinux.required)");
}

BOOST_AUTO_TEST_CASE(a_module_whose_types_the_kernel_does_not_know_fails) {
  auto host = selinux_host(true);
  host.missing_types = {"secpg_pgpool_port_t"};
  const auto rows = confinement_rows(host, false);
  BOOST_TEST(!rows[0].ok);
  BOOST_TEST(rows[0].found ==
             "not loaded: the kernel does not know secpg_pgpool_port_t (run pgguard-selinux load)");
}

BOOST_AUTO_TEST_CASE(the_isolation_row_shows_the_drift) {
  net::VerifyReport report;
  report.table = "secure_postgres";
  auto row = isolation_row("/var/vcap/jobs/isolation/config/isolation.conf", report);
  BOOST_TEST(row.ok);
  BOOST_TEST(row.subject == "table inet secure_postgres");
  BOOST_TEST(row.found == "in sync (table and sysctls)");
  report.differences = {"chain input: rule 3 missing",
                        "sysctl net.ipv4.tcp_syncookies: 0, expected 1"};
  row = isolation_row("/var/vcap/jobs/isolation/config/isolation.conf", report);
  BOOST_TEST(!row.ok);
  BOOST_TEST(row.found ==
             "2 differences: chain input: rule 3 missing; sysctl net.ipv4.tcp_syncookies: 0, "
             "expected 1");
  BOOST_TEST(!isolation_failure_row("/x", "no /x: the isolation job is not on this VM").ok);
}

BOOST_AUTO_TEST_SUITE_END()
