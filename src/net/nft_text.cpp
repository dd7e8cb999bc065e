#include "net/nft_text.hpp"

#include <sstream>

#include "common/overloaded.hpp"

namespace pgguard::net {

namespace {

std::string address_keyword(Family family) {
  return family == Family::ipv4 ? "ip" : "ip6";
}
std::string direction_keyword(Direction direction) {
  return direction == Direction::source ? "saddr" : "daddr";
}

std::string protocol_keyword(L4Protocol protocol) {
  switch (protocol) {
    case L4Protocol::tcp:
      return "tcp";
    case L4Protocol::udp:
      return "udp";
    case L4Protocol::icmp:
      return "icmp";
    case L4Protocol::icmpv6:
      return "icmpv6";
  }
  return "?";
}

// nft's protocol names (/etc/protocols), not the icmpv6 header keyword.
std::string l4proto_name(L4Protocol protocol) {
  return protocol == L4Protocol::icmpv6 ? "ipv6-icmp" : protocol_keyword(protocol);
}

std::string ct_state_text(std::uint32_t bits) {
  std::string text;
  const std::pair<std::uint32_t, const char*> names[] = {{kCtStateInvalid, "invalid"},
                                                         {kCtStateEstablished, "established"},
                                                         {kCtStateRelated, "related"}};
  for (const auto& [bit, name] : names) {
    if ((bits & bit) != 0) {
      text += text.empty() ? "" : ",";
      text += name;
    }
  }
  return text;
}

std::string hook_name(Hook hook) {
  switch (hook) {
    case Hook::prerouting:
      return "prerouting";
    case Hook::input:
      return "input";
    case Hook::output:
      return "output";
  }
  return "?";
}

std::string verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::accept:
      return "accept";
    case Verdict::drop:
      return "drop";
    case Verdict::jump:
      return "jump";
    case Verdict::none:
      break;
  }
  return "";
}

}  // namespace

std::string render_match(const Match& match) {
  return std::visit(
      Overloaded{
          [](const MatchLoopbackInterface& m) -> std::string {
            return m.direction == Direction::source ? "iif \"lo\"" : "oif \"lo\"";
          },
          [](const MatchAddressInSet& m) -> std::string {
            return address_keyword(m.family) + " " + direction_keyword(m.direction) +
                   (m.negated ? " != @" : " @") + m.set;
          },
          [](const MatchAddressPrefix& m) -> std::string {
            const bool host = m.prefix.prefix() == static_cast<int>(m.prefix.network().size() * 8);
            return address_keyword(m.prefix.family()) + " " + direction_keyword(m.direction) + " " +
                   (host ? m.prefix.network().to_string() : m.prefix.to_string());
          },
          [](const MatchPort& m) -> std::string {
            return protocol_keyword(m.protocol) + " dport " + std::to_string(m.port);
          },
          [](const MatchPortInSet& m) -> std::string {
            return protocol_keyword(m.protocol) + " dport @" + m.set;
          },
          [](const MatchIcmpType& m) -> std::string {
            const bool v4 = m.family == Family::ipv4;
            const auto type = v4 ? SetKeyType::icmp_type : SetKeyType::icmpv6_type;
            std::string text =
                std::string(v4 ? "icmp" : "icmpv6") + " type " + key_to_string(type, {m.type});
            if (m.code) {
              // Only fragmentation-needed is planned; nft names ICMP code 4 "frag-needed".
              text += std::string(v4 ? " icmp" : " icmpv6") + " code " +
                      (v4 && *m.code == 4 ? std::string("frag-needed") : std::to_string(*m.code));
            }
            return text;
          },
          [](const MatchIcmpTypeInSet& m) -> std::string {
            return std::string(m.family == Family::ipv4 ? "icmp" : "icmpv6") + " type @" + m.set;
          },
          [](const MatchConntrackState& m) -> std::string {
            return "ct state " + ct_state_text(m.state_bits);
          },
          [](const MatchL4Protocol& m) -> std::string {
            return "meta l4proto " + l4proto_name(m.protocol);
          },
          [](const MatchL4ProtocolOther& m) -> std::string {
            return "meta l4proto != " + l4proto_name(m.protocol);
          },
          [](const MatchReversePathMissing&) -> std::string {
            return "fib saddr . iif oif missing";
          },
      },
      match);
}

std::string render_rule(const RulePlan& rule) {
  std::string text;
  const auto add = [&text](const std::string& piece) {
    text += text.empty() ? "" : " ";
    text += piece;
  };
  for (const auto& match : rule.matches) {
    add(render_match(match));
  }
  if (rule.limit) {
    add("limit rate " + std::to_string(rule.limit->rate.count) + "/" +
        std::string(rate_unit_name(rule.limit->rate.unit)) + " burst " +
        std::to_string(rule.limit->burst) + " packets");
  }
  add("counter");
  if (rule.log_prefix) {
    add("log prefix \"" + *rule.log_prefix + "\"");
  }
  if (rule.verdict == Verdict::jump) {
    add("jump " + rule.jump_chain);
  } else if (rule.verdict != Verdict::none) {
    add(verdict_name(rule.verdict));
  }
  return text;
}

std::string render_element(SetKeyType type, bool interval, const SetElement& element) {
  if (interval && (type == SetKeyType::ipv4_addr || type == SetKeyType::ipv6_addr)) {
    const auto first = key_to_string(type, element.first);
    const auto last = key_to_string(type, element.last);
    return range_to_string({Address::parse(first), Address::parse(last)});
  }
  if (element.first != element.last) {
    return key_to_string(type, element.first) + "-" + key_to_string(type, element.last);
  }
  return key_to_string(type, element.first);
}

std::string render_nft(const TablePlan& plan) {
  std::ostringstream out;
  const std::string table = "table inet " + plan.name;
  out << "# Desired table of pgguard-isolate. Loading this file with `nft -f` replaces the\n"
         "# table atomically: the first two lines make sure it exists, then delete it, in the\n"
         "# same transaction as the new definition.\n";
  out << table << "\n";
  out << "delete " << table << "\n";
  out << table << " {\n";
  for (const auto& set : plan.sets) {
    out << "\tset " << set.name << " {\n";
    out << "\t\ttype " << key_type_name(set.key_type) << "\n";
    if (set.interval) {
      out << "\t\tflags interval\n";
    }
    if (set.capacity != 0) {
      out << "\t\tsize " << set.capacity << "\n";
    }
    if (!set.elements.empty()) {
      out << "\t\telements = {";
      for (std::size_t i = 0; i < set.elements.size(); ++i) {
        out << (i == 0 ? " " : (i % 8 == 0 ? ",\n\t\t\t     " : ", "));
        out << render_element(set.key_type, set.interval, set.elements[i]);
      }
      out << " }\n";
    }
    out << "\t}\n\n";
  }
  for (std::size_t c = 0; c < plan.chains.size(); ++c) {
    const auto& chain = plan.chains[c];
    out << "\tchain " << chain.name << " {\n";
    if (chain.base) {
      out << "\t\ttype filter hook " << hook_name(chain.base->hook) << " priority "
          << chain.base->priority << "; policy " << verdict_name(chain.base->policy) << ";\n";
    }
    for (const auto& rule : chain.rules) {
      out << "\t\t" << render_rule(rule) << " comment \"" << rule.comment << "\"\n";
    }
    out << "\t}\n";
    if (c + 1 < plan.chains.size()) {
      out << "\n";
    }
  }
  out << "}\n";
  return out.str();
}

}  // namespace pgguard::net
