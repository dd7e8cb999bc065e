#include "common/config_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>

#include "lib/bounded_child.hpp"
#include "lib/scratch_dir.hpp"

namespace po = boost::program_options;
using pgguard::ConfigError;
using pgguard::config::ConfigFile;
using pgguard::test::ScratchDir;

namespace {

po::options_description schema() {
  po::options_description description;
  description.add_options()("name", po::value<std::string>()->required(), "a required scalar")(
      "port", po::value<int>()->default_value(5432), "a typed scalar with default")(
      "member", po::value<std::vector<std::string>>()->composing(), "repeatable")(
      "icmp.echo_rate", po::value<std::string>(), "a key inside a section")(
      "strict", po::value<bool>(), "a boolean");
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

// Boost alone would read "strict =" as true.
BOOST_AUTO_TEST_CASE(an_empty_boolean_is_refused) {
  const auto file = ConfigFile::parse("name = x\nstrict =\n", "t.conf");
  BOOST_TEST(config_error_of([&] { file.validate(schema()); }) ==
             "t.conf:2: strict: empty value: expected true or false");
  const auto variables = ConfigFile::parse("name = x\nstrict = no\n", "t.conf").validate(schema());
  BOOST_TEST(!variables["strict"].as<bool>());
  // Only booleans: an empty string is a value.
  BOOST_CHECK_NO_THROW(ConfigFile::parse("name =\n", "t.conf").validate(schema()));
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

// A NUL or any other control character in a value is refused where the file is read, for every
// file of this syntax: whatever takes the value as a C string would see less than the checks.
BOOST_AUTO_TEST_CASE(control_characters_are_refused_with_their_line_and_key) {
  const auto nul = std::string("name = clone") + '\0' + "x\n";
  BOOST_TEST(config_error_of([&] { ConfigFile::parse("port = 1\n" + nul, "t.conf"); }) ==
             "t.conf:2: name: control character 0x00 (NUL) at column 13: keys and values must be "
             "printable text");
  BOOST_TEST(
      config_error_of([] { ConfigFile::parse("[icmp]\necho_rate = 10/s\x01\n", "t.conf"); }) ==
      "t.conf:2: icmp.echo_rate: control character 0x01 (SOH) at column 17: keys and values "
      "must be printable text");
  BOOST_TEST(config_error_of([] {
               ConfigFile::parse("name = a\x1b[0mb\n", "t.conf");
             }).starts_with("t.conf:1: name: control character 0x1b (ESC) at column 9"));
  BOOST_TEST(config_error_of([] {
               ConfigFile::parse("name = a\x7f\n", "t.conf");
             }).starts_with("t.conf:1: name: control character 0x7f (DEL) at column 9"));
  BOOST_TEST(config_error_of([] {
               ConfigFile::parse("name = a\rb\n", "t.conf");
             }).starts_with("t.conf:1: name: control character 0x0d (CR)"));
  // Not in a value: no key to name, the line still is.
  BOOST_TEST(config_error_of([] {
               ConfigFile::parse(std::string("na\x02me = x\n"), "t.conf");
             }).starts_with("t.conf:1: control character 0x02 (STX) at column 3"));
  BOOST_TEST(config_error_of([] {
               ConfigFile::parse(std::string("[ic\x03mp]\n"), "t.conf");
             }).starts_with("t.conf:1: control character 0x03 (ETX)"));
}

// Tab stays whitespace, as the syntax has always treated it, and CRLF line ends still work.
BOOST_AUTO_TEST_CASE(tab_and_line_end_whitespace_are_allowed) {
  const auto file = ConfigFile::parse("name\t=\tpg master\t# c\r\nmember = a,\tb\r\n", "t.conf");
  BOOST_REQUIRE_EQUAL(file.entries().size(), 2u);
  BOOST_TEST(file.entries()[0].value == "pg master");
  BOOST_TEST(file.entries()[1].value == "a,\tb");
  // A comment is not a value: what follows '#' is not read.
  BOOST_CHECK_NO_THROW(ConfigFile::parse(std::string("name = x # \x01\n"), "t.conf"));
}

namespace {

// The message load() gives for `path`, from a child process that must finish within seconds:
// an open that blocks on a FIFO, or reading /dev/zero without end, fails the test instead of
// hanging it.
std::string bounded_load_error(const std::string& path, std::size_t max_size) {
  const auto outcome = pgguard::test::run_bounded([&](std::string& message) {
    try {
      (void)ConfigFile::load(path, max_size);
      message = "loaded";
      return 0;
    } catch (const ConfigError& error) {
      message = error.what();
      return 2;
    }
  });
  BOOST_TEST(outcome.exited, path << ": the load did not finish (signal " << outcome.signal
                                  << "): it blocked or read without end");
  BOOST_TEST(outcome.exit_code == 2, path << ": " << outcome.output);
  return outcome.output;
}

}  // namespace

BOOST_AUTO_TEST_CASE(load_refuses_a_fifo_without_blocking) {
  ScratchDir scratch;
  const std::string fifo = scratch.path + "/profile";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  BOOST_TEST(bounded_load_error(fifo, 1024) == fifo + ": not a regular file (a FIFO)");
}

BOOST_AUTO_TEST_CASE(load_refuses_a_device_without_reading_it) {
  BOOST_TEST(bounded_load_error("/dev/zero", 1024) ==
             "/dev/zero: not a regular file (a character device)");
  BOOST_TEST(bounded_load_error("/tmp", 1024) == "/tmp: not a regular file (a directory)");
}

BOOST_AUTO_TEST_CASE(load_refuses_a_file_above_its_cap) {
  ScratchDir scratch;
  const std::string path = scratch.path + "/big.conf";
  std::ofstream(path) << "name = x\n" << std::string(1024 - 9, '#');
  BOOST_CHECK_NO_THROW(ConfigFile::load(path, 1024));  // exactly at the cap
  std::ofstream(path, std::ios::app) << "\n";
  BOOST_TEST(bounded_load_error(path, 1024) ==
             path + ": the file is 1025 bytes, more than the 1 KiB such a file may have");
}

BOOST_AUTO_TEST_CASE(unreadable_file_is_a_config_error) {
  const auto message = config_error_of([] { ConfigFile::load("/nonexistent/pgguard.conf"); });
  BOOST_TEST(message.find("/nonexistent/pgguard.conf: cannot read file: No such file") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
