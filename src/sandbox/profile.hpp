#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config_file.hpp"
#include "common/error.hpp"
#include "sandbox/socket_rules.hpp"

namespace pgguard::sandbox {

// A value from the profile together with the line it came from, so that a failure long after
// parsing (a path that cannot be opened, a limit the kernel refuses) still names file:line:key.
template <typename T>
struct Sourced {
  T value;
  std::string key;
  Location where;
};

struct EnvVariable {
  std::string name;
  std::string value;
};

struct RlimitSetting {
  std::string name;  // the profile key below [rlimit], e.g. "nofile"
  int resource = 0;  // RLIMIT_*
  rlim_t soft = 0;
  rlim_t hard = 0;
};

struct Capability {
  int value = 0;     // CAP_* number
  std::string name;  // canonical upper-case name, e.g. "CAP_NET_ADMIN"
};

enum class SeccompDefault { errno_eperm, kill_process, log };

struct SeccompSection {
  std::vector<Sourced<std::string>> groups;  // names from the syscall-group table
  std::vector<Sourced<std::string>> allow;   // extra syscall names
  // socket(2) only for these (socket_rules.hpp); empty: as the groups and allow say.
  std::vector<Sourced<SocketRule>> sockets;
  SeccompDefault default_action = SeccompDefault::errno_eperm;
  Location default_action_where;  // line 0 when the key is absent
  // `staging = true`: the explicit switch without which default_action = log is refused, so
  // that a profile that allows every syscall cannot reach production by accident.
  bool staging = false;
  Location staging_where;
};

// Rights beneath each path (docs/sandbox.md, "Landlock"): no list but write_execute both
// writes and executes, so that nothing the process can write can it run (W^X).
struct LandlockSection {
  std::vector<Sourced<std::string>> read;           // read files, list directories
  std::vector<Sourced<std::string>> execute;        // read + execute: programs and libraries
  std::vector<Sourced<std::string>> write;          // every handled right except execute
  std::vector<Sourced<std::string>> write_execute;  // write and execute, only when said so
  std::vector<Sourced<std::uint16_t>> bind_tcp;
  std::vector<Sourced<std::uint16_t>> connect_tcp;
  std::vector<Sourced<std::string>> scope;  // "abstract_unix_socket", "signal" (ABI >= 6)
  bool required = false;
};

struct SelinuxSection {
  std::optional<Sourced<std::string>> context;
  bool required = false;
};

// What a planner does with a `required = true` this host cannot meet: `run` and `check` refuse
// (UnsupportedError, exit 4); `explain` reports it, so that a production profile can be read
// on any machine.
enum class UnmetRequirement { refuse, report };

// A validated profile. Everything that can be checked without touching the kernel's
// process state has been checked (names, formats, consistency); user and group names are
// resolved later by identity.hpp, because that needs the host's user database.
struct Profile {
  std::string file;

  Sourced<std::string> user;
  std::optional<Sourced<std::string>> group;
  std::vector<Sourced<std::string>> supplementary_groups;
  mode_t umask = 0077;
  std::optional<Sourced<std::string>> workdir;
  std::optional<int> nice;  // setpriority(2) value, not RLIMIT_NICE
  std::vector<EnvVariable> env_set;
  std::vector<std::string> env_pass;

  std::vector<Sourced<RlimitSetting>> rlimits;  // in rlimit-table order; core always present

  std::vector<Sourced<Capability>> bounding;
  std::vector<Sourced<Capability>> ambient;

  SeccompSection seccomp;
  LandlockSection landlock;
  SelinuxSection selinux;
};

// Parses and validates; throws ConfigError (exit 2) naming file, line and key.
Profile parse_profile(const config::ConfigFile& file);
// Reads the file (a regular file of at most kMaxProfileSize bytes), then parse_profile.
Profile load_profile(const std::string& path);

// The largest profile load_profile reads. The shipped profiles are 1-2 KiB; one that names
// every system call and a few hundred Landlock paths stays below 64 KiB. The cap bounds what a
// wrong --profile (a log file, /dev/zero, a FIFO is refused anyway) costs before it is refused.
inline constexpr std::size_t kMaxProfileSize = std::size_t{1} << 20;

// Every key a profile may hold (for tests that must cover each one).
std::vector<config::KeyRule> profile_keys();

const char* to_string(SeccompDefault action);

// Capabilities a profile may never keep, because each one undoes part of the sandbox
// (raise limits, change identity, load code into the kernel, bypass DAC or MAC, ...).
bool is_forbidden_capability(int value);

}  // namespace pgguard::sandbox
