#include "audit/listeners.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/error.hpp"
#include "common/strings.hpp"

namespace pgguard::audit {

namespace {

constexpr std::string_view kTcpListen = "0A";  // TCP_LISTEN
constexpr std::string_view kUdpClose = "07";   // TCP_CLOSE: an unconnected UDP socket

[[noreturn]] void malformed(Protocol protocol, net::Family family, int line,
                            const std::string& why) {
  throw Error(ExitCode::system, "/proc/net/" + std::string(protocol_name(protocol)) +
                                    (family == net::Family::ipv6 ? "6" : "") + ":" +
                                    std::to_string(line) + ": " + why);
}

template <typename Number>
bool hex_number(std::string_view text, Number& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value, 16);
  return !text.empty() && error == std::errc() && end == text.data() + text.size();
}

// "0100007F:0016" (IPv4) or 32 hex digits and a port (IPv6): each group of 8 hex digits is one
// 32-bit word of the address as it lies in memory, printed as a number of this host.
bool decode_endpoint(std::string_view text, net::Family family, net::Address& address,
                     std::uint16_t& port) {
  const auto colon = text.find(':');
  const std::size_t digits = family == net::Family::ipv4 ? 8 : 32;
  if (colon != digits || !hex_number(text.substr(colon + 1), port)) {
    return false;
  }
  std::array<std::uint8_t, 16> bytes{};
  for (std::size_t word = 0; word < digits / 8; ++word) {
    std::uint32_t value = 0;
    if (!hex_number(text.substr(word * 8, 8), value)) {
      return false;
    }
    std::memcpy(bytes.data() + word * 4, &value, sizeof value);
  }
  if (family == net::Family::ipv4) {
    address = net::Address::ipv4({bytes[0], bytes[1], bytes[2], bytes[3]});
    return true;
  }
  const bool mapped =
      std::all_of(bytes.begin(), bytes.begin() + 10, [](auto b) { return b == 0; }) &&
      bytes[10] == 0xff && bytes[11] == 0xff;
  address = mapped ? net::Address::ipv4({bytes[12], bytes[13], bytes[14], bytes[15]})
                   : net::Address::ipv6(bytes);
  return true;
}

std::string endpoint_text(const net::Address& address, std::uint16_t port) {
  return address.family() == net::Family::ipv6
             ? "[" + address.to_string() + "]:" + std::to_string(port)
             : address.to_string() + ":" + std::to_string(port);
}

bool allows(const ListenerRule& rule, const ListeningSocket& socket,
            const std::vector<SocketOwner>* owners) {
  const bool port_matches = rule.port_last == 0
                                ? rule.port == socket.port
                                : socket.port >= rule.port && socket.port <= rule.port_last;
  if (rule.protocol != socket.protocol || !port_matches ||
      (rule.address && *rule.address != socket.address)) {
    return false;
  }
  if (rule.owner_comm.empty()) {
    return true;
  }
  return owners != nullptr && !owners->empty() &&
         std::all_of(owners->begin(), owners->end(),
                     [&rule](const SocketOwner& owner) { return owner.comm == rule.owner_comm; });
}

std::uint16_t role_port(const net::RolePorts& ports, const std::string& name) {
  if (name == "postgres") {
    return ports.postgres;
  }
  if (name == "pgpool") {
    return ports.pgpool;
  }
  if (name == "pcp") {
    return ports.pcp;
  }
  if (name == "watchdog") {
    return ports.watchdog;
  }
  return ports.heartbeat;
}

}  // namespace

std::vector<ListeningSocket> parse_proc_net(std::string_view text, Protocol protocol,
                                            net::Family family) {
  std::vector<ListeningSocket> sockets;
  int line_number = 0;
  while (!text.empty()) {
    const auto end = text.find('\n');
    const std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    if (line_number == 1 || trim(line).empty()) {
      continue;  // "  sl  local_address rem_address   st tx_queue rx_queue ..."
    }
    // sl local remote st tx:rx tr:when retrnsmt uid timeout inode ...
    const auto fields = split(line, " ");
    if (fields.size() < 10) {
      malformed(protocol, family, line_number, "expected at least 10 fields");
    }
    const auto& state = fields[3];
    const bool listening = protocol == Protocol::tcp ? state == kTcpListen : state == kUdpClose;
    if (!listening) {
      continue;
    }
    ListeningSocket socket;
    socket.protocol = protocol;
    net::Address remote;
    std::uint16_t remote_port = 0;
    if (!decode_endpoint(fields[1], family, socket.address, socket.port) ||
        !decode_endpoint(fields[2], family, remote, remote_port)) {
      malformed(protocol, family, line_number, "malformed address '" + fields[1] + "'");
    }
    const auto [inode_end, inode_error] =
        std::from_chars(fields[9].data(), fields[9].data() + fields[9].size(), socket.inode);
    if (inode_error != std::errc() || inode_end != fields[9].data() + fields[9].size()) {
      malformed(protocol, family, line_number, "malformed inode '" + fields[9] + "'");
    }
    if (protocol == Protocol::udp && (remote_port != 0 || !remote.is_zero())) {
      continue;  // connected: takes datagrams from its peer only
    }
    sockets.push_back(socket);
  }
  return sockets;
}

std::vector<ListenerRule> allowed_listeners(const SmokeConfig& config,
                                            const net::IsolationConfig& isolation,
                                            const std::set<std::string>& present_jobs,
                                            EphemeralPorts ephemeral) {
  std::vector<ListenerRule> rules;
  for (const auto port : isolation.control_tcp_ports) {
    rules.push_back({Protocol::tcp, std::nullopt, port, "isolation control.tcp_port", 0, {}});
  }
  for (const auto port : isolation.control_udp_ports) {
    rules.push_back({Protocol::udp, std::nullopt, port, "isolation control.udp_port", 0, {}});
  }
  for (const auto& job_port : config.job_ports) {
    if (present_jobs.count(job_port.job) != 0) {
      rules.push_back({job_port.protocol,
                       std::nullopt,
                       role_port(isolation.ports, job_port.port),
                       "isolation ports." + job_port.port + " (" + job_port.job + ")",
                       0,
                       {}});
    }
  }
  if (present_jobs.count("pgpool") != 0) {
    rules.push_back({Protocol::udp, std::nullopt, ephemeral.first,
                     "pgpool's heartbeat senders (a kernel-chosen source port; the isolation "
                     "table admits UDP from peers only to ports.heartbeat)",
                     ephemeral.last, "pgpool"});
  }
  rules.insert(rules.end(), config.allowed.begin(), config.allowed.end());
  return rules;
}

std::vector<Row> audit_listeners(const std::vector<ListeningSocket>& sockets,
                                 const std::vector<ListenerRule>& allowed,
                                 const std::map<std::uint64_t, std::vector<SocketOwner>>& owners) {
  std::vector<Row> rows;
  for (const auto& socket : sockets) {
    std::string owner = "owner unknown (inode " + std::to_string(socket.inode) + ")";
    const auto found = owners.find(socket.inode);
    if (found != owners.end() && !found->second.empty()) {
      const auto& first = found->second.front();
      owner = first.comm + " pid " + std::to_string(first.pid);
      if (found->second.size() > 1) {
        owner += " (+" + std::to_string(found->second.size() - 1) + " sharing it)";
      }
    }
    Row row{"listener",
            std::string(protocol_name(socket.protocol)) + " " +
                endpoint_text(socket.address, socket.port) + ", " + owner,
            "", "", false};
    const std::vector<SocketOwner>* holders = found != owners.end() ? &found->second : nullptr;
    const auto rule = std::find_if(allowed.begin(), allowed.end(), [&](const ListenerRule& r) {
      return allows(r, socket, holders);
    });
    if (rule != allowed.end()) {
      row.expected = "allowed: " + rule->reason;
      row.found = "listening";
      row.ok = true;
    } else {
      row.expected = "no listener on " + std::string(protocol_name(socket.protocol)) + " port " +
                     std::to_string(socket.port) + ": the design does not name it";
      row.found = "listening";
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace pgguard::audit
