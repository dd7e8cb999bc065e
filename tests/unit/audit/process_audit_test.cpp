#include "audit/process_audit.hpp"

#include <boost/test/unit_test.hpp>

#include "common/config_file.hpp"
#include "fixtures.hpp"

using namespace pgguard;
using namespace pgguard::audit;
using namespace pgguard::audit::test;

namespace {

// The shape of the shipped postgres-server profile, filled in for pg-master.
const std::string kProfile =
    "user = postgres\n"
    "umask = 0077\n"
    "[rlimit]\n"
    "nofile = 4096:4096\n"
    "nproc = 2048:2048\n"
    "core = 0:0\n"
    "stack = 8M:8M\n"
    "[seccomp]\n"
    "group = base\n"
    "group = postgres-server\n"
    "default_action = errno\n"
    "[landlock]\n"
    "read = /usr\n"
    "write = /var/vcap/store/pg-master/data\n"
    "bind_tcp = 5432\n";

sandbox::SandboxPlan plan_of(const std::string& text, sandbox::HostFacts host = {7, false}) {
  sandbox::Identity identity;
  identity.user = "postgres";
  identity.uid = 105;
  identity.group = "postgres";
  identity.gid = 110;
  return audit_plan(sandbox::parse_profile(config::ConfigFile::parse(
                        text, "/var/vcap/data/pg-master/config/postgres-server.profile")),
                    identity, host);
}

ProcessEntry postgres_entry() {
  ProcessEntry entry;
  entry.job = "pg-master";
  entry.name = "postgres";
  entry.comm = "postgres";
  entry.pid_file = "/var/vcap/sys/run/pg-master/postgres.pid";
  entry.profile = "/var/vcap/data/pg-master/config/postgres-server.profile";
  return entry;
}

ProcessSample sample(pid_t pid, const std::string& comm, const std::string& status,
                     const std::string& limits) {
  ProcessSample result;
  result.pid = pid;
  result.comm = comm;
  result.status = status;
  result.limits = limits;
  return result;
}

// A sandboxed postmaster (pid 4242) with its checkpointer and one backend.
ProcessObservation running_postgres(const std::string& status = fixture("postgres.status"),
                                    const std::string& limits = fixture("postgres.limits")) {
  ProcessObservation observation;
  observation.pid_file_text = "4242\n";
  observation.main = sample(4242, "postgres", status, limits);
  observation.descendants = {
      sample(4250, "postgres", fixture("postgres.status"), fixture("postgres.limits")),
      sample(4251, "postgres", fixture("postgres.status"), fixture("postgres.limits"))};
  return observation;
}

const Row& row_of(const std::vector<Row>& rows, const std::string& check) {
  for (const auto& row : rows) {
    if (row.check == check) {
      return row;
    }
  }
  BOOST_FAIL("no row " + check);
  return rows.front();
}

std::vector<Row> audit_rows(const ProcessObservation& observation,
                            const std::string& profile = kProfile, AuditPolicy policy = {},
                            sandbox::HostFacts host = {7, false}) {
  return audit_process(postgres_entry(), observation, plan_of(profile, host), "", policy);
}

// The checks that failed, in table order.
std::vector<std::string> failed(const std::vector<Row>& rows) {
  std::vector<std::string> checks;
  for (const auto& row : rows) {
    if (!row.ok) {
      checks.push_back(row.check);
    }
  }
  return checks;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(process_audit)

BOOST_AUTO_TEST_CASE(a_process_running_as_its_profile_says_passes_every_row) {
  const auto rows = audit_rows(running_postgres());
  std::vector<std::string> checks;
  for (const auto& row : rows) {
    checks.push_back(row.check);
    BOOST_TEST(row.ok, row.check << ": " << row.found);
    BOOST_TEST(row.subject.rfind("pg-master/postgres", 0) == 0U);
  }
  BOOST_TEST(checks == (std::vector<std::string>{"process", "identity", "umask", "capabilities",
                                                 "no_new_privs", "seccomp", "seccomp action",
                                                 "rlimits", "landlock", "children"}),
             boost::test_tools::per_element());
  BOOST_TEST(row_of(rows, "process").found == "pid 4242 runs, comm postgres");
  BOOST_TEST(row_of(rows, "identity").expected ==
             "uid 105 (postgres), gid 110 (postgres), groups (none)");
  BOOST_TEST(row_of(rows, "rlimits").found ==
             "nofile 4096:4096, nproc 2048:2048, core 0:0, stack 8388608:8388608");
  BOOST_TEST(row_of(rows, "children").found == "2 descendants, all as expected");
  BOOST_TEST(contains(row_of(rows, "landlock").found, "kernel ABI 7 enforces filesystem, tcp"));
  BOOST_TEST(contains(row_of(rows, "landlock").found, "/proc shows no Landlock domain"));
}

BOOST_AUTO_TEST_CASE(uid_0_fails_the_identity_row) {
  const auto status =
      replaced(fixture("postgres.status"), "Uid:\t105\t105\t105\t105", "Uid:\t0\t0\t0\t0");
  const auto rows = audit_rows(running_postgres(status));
  BOOST_TEST(failed(rows) == std::vector<std::string>{"identity"},
             boost::test_tools::per_element());
  BOOST_TEST(row_of(rows, "identity").found == "Uid: expected 105 105 105 105, found 0 0 0 0");
}

BOOST_AUTO_TEST_CASE(a_capability_in_capeff_fails_the_capabilities_row) {
  const auto status = replaced(replaced(fixture("postgres.status"), "CapEff:\t0000000000000000",
                                        "CapEff:\t0000000000001000"),
                               "CapPrm:\t0000000000000000", "CapPrm:\t0000000000001000");
  const auto rows = audit_rows(running_postgres(status));
  BOOST_TEST(failed(rows) == std::vector<std::string>{"capabilities"},
             boost::test_tools::per_element());
  const auto& row = row_of(rows, "capabilities");
  BOOST_TEST(row.expected == "Inh/Prm/Eff/Amb (none), Bnd (none)");
  BOOST_TEST(row.found ==
             "CapPrm 0000000000001000 (CAP_NET_ADMIN); CapEff 0000000000001000 (CAP_NET_ADMIN)");
}

BOOST_AUTO_TEST_CASE(no_new_privs_0_fails_and_leaves_no_evidence_of_landlock) {
  const auto status = replaced(fixture("postgres.status"), "NoNewPrivs:\t1", "NoNewPrivs:\t0");
  const auto rows = audit_rows(running_postgres(status));
  BOOST_TEST(failed(rows) == (std::vector<std::string>{"no_new_privs", "landlock"}),
             boost::test_tools::per_element());
  BOOST_TEST(row_of(rows, "no_new_privs").found == "NoNewPrivs 0");
  BOOST_TEST(contains(row_of(rows, "landlock").found, "no evidence the process was launched"));
}

BOOST_AUTO_TEST_CASE(seccomp_0_fails_the_seccomp_row) {
  const auto status = replaced(fixture("postgres.status"), "Seccomp:\t2", "Seccomp:\t0");
  const auto rows = audit_rows(running_postgres(status));
  BOOST_TEST(failed(rows) == (std::vector<std::string>{"seccomp", "landlock"}),
             boost::test_tools::per_element());
  BOOST_TEST(row_of(rows, "seccomp").found == "Seccomp 0 (none)");
  BOOST_TEST(row_of(rows, "seccomp").expected == "Seccomp 2 (filter)");
}

BOOST_AUTO_TEST_CASE(a_raised_rlimit_fails_and_a_lowered_one_does_not) {
  const auto raised =
      replaced(fixture("postgres.limits"), "Max open files            4096                 4096",
               "Max open files            1024                 524288");
  const auto rows = audit_rows(running_postgres(fixture("postgres.status"), raised));
  BOOST_TEST(failed(rows) == std::vector<std::string>{"rlimits"}, boost::test_tools::per_element());
  BOOST_TEST(row_of(rows, "rlimits").found == "nofile 1024:524288 above the profile's 4096:4096");
  BOOST_TEST(row_of(rows, "rlimits").expected ==
             "at most nofile 4096:4096, nproc 2048:2048, core 0:0, stack 8388608:8388608");

  const auto core =
      replaced(fixture("postgres.limits"), "Max core file size        0                    0",
               "Max core file size        unlimited            unlimited");
  BOOST_TEST(
      row_of(audit_rows(running_postgres(fixture("postgres.status"), core)), "rlimits").found ==
      "core unlimited:unlimited above the profile's 0:0");

  const auto lowered =
      replaced(fixture("postgres.limits"), "Max open files            4096                 4096",
               "Max open files            1024                 1024");
  BOOST_TEST(failed(audit_rows(running_postgres(fixture("postgres.status"), lowered))).empty());
}

BOOST_AUTO_TEST_CASE(a_staging_profile_in_use_fails_the_seccomp_action_row) {
  const auto staging =
      replaced(kProfile, "default_action = errno\n", "default_action = log\nstaging = true\n");
  const auto rows = audit_rows(running_postgres(), staging);
  BOOST_TEST(failed(rows) == std::vector<std::string>{"seccomp action"},
             boost::test_tools::per_element());
  const auto& row = row_of(rows, "seccomp action");
  BOOST_TEST(row.found ==
             "log: STAGING profile (seccomp.staging = true at "
             "/var/vcap/data/pg-master/config/postgres-server.profile:12): every syscall outside "
             "the allowlist is allowed");
  BOOST_TEST(row_of(audit_rows(running_postgres()), "seccomp action").found == "errno");
}

BOOST_AUTO_TEST_CASE(a_child_without_the_sandbox_fails_the_children_row) {
  auto observation = running_postgres();
  observation.descendants.push_back(
      sample(4300, "sh",
             replaced(replaced(replaced(fixture("postgres.status"), "Seccomp:\t2", "Seccomp:\t0"),
                               "NoNewPrivs:\t1", "NoNewPrivs:\t0"),
                      "CapBnd:\t0000000000000000", "CapBnd:\t000001ffffffffff"),
             fixture("postgres.limits")));
  const auto rows = audit_rows(observation);
  BOOST_TEST(failed(rows) == std::vector<std::string>{"children"},
             boost::test_tools::per_element());
  BOOST_TEST(row_of(rows, "children").found ==
             "1 of 3 descendants differ: pid 4300 (sh): CapBnd: expected 0000000000000000, found "
             "000001ffffffffff, NoNewPrivs: expected 1, found 0, Seccomp: expected 2, found 0");
}

BOOST_AUTO_TEST_CASE(children_that_differ_alike_share_one_entry) {
  auto observation = running_postgres();
  const auto bare = replaced(fixture("postgres.status"), "Seccomp:\t2", "Seccomp:\t0");
  observation.descendants = {
      sample(4250, "postgres", bare, fixture("postgres.limits")),
      sample(4251, "postgres", fixture("postgres.status"), fixture("postgres.limits")),
      sample(4252, "postgres", bare, fixture("postgres.limits"))};
  BOOST_TEST(row_of(audit_rows(observation), "children").found ==
             "2 of 3 descendants differ: pid 4250 (postgres), pid 4252 (postgres): Seccomp: "
             "expected 2, found 0");
}

BOOST_AUTO_TEST_CASE(a_full_bounding_set_is_counted_not_listed) {
  const auto status = replaced(fixture("postgres.status"), "CapBnd:\t0000000000000000",
                               "CapBnd:\t000001ffffffffff");
  BOOST_TEST(row_of(audit_rows(running_postgres(status)), "capabilities").found ==
             "CapBnd 000001ffffffffff (41 capabilities)");
}

BOOST_AUTO_TEST_CASE(a_child_may_have_its_own_umask_but_not_raised_limits) {
  auto observation = running_postgres();
  observation.descendants.front().status =
      replaced(fixture("postgres.status"), "Umask:\t0077", "Umask:\t0022");
  BOOST_TEST(failed(audit_rows(observation)).empty());
  observation.descendants.front().limits =
      replaced(fixture("postgres.limits"), "Max processes             2048                 2048",
               "Max processes             2048                 4096");
  BOOST_TEST(row_of(audit_rows(observation), "children").found ==
             "1 of 2 descendants differ: pid 4250 (postgres): nproc 2048:4096 above the "
             "profile's 2048:2048");
}

BOOST_AUTO_TEST_CASE(a_missing_dead_or_foreign_pid_fails_the_process_row) {
  const auto process_rows = [](const ProcessObservation& observation) {
    return audit_rows(observation);
  };
  ProcessObservation none;
  auto rows = process_rows(none);
  BOOST_TEST(rows.size() == 1U);
  BOOST_TEST(!rows[0].ok);
  BOOST_TEST(rows[0].found == "no pid file: not running");

  ProcessObservation dead;
  dead.pid_file_text = "4242\n";
  rows = process_rows(dead);
  BOOST_TEST(rows.size() == 1U);
  BOOST_TEST(rows[0].found == "pid 4242 is not running (stale pid file)");

  auto foreign = running_postgres();
  foreign.main->comm = "sleep";
  rows = process_rows(foreign);
  BOOST_TEST(rows.size() == 1U);
  BOOST_TEST(rows[0].found == "pid 4242 is 'sleep', not 'postgres' (stale pid file)");

  ProcessObservation garbage;
  garbage.pid_file_text = "postgres\n";
  BOOST_TEST(process_rows(garbage)[0].found == "pid file holds no pid: 'postgres'");
}

BOOST_AUTO_TEST_CASE(the_root_guard_is_checked_for_running_only) {
  ProcessEntry guard;
  guard.job = "isolation";
  guard.name = "guard";
  guard.comm = "pgguard-isolate";
  guard.pid_file = "/var/vcap/sys/run/isolation/isolation.pid";
  ProcessObservation observation;
  observation.pid_file_text = "77\n";
  observation.main =
      sample(77, "pgguard-isolate",
             replaced(fixture("postgres.status"), "Uid:\t105\t105\t105\t105", "Uid:\t0\t0\t0\t0"),
             fixture("postgres.limits"));
  const auto rows = audit_process(guard, observation, std::nullopt, "", {});
  BOOST_TEST_REQUIRE(rows.size() == 1U);
  BOOST_TEST(rows[0].ok);
  BOOST_TEST(rows[0].expected ==
             "running, comm pgguard-isolate (root by design), pid file "
             "/var/vcap/sys/run/isolation/isolation.pid");
  BOOST_TEST(rows[0].found == "pid 77 runs, comm pgguard-isolate, uid 0");
}

BOOST_AUTO_TEST_CASE(an_unreadable_profile_fails_its_own_row) {
  const auto rows = audit_process(postgres_entry(), running_postgres(), std::nullopt,
                                  "postgres-server.profile:3: bogus: unknown key", {});
  BOOST_TEST(failed(rows) == std::vector<std::string>{"profile"}, boost::test_tools::per_element());
  BOOST_TEST(row_of(rows, "profile").found == "postgres-server.profile:3: bogus: unknown key");
}

BOOST_AUTO_TEST_CASE(landlock_rules_the_kernel_cannot_enforce_are_shown_and_fail_when_required) {
  const auto rows = audit_rows(running_postgres(), kProfile, {}, {3, false});
  const auto& row = row_of(rows, "landlock");
  BOOST_TEST(row.ok);
  BOOST_TEST(contains(row.found,
                      "kernel ABI 3 enforces filesystem; NOT ENFORCED here: Landlock "
                      "ABI 3 has no TCP rules (ABI 4 needed)"));
  BOOST_TEST(
      !row_of(audit_rows(running_postgres(), kProfile, {true, false}, {3, false}), "landlock").ok);
  const auto required = kProfile + "required = true\n";
  BOOST_TEST(!row_of(audit_rows(running_postgres(), required, {}, {3, false}), "landlock").ok);
  BOOST_TEST(row_of(audit_rows(running_postgres(), required, {}, {7, false}), "landlock").ok);

  // Scopes are best effort: said where the kernel lacks them, never a failure, even required.
  const auto scoped = required + "scope = abstract_unix_socket, signal\n";
  const auto noble =
      row_of(audit_rows(running_postgres(), scoped, {true, false}, {4, false}), "landlock");
  BOOST_TEST(noble.ok);
  BOOST_TEST(contains(noble.found,
                      "kernel ABI 4 enforces filesystem, tcp; scope not enforced "
                      "here (ABI < 6): only the accounts separate"));
  const auto current =
      row_of(audit_rows(running_postgres(), scoped, {true, false}, {7, false}), "landlock");
  BOOST_TEST(current.ok);
  BOOST_TEST(contains(current.found, "kernel ABI 7 enforces filesystem, tcp, scope;"));
}

BOOST_AUTO_TEST_CASE(where_selinux_is_on_the_domain_of_the_process_and_its_children_is_checked) {
  const std::string context = "system_u:system_r:secpg_postgres_t:s0";
  const auto profile = kProfile + "[selinux]\ncontext = " + context + "\n";
  auto observation = running_postgres();
  observation.main->security_context = context;
  for (auto& child : observation.descendants) {
    child.security_context = context;
  }
  auto rows = audit_rows(observation, profile, {}, {7, true});
  BOOST_TEST(failed(rows).empty());
  BOOST_TEST(row_of(rows, "selinux domain").found == context);

  observation.descendants.back().security_context = "system_u:system_r:unconfined_service_t:s0";
  rows = audit_rows(observation, profile, {}, {7, true});
  BOOST_TEST(failed(rows) == std::vector<std::string>{"children"},
             boost::test_tools::per_element());

  observation.main->security_context = "system_u:system_r:unconfined_service_t:s0";
  rows = audit_rows(observation, profile, {}, {7, true});
  BOOST_TEST(!row_of(rows, "selinux domain").ok);

  // No context named: acceptable unless selinux.required.
  BOOST_TEST(row_of(audit_rows(observation, kProfile, {}, {7, true}), "selinux domain").ok);
  BOOST_TEST(
      !row_of(audit_rows(observation, kProfile, {false, true}, {7, true}), "selinux domain").ok);
}

BOOST_AUTO_TEST_CASE(ambient_capabilities_of_a_vip_profile_are_expected_everywhere) {
  const std::string vip =
      "user = postgres\n"
      "[capabilities]\n"
      "bounding = CAP_NET_ADMIN, CAP_NET_RAW\n"
      "ambient = CAP_NET_ADMIN, CAP_NET_RAW\n"
      "[seccomp]\n"
      "group = base\n";
  auto status = fixture("postgres.status");
  for (const auto* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    status = replaced(status, std::string(set) + ":\t0000000000000000",
                      std::string(set) + ":\t0000000000003000");
  }
  const auto rows = audit_rows(running_postgres(status, fixture("postgres.limits")), vip);
  BOOST_TEST(row_of(rows, "capabilities").ok, row_of(rows, "capabilities").found);
  BOOST_TEST(row_of(rows, "capabilities").expected ==
             "Inh/Prm/Eff/Amb CAP_NET_ADMIN,CAP_NET_RAW, Bnd CAP_NET_ADMIN,CAP_NET_RAW");
  // The children hold the plain postgres status: no capabilities, where the profile gives them.
  BOOST_TEST(!row_of(rows, "children").ok);
}

BOOST_AUTO_TEST_SUITE_END()
