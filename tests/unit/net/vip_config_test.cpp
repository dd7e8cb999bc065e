#include "net/vip_config.hpp"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <string>

#include "common/config_file.hpp"
#include "common/error.hpp"

using pgguard::ConfigError;
using pgguard::config::ConfigFile;
using namespace pgguard::net;

namespace {

// A valid configuration; its line numbers matter to the tests below.
const std::string kValid =
    "address = 198.18.7.10/24\n"                        // 1
    "interface = eth0\n"                                // 2
    "socket = /var/vcap/sys/run/pgpool-vip/vip.sock\n"  // 3
    "client = pgpool\n";                                // 4

VipConfig parse(const std::string& text) {
  return parse_vip_config(ConfigFile::parse(text, "vip.conf"));
}

std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const ConfigError& error) {
    BOOST_TEST(pgguard::to_int(error.code()) == 2);
    return error.what();
  }
  return "(no error)";
}

// kValid with line `line` (1-4) replaced by `replacement`.
std::string with_line(int line, const std::string& replacement) {
  std::string text;
  std::size_t start = 0;
  for (int number = 1; start < kValid.size(); ++number) {
    const auto end = kValid.find('\n', start);
    text += number == line ? replacement : kValid.substr(start, end - start);
    text += "\n";
    start = end + 1;
  }
  return text;
}

void expect_error(const std::string& text, const std::string& prefix, const std::string& fragment) {
  const auto message = error_of(text);
  BOOST_TEST_INFO("message: " << message);
  BOOST_TEST(message.starts_with(prefix));
  BOOST_TEST(message.find(fragment) != std::string::npos);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(vip_config)

BOOST_AUTO_TEST_CASE(valid_configuration) {
  const auto config = parse(kValid);
  BOOST_TEST(config.address.to_string() == "198.18.7.10");
  BOOST_TEST(config.prefix == 24);
  BOOST_TEST(config.address_text() == "198.18.7.10/24");
  BOOST_TEST(config.interface == "eth0");
  BOOST_TEST(config.interface_where.line == 2);
  BOOST_TEST(config.socket_path == "/var/vcap/sys/run/pgpool-vip/vip.sock");
  BOOST_TEST(config.client == "pgpool");
  BOOST_TEST(config.client_where.line == 4);
  BOOST_TEST(config.announce_count == 3);  // default
  BOOST_TEST(parse(kValid + "announce_count = 10\n").announce_count == 10);
  BOOST_TEST(parse(kValid + "announce_count = 1\n").announce_count == 1);
  BOOST_TEST(parse(with_line(1, "address = 198.18.7.10/32")).prefix == 32);
  // /31 and /32 have no network or broadcast address to refuse.
  BOOST_TEST(parse(with_line(1, "address = 198.18.7.10/31")).prefix == 31);
}

BOOST_AUTO_TEST_CASE(missing_unknown_and_repeated_keys) {
  expect_error(with_line(1, "# no address"), "vip.conf: address: ", "required key is missing");
  expect_error(with_line(2, "# no interface"), "vip.conf: interface: ", "required key is missing");
  expect_error(with_line(3, "# no socket"), "vip.conf: socket: ", "required key is missing");
  expect_error(with_line(4, "# no client"), "vip.conf: client: ", "required key is missing");
  expect_error(kValid + "client_uid = 101\n", "vip.conf:5: client_uid: ", "unknown key");
  expect_error(kValid + "address = 198.18.7.11/24\n",
               "vip.conf:5: address: ", "given more than once (first on line 1)");
  expect_error("[vip]\n" + kValid, "vip.conf:2: vip.address: ", "unknown key");
}

BOOST_AUTO_TEST_CASE(bad_addresses) {
  const auto bad = [](const std::string& value, const std::string& fragment) {
    expect_error(with_line(1, "address = " + value), "vip.conf:1: address: ", fragment);
  };
  bad("198.18.7.10", "has no prefix");
  bad("198.18.7.10/", "prefix '' is not a decimal number");
  bad("198.18.7.10/024", "prefix '024' is not a decimal number");
  bad("198.18.7.10/-1", "is not a decimal number");
  bad("198.18.7.10/+24", "is not a decimal number");
  bad("198.18.7.10/0", "prefix 0 is outside 1..32");
  bad("198.18.7.10/33", "prefix 33 is outside 1..32");
  bad("198.18.7.10/24/1", "is not a decimal number");
  bad("198.018.7.10/24", "'198.018.7.10/24'");  // no octal forms
  bad("198.18.7/24", "'198.18.7/24'");          // no short forms
  bad("vip.example.com/24", "'vip.example.com/24'");
  bad("2001:db8::10/64", "is not IPv4");
  bad("0.0.0.0/8", "\"this network\"");
  bad("127.0.0.2/8", "is a loopback address");
  bad("169.254.1.1/16", "is a link-local address");
  bad("224.0.0.1/4", "is a multicast address");
  bad("255.255.255.255/32", "is reserved (240.0.0.0/4) or the broadcast address");
  bad("198.18.7.0/24", "is the network address of its prefix");
  bad("198.18.7.255/24", "is the broadcast address of its prefix");
  bad("198.18.7.10 /24", "is not");  // blanks inside
}

BOOST_AUTO_TEST_CASE(bad_interfaces) {
  const auto bad = [](const std::string& value, const std::string& fragment) {
    expect_error(with_line(2, "interface = " + value), "vip.conf:2: interface: ", fragment);
  };
  bad("eth0:0", "no '/', ':' or blanks");  // a label, not a device
  bad("eth/0", "no '/', ':' or blanks");
  bad("eth 0", "no '/', ':' or blanks");
  bad("..", "not . or ..");
  bad("a-very-long-name", "1 to 15 bytes");  // 16 bytes
  BOOST_TEST(parse(with_line(2, "interface = a-very-long-nam")).interface == "a-very-long-nam");
  expect_error(with_line(2, "interface ="), "vip.conf:2: interface: ", "1 to 15 bytes");
}

BOOST_AUTO_TEST_CASE(bad_socket_paths) {
  const auto bad = [](const std::string& value, const std::string& fragment) {
    expect_error(with_line(3, "socket = " + value), "vip.conf:3: socket: ", fragment);
  };
  bad("vip.sock", "is not an absolute path");
  bad("/run/pgpool-vip/", "is not normalized");
  bad("/run//vip.sock", "is not normalized");
  bad("/run/../etc/vip.sock", "has a '..' component");
  bad("/run/./vip.sock", "has a '.' component");
  bad("/" + std::string(100, 'x'), "101 bytes long; a unix socket path may have at most 100");
  BOOST_TEST(parse(with_line(3, "socket = /" + std::string(99, 'x'))).socket_path.size() == 100U);
}

BOOST_AUTO_TEST_CASE(bad_clients) {
  const auto bad = [](const std::string& value, const std::string& fragment) {
    expect_error(with_line(4, "client = " + value), "vip.conf:4: client: ", fragment);
  };
  bad("root", "root is never a client");
  bad("Pgpool", "is not a portable user name");
  bad("1pgpool", "is not a portable user name");
  bad("pg pool", "is not a portable user name");
  bad(std::string(33, 'p'), "is not a portable user name");
  bad("101", "is not a portable user name");  // a name, never a uid
}

BOOST_AUTO_TEST_CASE(bad_announce_counts) {
  const auto bad = [](const std::string& value, const std::string& fragment) {
    expect_error(kValid + "announce_count = " + value, "vip.conf:5: announce_count: ", fragment);
  };
  bad("0", "count 0 is outside 1..10");
  bad("11", "count 11 is outside 1..10");
  bad("03", "is not a decimal number");
  bad("three", "is not a decimal number");
  bad("-1", "is not a decimal number");
  bad("1000000", "is not a decimal number");
}

BOOST_AUTO_TEST_CASE(control_characters_are_refused) {
  const std::string nul(1, '\0');
  expect_error(with_line(2, "interface = eth0" + nul + "x"),
               "vip.conf:2: interface: ", "control character 0x00 (NUL)");
  expect_error(with_line(4, "client = pgpool\x1bx"),
               "vip.conf:4: client: ", "control character 0x1b (ESC)");
}

BOOST_AUTO_TEST_CASE(load_refuses_what_is_no_small_regular_file) {
  char pattern[] = "/tmp/pgv-unit-XXXXXX";
  BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
  const std::string dir = pattern;
  std::ofstream(dir + "/vip.conf") << kValid;
  BOOST_TEST(load_vip_config(dir + "/vip.conf").interface == "eth0");
  std::ofstream(dir + "/big.conf") << kValid << std::string(kMaxVipConfigSize, '#');
  try {
    (void)load_vip_config(dir + "/big.conf");
    BOOST_FAIL("a file above the cap was read");
  } catch (const pgguard::Error& error) {
    BOOST_TEST(pgguard::to_int(error.code()) == 2);
    BOOST_TEST(std::string(error.what()).find("64 KiB") != std::string::npos, error.what());
  }
  try {
    (void)load_vip_config(dir);
    BOOST_FAIL("a directory was read");
  } catch (const pgguard::Error& error) {
    BOOST_TEST(pgguard::to_int(error.code()) == 2);
  }
  (void)std::system(("rm -rf '" + dir + "'").c_str());
}

BOOST_AUTO_TEST_SUITE_END()
