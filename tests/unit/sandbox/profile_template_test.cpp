#include "sandbox/profile_template.hpp"

#include <boost/test/unit_test.hpp>

#include "common/error.hpp"

using pgguard::sandbox::instantiate_profile;

namespace {

void expect_refused(const std::string& text, const std::map<std::string, std::string>& values,
                    const std::string& message) {
  try {
    instantiate_profile(text, "t.conf.in", values);
    BOOST_ERROR("accepted: " << text);
  } catch (const pgguard::ConfigError& error) {
    BOOST_TEST(std::string(error.what()).find(message) != std::string::npos, error.what());
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(profile_template)

BOOST_AUTO_TEST_CASE(every_placeholder_is_replaced_and_lone_at_signs_stay) {
  BOOST_TEST(instantiate_profile("user = @USER@\n# mail me@example\nwrite = @DATA_DIR@/x\n",
                                 "t.conf.in", {{"USER", "postgres"}, {"DATA_DIR", "/data"}}) ==
             "user = postgres\n# mail me@example\nwrite = /data/x\n");
}

BOOST_AUTO_TEST_CASE(a_placeholder_without_a_value_names_its_line) {
  expect_refused("user = x\nread = @CONF_DIR@\n", {}, "t.conf.in:2: CONF_DIR: placeholder");
}

BOOST_AUTO_TEST_CASE(values_that_would_change_the_profile_structure_are_refused) {
  for (const char* value : {"/data\n[capabilities]", "/data # x", "/data[x]", "a\tb", "a\x7f"}) {
    expect_refused("write = @DATA_DIR@\n", {{"DATA_DIR", value}}, "would change the profile");
  }
}

BOOST_AUTO_TEST_SUITE_END()
