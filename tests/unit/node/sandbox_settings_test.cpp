#include "node/sandbox_settings.hpp"

#include <boost/test/unit_test.hpp>
#include <string>

#include "common/config_file.hpp"
#include "common/error.hpp"
#include "sandbox/profile.hpp"

using namespace pgguard::node;

namespace {

SandboxSettings parse(const std::string& section) {
  const auto file = pgguard::config::ConfigFile::parse("[sandbox]\n" + section, "node.conf");
  file.check_keys(with_sandbox_keys({}));
  return parse_sandbox_settings(file);
}

std::string refusal(const std::string& section) {
  try {
    parse(section);
  } catch (const pgguard::ConfigError& error) {
    return error.what();
  }
  return "accepted";
}

// A shipped profile's shape: comments, sections, entries.
const std::string kProfile =
    "# a profile\n"
    "user = postgres\n"
    "\n"
    "[rlimit]\n"
    "# per process\n"
    "nofile = 4096:4096\n"
    "core = 0:0\n"
    "\n"
    "[capabilities]\n"
    "\n"
    "[seccomp]\n"
    "group = base\n"
    "default_action = errno\n"
    "\n"
    "[landlock]\n"
    "read = /usr\n";

pgguard::sandbox::Profile parse_profile(const std::string& text) {
  return pgguard::sandbox::parse_profile(pgguard::config::ConfigFile::parse(text, "p.profile"));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sandbox_settings)

BOOST_AUTO_TEST_CASE(reads_the_operators_settings) {
  const auto settings = parse(
      "seccomp_default_action = kill_process\nrlimit = nofile 8192:8192\nrlimit = as 2G\n"
      "landlock_required = true\nselinux_required = false\n");
  BOOST_TEST(*settings.seccomp_default_action == "kill_process");
  BOOST_TEST(settings.rlimits.size() == 2U);
  BOOST_TEST(settings.rlimits[1].first == "as");
  BOOST_TEST(settings.rlimits[1].second == "2G");
  BOOST_TEST(settings.landlock_required);
  BOOST_TEST(!settings.selinux_required);
  BOOST_TEST(!parse("").seccomp_default_action.has_value());
}

BOOST_AUTO_TEST_CASE(refuses_what_the_launcher_would_not_take_naming_the_line) {
  BOOST_TEST(refusal("seccomp_default_action = allow\n").find("node.conf:2") == 0U);
  BOOST_TEST(refusal("rlimit = files 10\n").find("limit name") != std::string::npos);
  BOOST_TEST(refusal("rlimit = nofile lots\n").find("nofile") != std::string::npos);
  BOOST_TEST(refusal("rlimit = nofile 1\nrlimit = nofile 2\n").find("given twice") !=
             std::string::npos);
  BOOST_TEST(refusal("landlock_required = yes\n") != "accepted");
  BOOST_TEST(refusal("frobnicate = 1\n").find("frobnicate") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(without_settings_a_profile_is_unchanged) {
  BOOST_TEST(adjust_profile(kProfile, {}) == kProfile);
}

BOOST_AUTO_TEST_CASE(rlimits_replace_or_add_within_their_section) {
  ProfileAdjustment adjustment;
  adjustment.rlimits = {{"nofile", "8192:8192"}, {"as", "2G:2G"}};
  const auto text = adjust_profile(kProfile, adjustment);
  BOOST_TEST(text.find("nofile = 8192:8192\ncore = 0:0\nas = 2G:2G\n\n[capabilities]") !=
                 std::string::npos,
             text);
  BOOST_TEST(text.find("4096") == std::string::npos);
  const auto profile = parse_profile(text);
  BOOST_TEST(profile.rlimits.size() == 3U);
}

BOOST_AUTO_TEST_CASE(log_brings_the_staging_switch_it_needs) {
  ProfileAdjustment adjustment;
  adjustment.seccomp_default_action = "log";
  const auto text = adjust_profile(kProfile, adjustment);
  BOOST_TEST(text.find("default_action = log\nstaging = true\n") != std::string::npos, text);
  BOOST_TEST(parse_profile(text).seccomp.staging);
  adjustment.seccomp_default_action = "kill_process";
  BOOST_TEST((parse_profile(adjust_profile(kProfile, adjustment)).seccomp.default_action ==
              pgguard::sandbox::SeccompDefault::kill_process));
}

BOOST_AUTO_TEST_CASE(required_layers_and_the_selinux_domain) {
  ProfileAdjustment adjustment;
  adjustment.landlock_required = true;
  adjustment.selinux_context = "system_u:system_r:secpg_postgres_t:s0";
  adjustment.selinux_required = true;
  const auto text = adjust_profile(kProfile, adjustment);
  BOOST_TEST(text.ends_with("read = /usr\nrequired = true\n\n[selinux]\n"
                            "context = system_u:system_r:secpg_postgres_t:s0\n"
                            "required = true\n"),
             text);
  const auto profile = parse_profile(text);
  BOOST_TEST(profile.landlock.required);
  BOOST_TEST(profile.selinux.required);
  // Without SELinux on the host no domain is named: required alone adds nothing to the
  // profile (pre-start refuses such a host before any profile is used).
  adjustment.selinux_context.reset();
  BOOST_TEST(adjust_profile(kProfile, adjustment).find("[selinux]") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(service_and_tool_adjustments) {
  SandboxSettings settings;
  settings.seccomp_default_action = "log";
  settings.rlimits = {{"nofile", "1:1"}};
  settings.landlock_required = true;
  const auto tool = tool_adjustment(settings);
  BOOST_TEST(!tool.seccomp_default_action.has_value());
  BOOST_TEST(tool.rlimits.empty());
  BOOST_TEST(tool.landlock_required);
  const auto service = service_adjustment(settings);
  BOOST_TEST(*service.seccomp_default_action == "log");
  BOOST_TEST(service.rlimits.size() == 1U);
}

BOOST_AUTO_TEST_SUITE_END()
