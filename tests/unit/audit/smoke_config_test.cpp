#include "audit/smoke_config.hpp"

#include <boost/test/unit_test.hpp>

#include "fixtures.hpp"

using namespace pgguard;
using namespace pgguard::audit;
using namespace pgguard::audit::test;

namespace {

const std::string kConfig =
    "jobs_dir = /var/vcap/jobs\n"
    "isolation_config = /var/vcap/jobs/isolation/config/isolation.conf\n"
    "selinux_required = true\n"
    "landlock_required = false\n"
    "[processes]\n"
    "process = pg-master postgres postgres /var/vcap/sys/run/pg-master/postgres.pid "
    "/var/vcap/data/pg-master/config/postgres-server.profile\n"
    "process = pgpool vip-broker pgguard-vip /var/vcap/sys/run/pgpool-vip/broker.pid "
    "/var/vcap/data/pgpool/config/vip-helper.profile if-profile-exists\n"
    "process = isolation guard pgguard-isolate /var/vcap/sys/run/isolation/isolation.pid root\n"
    "[listeners]\n"
    "job_port = pg-master tcp postgres\n"
    "job_port = pgpool udp heartbeat\n"
    "allow = tcp:127.0.0.1:2822\n"
    "allow = udp:[::1]:323\n";

SmokeConfig parsed(const std::string& text) {
  return parse_smoke_config(config::ConfigFile::parse(text, "smoke.conf"));
}

std::string error_of(const std::string& text) {
  try {
    (void)parsed(text);
  } catch (const Error& error) {
    BOOST_TEST(static_cast<int>(error.code()) == 2);
    return error.what();
  }
  BOOST_FAIL("expected an error");
  return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(smoke_config)

BOOST_AUTO_TEST_CASE(reads_the_rendered_configuration) {
  const auto config = parsed(kConfig);
  BOOST_TEST(config.selinux_required);
  BOOST_TEST(!config.landlock_required);
  BOOST_TEST_REQUIRE(config.processes.size() == 3U);
  BOOST_TEST(config.processes[0].comm == "postgres");
  BOOST_TEST(config.processes[0].profile.value() ==
             "/var/vcap/data/pg-master/config/postgres-server.profile");
  BOOST_TEST(config.processes[1].only_if_profile_exists);
  BOOST_TEST(!config.processes[2].profile.has_value());
  BOOST_TEST_REQUIRE(config.job_ports.size() == 2U);
  BOOST_TEST((config.job_ports[1].protocol == Protocol::udp));
  BOOST_TEST_REQUIRE(config.allowed.size() == 2U);
  BOOST_TEST(config.allowed[1].address->to_string() == "::1");
  BOOST_TEST(config.allowed[1].port == 323);
}

BOOST_AUTO_TEST_CASE(refuses_bad_entries_naming_line_and_key) {
  const std::string process =
      "process = pg-master postgres postgres /var/vcap/sys/run/pg-master/postgres.pid "
      "/var/vcap/data/pg-master/config/postgres-server.profile";
  const std::vector<std::pair<std::string, std::string>> cases{
      {replaced(kConfig, process, "process = pg-master postgres"),
       "smoke.conf:6: processes.process: expected JOB NAME COMM PID_FILE PROFILE|root"},
      {replaced(kConfig, "postgres postgres /var", "postgres a-comm-longer-than-15 /var"),
       "smoke.conf:6: processes.process: comm 'a-comm-longer-than-15' must be 1-15 characters"},
      {replaced(kConfig, "/var/vcap/sys/run/pg-master/postgres.pid", "run/postgres.pid"),
       "smoke.conf:6: processes.process: pid file 'run/postgres.pid' is not a normalized absolute "
       "path"},
      {replaced(kConfig, "isolation.pid root", "isolation.pid root if-profile-exists"),
       "smoke.conf:8: processes.process: if-profile-exists needs a profile, not root"},
      {replaced(kConfig, "vip-helper.profile if-profile-exists", "vip-helper.profile maybe"),
       "smoke.conf:7: processes.process: unknown flag 'maybe'"},
      {replaced(kConfig, "/var/vcap/sys/run/pgpool-vip/broker.pid",
                "/var/vcap/sys/run/pg-master/postgres.pid"),
       "smoke.conf:7: processes.process: pid file '/var/vcap/sys/run/pg-master/postgres.pid' is "
       "listed twice"},
      {replaced(kConfig, "job_port = pg-master tcp postgres", "job_port = pg-master tcp mysql"),
       "smoke.conf:10: listeners.job_port: 'mysql' is no port of the isolation config"},
      {replaced(kConfig, "job_port = pg-master tcp postgres", "job_port = pg-master sctp postgres"),
       "smoke.conf:10: listeners.job_port: protocol 'sctp' is not tcp or udp"},
      {replaced(kConfig, "selinux_required = true", "selinux_required = yes"),
       "smoke.conf:3: selinux_required: 'yes' is not true or false"},
      {replaced(kConfig, "jobs_dir = /var/vcap/jobs\n", ""), "jobs_dir"},
      {kConfig + "frobnicate = 1\n", "frobnicate"},
  };
  for (const auto& [text, message] : cases) {
    const auto error = error_of(text);
    BOOST_TEST(contains(error, message), error << " does not contain " << message);
  }
}

BOOST_AUTO_TEST_CASE(reads_listener_rules_strictly) {
  const Location where{"smoke.conf", 12};
  const auto rule = parse_listener_rule("tcp:*:22", where, "listeners.allow");
  BOOST_TEST(!rule.address.has_value());
  BOOST_TEST(rule.reason == "allowed_listeners tcp:*:22");
  for (const auto* bad : {"tcp:localhost:22", "sctp:127.0.0.1:22", "tcp:::1:22",
                          "tcp:[127.0.0.1]:22", "tcp:127.0.0.1:0", "tcp:127.0.0.1:65536",
                          "tcp:127.0.0.1", "tcp:127.0.0.1:x", "127.0.0.1:22"}) {
    try {
      (void)parse_listener_rule(bad, where, "listeners.allow");
      BOOST_ERROR(std::string(bad) + " was accepted");
    } catch (const ConfigError& error) {
      BOOST_TEST(
          contains(error.what(), std::string("smoke.conf:12: listeners.allow: '") + bad + "'"));
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
