#include "net/icmp_echo.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

using namespace pgguard;
using namespace pgguard::net;

namespace {

EchoRequest parse(std::vector<std::string_view> arguments) {
  return parse_ping_arguments(arguments);
}

std::string refusal(std::vector<std::string_view> arguments) {
  try {
    parse(std::move(arguments));
  } catch (const Error& error) {
    BOOST_TEST(to_int(error.code()) == to_int(ExitCode::bad_input));
    return error.what();
  }
  BOOST_FAIL("expected the arguments to be refused");
  return {};
}

// pgpool's reading of the summary (wd_ping.c): the text between the fourth and the fifth '/',
// or nothing when there are fewer.
std::string pgpool_average(const std::string& output) {
  std::size_t position = 0;
  for (int slash = 0; slash < 4; ++slash) {
    position = output.find('/', position);
    if (position == std::string::npos) {
      return {};
    }
    ++position;
  }
  const auto end = output.find('/', position);
  return end == std::string::npos ? std::string() : output.substr(position, end - position);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(icmp_echo)

BOOST_AUTO_TEST_CASE(parses_the_arguments_pgpool_passes) {
  const auto request = parse({"-q", "-c3", "198.18.7.10"});
  BOOST_TEST(request.count == 3);
  BOOST_TEST(request.timeout_ms == 1000);
  BOOST_TEST(request.destination_text == "198.18.7.10");
  BOOST_TEST(request.destination.to_string() == "198.18.7.10");
  const auto separate = parse({"-n", "-c", "5", "-W", "2", "2001:db8::7"});
  BOOST_TEST(separate.count == 5);
  BOOST_TEST(separate.timeout_ms == 2000);
  BOOST_TEST(separate.destination.to_string() == "2001:db8::7");
  BOOST_TEST(parse({"198.18.0.1"}).count == 3);  // iputils would ping forever: never here
}

BOOST_AUTO_TEST_CASE(refuses_what_it_does_not_understand) {
  BOOST_TEST(refusal({"-q", "-c3", "pgpool.example"}).find("host names are not resolved") !=
             std::string::npos);
  BOOST_TEST(refusal({"-q", "-c3"}).starts_with("no address given"));
  BOOST_TEST(refusal({"-x", "198.18.0.1"}).starts_with("unknown option '-x'"));
  BOOST_TEST(refusal({"-c0", "198.18.0.1"}).starts_with("option -c: '0' is not a number from 1"));
  BOOST_TEST(refusal({"-c", "3x", "198.18.0.1"}).starts_with("option -c: '3x'"));
  BOOST_TEST(refusal({"-W61", "198.18.0.1"}).starts_with("option -W: '61'"));
  BOOST_TEST(refusal({"198.18.0.1", "-c"}).starts_with("option -c needs a value"));
  BOOST_TEST(refusal({"198.18.0.1", "198.18.0.2"}).starts_with("one address only"));
  BOOST_TEST(refusal({"010.1.1.1"}).find("not an IPv4 or IPv6 address") != std::string::npos);
  BOOST_TEST(refusal({"-x"}).find("usage: pgguard-ping") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(echo_requests_and_replies) {
  const auto v4 = echo_request(Family::ipv4, 0x0102);
  BOOST_REQUIRE(v4.size() == 64U);
  BOOST_TEST(v4[0] == 8);  // echo request
  BOOST_TEST(v4[1] == 0);
  BOOST_TEST(v4[6] == 0x01);
  BOOST_TEST(v4[7] == 0x02);
  BOOST_TEST(echo_request(Family::ipv6, 1)[0] == 128);

  std::vector<std::uint8_t> reply = v4;
  reply[0] = 0;  // echo reply
  BOOST_TEST(echo_reply_sequence(Family::ipv4, reply).value_or(0) == 0x0102);
  BOOST_TEST(!echo_reply_sequence(Family::ipv4, v4).has_value());  // a request is no reply
  BOOST_TEST(!echo_reply_sequence(Family::ipv6, reply).has_value());
  reply[0] = 3;  // destination unreachable
  BOOST_TEST(!echo_reply_sequence(Family::ipv4, reply).has_value());
  const std::vector<std::uint8_t> short_reply{0, 0, 0, 0, 0, 0, 1};
  BOOST_TEST(!echo_reply_sequence(Family::ipv4, short_reply).has_value());
  std::vector<std::uint8_t> v6_reply = echo_request(Family::ipv6, 9);
  v6_reply[0] = 129;
  BOOST_TEST(echo_reply_sequence(Family::ipv6, v6_reply).value_or(0) == 9);
}

BOOST_AUTO_TEST_CASE(summary_is_what_pgpool_parses) {
  const auto request = parse({"-q", "-c3", "198.18.7.10"});
  EchoResult result;
  result.transmitted = 3;
  result.round_trips_ms = {0.5, 1.0, 1.5};
  result.elapsed_ms = 401.4;
  const std::string output = ping_summary(request, result);
  BOOST_TEST(output ==
             "PING 198.18.7.10 (198.18.7.10) 56(84) bytes of data.\n\n"
             "--- 198.18.7.10 ping statistics ---\n"
             "3 packets transmitted, 3 received, 0% packet loss, time 401ms\n"
             "rtt min/avg/max/mdev = 0.500/1.000/1.500/0.408 ms\n");
  BOOST_TEST(pgpool_average(output) == "1.000");

  result.round_trips_ms = {2.0};
  BOOST_TEST(ping_summary(request, result)
                 .find("3 packets transmitted, 1 received, 66% packet "
                       "loss") != std::string::npos);
  result.round_trips_ms.clear();
  const std::string silent = ping_summary(request, result);
  BOOST_TEST(silent.find("100% packet loss") != std::string::npos);
  BOOST_TEST(pgpool_average(silent).empty());  // pgpool: no average, the ping failed

  const auto v6 = parse({"-c1", "2001:DB8::7"});
  result.transmitted = 1;
  result.round_trips_ms = {0.25};
  BOOST_TEST(ping_summary(v6, result).starts_with("PING 2001:DB8::7 (2001:db8::7) 56(104) bytes"));
}

BOOST_AUTO_TEST_SUITE_END()
