#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "net/tcp_probe.hpp"

// What pgpool's failover and failback commands do (pgguard-failover), decided from the values
// pgpool passes (%d %h %p %P %H %r %N %S), apart from running it: pure, unit-tested. Two backends,
// one primary and its synchronous standby (docs/high-availability.md):
// - the primary detached: promote the other node, and let it commit alone until its peer is
//   back (its synchronous standby is the node just lost);
// - the standby detached: the primary commits alone until the standby is back;
// - a node attached again (auto_failback once it streams): synchronous replication back on.
namespace pgguard::pgpool {

// One failover or failback event as pgpool describes it. Node ids are -1 where pgpool has
// none (e.g. no primary known); hosts empty, ports 0 then.
struct NodeEvent {
  int node = -1;     // %d: the node detached or attached
  std::string host;  // %h, %p
  int port = 0;
  int old_primary = -1;       // %P: the primary before the event
  std::string new_main_host;  // %H, %r: the live node with the lowest id after it
  int new_main_port = 0;
  std::string old_primary_host;  // %N, %S
  int old_primary_port = 0;
};

enum class FailoverAction {
  none,          // nothing to do (e.g. no node left to promote)
  promote,       // pg_promote on the target, then synchronous replication off there
  asynchronous,  // synchronous replication off on the target
  synchronous,   // synchronous replication as postgresql.conf says, on the target
};

struct FailoverStep {
  FailoverAction action = FailoverAction::none;
  std::string host;
  int port = 0;
  std::string reason;  // one line for pgpool's log
};

// Parses pgpool's values ("%d" "%h" "%p" "%P" "%H" "%r" "%N" "%S", in that order). Throws
// Error(bad_input) naming the field that is not what pgpool passes.
NodeEvent parse_node_event(const std::vector<std::string>& values);

// A node detached (failover_command).
FailoverStep plan_detached(const NodeEvent& event);

// pgpool's health check cannot tell a lost VM from a postmaster that monit is starting again:
// both fail its checks, and a check fast enough to fail over within seconds gives up long
// before monit's 10 s cycle and the start are through. Before acting on a detached node,
// pgguard-failover therefore looks at its address itself.
//
// What the look found, from the TCP answer and, once connected, psql's answer to
// `SELECT pg_is_in_recovery()` (exit code and output).
enum class NodeAnswer {
  serves_primary,  // answered: not in recovery
  serves_standby,  // answered: in recovery
  refuses,         // its VM answers, its server does not serve (yet): refused, starting up
  silent,          // nothing answered in time, or psql's connection timed out
};
NodeAnswer classify_answer(net::TcpAnswer tcp, int psql_exit_code, std::string_view psql_output);

enum class DetachedVerdict {
  proceed,  // lost, paused, cut off, in another role now, or not back within the restart
            // budget: the step plan_detached planned (promote the standby, or let the primary
            // commit alone)
  wait,     // its VM refuses: a restart under way; look again
  keep,     // it serves again in the role it had (a primary: while its peer is not one):
            // nothing else changes, pgpool attaches it back
};
// `was_primary`: pgpool detached its primary. `peer_promoted`: the node pgpool would promote
// already serves as the primary (the drain of a stopping primary promoted it): no restart to
// wait for. `budget_spent`: the restart budget (pgpool.failover.restart_wait) has passed since
// the first look.
DetachedVerdict judge_detached(NodeAnswer answer, bool was_primary, bool peer_promoted,
                               bool budget_spent);
std::string_view describe(NodeAnswer answer);

// A node attached (failback_command).
FailoverStep plan_attached(const NodeEvent& event);

// The statements of a step, each run on its own (ALTER SYSTEM cannot run in a transaction):
// every one is idempotent, so a command pgpool repeats changes nothing.
std::vector<std::string> step_statements(FailoverAction action);

}  // namespace pgguard::pgpool
