#pragma once

#include <libmnl/libmnl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pgguard::net {

// libmnl's attribute loops are C macros that C++ rejects (void* conversions); these do the same.
template <class Visit>
void for_each_attribute(const nlmsghdr* header, std::size_t offset, Visit visit) {
  const auto* attribute = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(header, offset));
  const auto* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(header));
  while (
      mnl_attr_ok(attribute, static_cast<int>(tail - reinterpret_cast<const char*>(attribute)))) {
    visit(attribute);
    attribute = mnl_attr_next(attribute);
  }
}

template <class Visit>
void for_each_nested(const nlattr* nest, Visit visit) {
  const auto* attribute = static_cast<const nlattr*>(mnl_attr_get_payload(nest));
  const auto* tail = reinterpret_cast<const char*>(nest) + mnl_attr_get_len(nest);
  while (
      mnl_attr_ok(attribute, static_cast<int>(tail - reinterpret_cast<const char*>(attribute)))) {
    visit(attribute);
    attribute = mnl_attr_next(attribute);
  }
}

// The kernel's answer to one message of a batch.
struct NetlinkAck {
  std::uint32_t sequence = 0;
  int error = 0;               // positive errno, 0 for success
  std::string kernel_message;  // extended ack text, when the kernel gave one
};

// An open NETLINK_NETFILTER socket (RAII); everything the program sends goes through it.
class NetlinkSocket {
 public:
  // Throws SystemError.
  static NetlinkSocket open();

  std::uint32_t next_sequence() { return sequence_++; }
  int fd() const { return mnl_socket_get_fd(socket_.get()); }
  // After a batch built with its own numbering, so later requests never reuse its numbers.
  void skip_sequences_through(std::uint32_t last_used) {
    if (sequence_ <= last_used) {
      sequence_ = last_used + 1;
    }
  }

  // Sends one buffer as ONE sendmsg: a batch must reach the kernel in one piece to be one
  // transaction. Raises the send buffer (SO_SNDBUFFORCE, needs CAP_NET_ADMIN) when the batch
  // is larger than the default (~208 KiB) instead of failing with EMSGSIZE.
  void send(const void* data, std::size_t size);

  // Reads the kernel's answers to a batch whose acknowledged messages carry sequence numbers
  // [first, last]; stops when all of them are answered or the kernel reported an error for the
  // batch as a whole (sequence batch_sequence). Returns every non-zero answer.
  std::vector<NetlinkAck> read_batch_answers(std::uint32_t batch_sequence, std::uint32_t first,
                                             std::uint32_t last);

  // Sends a dump or get request and calls on_message for every answer until the dump ends.
  // Returns 0 or the kernel's positive errno (e.g. ENOENT for a missing table).
  int request(const nlmsghdr* request, const std::function<void(const nlmsghdr*)>& on_message);

 private:
  struct Closer {
    void operator()(mnl_socket* socket) const { mnl_socket_close(socket); }
  };
  explicit NetlinkSocket(mnl_socket* socket);

  std::unique_ptr<mnl_socket, Closer> socket_;
  std::uint32_t port_id_ = 0;
  std::uint32_t sequence_ = 1;
  std::size_t send_buffer_ = 0;
  std::vector<char> receive_buffer_;
};

}  // namespace pgguard::net
