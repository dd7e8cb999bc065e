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

// glibc asks nscd before the configured sources on every passwd and group lookup: a socket and a
// connect to /var/run/nscd/socket, twice per database, even where no nscd runs (stemcells ship
// none), ~0.1 ms of every launch. Handing glibc the host's own service lines for passwd and group
// (__nss_configure_lookup, <nss.h>) marks them configured at run time, which skips nscd: the same
// sources answer, directly, with no cache that could be stale. Changes this process's NSS
// configuration only; a missing file or line leaves glibc's defaults.
void use_configured_sources_without_nscd(const std::string& nsswitch_path);

// Throws ConfigError naming the key for an unknown user or group, and for root (uid 0 or
// gid 0): every process runs non-root. Looks passwd and group up without nscd (above).
Identity resolve_identity(const Profile& profile);

// setgroups, setresgid, setresuid, each checked and read back.
void switch_identity(const Identity& identity);

}  // namespace pgguard::sandbox
