#include "common/config_file.hpp"

#include <boost/test/unit_test.hpp>

namespace po = boost::program_options;
using pgguard::ConfigError;
using pgguard::config::ConfigFile;

namespace {

po::options_description schema() {
  po::options_description description;
  description.add_options()("name", po::value<std::string>()->required(), "a required scalar")(
      "port", po::value<int>()->default_value(5432), "a typed scalar with default")(
      "member", po::value<std::vector<std::string>>()->composing(), "repeatable")(
      "icmp.echo_rate", po::value<std::string>(), "a key inside a section");
  return description;
}

// The message of the ConfigError that `action` throws; fails the test if none is thrown.
template <typename Action>
std::string config_error_of(Action action) {
  try {
    action();
  } catch (const ConfigError& error) {
    return error.what();
  }
  BOOST_FAIL("expected a ConfigError");
  return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(config_file)

BOOST_AUTO_TEST_CASE(reads_keys_values_sections_and_lines) {
  const auto file = ConfigFile::parse(
      "# rendered by the job template\n"
      "name = pg-master   # trailing comment\n"
      "\n"
      "member = 198.18.0.1\n"
      "member=198.18.0.2\n"
      "[icmp]\n"
      "echo_rate = 10/second\n",
      "test.conf");
  BOOST_REQUIRE_EQUAL(file.entries().size(), 4u);
  BOOST_TEST(file.entries()[0].key == "name");
  BOOST_TEST(file.entries()[0].value == "pg-master");
  BOOST_TEST(file.entries()[0].where.line == 2);
  BOOST_TEST(file.entries()[2].value == "198.18.0.2");
  BOOST_TEST(file.entries()[3].key == "icmp.echo_rate");
  BOOST_TEST(file.entries()[3].where.line == 7);
  BOOST_TEST(file.location_of("member", 1).line == 5);
  BOOST_TEST(file.location_of("absent").line == 0);
  BOOST_TEST(file.all("member").size() == 2u);
}

BOOST_AUTO_TEST_CASE(validate_applies_types_defaults_and_repeats) {
  const auto file = ConfigFile::parse("name = x\nmember = a\nmember = b\n", "t.conf");
  const auto variables = file.validate(schema());
  BOOST_TEST(variables["name"].as<std::string>() == "x");
  BOOST_TEST(variables["port"].as<int>() == 5432);
  BOOST_TEST(variables["member"].as<std::vector<std::string>>().size() == 2u);
}

BOOST_AUTO_TEST_CASE(malformed_lines_are_reported_with_their_line) {
  BOOST_TEST(config_error_of([] { ConfigFile::parse("name = x\njust words\n", "t.conf"); }) ==
             "t.conf:2: expected 'key = value', found 'just words'");
  BOOST_TEST(config_error_of([] { ConfigFile::parse("[icmp\n", "t.conf"); }) ==
             "t.conf:1: malformed section header '[icmp'");
  BOOST_TEST(config_error_of([] { ConfigFile::parse("bad key = 1\n", "t.conf"); }) ==
             "t.conf:1: invalid key 'bad key'");
}

BOOST_AUTO_TEST_CASE(unknown_key_is_named_with_its_line) {
  const auto file = ConfigFile::parse("name = x\nnmae = y\n", "t.conf");
  BOOST_TEST(config_error_of([&] { file.validate(schema()); }) == "t.conf:2: nmae: unknown key");
}

BOOST_AUTO_TEST_CASE(malformed_value_is_named_with_its_line) {
  const auto file = ConfigFile::parse("name = x\nport = 54x32\n", "t.conf");
  BOOST_TEST(config_error_of([&] { file.validate(schema()); }) ==
             "t.conf:2: port: invalid value '54x32'");
}

BOOST_AUTO_TEST_CASE(repeated_scalar_names_both_lines) {
  const auto file = ConfigFile::parse("name = x\n\nname = y\n", "t.conf");
  BOOST_TEST(config_error_of([&] { file.validate(schema()); }) ==
             "t.conf:3: name: given more than once (first on line 1)");
}

BOOST_AUTO_TEST_CASE(missing_required_key_names_the_file) {
  const auto file = ConfigFile::parse("port = 1\n", "t.conf");
  BOOST_TEST(config_error_of([&] { file.validate(schema()); }) ==
             "t.conf: name: required key is missing");
}

BOOST_AUTO_TEST_CASE(check_keys_gives_validates_messages_without_boost) {
  const std::vector<pgguard::config::KeyRule> rules{
      {"name", false, true}, {"port"}, {"section.member", true}};
  const auto ok = ConfigFile::parse(
      "name = x\n[section]\nmember = a\nmember = b\n[other]\n[section]\nmember = c\n", "t.conf");
  BOOST_CHECK_NO_THROW(ok.check_keys(rules));
  const auto check = [&rules](const std::string& text) {
    return config_error_of([&] { ConfigFile::parse(text, "t.conf").check_keys(rules); });
  };
  BOOST_TEST(check("name = x\nnmae = y\n") == "t.conf:2: nmae: unknown key");
  BOOST_TEST(check("name = x\n\nname = y\n") ==
             "t.conf:3: name: given more than once (first on line 1)");
  BOOST_TEST(check("port = 1\n") == "t.conf: name: required key is missing");
  BOOST_TEST(check("name = x\nmember = a\n") == "t.conf:2: member: unknown key");  // no section
}

BOOST_AUTO_TEST_CASE(unreadable_file_is_a_config_error) {
  const auto message = config_error_of([] { ConfigFile::load("/nonexistent/pgguard.conf"); });
  BOOST_TEST(message.find("/nonexistent/pgguard.conf: cannot read file: No such file") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
