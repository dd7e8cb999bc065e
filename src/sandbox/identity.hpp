#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "sandbox/profile.hpp"

namespace pgguard::sandbox {

// The profile's user and groups, resolved by name before any change to the process.
struct Identity {
  std::string user;
  uid_t uid = 0;
  std::string group;
  gid_t gid = 0;
  std::vector<gid_t> supplementary;  // sorted, without duplicates
  std::vector<std::string> supplementary_names;
  std::string home;
};

// Throws ConfigError naming the key for an unknown user or group, and for root (uid 0 or
// gid 0): every process runs non-root.
Identity resolve_identity(const Profile& profile);

// setgroups, setresgid, setresuid, each checked and read back.
void switch_identity(const Identity& identity);

}  // namespace pgguard::sandbox
