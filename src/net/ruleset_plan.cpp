#include "net/ruleset_plan.hpp"

#include <algorithm>
#include <bit>
#include <map>

namespace pgguard::net {

namespace {

// ICMP types by the names nft uses, so `show` output and `verify` diffs read like nft.
const std::map<std::uint8_t, std::string_view>& icmp_type_names() {
  static const std::map<std::uint8_t, std::string_view> names{
      {0, "echo-reply"},           {3, "destination-unreachable"},
      {4, "source-quench"},        {5, "redirect"},
      {8, "echo-request"},         {9, "router-advertisement"},
      {10, "router-solicitation"}, {11, "time-exceeded"},
      {12, "parameter-problem"},   {13, "timestamp-request"},
      {14, "timestamp-reply"},     {15, "info-request"},
      {16, "info-reply"},          {17, "address-mask-request"},
      {18, "address-mask-reply"}};
  return names;
}

const std::map<std::uint8_t, std::string_view>& icmpv6_type_names() {
  static const std::map<std::uint8_t, std::string_view> names{
      {1, "destination-unreachable"}, {2, "packet-too-big"},        {3, "time-exceeded"},
      {4, "parameter-problem"},       {128, "echo-request"},        {129, "echo-reply"},
      {130, "mld-listener-query"},    {131, "mld-listener-report"}, {132, "mld-listener-done"},
      {133, "nd-router-solicit"},     {134, "nd-router-advert"},    {135, "nd-neighbor-solicit"},
      {136, "nd-neighbor-advert"},    {137, "nd-redirect"},         {143, "mld2-listener-report"}};
  return names;
}

// IPv4 ICMP types that only serve attacks or obsolete features on a database VM.
constexpr std::uint8_t kIcmpDropTypes[] = {4, 5, 9, 10, 13, 14, 15, 16, 17, 18};
// time-exceeded, parameter-problem (fragmentation-needed has its own rule: it needs the code).
constexpr std::uint8_t kIcmpAcceptTypes[] = {11, 12};
constexpr std::uint8_t kIcmpDestinationUnreachable = 3;
constexpr std::uint8_t kIcmpFragmentationNeeded = 4;
constexpr std::uint8_t kIcmpEchoRequest = 8;
// Router solicitation/advertisement and redirect: addresses are static, routes come from BOSH.
constexpr std::uint8_t kIcmpv6DropTypes[] = {133, 134, 137};
// Errors (packet-too-big for PMTU), neighbour discovery and MLD, without which IPv6 breaks.
constexpr std::uint8_t kIcmpv6AcceptTypes[] = {2, 3, 4, 130, 131, 132, 135, 136, 143};
constexpr std::uint8_t kIcmpv6EchoRequest = 128;
constexpr std::uint8_t kIcmpv6NeighborSolicit = 135;

std::string suffix(Family family) {
  return family == Family::ipv4 ? "4" : "6";
}

SetKeyType address_key(Family family) {
  return family == Family::ipv4 ? SetKeyType::ipv4_addr : SetKeyType::ipv6_addr;
}

SetPlan address_set(const std::string& name, Family family, const std::vector<Address>& addresses) {
  SetPlan set{name + suffix(family), address_key(family), false, {}};
  if (family == Family::ipv4) {
    // As integers: sorting 100,000 members by Address (17-byte compares) dominated the plan.
    std::vector<std::uint32_t> sorted;
    sorted.reserve(addresses.size());
    for (const auto& address : addresses) {
      if (address.family() == family) {
        const std::uint8_t* bytes = address.data();
        sorted.push_back(std::uint32_t{bytes[0]} << 24 | std::uint32_t{bytes[1]} << 16 |
                         std::uint32_t{bytes[2]} << 8 | std::uint32_t{bytes[3]});
      }
    }
    std::sort(sorted.begin(), sorted.end());
    sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
    set.elements.reserve(sorted.size());
    for (const auto value : sorted) {
      const SetKey key{static_cast<std::uint8_t>(value >> 24),
                       static_cast<std::uint8_t>(value >> 16),
                       static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
      set.elements.push_back({key, key});
    }
    return set;
  }
  std::vector<Address> sorted;
  for (const auto& address : addresses) {
    if (address.family() == family) {
      sorted.push_back(address);
    }
  }
  std::sort(sorted.begin(), sorted.end());
  sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
  set.elements.reserve(sorted.size());
  for (const auto& address : sorted) {
    const SetKey key(address.data(), address.size());
    set.elements.push_back({key, key});
  }
  return set;
}

SetPlan interval_set(const std::string& name, Family family,
                     const std::vector<AddressRange>& ranges) {
  std::vector<AddressRange> of_family;
  for (const auto& range : ranges) {
    if (range.first.family() == family) {
      of_family.push_back(range);
    }
  }
  SetPlan set{name + suffix(family), address_key(family), true, {}};
  for (const auto& range : merge_ranges(std::move(of_family))) {
    set.elements.push_back({SetKey(range.first.data(), range.first.size()),
                            SetKey(range.last.data(), range.last.size())});
  }
  return set;
}

std::vector<AddressRange> ranges_of(const std::vector<Cidr>& cidrs) {
  std::vector<AddressRange> ranges;
  ranges.reserve(cidrs.size());
  for (const auto& cidr : cidrs) {
    ranges.push_back(cidr.range());
  }
  return ranges;
}

SetPlan port_set(const std::string& name, std::vector<std::uint16_t> ports) {
  std::sort(ports.begin(), ports.end());
  SetPlan set{name, SetKeyType::inet_service, false, {}};
  for (auto port : ports) {
    const SetKey key{static_cast<std::uint8_t>(port >> 8), static_cast<std::uint8_t>(port & 0xff)};
    set.elements.push_back({key, key});
  }
  return set;
}

template <std::size_t N>
SetPlan icmp_set(const std::string& name, SetKeyType type, const std::uint8_t (&types)[N]) {
  SetPlan set{name, type, false, {}};
  for (auto icmp_type : types) {
    set.elements.push_back({{icmp_type}, {icmp_type}});
  }
  return set;
}

RulePlan rule(std::vector<Match> matches, Verdict verdict, std::string comment) {
  RulePlan result;
  result.matches = std::move(matches);
  result.verdict = verdict;
  result.comment = std::move(comment);
  return result;
}

std::string family_word(Family family) {
  return family == Family::ipv4 ? "IPv4" : "IPv6";
}

RulePlan jump_rule(std::vector<Match> matches, std::string chain, std::string comment) {
  RulePlan result = rule(std::move(matches), Verdict::jump, std::move(comment));
  result.jump_chain = std::move(chain);
  return result;
}

ChainPlan prerouting_chain() {
  ChainPlan chain{"prerouting", ChainHook{Hook::prerouting, -300, Verdict::accept}, {}};
  auto& rules = chain.rules;
  rules.push_back(rule({MatchLoopbackInterface{Direction::source}}, Verdict::accept, "loopback"));
  for (auto family : {Family::ipv4, Family::ipv6}) {
    rules.push_back(rule({MatchAddressInSet{family, Direction::source, "self" + suffix(family)}},
                         Verdict::drop,
                         "anti-spoofing: own " + family_word(family) + " address from outside"));
  }
  rules.push_back(rule({MatchAddressPrefix{Direction::source, Cidr::parse("127.0.0.0/8")}},
                       Verdict::drop, "anti-spoofing: IPv4 loopback address from outside"));
  rules.push_back(rule({MatchAddressPrefix{Direction::source, Cidr::parse("::1")}}, Verdict::drop,
                       "anti-spoofing: IPv6 loopback address from outside"));
  rules.push_back(rule({MatchAddressPrefix{Direction::source, Cidr::parse("::")},
                        MatchIcmpType{Family::ipv6, kIcmpv6NeighborSolicit, std::nullopt}},
                       Verdict::accept,
                       "IPv6 duplicate address detection (unspecified source, no route back)"));
  rules.push_back(
      rule({MatchReversePathMissing{}}, Verdict::drop,
           "anti-spoofing: no route back to the source through the incoming interface"));
  return chain;
}

void add_service_rule(std::vector<RulePlan>& rules, L4Protocol protocol, std::uint16_t port,
                      const std::string& from_set, const std::string& purpose) {
  for (auto family : {Family::ipv4, Family::ipv6}) {
    rules.push_back(rule({MatchPort{protocol, port},
                          MatchAddressInSet{family, Direction::source, from_set + suffix(family)}},
                         Verdict::accept, purpose + " (" + family_word(family) + ")"));
  }
}

// ICMP of one family, reached from input by a jump so that TCP and UDP never walk these
// rules. A packet none of them decides returns to input, where conntrack's verdicts follow.
ChainPlan icmp_chain(const IsolationConfig& config, Family family) {
  const bool v4 = family == Family::ipv4;
  ChainPlan chain{v4 ? "input_icmp" : "input_icmpv6", std::nullopt, {}};
  auto& rules = chain.rules;
  // Before conntrack's "related": a redirect about a known connection would be related.
  rules.push_back(v4 ? rule({MatchIcmpTypeInSet{family, "icmp_drop"}}, Verdict::drop,
                            "ICMP attack types: redirect, timestamp, address mask, source "
                            "quench, router discovery")
                     : rule({MatchIcmpTypeInSet{family, "icmpv6_drop"}}, Verdict::drop,
                            "ICMPv6 redirect and router discovery"));
  // Before "established": conntrack makes repeated echoes established, bypassing the limit.
  // Three negated lookups instead of a union set: the client and control lists may hold
  // 100,000 CIDRs, and a union would load them into the kernel twice.
  const auto echo = v4 ? kIcmpEchoRequest : kIcmpv6EchoRequest;
  rules.push_back(
      rule({MatchIcmpType{family, echo, std::nullopt},
            MatchAddressInSet{family, Direction::source, "members" + suffix(family), true},
            MatchAddressInSet{family, Direction::source, "clients" + suffix(family), true},
            MatchAddressInSet{family, Direction::source, "control" + suffix(family), true}},
           Verdict::drop,
           "echo request from outside the instance, clients and control plane (" +
               family_word(family) + ")"));
  RulePlan limited = rule({MatchIcmpType{family, echo, std::nullopt}}, Verdict::accept,
                          "echo request, rate-limited (" + family_word(family) + ")");
  limited.limit = Limit{config.echo_rate, config.echo_burst};
  rules.push_back(std::move(limited));
  rules.push_back(rule({MatchIcmpType{family, echo, std::nullopt}}, Verdict::drop,
                       "echo request over the rate limit (" + family_word(family) + ")"));
  if (v4) {
    rules.push_back(
        rule({MatchIcmpType{family, kIcmpDestinationUnreachable, kIcmpFragmentationNeeded}},
             Verdict::accept, "path MTU discovery: fragmentation needed"));
    rules.push_back(rule({MatchIcmpTypeInSet{family, "icmp_accept"}}, Verdict::accept,
                         "ICMP errors: time exceeded, parameter problem"));
  } else {
    rules.push_back(rule({MatchIcmpTypeInSet{family, "icmpv6_accept"}}, Verdict::accept,
                         "ICMPv6 errors (packet too big, time exceeded, parameter problem), "
                         "neighbour discovery, MLD"));
  }
  return chain;
}

ChainPlan input_chain(const IsolationConfig& config) {
  ChainPlan chain{"input", ChainHook{Hook::input, 0, Verdict::drop}, {}};
  auto& rules = chain.rules;
  // Most packets belong to established TCP/UDP flows: they leave at the first rule (loopback
  // ones too, with the same verdict). The state comes first so a new flow fails at once; ICMP
  // goes on to its own chain.
  rules.push_back(
      rule({MatchConntrackState{kCtStateEstablished | kCtStateRelated},
            MatchL4ProtocolOther{L4Protocol::icmp}, MatchL4ProtocolOther{L4Protocol::icmpv6}},
           Verdict::accept, "replies and related traffic, other than ICMP"));
  rules.push_back(rule({MatchLoopbackInterface{Direction::source}}, Verdict::accept, "loopback"));
  rules.push_back(jump_rule({MatchL4Protocol{L4Protocol::icmp}}, "input_icmp",
                            "ICMP: attack types, echo limit, errors"));
  rules.push_back(jump_rule({MatchL4Protocol{L4Protocol::icmpv6}}, "input_icmpv6",
                            "ICMPv6: attack types, echo limit, errors, neighbour discovery"));
  rules.push_back(
      rule({MatchConntrackState{kCtStateInvalid}}, Verdict::drop, "conntrack state invalid"));
  rules.push_back(rule({MatchConntrackState{kCtStateEstablished | kCtStateRelated}},
                       Verdict::accept, "replies and related traffic"));

  const auto& ports = config.ports;
  if (is_postgres_role(config.role)) {
    add_service_rule(rules, L4Protocol::tcp, ports.postgres, "members",
                     "postgres from instance members");
  } else {
    add_service_rule(rules, L4Protocol::tcp, ports.pgpool, "members",
                     "pgpool clients from instance members");
    add_service_rule(rules, L4Protocol::tcp, ports.pgpool, "clients",
                     "pgpool clients from application networks");
    add_service_rule(rules, L4Protocol::tcp, ports.pcp, "pgpool", "PCP from pgpool members");
    add_service_rule(rules, L4Protocol::tcp, ports.pcp, "control", "PCP from the control plane");
    add_service_rule(rules, L4Protocol::tcp, ports.watchdog, "pgpool",
                     "watchdog from pgpool members");
    add_service_rule(rules, L4Protocol::udp, ports.heartbeat, "pgpool",
                     "watchdog heartbeat from pgpool members");
  }
  for (auto [protocol, set] :
       {std::pair{L4Protocol::tcp, "control_tcp"}, std::pair{L4Protocol::udp, "control_udp"}}) {
    for (auto family : {Family::ipv4, Family::ipv6}) {
      rules.push_back(
          rule({MatchPortInSet{protocol, set},
                MatchAddressInSet{family, Direction::source, "control" + suffix(family)}},
               Verdict::accept,
               std::string("control plane ") + (protocol == L4Protocol::tcp ? "TCP" : "UDP") +
                   " ports (" + family_word(family) + ")"));
    }
  }
  RulePlan log = rule({}, Verdict::none, "log a sample of dropped packets");
  log.limit = Limit{config.log_rate, config.log_burst};
  log.log_prefix = config.drop_log_prefix + ": ";
  rules.push_back(std::move(log));
  rules.push_back(rule({}, Verdict::drop, "default deny"));
  return chain;
}

ChainPlan output_chain() {
  ChainPlan chain{"output", ChainHook{Hook::output, 0, Verdict::accept}, {}};
  auto& rules = chain.rules;
  // Replies first, as in input: the most common packet leaves at the first rule.
  rules.push_back(rule({MatchConntrackState{kCtStateEstablished | kCtStateRelated}},
                       Verdict::accept, "replies and related traffic"));
  rules.push_back(
      rule({MatchLoopbackInterface{Direction::destination}}, Verdict::accept, "loopback"));
  // Conntrack does not track neighbour discovery: without this, answers to a neighbour
  // solicitation from a non-member (a client, the gateway) inside the service network would
  // hit the cut below and IPv6 would stop resolving neighbours.
  rules.push_back(rule({MatchIcmpTypeInSet{Family::ipv6, "icmpv6_accept"}}, Verdict::accept,
                       "ICMPv6 neighbour discovery, MLD and errors"));
  for (auto family : {Family::ipv4, Family::ipv6}) {
    rules.push_back(
        rule({MatchAddressInSet{family, Direction::destination, "members" + suffix(family)}},
             Verdict::accept, "to instance members and the VIP (" + family_word(family) + ")"));
  }
  for (auto family : {Family::ipv4, Family::ipv6}) {
    rules.push_back(
        rule({MatchAddressInSet{family, Direction::destination, "control" + suffix(family)}},
             Verdict::accept, "to the control plane (" + family_word(family) + ")"));
  }
  for (auto family : {Family::ipv4, Family::ipv6}) {
    rules.push_back(
        rule({MatchAddressInSet{family, Direction::destination, "service" + suffix(family)}},
             Verdict::drop,
             "other service instances: new connections cut (" + family_word(family) + ")"));
  }
  return chain;
}

}  // namespace

std::size_t key_length(SetKeyType type) {
  switch (type) {
    case SetKeyType::ipv4_addr:
      return 4;
    case SetKeyType::ipv6_addr:
      return 16;
    case SetKeyType::inet_service:
      return 2;
    case SetKeyType::icmp_type:
    case SetKeyType::icmpv6_type:
      return 1;
  }
  return 0;
}

std::string_view key_type_name(SetKeyType type) {
  switch (type) {
    case SetKeyType::ipv4_addr:
      return "ipv4_addr";
    case SetKeyType::ipv6_addr:
      return "ipv6_addr";
    case SetKeyType::inet_service:
      return "inet_service";
    case SetKeyType::icmp_type:
      return "icmp_type";
    case SetKeyType::icmpv6_type:
      return "icmpv6_type";
  }
  return "?";
}

std::uint32_t key_type_id(SetKeyType type) {
  // nftables' enum datatypes (src/datatype.h): TYPE_IPADDR 7, TYPE_IP6ADDR 8,
  // TYPE_INET_SERVICE 13, TYPE_ICMP_TYPE 14, TYPE_ICMP6_TYPE 29.
  switch (type) {
    case SetKeyType::ipv4_addr:
      return 7;
    case SetKeyType::ipv6_addr:
      return 8;
    case SetKeyType::inet_service:
      return 13;
    case SetKeyType::icmp_type:
      return 14;
    case SetKeyType::icmpv6_type:
      return 29;
  }
  return 0;
}

SetKey::SetKey(const std::uint8_t* data, std::size_t size)
    : length(static_cast<std::uint8_t>(std::min(size, kMaxLength))) {
  std::copy_n(data, length, bytes.begin());
}

std::string key_to_string(SetKeyType type, const SetKey& key) {
  if (key.size() != key_length(type)) {
    std::string hex = "0x";
    static const char digits[] = "0123456789abcdef";
    for (std::size_t i = 0; i < key.size(); ++i) {
      const auto byte = key[i];
      hex += digits[byte >> 4];
      hex += digits[byte & 0xf];
    }
    return hex;
  }
  switch (type) {
    case SetKeyType::ipv4_addr:
      return Address::ipv4({key[0], key[1], key[2], key[3]}).to_string();
    case SetKeyType::ipv6_addr: {
      std::array<std::uint8_t, 16> bytes{};
      std::copy_n(key.data(), key.size(), bytes.begin());
      return Address::ipv6(bytes).to_string();
    }
    case SetKeyType::inet_service:
      return std::to_string(key[0] << 8 | key[1]);
    case SetKeyType::icmp_type:
    case SetKeyType::icmpv6_type: {
      const auto& names = type == SetKeyType::icmp_type ? icmp_type_names() : icmpv6_type_names();
      const auto found = names.find(key[0]);
      return found != names.end() ? std::string(found->second) : std::to_string(key[0]);
    }
  }
  return "?";
}

std::uint32_t set_capacity(std::size_t elements) {
  constexpr std::size_t kSmallest = 16;
  return static_cast<std::uint32_t>(std::bit_ceil(std::max(elements, kSmallest)));
}

const SetPlan* TablePlan::find_set(const std::string& set_name) const {
  for (const auto& set : sets) {
    if (set.name == set_name) {
      return &set;
    }
  }
  return nullptr;
}

TablePlan plan_ruleset(const IsolationConfig& config) {
  std::vector<Address> members;
  std::vector<Address> pgpools;
  members.reserve(config.members.size() + config.vips.size());
  for (const auto& member : config.members) {
    members.push_back(member.address);
    if (member.role == Role::pgpool) {
      pgpools.push_back(member.address);
    }
  }
  // The VIP stands for whichever pgpool holds it.
  members.insert(members.end(), config.vips.begin(), config.vips.end());
  pgpools.insert(pgpools.end(), config.vips.begin(), config.vips.end());

  const auto control = ranges_of(config.control);

  TablePlan plan;
  plan.name = config.table;
  for (auto family : {Family::ipv4, Family::ipv6}) {
    plan.sets.push_back(address_set("self", family, config.self));
    plan.sets.push_back(address_set("members", family, members));
    plan.sets.push_back(address_set("pgpool", family, pgpools));
    plan.sets.push_back(interval_set("clients", family, ranges_of(config.clients)));
    plan.sets.push_back(interval_set("control", family, control));
    plan.sets.push_back(interval_set("service", family, ranges_of(config.service_network)));
  }
  plan.sets.push_back(port_set("control_tcp", config.control_tcp_ports));
  plan.sets.push_back(port_set("control_udp", config.control_udp_ports));
  plan.sets.push_back(icmp_set("icmp_drop", SetKeyType::icmp_type, kIcmpDropTypes));
  plan.sets.push_back(icmp_set("icmp_accept", SetKeyType::icmp_type, kIcmpAcceptTypes));
  plan.sets.push_back(icmp_set("icmpv6_drop", SetKeyType::icmpv6_type, kIcmpv6DropTypes));
  plan.sets.push_back(icmp_set("icmpv6_accept", SetKeyType::icmpv6_type, kIcmpv6AcceptTypes));

  for (auto& set : plan.sets) {
    if (!set.interval) {
      set.capacity = set_capacity(set.elements.size());
    }
  }

  plan.chains.push_back(prerouting_chain());
  plan.chains.push_back(input_chain(config));
  plan.chains.push_back(icmp_chain(config, Family::ipv4));
  plan.chains.push_back(icmp_chain(config, Family::ipv6));
  plan.chains.push_back(output_chain());
  return plan;
}

}  // namespace pgguard::net
