#include "node/setup_plan.hpp"

#include <boost/test/unit_test.hpp>
#include <string>

#include "common/config_file.hpp"
#include "common/error.hpp"

using namespace pgguard::node;

namespace {

SetupPlan parse(const std::string& text) {
  return parse_setup_plan(pgguard::config::ConfigFile::parse(text, "setup.conf"));
}

void expect_refused(const std::string& text, const std::string& message) {
  try {
    parse(text);
    BOOST_ERROR("accepted: " << text);
  } catch (const pgguard::ConfigError& error) {
    const std::string what = error.what();
    BOOST_TEST(what.find(message) != std::string::npos, what << " lacks " << message);
    BOOST_TEST(what.starts_with("setup.conf:"), what);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(setup_plan)

BOOST_AUTO_TEST_CASE(accounts_directories_and_installs_in_file_order) {
  const SetupPlan plan = parse(
      "account = postgres\n"
      "directory = /var/vcap/store/pg-master 0700 postgres postgres\n"
      "directory = /var/vcap/data/pg-master/config 0750 root postgres\n"
      "install = /var/vcap/jobs/pg-master/config/tls/server.key "
      "/var/vcap/data/pg-master/config/server.key 0600 postgres postgres\n");
  BOOST_TEST(plan.accounts == std::vector<std::string>{"postgres"});
  BOOST_TEST_REQUIRE(plan.directories.size() == 2u);
  BOOST_TEST(plan.directories[1].path == "/var/vcap/data/pg-master/config");
  BOOST_TEST(plan.directories[1].ownership.owner == "root");
  BOOST_TEST(plan.directories[1].ownership.group == "postgres");
  BOOST_TEST(plan.directories[1].ownership.mode == 0750u);
  BOOST_TEST_REQUIRE(plan.installs.size() == 1u);
  BOOST_TEST(plan.installs[0].ownership.mode == 0600u);
  BOOST_TEST(plan.installs[0].where.line == 4);
}

BOOST_AUTO_TEST_CASE(never_root_vcap_or_an_unportable_name) {
  expect_refused("account = root\n", "'root' is reserved");
  expect_refused("account = vcap\n", "'vcap' is reserved");
  expect_refused("account = Postgres\n", "not a portable user name");
  expect_refused("account = a:b\n", "not a portable user name");
  expect_refused("account = x\naccount = x\n", "listed twice");
}

BOOST_AUTO_TEST_CASE(paths_modes_and_owners_are_checked) {
  expect_refused("directory = var/x 0700 root root\n", "not an absolute path");
  expect_refused("directory = /var/../etc 0700 root root\n", "has a '..' component");
  expect_refused("directory = /var/x/ 0700 root root\n", "ends with '/'");
  expect_refused("directory = /var/x 700 root root\n", "is not four octal digits");
  expect_refused("directory = /var/x 0789 root root\n", "is not four octal digits");
  expect_refused("directory = /var/x 4755 root root\n", "is not four octal digits");
  expect_refused("directory = /var/x 04755 root root\n", "is not four octal digits");
  expect_refused("install = /a /b 2755 root root\n", "is not four octal digits");
  expect_refused("directory = /var/x 0700 postgres root\n",
                 "'postgres' is neither root nor an account of this plan");
  expect_refused("directory = /var/x 0700 root\n", "expected PATH MODE OWNER GROUP");
  expect_refused("directory = /var/x 0700 root root\ndirectory = /var/x 0700 root root\n",
                 "listed twice");
  expect_refused("install = /a /b 0644 root root\ninstall = /c /b 0644 root root\n",
                 "installed twice");
  expect_refused("directory = /b 0755 root root\ninstall = /a /b 0644 root root\n",
                 "also a directory of this plan");
  expect_refused("frobnicate = 1\n", "unknown key");
}

BOOST_AUTO_TEST_SUITE_END()
