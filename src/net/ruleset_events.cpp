#include "net/ruleset_events.hpp"

#include <arpa/inet.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>

#include "common/error.hpp"
#include "net/netlink_socket.hpp"

namespace pgguard::net {

namespace {

// A burst of commits (a bulk load by another program) queues one NEWGEN per transaction plus
// every object message; a generous queue keeps the guard from losing them. A loss is handled
// (a full comparison) but costs more than reading.
constexpr int kReceiveQueueBytes = 4 * 1024 * 1024;

}  // namespace

std::optional<RulesetCommit> parse_commit_event(const nlmsghdr* message) {
  if (message->nlmsg_type != ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN) ||
      message->nlmsg_len < NLMSG_LENGTH(sizeof(nfgenmsg))) {
    return std::nullopt;
  }
  RulesetCommit commit;
  for_each_attribute(message, sizeof(nfgenmsg), [&commit](const nlattr* attribute) {
    switch (mnl_attr_get_type(attribute)) {
      case NFTA_GEN_ID:
        if (mnl_attr_validate(attribute, MNL_TYPE_U32) == 0) {
          commit.generation = ntohl(mnl_attr_get_u32(attribute));
        }
        break;
      case NFTA_GEN_PROC_PID:
        if (mnl_attr_validate(attribute, MNL_TYPE_U32) == 0) {
          commit.pid = ntohl(mnl_attr_get_u32(attribute));
        }
        break;
      case NFTA_GEN_PROC_NAME:
        if (mnl_attr_validate(attribute, MNL_TYPE_NUL_STRING) == 0) {
          commit.process_name = mnl_attr_get_str(attribute);
        }
        break;
      default:
        break;
    }
  });
  return commit;
}

std::string describe_commit(const RulesetCommit& commit) {
  std::string text = "generation " + std::to_string(commit.generation);
  if (commit.pid) {
    text += " committed by pid " + std::to_string(*commit.pid);
    if (!commit.process_name.empty()) {
      text += " (" + commit.process_name + ")";
    }
  }
  return text;
}

RulesetEvents::RulesetEvents(mnl_socket* socket)
    : socket_(socket), buffer_(static_cast<std::size_t>(MNL_SOCKET_BUFFER_SIZE) * 4) {}

RulesetEvents RulesetEvents::subscribe() {
  mnl_socket* raw = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (raw == nullptr) {
    throw SystemError("cannot open a netfilter netlink socket for ruleset events", errno);
  }
  RulesetEvents events(raw);
  if (mnl_socket_bind(raw, 0, MNL_SOCKET_AUTOPID) < 0) {
    throw SystemError("cannot bind the ruleset event socket", errno);
  }
  int group = NFNLGRP_NFTABLES;
  if (mnl_socket_setsockopt(raw, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0) {
    throw SystemError("cannot subscribe to nf_tables events (NFNLGRP_NFTABLES)", errno);
  }
  if (setsockopt(mnl_socket_get_fd(raw), SOL_SOCKET, SO_RCVBUFFORCE, &kReceiveQueueBytes,
                 sizeof kReceiveQueueBytes) != 0) {
    // Without CAP_NET_ADMIN the smaller, unprivileged maximum still works; a loss is detected.
    setsockopt(mnl_socket_get_fd(raw), SOL_SOCKET, SO_RCVBUF, &kReceiveQueueBytes,
               sizeof kReceiveQueueBytes);
  }
  return events;
}

DrainedEvents RulesetEvents::drain() {
  DrainedEvents drained;
  while (true) {
    const ssize_t received = mnl_socket_recvfrom(socket_.get(), buffer_.data(), buffer_.size());
    if (received < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return drained;
      }
      if (errno == ENOBUFS) {
        drained.lost = true;
        continue;
      }
      if (errno == EINTR) {
        continue;
      }
      throw SystemError("cannot read nf_tables events", errno);
    }
    auto remaining = static_cast<int>(received);
    for (auto* header = reinterpret_cast<const nlmsghdr*>(buffer_.data());
         mnl_nlmsg_ok(header, remaining); header = mnl_nlmsg_next(header, &remaining)) {
      if (auto commit = parse_commit_event(header)) {
        drained.commits.push_back(std::move(*commit));
      }
    }
  }
}

}  // namespace pgguard::net
