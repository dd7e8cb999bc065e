#include "net/route_messages.hpp"

#include <linux/if_addr.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

#include "common/error.hpp"

namespace pgguard::net {

namespace {

constexpr std::size_t align4(std::size_t length) {
  return (length + 3) & ~std::size_t{3};
}

// Appends to a message under construction; the header's length is fixed up by finish().
class MessageBuilder {
 public:
  MessageBuilder(std::uint16_t type, std::uint16_t flags, std::uint32_t sequence) {
    nlmsghdr header{};
    header.nlmsg_type = type;
    header.nlmsg_flags = flags;
    header.nlmsg_seq = sequence;
    append(&header, sizeof header);
  }

  void append(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const std::uint8_t*>(data);
    bytes_.insert(bytes_.end(), bytes, bytes + size);
    bytes_.resize(align4(bytes_.size()), 0);
  }

  void attribute(std::uint16_t type, const void* data, std::size_t size) {
    rtattr header{};
    header.rta_len = static_cast<unsigned short>(RTA_LENGTH(size));
    header.rta_type = type;
    const std::size_t start = bytes_.size();
    bytes_.resize(start + sizeof header);
    std::memcpy(bytes_.data() + start, &header, sizeof header);
    append(data, size);
  }

  std::vector<std::uint8_t> finish() && {
    const auto length = static_cast<std::uint32_t>(bytes_.size());
    std::memcpy(bytes_.data() + offsetof(nlmsghdr, nlmsg_len), &length, sizeof length);
    return std::move(bytes_);
  }

 private:
  std::vector<std::uint8_t> bytes_;
};

[[noreturn]] void malformed(const std::string& what) {
  throw Error(ExitCode::system, "malformed rtnetlink answer: " + what);
}

template <class T>
T read_at(std::span<const std::uint8_t> bytes, std::size_t offset) {
  if (offset + sizeof(T) > bytes.size()) {
    malformed("truncated at byte " + std::to_string(offset));
  }
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof(T));
  return value;
}

// Calls visit(type, payload) for each attribute in bytes.
template <class Visit>
void for_each_rtattr(std::span<const std::uint8_t> bytes, Visit visit) {
  std::size_t offset = 0;
  while (offset + sizeof(rtattr) <= bytes.size()) {
    const auto header = read_at<rtattr>(bytes, offset);
    if (header.rta_len < sizeof(rtattr) || offset + header.rta_len > bytes.size()) {
      malformed("attribute length " + std::to_string(header.rta_len));
    }
    visit(header.rta_type, bytes.subspan(offset + sizeof(rtattr), header.rta_len - sizeof(rtattr)));
    offset += align4(header.rta_len);
  }
}

void parse_address_message(std::span<const std::uint8_t> payload, RouteReply& reply) {
  const auto message = read_at<ifaddrmsg>(payload, 0);
  if (message.ifa_family != AF_INET) {
    return;
  }
  std::optional<Address> local;
  std::optional<Address> address;
  for_each_rtattr(
      payload.subspan(align4(sizeof(ifaddrmsg))),
      [&](std::uint16_t type, std::span<const std::uint8_t> value) {
        if ((type == IFA_LOCAL || type == IFA_ADDRESS) && value.size() == 4) {
          const Address parsed = Address::ipv4({value[0], value[1], value[2], value[3]});
          (type == IFA_LOCAL ? local : address) = parsed;
        }
      });
  if (local || address) {
    reply.addresses.push_back(
        {message.ifa_index, local ? *local : *address, message.ifa_prefixlen});
  }
}

void parse_error_message(const nlmsghdr& header, std::span<const std::uint8_t> payload,
                         RouteReply& reply) {
  const auto error = read_at<int>(payload, 0);
  reply.done = true;
  reply.error = -error;
  // Extended ack (NETLINK_EXT_ACK): attributes after the echoed request, which is only its
  // header when the request was capped (NETLINK_CAP_ACK).
  if ((header.nlmsg_flags & NLM_F_ACK_TLVS) == 0) {
    return;
  }
  std::size_t offset = sizeof(nlmsgerr);
  if ((header.nlmsg_flags & NLM_F_CAPPED) == 0) {
    offset += align4(read_at<nlmsghdr>(payload, sizeof(int)).nlmsg_len) - sizeof(nlmsghdr);
  }
  if (offset > payload.size()) {
    return;
  }
  for_each_rtattr(payload.subspan(offset),
                  [&](std::uint16_t type, std::span<const std::uint8_t> value) {
                    if (type == NLMSGERR_ATTR_MSG && !value.empty()) {
                      reply.kernel_message.assign(value.begin(), value.end());
                      while (!reply.kernel_message.empty() && reply.kernel_message.back() == '\0') {
                        reply.kernel_message.pop_back();
                      }
                    }
                  });
}

}  // namespace

std::vector<std::uint8_t> ipv4_address_dump_request(std::uint32_t sequence) {
  MessageBuilder builder(RTM_GETADDR, NLM_F_REQUEST | NLM_F_DUMP, sequence);
  ifaddrmsg message{};
  message.ifa_family = AF_INET;
  builder.append(&message, sizeof message);
  return std::move(builder).finish();
}

std::vector<std::uint8_t> address_change_request(AddressChange change, std::uint32_t sequence,
                                                 unsigned index, const Address& address,
                                                 int prefix) {
  if (address.family() != Family::ipv4 || prefix < 0 || prefix > 32) {
    throw AddressError("an rtnetlink address change here is for IPv4 with a prefix of 0-32");
  }
  const bool add = change == AddressChange::add;
  MessageBuilder builder(
      add ? RTM_NEWADDR : RTM_DELADDR,
      static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | (add ? NLM_F_CREATE | NLM_F_EXCL : 0)),
      sequence);
  ifaddrmsg message{};
  message.ifa_family = AF_INET;
  message.ifa_prefixlen = static_cast<unsigned char>(prefix);
  message.ifa_scope = RT_SCOPE_UNIVERSE;
  message.ifa_index = index;
  builder.append(&message, sizeof message);
  builder.attribute(IFA_LOCAL, address.data(), 4);
  builder.attribute(IFA_ADDRESS, address.data(), 4);
  return std::move(builder).finish();
}

void parse_route_datagram(std::span<const std::uint8_t> datagram, std::uint32_t sequence,
                          RouteReply& reply) {
  std::size_t offset = 0;
  while (offset < datagram.size()) {
    const auto header = read_at<nlmsghdr>(datagram, offset);
    if (header.nlmsg_len < sizeof(nlmsghdr) || offset + header.nlmsg_len > datagram.size()) {
      malformed("message length " + std::to_string(header.nlmsg_len) + " at byte " +
                std::to_string(offset) + " of " + std::to_string(datagram.size()));
    }
    const auto payload =
        datagram.subspan(offset + sizeof(nlmsghdr), header.nlmsg_len - sizeof(nlmsghdr));
    if (header.nlmsg_seq == sequence) {
      switch (header.nlmsg_type) {
        case NLMSG_ERROR:
          parse_error_message(header, payload, reply);
          break;
        case NLMSG_DONE:
          reply.done = true;
          if (payload.size() >= sizeof(int)) {
            reply.error = -read_at<int>(payload, 0);
          }
          break;
        case RTM_NEWADDR:
          parse_address_message(payload, reply);
          break;
        default:
          break;
      }
    }
    offset += align4(header.nlmsg_len);
  }
}

}  // namespace pgguard::net
