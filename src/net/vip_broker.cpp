#include "net/vip_broker.hpp"

#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/stop_signals.hpp"
#include "common/unique_fd.hpp"
#include "net/gratuitous_arp.hpp"
#include "net/route_socket.hpp"
#include "net/unix_listener.hpp"
#include "net/vip_plan.hpp"
#include "sandbox/account_files.hpp"

namespace pgguard::net {

namespace {

constexpr int kAnnounceIntervalMs = 200;

// Reads one request line within kRequestTimeout of `start`, never more than kMaxRequestLine + 1
// bytes, never blocking past the deadline: a client that sends nothing or trickles bytes costs
// the broker at most the timeout.
ReceivedRequest read_request(int connection, std::chrono::steady_clock::time_point start) {
  ReceivedRequest received;
  const auto deadline = start + kRequestTimeout;
  char buffer[kMaxRequestLine + 1];
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      received.end = ReadEnd::timed_out;
      return received;
    }
    pollfd watched{connection, POLLIN, 0};
    const int ready = ::poll(&watched, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      throw SystemError("poll on a client connection", errno);
    }
    if (ready <= 0) {
      continue;
    }
    const std::size_t room = kMaxRequestLine + 1 - received.bytes.size();
    const ssize_t count = ::recv(connection, buffer, room, MSG_DONTWAIT);
    if (count < 0) {
      if (errno == EAGAIN || errno == EINTR) {
        continue;
      }
      throw SystemError("recv from a client connection", errno);
    }
    if (count == 0) {
      received.end = ReadEnd::end_of_file;
      return received;
    }
    received.bytes.append(buffer, static_cast<std::size_t>(count));
    if (received.bytes.find('\n') != std::string::npos) {
      received.end = ReadEnd::newline;
      return received;
    }
    if (received.bytes.size() > kMaxRequestLine) {
      received.end = ReadEnd::too_long;
      return received;
    }
  }
}

Peer peer_of(int connection) {
  ucred credentials{};
  socklen_t size = sizeof credentials;
  if (::getsockopt(connection, SOL_SOCKET, SO_PEERCRED, &credentials, &size) != 0) {
    throw SystemError("SO_PEERCRED", errno);
  }
  return {credentials.pid, credentials.uid, credentials.gid};
}

// The answer never blocks the broker: it is one short line into an empty socket buffer, and a
// client that went away gets nothing (no SIGPIPE).
std::string deliver(int connection, const std::string& answer) {
  const ssize_t sent =
      ::send(connection, answer.data(), answer.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (sent == static_cast<ssize_t>(answer.size())) {
    return {};
  }
  return sent < 0 ? " (answer not delivered: " + errno_text(errno) + ")" : " (answer cut short)";
}

void serve_connection(int connection, const VipConfig& config, const BrokerPolicy& policy,
                      const BrokerLog& log) {
  const auto start = std::chrono::steady_clock::now();
  const Peer peer = peer_of(connection);
  const std::string who =
      "peer pid " + std::to_string(peer.pid) + " uid " + std::to_string(peer.uid);
  if (const auto refusal = peer_refusal(peer, policy)) {
    const std::string undelivered = deliver(connection, error_answer(*refusal));
    log(who + ": " + *refusal + undelivered);
    return;
  }
  const ReceivedRequest received = read_request(connection, start);
  std::string_view line = received.bytes;
  if (received.end == ReadEnd::newline && line.ends_with('\n')) {
    line.remove_suffix(1);
  }
  const std::string request_text = "\"" + printable(line) + "\"";
  const Verdict verdict = judge_request(received, policy);
  std::string answer;
  if (!verdict.accepted()) {
    answer = error_answer(verdict.refusal);
  } else {
    try {
      answer = ok_answer(carry_out(*verdict.request, config));
    } catch (const Error& error) {
      answer =
          error_answer(std::string(action_name(verdict.request->action)) + " " +
                       config.address_text() + " on " + config.interface + ": " + error.what());
    }
  }
  const std::string undelivered = deliver(connection, answer);
  log(who + " " + request_text + ": " + answer.substr(0, answer.size() - 1) + undelivered);
}

}  // namespace

unsigned vip_interface_index(const VipConfig& config) {
  const unsigned index = ::if_nametoindex(config.interface.c_str());
  if (index == 0) {
    throw Error(ExitCode::bad_input, config.interface_where.to_string() + ": interface: no " +
                                         "interface '" + config.interface +
                                         "' in this network namespace (" + errno_text(errno) + ")");
  }
  return index;
}

BrokerPolicy resolve_broker_policy(const VipConfig& config, const std::string& passwd_path) {
  const std::string text = read_regular_file(passwd_path);
  const auto user = sandbox::find_user(text, config.client, passwd_path);
  if (!user) {
    throw ConfigError(config.client_where, "client",
                      "user '" + config.client + "' does not exist in " + passwd_path);
  }
  if (user->uid == 0) {
    throw ConfigError(config.client_where, "client",
                      "user '" + config.client + "' has uid 0: root is never a client");
  }
  BrokerPolicy policy;
  policy.client_uid = user->uid;
  policy.client_gid = user->primary_gid;
  policy.client_name = config.client;
  policy.vip = config.address;
  return policy;
}

std::string carry_out(const VipRequest& request, const VipConfig& config) {
  const std::string subject =
      std::string(action_name(request.action)) + " " +
      (request.action == VipAction::announce ? config.address.to_string() : config.address_text()) +
      " on " + config.interface;
  if (request.action == VipAction::announce) {
    announce_address(
        {config.interface, config.address, config.announce_count, kAnnounceIntervalMs});
    return subject + ": " + std::to_string(config.announce_count) + " ARP announcement" +
           (config.announce_count == 1 ? "" : "s") + " sent";
  }
  const unsigned index = vip_interface_index(config);
  RouteSocket route = RouteSocket::open();
  const AddressPlan plan = plan_address_change(request.action, route.ipv4_addresses(), index,
                                               config.interface, config.address, config.prefix);
  switch (plan.step) {
    case AddressStep::nothing:
      return subject + ": " + plan.outcome;
    case AddressStep::refuse:
      throw Error(ExitCode::bad_input, plan.outcome);
    case AddressStep::add:
    case AddressStep::remove:
      break;
  }
  const bool add = plan.step == AddressStep::add;
  const RouteReply reply = route.change(add ? AddressChange::add : AddressChange::remove, index,
                                        config.address, config.prefix);
  const std::string outcome = change_outcome(plan.step, reply.error);
  if (outcome.empty()) {
    throw Error(ExitCode::system,
                std::string(add ? "RTM_NEWADDR" : "RTM_DELADDR") + ": " + errno_text(reply.error) +
                    (reply.kernel_message.empty() ? "" : " (" + reply.kernel_message + ")"));
  }
  return subject + ": " + outcome;
}

void run_vip_broker(const VipConfig& config, const BrokerLog& log) {
  if (::geteuid() == 0) {
    throw Error(ExitCode::bad_input,
                "serve runs as the broker's own account under pgguard-launch's vip-helper "
                "profile (CAP_NET_ADMIN and CAP_NET_RAW only), never as root");
  }
  const BrokerPolicy policy = resolve_broker_policy(config);
  (void)vip_interface_index(config);
  const StopSignals stop{SIGTERM, SIGINT};
  const UnixListener listener = UnixListener::create({config.socket_path, 0660, policy.client_gid});
  log("listening on " + listener.path() + " for '" + policy.client_name + "' (uid " +
      std::to_string(policy.client_uid) + "): VIP " + config.address_text() + " on " +
      config.interface);
  while (true) {
    pollfd watched[] = {{stop.fd(), POLLIN, 0}, {listener.fd(), POLLIN, 0}};
    if (::poll(watched, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw SystemError("poll", errno);
    }
    if ((watched[0].revents & POLLIN) != 0) {
      log("stopping on " + stop.received() + "; the VIP stays as it is");
      return;
    }
    if ((watched[1].revents & POLLIN) == 0) {
      continue;
    }
    const UniqueFd connection(::accept4(listener.fd(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!connection) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      throw SystemError("accept on " + listener.path(), errno);
    }
    try {
      serve_connection(connection.get(), config, policy, log);
    } catch (const Error& error) {
      // One client's broken connection is no reason to stop serving.
      log(std::string("connection dropped: ") + error.what());
    }
  }
}

}  // namespace pgguard::net
