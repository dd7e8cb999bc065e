#pragma once

#include <libmnl/libmnl.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

// Notifications of nf_tables commits in the caller's network namespace: the kernel ends every
// committed transaction, whoever sent it, with an NFT_MSG_NEWGEN event on the NFNLGRP_NFTABLES
// multicast group, naming the new generation and the committing process. The isolation guard
// reacts to those instead of polling, so a tampered table is put back within milliseconds.
namespace pgguard::net {

struct RulesetCommit {
  std::uint32_t generation = 0;
  std::optional<std::uint32_t> pid;  // the committing process, as the kernel saw it
  std::string process_name;          // its comm, when the kernel sent one
};

// Pure: the commit an NFT_MSG_NEWGEN event announces; nullopt for every other message.
std::optional<RulesetCommit> parse_commit_event(const nlmsghdr* message);

struct DrainedEvents {
  std::vector<RulesetCommit> commits;
  // The socket's receive queue overflowed (ENOBUFS): events were lost, so anything may have
  // changed.
  bool lost = false;
};

// A NETLINK_NETFILTER socket subscribed to NFNLGRP_NFTABLES (RAII).
class RulesetEvents {
 public:
  // Throws SystemError.
  static RulesetEvents subscribe();

  int fd() const { return mnl_socket_get_fd(socket_.get()); }
  // Reads every event queued now, without blocking. Throws SystemError.
  DrainedEvents drain();

 private:
  struct Closer {
    void operator()(mnl_socket* socket) const { mnl_socket_close(socket); }
  };
  explicit RulesetEvents(mnl_socket* socket);

  std::unique_ptr<mnl_socket, Closer> socket_;
  std::vector<char> buffer_;
};

std::string describe_commit(const RulesetCommit& commit);

}  // namespace pgguard::net
