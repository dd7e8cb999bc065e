#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "postgres/node_plan.hpp"

// Converging a primary's roles, databases, extensions and replication slots on the properties:
// what the cluster holds is read first, and only the differences become statements, so a
// second run sends nothing. Roles and databases the properties do not name are never dropped
// (data stays), only reported.
namespace pgguard::postgres {

struct ExistingRole {
  std::string name;
  std::string password;  // as stored: a SCRAM verifier, an md5 hash, or empty
  bool login = false;
  bool create_database = false;
  bool create_role = false;
  bool replication = false;
  bool superuser = false;
  std::vector<std::string> member_of;
  // The privileges of kFailoverGrants and kRewindGrants it holds, by their key.
  std::vector<std::string> grants;
};

struct ExistingDatabase {
  std::string name;
  std::string owner;
};

struct ClusterState {
  std::vector<ExistingRole> roles;
  std::vector<ExistingDatabase> databases;
  std::vector<std::string> slots;
};

// The privileges a role's flags (failover, rewind) grant, by their key in ClusterState.
std::vector<std::string> grant_keys(const RoleSpec& role);

// Pure. What the failover role runs on the standby it promotes (pgguard-failover for a lost
// primary, and the drain of a primary handing over), each statement on its own: only a node in
// recovery is promoted, so a repeated run changes nothing; then it commits alone, its
// synchronous standby being the node just lost or stopped.
std::vector<std::string> promotion_statements();
// Pure. A primary left without its standby: it commits alone until the pair is whole again.
std::vector<std::string> commit_alone_statements();

// The query whose psql output (-A -t -F US) parse_cluster_state reads, run as the superuser.
std::string cluster_state_query();
// Pure. Throws Error(system) naming the line for output it cannot read.
ClusterState parse_cluster_state(std::string_view output);

// The query for one database's installed extensions, and its output's parser (one per line).
std::string extensions_query();
std::vector<std::string> parse_extensions(std::string_view output);

struct SqlPlan {
  // Run in database postgres, in order: roles, memberships, databases, slots.
  std::vector<std::string> cluster_statements;
  struct DatabaseStatement {
    std::string database;
    std::string statement;
  };
  std::vector<DatabaseStatement> database_statements;  // extensions, in their databases
  // One line per change, without secrets, for the pre-start log.
  std::vector<std::string> changes;
  bool empty() const { return cluster_statements.empty() && database_statements.empty(); }
};

using SaltSource = std::function<std::vector<std::uint8_t>()>;

// Pure (given the salt source). `extensions` holds the installed extensions of each database
// that exists, looked up by name. Passwords become SCRAM verifiers here: no statement carries
// a password in clear.
SqlPlan plan_sql(const NodePlan& plan, const ClusterState& state,
                 const std::function<std::vector<std::string>(const std::string&)>& extensions,
                 const SaltSource& salts);

}  // namespace pgguard::postgres
