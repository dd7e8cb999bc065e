#pragma once

#include <optional>
#include <string>
#include <string_view>

// `[seccomp] socket = ...`: the socket(2) calls a profile allows, by address family and, for
// some families, type or netlink protocol. With at least one rule, socket(2) is allowed only
// when one rule matches its arguments, whatever the groups say; every other socket(2) gets the
// default action. Without rules a profile's groups allow socket(2) with any arguments.
//
//   AF_UNIX                   any unix socket
//   AF_INET:SOCK_DGRAM        an IPv4 datagram socket (the type's flags, e.g. SOCK_CLOEXEC, are
//                             masked off before the comparison)
//   AF_NETLINK:NETLINK_ROUTE  a netlink socket of that protocol only (not NETLINK_NETFILTER)
//   AF_PACKET:SOCK_DGRAM      a cooked packet socket
namespace pgguard::sandbox {

struct SocketRule {
  int domain = 0;               // arg0
  std::optional<int> type;      // arg1 & kSocketTypeMask
  std::optional<int> protocol;  // arg2 (netlink protocols)
  std::string name;             // canonical text, e.g. "AF_NETLINK:NETLINK_ROUTE"

  friend bool operator==(const SocketRule&, const SocketRule&) = default;
};

// SOCK_TYPE_MASK: the type without SOCK_CLOEXEC and SOCK_NONBLOCK.
inline constexpr int kSocketTypeMask = 0xf;

// Parses one value. Families: AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET; types:
// SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_SEQPACKET (not for AF_NETLINK); netlink protocols:
// NETLINK_ROUTE, NETLINK_SOCK_DIAG, NETLINK_AUDIT, NETLINK_NETFILTER, NETLINK_KOBJECT_UEVENT,
// NETLINK_GENERIC (AF_NETLINK only). Returns nullopt and sets `why` for anything else.
std::optional<SocketRule> parse_socket_rule(std::string_view text, std::string& why);

// The rule as the canonical policy text and explain show it: "arg0 == 16 && arg2 == 0".
std::string socket_rule_condition(const SocketRule& rule);

}  // namespace pgguard::sandbox
