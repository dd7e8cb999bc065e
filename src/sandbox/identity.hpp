#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "sandbox/account_files.hpp"
#include "sandbox/profile.hpp"

namespace pgguard::sandbox {

// The profile's user and groups, resolved by name before any change to the process.
struct Identity {
  std::string user;
  uid_t uid = 0;
  std::string group;
  gid_t gid = 0;
  std::vector<gid_t> supplementary;  // in profile order, without duplicates
  std::vector<std::string> supplementary_names;
  std::string home;
};

// Resolves the profile's user and groups in the local account files (account_files.hpp: no
// NSS). Throws ConfigError naming the key for an unknown user or group, and for root (uid 0 or
// gid 0): every process runs non-root; SystemError when a file cannot be read.
Identity resolve_identity(const Profile& profile, const AccountFiles& files = {});

// setgroups, setresgid, setresuid, each checked and read back.
void switch_identity(const Identity& identity);

}  // namespace pgguard::sandbox
