#include "sandbox/socket_rules.hpp"

#include <linux/netlink.h>
#include <sys/socket.h>

#include <array>
#include <utility>

#include "common/strings.hpp"

namespace pgguard::sandbox {

namespace {

using Named = std::pair<std::string_view, int>;

constexpr std::array kFamilies{
    Named{"AF_UNIX", AF_UNIX},       Named{"AF_INET", AF_INET},     Named{"AF_INET6", AF_INET6},
    Named{"AF_NETLINK", AF_NETLINK}, Named{"AF_PACKET", AF_PACKET},
};
constexpr std::array kTypes{
    Named{"SOCK_STREAM", SOCK_STREAM},
    Named{"SOCK_DGRAM", SOCK_DGRAM},
    Named{"SOCK_RAW", SOCK_RAW},
    Named{"SOCK_SEQPACKET", SOCK_SEQPACKET},
};
constexpr std::array kNetlinkProtocols{
    Named{"NETLINK_ROUTE", NETLINK_ROUTE},
    Named{"NETLINK_SOCK_DIAG", NETLINK_SOCK_DIAG},
    Named{"NETLINK_AUDIT", NETLINK_AUDIT},
    Named{"NETLINK_NETFILTER", NETLINK_NETFILTER},
    Named{"NETLINK_KOBJECT_UEVENT", NETLINK_KOBJECT_UEVENT},
    Named{"NETLINK_GENERIC", NETLINK_GENERIC},
};

template <std::size_t N>
std::optional<int> lookup(const std::array<Named, N>& table, std::string_view name) {
  for (const auto& [known, value] : table) {
    if (known == name) {
      return value;
    }
  }
  return std::nullopt;
}

template <std::size_t N>
std::string names_of(const std::array<Named, N>& table) {
  std::vector<std::string> names;
  names.reserve(N);
  for (const auto& entry : table) {
    names.emplace_back(entry.first);
  }
  return join(names, ", ");
}

}  // namespace

std::optional<SocketRule> parse_socket_rule(std::string_view text, std::string& why) {
  const auto colon = text.find(':');
  const std::string_view family = text.substr(0, colon);
  SocketRule rule;
  const auto domain = lookup(kFamilies, family);
  if (!domain) {
    why =
        "unknown address family '" + std::string(family) + "' (known: " + names_of(kFamilies) + ")";
    return std::nullopt;
  }
  rule.domain = *domain;
  rule.name = std::string(family);
  if (colon == std::string_view::npos) {
    return rule;
  }
  const std::string_view qualifier = text.substr(colon + 1);
  if (rule.domain == AF_NETLINK) {
    rule.protocol = lookup(kNetlinkProtocols, qualifier);
    if (!rule.protocol) {
      why = "AF_NETLINK takes a netlink protocol, not '" + std::string(qualifier) +
            "' (known: " + names_of(kNetlinkProtocols) + ")";
      return std::nullopt;
    }
  } else {
    rule.type = lookup(kTypes, qualifier);
    if (!rule.type) {
      why = rule.name + " takes a socket type, not '" + std::string(qualifier) +
            "' (known: " + names_of(kTypes) + ")";
      return std::nullopt;
    }
  }
  rule.name += ":" + std::string(qualifier);
  return rule;
}

std::string socket_rule_condition(const SocketRule& rule) {
  std::string text = "arg0 == " + std::to_string(rule.domain);
  if (rule.type) {
    text += " && (arg1 & " + std::to_string(kSocketTypeMask) + ") == " + std::to_string(*rule.type);
  }
  if (rule.protocol) {
    text += " && arg2 == " + std::to_string(*rule.protocol);
  }
  return text;
}

}  // namespace pgguard::sandbox
