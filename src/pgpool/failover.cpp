#include "pgpool/failover.hpp"

#include <algorithm>
#include <charconv>

#include "common/error.hpp"
#include "common/strings.hpp"
#include "postgres/roles_plan.hpp"

namespace pgguard::pgpool {

namespace {

int number_of(const std::string& text, const char* field, int minimum, int maximum) {
  // pgpool passes an empty string or -1 where it has no value.
  if (text.empty()) {
    return minimum;
  }
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < minimum ||
      value > maximum) {
    throw Error(ExitCode::bad_input, std::string(field) + ": '" + text + "' is not a number from " +
                                         std::to_string(minimum) + " to " +
                                         std::to_string(maximum));
  }
  return value;
}

std::string host_of(const std::string& text, const char* field) {
  for (const char c : text) {
    const bool allowed = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                         (c >= 'A' && c <= 'Z') || c == '.' || c == ':' || c == '-';
    if (!allowed) {
      throw Error(ExitCode::bad_input,
                  std::string(field) + ": '" + text + "' is not a host name or address");
    }
  }
  return text;
}

}  // namespace

NodeEvent parse_node_event(const std::vector<std::string>& values) {
  if (values.size() != 8) {
    throw Error(ExitCode::bad_input,
                "expected the 8 values pgpool passes (%d %h %p %P %H %r %N %S), got " +
                    std::to_string(values.size()));
  }
  NodeEvent event;
  event.node = number_of(values[0], "node (%d)", -1, 127);
  event.host = host_of(values[1], "host (%h)");
  event.port = number_of(values[2], "port (%p)", 0, 65535);
  event.old_primary = number_of(values[3], "old primary (%P)", -1, 127);
  event.new_main_host = host_of(values[4], "new main host (%H)");
  event.new_main_port = number_of(values[5], "new main port (%r)", 0, 65535);
  event.old_primary_host = host_of(values[6], "old primary host (%N)");
  event.old_primary_port = number_of(values[7], "old primary port (%S)", 0, 65535);
  if (event.node < 0) {
    throw Error(ExitCode::bad_input, "node (%d): pgpool names no node");
  }
  return event;
}

FailoverStep plan_detached(const NodeEvent& event) {
  const std::string node = "node " + std::to_string(event.node) + " (" + event.host + ")";
  if (event.node == event.old_primary) {
    if (event.new_main_host.empty() || event.new_main_port == 0 ||
        event.new_main_host == event.host) {
      return {FailoverAction::none,
              {},
              0,
              "the primary " + node + " detached and no other node is alive: nothing to promote"};
    }
    return {FailoverAction::promote, event.new_main_host, event.new_main_port,
            "the primary " + node + " detached: promoting " + event.new_main_host +
                ", which commits alone until its peer is back"};
  }
  if (event.old_primary < 0 || event.old_primary_host.empty() || event.old_primary_port == 0 ||
      event.old_primary_host == event.host) {
    return {FailoverAction::none,
            {},
            0,
            "standby " + node + " detached and no primary is known: nothing to do"};
  }
  return {FailoverAction::asynchronous, event.old_primary_host, event.old_primary_port,
          "the standby " + node + " detached: the primary " + event.old_primary_host +
              " commits alone until it is back"};
}

NodeAnswer classify_answer(net::TcpAnswer tcp, int psql_exit_code, std::string_view psql_output) {
  switch (tcp) {
    case net::TcpAnswer::refused:
      return NodeAnswer::refuses;
    case net::TcpAnswer::silent:
      return NodeAnswer::silent;
    case net::TcpAnswer::connected:
      break;
  }
  // The answer is psql's last line: under pgpool's sandbox psql first warns that it cannot
  // change into its own directory.
  std::string_view answer = trim(psql_output);
  answer.remove_prefix(std::min(answer.size(), answer.find_last_of('\n') + 1));
  if (psql_exit_code == 0 && answer == "f") {
    return NodeAnswer::serves_primary;
  }
  if (psql_exit_code == 0 && answer == "t") {
    return NodeAnswer::serves_standby;
  }
  // libpq's own words when connect_timeout passes: the kernel accepted, nothing else did (a
  // VM whose processes are stopped). Any other failure is a server that answers and does not
  // serve yet ("the database system is starting up").
  return psql_output.find("timeout expired") != std::string_view::npos ? NodeAnswer::silent
                                                                       : NodeAnswer::refuses;
}

DetachedVerdict judge_detached(NodeAnswer answer, bool was_primary, bool peer_promoted,
                               bool budget_spent) {
  switch (answer) {
    case NodeAnswer::serves_primary:
      // Beside a promoted peer it would be a second primary: the peer stays, the fence stops
      // this one (its timeline is older).
      return was_primary && !peer_promoted ? DetachedVerdict::keep : DetachedVerdict::proceed;
    case NodeAnswer::serves_standby:
      return was_primary ? DetachedVerdict::proceed : DetachedVerdict::keep;
    case NodeAnswer::refuses:
      return budget_spent || (was_primary && peer_promoted) ? DetachedVerdict::proceed
                                                            : DetachedVerdict::wait;
    case NodeAnswer::silent:
      return DetachedVerdict::proceed;
  }
  return DetachedVerdict::proceed;
}

std::string_view describe(NodeAnswer answer) {
  switch (answer) {
    case NodeAnswer::serves_primary:
      return "serves as the primary";
    case NodeAnswer::serves_standby:
      return "serves as a standby";
    case NodeAnswer::refuses:
      return "its VM answers, its server does not serve";
    case NodeAnswer::silent:
      return "nothing answers";
  }
  return "unknown";
}

FailoverStep plan_attached(const NodeEvent& event) {
  const std::string node = "node " + std::to_string(event.node) + " (" + event.host + ")";
  if (event.old_primary < 0 || event.old_primary_host.empty() || event.old_primary_port == 0 ||
      event.node == event.old_primary) {
    return {FailoverAction::none,
            {},
            0,
            node + " attached and no other primary is known: nothing to do"};
  }
  return {FailoverAction::synchronous, event.old_primary_host, event.old_primary_port,
          node + " attached as a standby: synchronous replication back on the primary " +
              event.old_primary_host};
}

std::vector<std::string> step_statements(FailoverAction action) {
  switch (action) {
    case FailoverAction::none:
      return {};
    case FailoverAction::promote:
      return postgres::promotion_statements();
    case FailoverAction::asynchronous:
      return postgres::commit_alone_statements();
    case FailoverAction::synchronous:
      return {"ALTER SYSTEM RESET synchronous_standby_names", "SELECT pg_reload_conf()"};
  }
  return {};
}

}  // namespace pgguard::pgpool
