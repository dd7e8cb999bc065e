#include "sandbox/sandbox_plan.hpp"

#include <sys/capability.h>

#include <boost/test/unit_test.hpp>

#include "sandbox/seccomp_policy.hpp"
#include "test_support.hpp"

using namespace pgguard;
using namespace pgguard::sandbox;
using namespace pgguard::sandbox::test;

namespace {

const std::string postgres_profile =
    "user = postgres\n"
    "env = PGDATA=/var/vcap/store/postgres/data\n"
    "env_pass = LANG\n"
    "[rlimit]\n"
    "nofile = 1024:4096\n"
    "nproc = 256:256\n"
    "[seccomp]\n"
    "group = base\n"
    "group = postgres-server\n"
    "[landlock]\n"
    "read = /var/vcap/packages/postgres-15\n"
    "write = /var/vcap/store/postgres\n"
    "bind_tcp = 5432\n"
    "[selinux]\n"
    "context = system_u:system_r:pgguard_postgres_t:s0\n";

const std::string vip_profile =
    "user = vcap\n"
    "[capabilities]\n"
    "bounding = CAP_NET_ADMIN, CAP_NET_RAW\n"
    "ambient = CAP_NET_ADMIN, CAP_NET_RAW\n"
    "[seccomp]\n"
    "group = base\n"
    "group = vip-broker\n"
    "socket = AF_UNIX, AF_NETLINK:NETLINK_ROUTE, AF_PACKET:SOCK_DGRAM\n";

Identity identity(uid_t uid, gid_t gid, const std::string& user) {
  Identity result;
  result.user = user;
  result.uid = uid;
  result.group = user;
  result.gid = gid;
  return result;
}

SandboxPlan plan_of(const std::string& text, HostFacts host = {7, false, false}) {
  return make_sandbox_plan(profile_from(text), identity(101, 104, "postgres"), host);
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sandbox_plan)

BOOST_AUTO_TEST_CASE(expected_status_of_a_server_profile) {
  const auto plan = plan_of(postgres_profile);
  const auto& expected = plan.expected_status;
  BOOST_TEST((expected.uid == std::array<uid_t, 4>{101, 101, 101, 101}));
  BOOST_TEST((expected.gid == std::array<gid_t, 4>{104, 104, 104, 104}));
  BOOST_TEST(expected.groups.empty());
  BOOST_TEST(expected.cap_inheritable == 0U);
  BOOST_TEST(expected.cap_permitted == 0U);
  BOOST_TEST(expected.cap_effective == 0U);
  BOOST_TEST(expected.cap_bounding == 0U);
  BOOST_TEST(expected.cap_ambient == 0U);
  BOOST_TEST(expected.no_new_privs == 1);
  BOOST_TEST(expected.seccomp == 2);
  BOOST_TEST(expected.umask == 0077U);
}

BOOST_AUTO_TEST_CASE(expected_status_of_the_vip_helper) {
  const auto plan = plan_of(vip_profile);
  const std::uint64_t net = (1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_RAW);
  BOOST_TEST(plan.expected_status.cap_ambient == net);
  BOOST_TEST(plan.expected_status.cap_permitted == net);
  BOOST_TEST(plan.expected_status.cap_effective == net);
  BOOST_TEST(plan.expected_status.cap_inheritable == net);
  BOOST_TEST(plan.expected_status.cap_bounding == net);
}

BOOST_AUTO_TEST_CASE(landlock_by_abi) {
  BOOST_TEST(plan_of(postgres_profile, {7, false, false}).landlock.tcp);
  BOOST_TEST(plan_of(postgres_profile, {4, false, false}).landlock.tcp);
  const auto abi1 = plan_of(postgres_profile, {1, false, false});  // jammy
  BOOST_TEST(abi1.landlock.filesystem);
  BOOST_TEST(!abi1.landlock.tcp);
  BOOST_REQUIRE(abi1.landlock.notices.size() == 1U);
  BOOST_TEST(contains(abi1.landlock.notices[0], "ABI 4 needed"));
  const auto none = plan_of(postgres_profile, {0, false, false});
  BOOST_TEST(!none.landlock.filesystem);
  BOOST_TEST(none.landlock.notices.size() == 1U);

  const std::string required =
      postgres_profile.substr(0, postgres_profile.find("[selinux]")) + "required = true\n";
  BOOST_TEST(error_of(
                 [&] {
                   plan_of(required, {1, false, false});
                 },
                 ExitCode::unsupported)
                 .find("landlock.required") != std::string::npos);
  BOOST_TEST(error_of(
                 [&] {
                   plan_of(required, {0, false, false});
                 },
                 ExitCode::unsupported)
                 .find("no Landlock") != std::string::npos);
  BOOST_CHECK_NO_THROW(plan_of(required, {4, false, false}));
}

BOOST_AUTO_TEST_CASE(landlock_scopes_need_abi_6) {
  const std::string scoped = postgres_profile.substr(0, postgres_profile.find("[selinux]")) +
                             "scope = signal, abstract_unix_socket\n";
  BOOST_TEST(plan_of(scoped, {6, false, false}).landlock.scoped == 3U);
  BOOST_TEST(plan_of(postgres_profile, {7, false, false}).landlock.scoped == 0U);
  const auto abi5 = plan_of(scoped, {5, false, false});
  BOOST_TEST(abi5.landlock.scoped == 0U);
  BOOST_TEST(abi5.landlock.notices.empty());
  BOOST_REQUIRE(abi5.landlock.scope_notices.size() == 1U);
  BOOST_TEST(contains(abi5.landlock.scope_notices[0], "ABI 6 needed"));
  // explain says which of the two keeps other services' processes out: the scope or the account.
  const auto scoped_text = explain_plan(plan_of(scoped, {7, false, false}));
  BOOST_TEST(
      contains(scoped_text, "signals:     only to processes of this sandbox (Landlock scope)"));
  BOOST_TEST(
      contains(scoped_text, "abstract unix sockets: only those of this sandbox (Landlock scope)"));
  const auto old_kernel = explain_plan(abi5);
  BOOST_TEST(contains(old_kernel, "signals:     to any process of uid "));
  BOOST_TEST(contains(old_kernel,
                      "only its account separates it from other services (its "
                      "signal scope needs Landlock ABI 6)"));
  BOOST_TEST(contains(explain_plan(plan_of(postgres_profile, {7, false, false})),
                      "(no file permission applies to them) (the profile has no "
                      "abstract_unix_socket scope)"));
  const auto sockets_only =
      explain_plan(plan_of(postgres_profile.substr(0, postgres_profile.find("[selinux]")) +
                               "scope = abstract_unix_socket\n",
                           {7, false, false}));
  BOOST_TEST(contains(sockets_only,
                      "only its account separates it from other services (the "
                      "profile has no signal scope)"));
  BOOST_TEST(contains(sockets_only, "abstract unix sockets: only those of this sandbox"));
  // What the profile asks for is read from the names, not counted: `signal` twice asks for no
  // abstract-socket scope.
  const auto signal_twice = explain_plan(plan_of(
      postgres_profile.substr(0, postgres_profile.find("[selinux]")) + "scope = signal, signal\n",
      {5, false, false}));
  BOOST_TEST(contains(signal_twice, "(its signal scope needs Landlock ABI 6)"));
  BOOST_TEST(contains(signal_twice, "(the profile has no abstract_unix_socket scope)"));
  // Scopes are where the kernel has them: landlock.required covers the filesystem and TCP
  // rules, so a Noble VM (ABI 4) can require Landlock under the shipped, scoped profiles.
  const auto required_abi4 = plan_of(scoped + "required = true\n", {4, false, false});
  BOOST_TEST(required_abi4.landlock.tcp);
  BOOST_TEST(required_abi4.landlock.unmet.empty());
  BOOST_TEST(contains(explain_plan(required_abi4), "notice: Landlock ABI 4 has no scopes"));
  BOOST_TEST(error_of([&] {
               profile_from(minimal_profile() + "[landlock]\nscope = ptrace\n");
             }).starts_with("test.profile:5: landlock.scope: expected abstract_unix_socket"));
}

BOOST_AUTO_TEST_CASE(selinux_by_host) {
  const auto disabled = plan_of(postgres_profile, {7, false, false});
  BOOST_TEST(!disabled.selinux.context);
  BOOST_REQUIRE(disabled.selinux.notice);
  BOOST_TEST(contains(*disabled.selinux.notice, "not enabled"));
  const auto enabled = plan_of(postgres_profile, {7, true, true});
  BOOST_REQUIRE(enabled.selinux.context);
  BOOST_TEST(*enabled.selinux.context == "system_u:system_r:pgguard_postgres_t:s0");
  BOOST_TEST(!enabled.selinux.notice);
  const std::string required = postgres_profile + "required = true\n";
  BOOST_TEST(error_of(
                 [&] {
                   plan_of(required, {7, false, false});
                 },
                 ExitCode::unsupported)
                 .starts_with("test.profile:15: selinux.context: SELinux is not enabled"));
  // Permissive: the domain is entered and the notice says it enforces nothing; required, the
  // launch is refused.
  const auto permissive = plan_of(postgres_profile, {7, true, false});
  BOOST_REQUIRE(permissive.selinux.context);
  BOOST_REQUIRE(permissive.selinux.notice);
  BOOST_TEST(contains(*permissive.selinux.notice, "permissive"));
  BOOST_TEST(error_of(
                 [&] {
                   plan_of(required, {7, true, false});
                 },
                 ExitCode::unsupported)
                 .starts_with("test.profile:15: selinux.context: SELinux is permissive"));
  BOOST_CHECK_NO_THROW(plan_of(required, {7, true, true}));
}

// explain reads a production profile anywhere: what `run` would refuse is listed first, and
// the rest of the plan is what this host can do.
BOOST_AUTO_TEST_CASE(explain_reports_what_run_refuses) {
  const std::string both_required =
      postgres_profile.substr(0, postgres_profile.find("[selinux]")) + "required = true\n" +
      postgres_profile.substr(postgres_profile.find("[selinux]")) + "required = true\n";
  const HostFacts workstation{1, false, false};
  BOOST_TEST(error_of(
                 [&] {
                   make_sandbox_plan(profile_from(both_required), identity(101, 104, "postgres"),
                                     workstation);
                 },
                 ExitCode::unsupported)
                 .find("landlock.required") != std::string::npos);
  const auto plan = make_sandbox_plan(profile_from(both_required), identity(101, 104, "postgres"),
                                      workstation, UnmetRequirement::report);
  BOOST_REQUIRE(plan.landlock.unmet.size() == 1U);
  BOOST_TEST(
      contains(plan.landlock.unmet[0], "landlock.required: Landlock ABI 1 has no TCP rules"));
  BOOST_TEST(plan.landlock.filesystem);
  BOOST_TEST(!plan.landlock.tcp);
  BOOST_REQUIRE(plan.selinux.unmet);
  BOOST_TEST(plan.selinux.unmet->starts_with(
      "test.profile:16: selinux.context: SELinux is not enabled on this host"));
  BOOST_TEST(!plan.selinux.context);
  const auto text = explain_plan(plan);
  const auto refusal = text.find("!! run REFUSES this profile on this host (exit 4)");
  BOOST_REQUIRE(refusal != std::string::npos);
  BOOST_TEST(refusal < text.find("identity\n"));
  BOOST_TEST(contains(text, "!!   test.profile: landlock.required: Landlock ABI 1"));
  BOOST_TEST(contains(text, "!!   test.profile:16: selinux.context: SELinux is not enabled"));
  // Permissive is reported the same way; a host that meets both has nothing to report.
  const auto permissive =
      make_sandbox_plan(profile_from(both_required), identity(101, 104, "postgres"),
                        {7, true, false}, UnmetRequirement::report);
  BOOST_TEST(permissive.landlock.unmet.empty());
  BOOST_REQUIRE(permissive.selinux.unmet);
  BOOST_TEST(contains(*permissive.selinux.unmet, "SELinux is permissive"));
  const auto enforcing =
      make_sandbox_plan(profile_from(both_required), identity(101, 104, "postgres"),
                        {7, true, true}, UnmetRequirement::report);
  BOOST_TEST(enforcing.landlock.unmet.empty());
  BOOST_TEST(!enforcing.selinux.unmet);
  BOOST_TEST(!contains(explain_plan(enforcing), "REFUSES"));
}

BOOST_AUTO_TEST_CASE(explain_names_everything) {
  const auto text = explain_plan(plan_of(postgres_profile));
  BOOST_TEST(contains(text, "user:                 postgres (uid 101)"));
  BOOST_TEST(contains(text, "supplementary groups: (cleared)"));
  BOOST_TEST(contains(text, "set  PGDATA=/var/vcap/store/postgres/data"));
  BOOST_TEST(contains(text, "pass LANG"));
  BOOST_TEST(contains(text, "bounding:    (none)"));
  BOOST_TEST(contains(text, "ambient:     (none)"));
  BOOST_TEST(contains(text, "no_new_privs: 1"));
  BOOST_TEST(contains(text, "nofile     1024:4096"));
  BOOST_TEST(contains(text, "core       0:0"));
  BOOST_TEST(contains(text, "default action: errno (EPERM)"));
  BOOST_TEST(contains(text, "ENOSYS:         clone3"));
  BOOST_TEST(contains(text, "socket:         any address family (no [seccomp] socket rule)\n"));
  BOOST_TEST(contains(text, "clone:          allowed without namespace flags"));
  BOOST_TEST(contains(text, "ptrace"));
  BOOST_TEST(contains(text, "kernel ABI 7"));
  BOOST_TEST(contains(text, "read     /var/vcap/packages/postgres-15"));
  BOOST_TEST(contains(text, "write    /var/vcap/store/postgres"));
  BOOST_TEST(contains(text, "bind_tcp:    5432\n"));
  BOOST_TEST(contains(text, "selinux (not enabled on this host)"));
  BOOST_TEST(contains(text, "Overall exposure level: "));
  BOOST_TEST(contains(text, "✗ SELinuxContext="));
  BOOST_TEST(contains(text, "✓ NoNewPrivileges=yes"));
}

BOOST_AUTO_TEST_CASE(explain_shows_the_socket_rules) {
  const auto text = explain_plan(plan_of(vip_profile));
  BOOST_TEST(contains(text,
                      "socket:         only AF_NETLINK:NETLINK_ROUTE, AF_PACKET:SOCK_DGRAM, "
                      "AF_UNIX; any other: errno (EPERM)\n"),
             text);
}

BOOST_AUTO_TEST_CASE(exposure_reflects_the_profile) {
  const auto server = exposure_items(plan_of(postgres_profile, {7, true, true}));
  BOOST_TEST(exposure_score(server) == 0.0);
  const auto vip = plan_of(vip_profile, {7, true, true});
  const double vip_score = exposure_score(exposure_items(vip));
  BOOST_TEST(vip_score > 0.0);  // holds capabilities, no Landlock paths named, no SELinux
  const auto old_kernel =
      exposure_score(exposure_items(plan_of(postgres_profile, {0, false, false})));
  BOOST_TEST(old_kernel >
             exposure_score(exposure_items(plan_of(postgres_profile, {7, false, false}))));
  const auto staging = plan_of(postgres_profile.substr(0, postgres_profile.find("[landlock]")) +
                                   "default_action = log\nstaging = true\n",
                               {7, true, true});
  BOOST_TEST(exposure_score(exposure_items(staging)) > 0.0);
}

// A staging profile allows every system call outside its allowlist: explain says so before
// anything else, naming the switch and its line, and again in the seccomp section.
BOOST_AUTO_TEST_CASE(explain_shows_a_staging_profile_first) {
  const auto staging =
      explain_plan(plan_of(postgres_profile.substr(0, postgres_profile.find("[landlock]")) +
                           "default_action = log\nstaging = true\n"));
  BOOST_TEST(staging.starts_with("profile: test.profile\n\n!! STAGING PROFILE (seccomp.staging = "
                                 "true, test.profile:11): the seccomp default action is 'log',\n"
                                 "!! so every system call outside the allowlist is ALLOWED"),
             staging.substr(0, 300));
  BOOST_TEST(contains(staging, "  staging:        yes (test.profile:11)\n"));
  const auto production = explain_plan(plan_of(postgres_profile));
  BOOST_TEST(!contains(production, "STAGING"));
  BOOST_TEST(contains(production, "  staging:        no\n"));
}

// explain lists every name of the always-killed list under "killed", lsm_set_self_attr (which
// libseccomp 2.5.4 cannot name) included, and no separate list of names left to the default.
BOOST_AUTO_TEST_CASE(explain_lists_the_whole_killed_list) {
  const auto text = explain_plan(plan_of(postgres_profile));
  BOOST_TEST(contains(text, "  killed (" + std::to_string(always_killed_syscalls().size()) + "):"));
  for (const auto name : always_killed_syscalls()) {
    BOOST_TEST(contains(text, " " + std::string(name)), name);
  }
  BOOST_TEST(!contains(text, "default action applies"));
}

BOOST_AUTO_TEST_SUITE_END()
