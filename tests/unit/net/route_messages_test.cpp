#include "net/route_messages.hpp"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cstring>
#include <vector>

#include "common/error.hpp"

using namespace pgguard::net;

namespace {

// Netlink is in host byte order: the expected bytes are built field by field, not as literals.
class Bytes {
 public:
  Bytes& u8(std::uint8_t value) {
    bytes_.push_back(value);
    return *this;
  }
  Bytes& u16(std::uint16_t value) { return raw(&value, sizeof value); }
  Bytes& u32(std::uint32_t value) { return raw(&value, sizeof value); }
  Bytes& i32(std::int32_t value) { return raw(&value, sizeof value); }
  Bytes& ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d) {
    return u8(a).u8(b).u8(c).u8(d);
  }
  Bytes& text(const char* value) { return raw(value, std::strlen(value) + 1); }
  Bytes& pad() {
    while (bytes_.size() % 4 != 0) {
      bytes_.push_back(0);
    }
    return *this;
  }
  Bytes& raw(const void* data, std::size_t size) {
    const auto* p = static_cast<const std::uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + size);
    return *this;
  }
  Bytes& append(const Bytes& other) { return raw(other.bytes_.data(), other.bytes_.size()); }
  const std::vector<std::uint8_t>& get() const { return bytes_; }
  std::size_t size() const { return bytes_.size(); }

 private:
  std::vector<std::uint8_t> bytes_;
};

Bytes header(std::uint32_t length, std::uint16_t type, std::uint16_t flags, std::uint32_t sequence,
             std::uint32_t port = 0) {
  Bytes bytes;
  bytes.u32(length).u16(type).u16(flags).u32(sequence).u32(port);
  return bytes;
}

Bytes ifaddr(std::uint8_t family, std::uint8_t prefix, std::uint32_t index) {
  Bytes bytes;
  bytes.u8(family).u8(prefix).u8(0).u8(RT_SCOPE_UNIVERSE).u32(index);
  return bytes;
}

// One RTM_NEWADDR message of a dump answer.
Bytes address_message(std::uint32_t sequence, std::uint8_t family, std::uint8_t prefix,
                      std::uint32_t index, std::uint16_t attribute, Bytes value) {
  Bytes body = ifaddr(family, prefix, index);
  body.u16(static_cast<std::uint16_t>(4 + value.size())).u16(attribute).append(value).pad();
  // A label, which the parser skips.
  body.u16(4 + 5).u16(IFA_LABEL).text("eth0").pad();
  Bytes message =
      header(static_cast<std::uint32_t>(16 + body.size()), RTM_NEWADDR, NLM_F_MULTI, sequence);
  return message.append(body);
}

Bytes done_message(std::uint32_t sequence, std::int32_t error = 0) {
  Bytes message = header(20, NLMSG_DONE, NLM_F_MULTI, sequence);
  return message.i32(error);
}

RouteReply parse(const Bytes& datagram, std::uint32_t sequence) {
  RouteReply reply;
  parse_route_datagram(datagram.get(), sequence, reply);
  return reply;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(route_messages)

BOOST_AUTO_TEST_CASE(add_request_bytes) {
  const auto request =
      address_change_request(AddressChange::add, 7, 2, Address::parse("198.18.7.10"), 24);
  Bytes expected =
      header(40, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE, 7);
  expected.append(ifaddr(AF_INET, 24, 2));
  expected.u16(8).u16(IFA_LOCAL).ipv4(198, 18, 7, 10);
  expected.u16(8).u16(IFA_ADDRESS).ipv4(198, 18, 7, 10);
  BOOST_TEST(request == expected.get(), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(remove_request_bytes) {
  const auto request =
      address_change_request(AddressChange::remove, 8, 3, Address::parse("198.18.7.10"), 32);
  // No NLM_F_CREATE/EXCL; IFA_ADDRESS makes the kernel match the prefix too.
  Bytes expected = header(40, RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK, 8);
  expected.append(ifaddr(AF_INET, 32, 3));
  expected.u16(8).u16(IFA_LOCAL).ipv4(198, 18, 7, 10);
  expected.u16(8).u16(IFA_ADDRESS).ipv4(198, 18, 7, 10);
  BOOST_TEST(request == expected.get(), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(dump_request_bytes) {
  Bytes expected = header(24, RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, 9);
  expected.append(ifaddr(AF_INET, 0, 0));
  BOOST_TEST(ipv4_address_dump_request(9) == expected.get(), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(ipv6_and_bad_prefixes_are_refused) {
  BOOST_CHECK_THROW(
      address_change_request(AddressChange::add, 1, 2, Address::parse("2001:db8::1"), 64),
      AddressError);
  BOOST_CHECK_THROW(
      address_change_request(AddressChange::add, 1, 2, Address::parse("198.18.7.10"), 33),
      AddressError);
}

BOOST_AUTO_TEST_CASE(dump_answer_is_parsed_across_datagrams) {
  Bytes first;
  first.append(address_message(5, AF_INET, 24, 2, IFA_LOCAL, Bytes().ipv4(198, 18, 7, 2)));
  first.append(address_message(5, AF_INET, 24, 2, IFA_LOCAL, Bytes().ipv4(198, 18, 7, 10)));
  // Another request's answer and an IPv6 address in between: skipped.
  first.append(address_message(4, AF_INET, 8, 1, IFA_LOCAL, Bytes().ipv4(127, 0, 0, 1)));
  Bytes v6;
  v6.u32(0x20010db8).u32(0).u32(0).u32(1);
  first.append(address_message(5, AF_INET6, 64, 2, IFA_ADDRESS, v6));
  RouteReply reply;
  parse_route_datagram(first.get(), 5, reply);
  BOOST_TEST(!reply.done);
  Bytes second;
  // Without IFA_LOCAL, IFA_ADDRESS names the address.
  second.append(address_message(5, AF_INET, 32, 3, IFA_ADDRESS, Bytes().ipv4(198, 18, 9, 1)));
  second.append(done_message(5));
  parse_route_datagram(second.get(), 5, reply);
  BOOST_TEST(reply.done);
  BOOST_TEST(reply.error == 0);
  const std::vector<InterfaceAddress> expected{{2, Address::parse("198.18.7.2"), 24},
                                               {2, Address::parse("198.18.7.10"), 24},
                                               {3, Address::parse("198.18.9.1"), 32}};
  BOOST_TEST((reply.addresses == expected));
}

BOOST_AUTO_TEST_CASE(acks_and_errors) {
  // A plain ack: error 0, the request's header echoed.
  Bytes ack = header(36, NLMSG_ERROR, NLM_F_CAPPED, 6);
  ack.i32(0).append(header(40, RTM_NEWADDR, 0, 6));
  const auto ok = parse(ack, 6);
  BOOST_TEST(ok.done);
  BOOST_TEST(ok.error == 0);
  // An error with an extended ack message (capped, NETLINK_CAP_ACK).
  Bytes message;
  message.u16(4 + 24).u16(NLMSGERR_ATTR_MSG).text("Invalid prefix length.").pad();
  Bytes error = header(static_cast<std::uint32_t>(36 + message.size()), NLMSG_ERROR,
                       NLM_F_CAPPED | NLM_F_ACK_TLVS, 6);
  error.i32(-EINVAL).append(header(40, RTM_NEWADDR, 0, 6)).append(message);
  const auto refused = parse(error, 6);
  BOOST_TEST(refused.done);
  BOOST_TEST(refused.error == EINVAL);
  BOOST_TEST(refused.kernel_message == "Invalid prefix length.");
  // Not capped: the attributes follow the whole echoed request.
  Bytes echoed = header(40, RTM_DELADDR, 0, 6);
  echoed.append(ifaddr(AF_INET, 24, 2)).u16(8).u16(IFA_LOCAL).ipv4(1, 2, 3, 4);
  echoed.u16(8).u16(IFA_ADDRESS).ipv4(1, 2, 3, 4);
  Bytes uncapped = header(static_cast<std::uint32_t>(20 + echoed.size() + message.size()),
                          NLMSG_ERROR, NLM_F_ACK_TLVS, 6);
  uncapped.i32(-EADDRNOTAVAIL).append(echoed).append(message);
  const auto absent = parse(uncapped, 6);
  BOOST_TEST(absent.error == EADDRNOTAVAIL);
  BOOST_TEST(absent.kernel_message == "Invalid prefix length.");
  // A dump that failed ends with NLMSG_DONE carrying the error.
  BOOST_TEST(parse(done_message(6, -EPERM), 6).error == EPERM);
  // Another sequence's error is not ours.
  BOOST_TEST(!parse(error, 7).done);
}

BOOST_AUTO_TEST_CASE(malformed_datagrams_are_refused) {
  const auto refuses = [](const Bytes& datagram) {
    RouteReply reply;
    BOOST_CHECK_THROW(parse_route_datagram(datagram.get(), 5, reply), pgguard::Error);
  };
  refuses(Bytes().u32(16).u16(NLMSG_DONE));  // truncated header
  refuses(header(15, NLMSG_DONE, 0, 5));     // length below a header
  refuses(header(64, NLMSG_DONE, 0, 5));     // length past the datagram
  Bytes short_attribute = header(16 + 8 + 4, RTM_NEWADDR, 0, 5);
  short_attribute.append(ifaddr(AF_INET, 24, 2)).u16(3).u16(IFA_LOCAL);  // rta_len < 4
  refuses(short_attribute);
  Bytes long_attribute = header(16 + 8 + 8, RTM_NEWADDR, 0, 5);
  long_attribute.append(ifaddr(AF_INET, 24, 2)).u16(12).u16(IFA_LOCAL).ipv4(1, 2, 3, 4);
  refuses(long_attribute);
  Bytes short_body = header(16 + 4, RTM_NEWADDR, 0, 5);  // no whole ifaddrmsg
  short_body.u32(0);
  refuses(short_body);
}

BOOST_AUTO_TEST_SUITE_END()
