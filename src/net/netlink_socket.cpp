#include "net/netlink_socket.hpp"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <set>

#include "common/error.hpp"

namespace pgguard::net {

namespace {

constexpr std::size_t kReceiveBufferSize = std::size_t{256} * 1024;

std::string extended_ack_message(const nlmsghdr* header) {
  if ((header->nlmsg_flags & NLM_F_ACK_TLVS) == 0) {
    return {};
  }
  const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(header));
  std::size_t offset = sizeof(nlmsgerr);
  if ((header->nlmsg_flags & NLM_F_CAPPED) == 0) {
    offset += error->msg.nlmsg_len - sizeof(nlmsghdr);
  }
  std::string message;
  for_each_attribute(header, offset, [&message](const nlattr* attribute) {
    if (mnl_attr_get_type(attribute) == NLMSGERR_ATTR_MSG) {
      message = mnl_attr_get_str(attribute);
    }
  });
  return message;
}

}  // namespace

NetlinkSocket::NetlinkSocket(mnl_socket* socket)
    : socket_(socket), receive_buffer_(kReceiveBufferSize) {}

NetlinkSocket NetlinkSocket::open() {
  mnl_socket* raw = mnl_socket_open(NETLINK_NETFILTER);
  if (raw == nullptr) {
    throw SystemError("cannot open netfilter netlink socket", errno);
  }
  NetlinkSocket socket(raw);
  if (mnl_socket_bind(raw, 0, MNL_SOCKET_AUTOPID) < 0) {
    throw SystemError("cannot bind netfilter netlink socket", errno);
  }
  socket.port_id_ = mnl_socket_get_portid(raw);
  int on = 1;
  // Capped acks keep a rejected 64 KiB element message from being echoed back in full; the
  // extended ack carries the kernel's own explanation when it has one. Both are optional.
  mnl_socket_setsockopt(raw, NETLINK_CAP_ACK, &on, sizeof on);
  mnl_socket_setsockopt(raw, NETLINK_EXT_ACK, &on, sizeof on);
  const int receive_buffer = 4 * 1024 * 1024;
  if (setsockopt(mnl_socket_get_fd(raw), SOL_SOCKET, SO_RCVBUFFORCE, &receive_buffer,
                 sizeof receive_buffer) != 0) {
    setsockopt(mnl_socket_get_fd(raw), SOL_SOCKET, SO_RCVBUF, &receive_buffer,
               sizeof receive_buffer);
  }
  // A kernel that never answers must not hang a monit check forever.
  const timeval timeout{10, 0};
  setsockopt(mnl_socket_get_fd(raw), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  return socket;
}

void NetlinkSocket::send(const void* data, std::size_t size) {
  if (size > send_buffer_ && size > std::size_t{200} * 1024) {
    // The kernel doubles the value; ask for the batch size plus headroom.
    const int wanted = static_cast<int>(size + std::size_t{64} * 1024);
    if (setsockopt(mnl_socket_get_fd(socket_.get()), SOL_SOCKET, SO_SNDBUFFORCE, &wanted,
                   sizeof wanted) != 0) {
      throw SystemError("cannot raise the netlink send buffer to " + std::to_string(size) +
                            " bytes (SO_SNDBUFFORCE)",
                        errno);
    }
    send_buffer_ = size;
  }
  if (mnl_socket_sendto(socket_.get(), data, size) < 0) {
    throw SystemError("cannot send " + std::to_string(size) + " bytes to nf_tables", errno);
  }
}

std::vector<NetlinkAck> NetlinkSocket::read_batch_answers(std::uint32_t batch_sequence,
                                                          std::uint32_t first, std::uint32_t last) {
  std::set<std::uint32_t> pending;
  for (auto sequence = first; sequence <= last; ++sequence) {
    pending.insert(sequence);
  }
  std::vector<NetlinkAck> errors;
  bool batch_failed = false;
  while (!pending.empty() && !batch_failed) {
    const auto received =
        mnl_socket_recvfrom(socket_.get(), receive_buffer_.data(), receive_buffer_.size());
    if (received < 0) {
      throw SystemError("no answer from nf_tables to the batch", errno);
    }
    auto remaining = static_cast<int>(received);
    for (auto* header = reinterpret_cast<const nlmsghdr*>(receive_buffer_.data());
         mnl_nlmsg_ok(header, remaining); header = mnl_nlmsg_next(header, &remaining)) {
      if (header->nlmsg_type != NLMSG_ERROR) {
        continue;
      }
      const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(header));
      pending.erase(header->nlmsg_seq);
      if (error->error != 0) {
        errors.push_back({header->nlmsg_seq, -error->error, extended_ack_message(header)});
        if (header->nlmsg_seq == batch_sequence) {
          batch_failed = true;
        }
      }
    }
  }
  return errors;
}

int NetlinkSocket::request(const nlmsghdr* request,
                           const std::function<void(const nlmsghdr*)>& on_message) {
  if (mnl_socket_sendto(socket_.get(), request, request->nlmsg_len) < 0) {
    throw SystemError("cannot send a request to nf_tables", errno);
  }
  const bool dump = (request->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
  while (true) {
    const auto received =
        mnl_socket_recvfrom(socket_.get(), receive_buffer_.data(), receive_buffer_.size());
    if (received < 0) {
      throw SystemError("no answer from nf_tables", errno);
    }
    auto remaining = static_cast<int>(received);
    for (auto* header = reinterpret_cast<const nlmsghdr*>(receive_buffer_.data());
         mnl_nlmsg_ok(header, remaining); header = mnl_nlmsg_next(header, &remaining)) {
      if (header->nlmsg_seq != request->nlmsg_seq || header->nlmsg_pid != port_id_) {
        continue;
      }
      if (header->nlmsg_type == NLMSG_DONE) {
        return 0;
      }
      if (header->nlmsg_type == NLMSG_ERROR) {
        const auto* error = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(header));
        return -error->error;
      }
      on_message(header);
      if (!dump) {
        return 0;
      }
    }
  }
}

}  // namespace pgguard::net
