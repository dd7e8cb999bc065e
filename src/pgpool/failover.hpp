#pragma once

#include <string>
#include <vector>

// What pgpool's failover and failback commands do (pgguard-failover), decided from the values
// pgpool passes (%d %h %P %H %r %N %S), apart from running it: pure, unit-tested. Two backends,
// one primary and its synchronous standby (docs/high-availability.md):
// - the primary detached: promote the other node, and let it commit alone until its peer is
//   back (its synchronous standby is the node just lost);
// - the standby detached: the primary commits alone until the standby is back;
// - a node attached again (auto_failback once it streams): synchronous replication back on.
namespace pgguard::pgpool {

// One failover or failback event as pgpool describes it. Node ids are -1 where pgpool has
// none (e.g. no primary known); hosts empty, ports 0 then.
struct NodeEvent {
  int node = -1;  // %d: the node detached or attached
  std::string host;
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

// Parses pgpool's values ("%d" "%h" "%P" "%H" "%r" "%N" "%S", in that order). Throws
// Error(bad_input) naming the field that is not what pgpool passes.
NodeEvent parse_node_event(const std::vector<std::string>& values);

// A node detached (failover_command).
FailoverStep plan_detached(const NodeEvent& event);

// A node attached (failback_command).
FailoverStep plan_attached(const NodeEvent& event);

// The statements of a step, each run on its own (ALTER SYSTEM cannot run in a transaction):
// every one is idempotent, so a command pgpool repeats changes nothing.
std::vector<std::string> step_statements(FailoverAction action);

}  // namespace pgguard::pgpool
