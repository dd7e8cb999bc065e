#include "net/vip_request.hpp"

#include <boost/test/unit_test.hpp>
#include <string>

using namespace pgguard::net;

namespace {

BrokerPolicy policy() {
  BrokerPolicy result;
  result.client_uid = 1001;
  result.client_gid = 1001;
  result.client_name = "pgpool";
  result.vip = Address::parse("198.18.7.10");
  return result;
}

Verdict judge(const std::string& bytes, ReadEnd end = ReadEnd::newline) {
  return judge_request({bytes, end}, policy());
}

// The refusal of `bytes`, which must be refused.
std::string refusal(const std::string& bytes, ReadEnd end = ReadEnd::newline) {
  const auto verdict = judge(bytes, end);
  BOOST_TEST(!verdict.accepted(), "accepted: " << printable(bytes));
  BOOST_TEST(!verdict.refusal.empty());
  return verdict.refusal;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(vip_request)

BOOST_AUTO_TEST_CASE(the_three_requests_for_the_vip_are_accepted) {
  for (const auto& [line, action] :
       {std::pair{"up", VipAction::up}, std::pair{"down", VipAction::down},
        std::pair{"announce", VipAction::announce}}) {
    const auto verdict = judge(std::string(line) + " 198.18.7.10\n");
    BOOST_TEST_REQUIRE(verdict.accepted(), verdict.refusal);
    BOOST_TEST((verdict.request->action == action));
    BOOST_TEST(verdict.request->address.to_string() == "198.18.7.10");
    BOOST_TEST(verdict.refusal.empty());
    // What the client sends is exactly what the broker accepts.
    BOOST_TEST(request_line(*verdict.request) == std::string(line) + " 198.18.7.10\n");
  }
}

BOOST_AUTO_TEST_CASE(any_other_address_is_refused) {
  for (const char* other :
       {"198.18.7.11", "198.18.7.1", "10.0.0.1", "0.0.0.0", "255.255.255.255", "2001:db8::10"}) {
    const auto text = refusal(std::string("up ") + other + "\n");
    BOOST_TEST(contains(text, "is not the address this broker manages"), text);
  }
  BOOST_TEST(contains(refusal("down 198.18.7.11\n"), "198.18.7.11 is not the address"));
  BOOST_TEST(contains(refusal("announce 198.18.7.11\n"), "198.18.7.11 is not the address"));
  // Forms that inet_aton would read as the VIP are not the VIP: they do not parse at all.
  for (const char* alias :
       {"198.18.7.010", "198.18.1802", "3323070218", "0xc612070a", "198.18.7.10/24", "198.18.7.10 ",
        " 198.18.7.10", "::ffff:198.18.7.10"}) {
    BOOST_TEST(!judge(std::string("up ") + alias + "\n").accepted(), alias);
  }
}

BOOST_AUTO_TEST_CASE(malformed_lines_are_refused) {
  BOOST_TEST(contains(refusal("\n"), "unknown request ''"));
  BOOST_TEST(contains(refusal("up\n"), "unknown request 'up'"));
  BOOST_TEST(contains(refusal("UP 198.18.7.10\n"), "unknown request"));
  BOOST_TEST(contains(refusal("add 198.18.7.10\n"), "expected up, down or announce"));
  BOOST_TEST(contains(refusal("up  198.18.7.10\n"), "is not an address"));
  BOOST_TEST(contains(refusal("up 198.18.7.10 eth0\n"), "is not an address"));
  BOOST_TEST(contains(refusal("up\t198.18.7.10\n"), "control"));
  BOOST_TEST(contains(refusal("up 198.18.7.10\r\n"), "control"));
  BOOST_TEST(contains(refusal(std::string("up 198.18.7.10\0\n", 16)), "control"));
  BOOST_TEST(contains(refusal("up 198.18.7.10\xc3\xa9\n"), "non-ASCII"));
  BOOST_TEST(contains(refusal("up 198.18.7.10\ndown 198.18.7.10\n"), "one request per connection"));
  BOOST_TEST(contains(refusal("up 198.18.7.10\n\n"), "one request per connection"));
}

BOOST_AUTO_TEST_CASE(incomplete_late_and_overlong_requests_are_refused) {
  BOOST_TEST(refusal("", ReadEnd::end_of_file) == "empty request");
  BOOST_TEST(contains(refusal("up 198.18.7.10", ReadEnd::end_of_file), "not terminated"));
  BOOST_TEST(contains(refusal("up 198.18.7.10", ReadEnd::newline), "not terminated"));
  BOOST_TEST(contains(refusal("up 198.1", ReadEnd::timed_out), "within 2000 ms"));
  BOOST_TEST(contains(refusal("", ReadEnd::timed_out), "no complete request line"));
  const std::string long_line(kMaxRequestLine + 1, 'u');
  BOOST_TEST(contains(refusal(long_line, ReadEnd::too_long), "longer than 64 bytes"));
  // A line of exactly the limit is judged on its content; one byte more is refused as too
  // long even when its newline came in the same read.
  const std::string at_limit = "up " + std::string(kMaxRequestLine - 3, '1') + "\n";
  BOOST_TEST(contains(refusal(at_limit), "is not an address"));
  const std::string over_limit = "up " + std::string(kMaxRequestLine - 2, '1') + "\n";
  BOOST_TEST(contains(refusal(over_limit), "longer than 64 bytes"));
}

BOOST_AUTO_TEST_CASE(only_the_client_uid_is_served) {
  BOOST_TEST(!peer_refusal({4242, 1001, 1001}, policy()).has_value());
  // The gid does not matter: a member of the socket's group is not the client.
  BOOST_TEST(!peer_refusal({4242, 1001, 0}, policy()).has_value());
  const auto other = peer_refusal({4243, 1002, 1001}, policy());
  BOOST_TEST_REQUIRE(other.has_value());
  BOOST_TEST(*other == "refused: uid 1002 is not the client 'pgpool' (uid 1001)");
  BOOST_TEST(peer_refusal({1, 0, 0}, policy()).has_value());  // root too
}

BOOST_AUTO_TEST_CASE(answers) {
  BOOST_TEST(ok_answer("up 198.18.7.10/24 on eth0: added") ==
             "ok up 198.18.7.10/24 on eth0: added\n");
  BOOST_TEST(error_answer("refused: x") == "error refused: x\n");
  const auto ok = parse_answer("ok up 198.18.7.10/24 on eth0: added\n");
  BOOST_TEST(ok.ok);
  BOOST_TEST(ok.text == "ok up 198.18.7.10/24 on eth0: added");
  const auto error = parse_answer("error refused: uid 1 is not the client\n");
  BOOST_TEST(!error.ok);
  BOOST_TEST(error.text == "error refused: uid 1 is not the client");
  BOOST_TEST(!parse_answer("ok up").ok);         // cut short: no newline
  BOOST_TEST(!parse_answer("ok\n").ok);          // no text
  BOOST_TEST(!parse_answer("okay fine\n").ok);   // not the protocol
  BOOST_TEST(!parse_answer("ok a\nok b\n").ok);  // two lines
  BOOST_TEST(!parse_answer("").ok);
  BOOST_TEST(parse_answer("error \x1b[2J\n").text == "error \\x1b[2J");  // escaped for the log
}

BOOST_AUTO_TEST_CASE(printable_escapes_what_a_log_must_not_carry) {
  BOOST_TEST(printable("up 198.18.7.10") == "up 198.18.7.10");
  BOOST_TEST(printable("a\nb\tc\\d\"e") == "a\\nb\\tc\\\\d\\\"e");
  BOOST_TEST(printable(std::string("\0\x7f\xff", 3)) == "\\x00\\x7f\\xff");
}

BOOST_AUTO_TEST_SUITE_END()
