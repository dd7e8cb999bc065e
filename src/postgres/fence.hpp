#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

// The fence: a node that serves as a primary while its peer serves on a later timeline was
// superseded (frozen or cut off past pgpool's health check, its peer promoted meanwhile) and
// must step down, so that monit starts it again and its start rewinds it into the new
// primary's standby (cluster.hpp: rejoin_if_superseded). Pure decisions; fence_service.hpp
// runs them.
namespace pgguard::postgres {

// A cluster's identity: its system identifier and the timeline it is on.
struct SystemIdentity {
  std::string system;
  unsigned long timeline = 0;
  std::string state;  // pg_controldata's "Database cluster state" (own cluster only)
};

// IDENTIFY_SYSTEM's row as psql prints it (fields separated by US): systemid, timeline,
// xlogpos, dbname (empty on a physical connection, and then not printed). nullopt for any
// other answer.
std::optional<SystemIdentity> parse_identify_system(std::string_view output);

// What the node's own server says of itself (fence_service.cpp's query): nullopt while it
// is in recovery (a standby has nothing to fence); for a primary its system identifier and
// the timeline it writes on, read from the name of its current WAL segment (the first eight
// hex digits), which is right from the moment of a promotion, unlike the control file's
// checkpoint timeline. Throws Error(system) on an answer it cannot read.
std::optional<SystemIdentity> parse_own_primary(std::string_view output);

// The query whose answer parse_own_primary reads.
extern const char* const kOwnPrimaryQuery;

struct FenceDecision {
  bool step_down = false;
  std::string reason;  // why, for the log: empty when there is nothing to say
};

// `own`: nullopt when the node is not a primary (or not running); `peer`: nullopt when the
// peer does not answer. Steps down only a primary whose peer holds the same cluster on a later
// timeline. A peer of another cluster is reported and left alone, as is anything the fence
// cannot see: it never stops a node on a guess.
FenceDecision decide_fence(const std::optional<SystemIdentity>& own,
                           const std::optional<SystemIdentity>& peer,
                           const std::string& peer_address);

// What pgguard-fence needs, all on its command line: it runs as the node's account under its
// own profile, which cannot read the job's plan (node.conf holds the roles' passwords).
struct FenceOptions {
  std::string psql;        // the postgres package's psql
  std::string socket_dir;  // the server's unix socket directory
  int port = 5432;         // the server's (and the peer's) port
  std::string user;        // the node's account, the superuser over the socket (peer auth)
  std::string pid_file;    // monit's pid file of the postmaster
  std::string peer;        // the peer's address; empty: a node without a peer fences nothing
  std::string role;        // the replication role, for IDENTIFY_SYSTEM on the peer
  std::string ca;          // the CA certificate (verify-full)
  std::string passfile;    // the replication role's password file
  std::chrono::seconds interval{5};
};

// Parses pgguard-fence's options (each once, `--name value`); throws Error(bad_input) naming
// what is wrong.
FenceOptions parse_fence_options(const std::vector<std::string>& words);

// The fence's command line for those options (what pgguard-postgres start-fence hands to the
// launcher), `program` being pgguard-fence's path.
std::vector<std::string> fence_command(const std::string& program, const FenceOptions& options);

// libpq's connection strings: the node's own server over its socket, the peer as a
// replication connection over TLS (verify-full) + scram.
std::string own_conninfo(const FenceOptions& options);
std::string peer_replication_conninfo(const FenceOptions& options);

}  // namespace pgguard::postgres
