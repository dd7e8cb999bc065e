#include "net/address.hpp"

#include <boost/test/unit_test.hpp>

using pgguard::net::Address;
using pgguard::net::AddressError;
using pgguard::net::AddressRange;
using pgguard::net::Cidr;
using pgguard::net::Family;

BOOST_AUTO_TEST_SUITE(address)

BOOST_AUTO_TEST_CASE(parses_and_prints_ipv4) {
  const auto address = Address::parse("198.18.0.1");
  BOOST_TEST((address.family() == Family::ipv4));
  BOOST_TEST(address.to_string() == "198.18.0.1");
  BOOST_TEST(Address::parse("0.0.0.0").is_zero());
  BOOST_TEST(Address::parse("255.255.255.255").is_all_ones());
  BOOST_TEST(Address::parse("127.0.0.1").is_loopback());
  BOOST_TEST(Address::parse("127.255.0.9").is_loopback());
  BOOST_TEST(!Address::parse("128.0.0.1").is_loopback());
  BOOST_TEST(Address::parse("224.0.0.1").is_multicast());
  BOOST_TEST(Address::parse("239.255.255.255").is_multicast());
  BOOST_TEST(!Address::parse("223.255.255.255").is_multicast());
  BOOST_TEST(!Address::parse("240.0.0.1").is_multicast());
  BOOST_TEST(Address::parse("::1").is_loopback());
  BOOST_TEST(!Address::parse("::2").is_loopback());
  BOOST_TEST(Address::parse("ff02::1").is_multicast());
  BOOST_TEST(!Address::parse("fe80::1").is_multicast());
}

BOOST_AUTO_TEST_CASE(rejects_lenient_ipv4_forms) {
  for (const char* text :
       {"198.18.0", "198.18.0.1.2", "198.018.0.1", "198.18.0.256", "198.18..1", "198.18.0.1 ",
        "0x7f.0.0.1", "+1.2.3.4", "1.2.3.-4", "", "198.18.0.1/32"}) {
    BOOST_CHECK_THROW(Address::parse(text), AddressError);
  }
}

BOOST_AUTO_TEST_CASE(parses_ipv6_and_prints_rfc5952) {
  BOOST_TEST(Address::parse("2001:DB8:0:0:0:0:0:1").to_string() == "2001:db8::1");
  BOOST_TEST(Address::parse("2001:db8:0:1:0:0:0:1").to_string() == "2001:db8:0:1::1");
  BOOST_TEST(Address::parse("2001:db8:0:0:1:0:0:1").to_string() == "2001:db8::1:0:0:1");
  BOOST_TEST(Address::parse("2001:db8:1:1:1:1:0:1").to_string() == "2001:db8:1:1:1:1:0:1");
  BOOST_TEST(Address::parse("::").to_string() == "::");
  BOOST_TEST(Address::parse("::1").to_string() == "::1");
  BOOST_TEST(Address::parse("fe80::").to_string() == "fe80::");
  BOOST_TEST(Address::parse("64:ff9b::198.18.0.1").to_string() == "64:ff9b::c612:1");
  BOOST_TEST((Address::parse("::1").family() == Family::ipv6));
}

BOOST_AUTO_TEST_CASE(rejects_bad_ipv6) {
  for (const char* text :
       {"2001:db8::1::2", "2001:db8:1:2:3:4:5:6:7", "2001:db8:1:2:3:4:5", "12345::", "2001:dg8::1",
        "fe80::1%eth0", "::ffff:198.18.0.1", "2001:db8:::1", ":2001:db8::1", "1:2:3:4:5:6:7::8"}) {
    BOOST_CHECK_THROW(Address::parse(text), AddressError);
  }
}

BOOST_AUTO_TEST_CASE(ordering_next_previous) {
  BOOST_TEST((Address::parse("198.18.0.255").next() == Address::parse("198.18.1.0")));
  BOOST_TEST((Address::parse("198.18.1.0").previous() == Address::parse("198.18.0.255")));
  BOOST_TEST((Address::parse("198.18.0.1") < Address::parse("::1")));  // IPv4 sorts first
}

BOOST_AUTO_TEST_CASE(parses_cidrs) {
  const auto cidr = Cidr::parse("198.18.0.0/15");
  BOOST_TEST(cidr.prefix() == 15);
  BOOST_TEST(cidr.range().first.to_string() == "198.18.0.0");
  BOOST_TEST(cidr.range().last.to_string() == "198.19.255.255");
  BOOST_TEST(cidr.contains(Address::parse("198.19.1.1")));
  BOOST_TEST(!cidr.contains(Address::parse("198.20.0.0")));
  BOOST_TEST(!cidr.contains(Address::parse("::1")));
  BOOST_TEST(Cidr::parse("198.18.0.7").prefix() == 32);
  BOOST_TEST(Cidr::parse("2001:db8::/32").range().last.to_string() ==
             "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff");
  BOOST_TEST(Cidr::parse("0.0.0.0/0").range().last.is_all_ones());
  BOOST_TEST(Cidr::parse("::/0").range().first.is_zero());
}

BOOST_AUTO_TEST_CASE(rejects_bad_cidrs) {
  for (const char* text :
       {"198.18.0.1/24", "198.18.0.0/33", "198.18.0.0/", "198.18.0.0/024", "198.18.0.0/-1",
        "2001:db8::/129", "2001:db8::1/64", "198.18.0.0/1a", "/24"}) {
    BOOST_CHECK_THROW(Cidr::parse(text), AddressError);
  }
}

BOOST_AUTO_TEST_CASE(merges_overlapping_and_adjacent_ranges) {
  const auto merged = pgguard::net::merge_ranges(
      {Cidr::parse("198.18.0.128/25").range(), Cidr::parse("198.18.0.0/25").range(),
       Cidr::parse("198.18.2.0/24").range(), Cidr::parse("198.18.2.5").range(),
       Cidr::parse("2001:db8::/64").range()});
  BOOST_TEST_REQUIRE(merged.size() == 3u);
  BOOST_TEST(pgguard::net::range_to_string(merged[0]) == "198.18.0.0/24");
  BOOST_TEST(pgguard::net::range_to_string(merged[1]) == "198.18.2.0/24");
  BOOST_TEST(pgguard::net::range_to_string(merged[2]) == "2001:db8::/64");
}

BOOST_AUTO_TEST_CASE(renders_ranges_as_prefix_host_or_span) {
  using pgguard::net::range_to_string;
  BOOST_TEST(range_to_string({Address::parse("198.18.1.11"), Address::parse("198.18.1.15")}) ==
             "198.18.1.11-198.18.1.15");
  BOOST_TEST(range_to_string({Address::parse("198.18.1.11"), Address::parse("198.18.1.11")}) ==
             "198.18.1.11");
  BOOST_TEST(range_to_string({Address::parse("198.18.1.8"), Address::parse("198.18.1.15")}) ==
             "198.18.1.8/29");
  BOOST_TEST(range_to_string({Address::parse("0.0.0.0"), Address::parse("255.255.255.255")}) ==
             "0.0.0.0/0");
  BOOST_TEST(range_to_string({Address::parse("198.18.1.9"), Address::parse("198.18.1.16")}) ==
             "198.18.1.9-198.18.1.16");
}

BOOST_AUTO_TEST_SUITE_END()
