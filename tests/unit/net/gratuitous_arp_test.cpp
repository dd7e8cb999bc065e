#include "net/gratuitous_arp.hpp"

#include <boost/test/unit_test.hpp>
#include <vector>

using namespace pgguard::net;

BOOST_AUTO_TEST_SUITE(gratuitous_arp)

BOOST_AUTO_TEST_CASE(announcement_is_an_rfc5227_request_for_the_address_itself) {
  const MacAddress mac{0x02, 0x42, 0xc6, 0x12, 0x07, 0x0a};
  const auto payload = arp_announcement(Address::parse("198.18.7.10"), mac);
  const std::vector<std::uint8_t> expected{0x00, 0x01,                          // Ethernet
                                           0x08, 0x00,                          // IPv4
                                           6,    4,                             // address lengths
                                           0x00, 0x01,                          // request
                                           0x02, 0x42, 0xc6, 0x12, 0x07, 0x0a,  // sender MAC
                                           198,  18,   7,    10,             // sender IP: the VIP
                                           0,    0,    0,    0,    0,    0,  // target MAC: unknown
                                           198,  18,   7,    10};  // target IP: the VIP again
  BOOST_TEST(std::vector<std::uint8_t>(payload.begin(), payload.end()) == expected,
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(ipv6_addresses_are_refused) {
  BOOST_CHECK_THROW(arp_announcement(Address::parse("2001:db8::1"), MacAddress{}), AddressError);
}

BOOST_AUTO_TEST_SUITE_END()
