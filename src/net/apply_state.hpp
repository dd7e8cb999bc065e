#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/isolation_config.hpp"
#include "net/netlink_socket.hpp"

// What makes re-applying an unchanged configuration cost a few system calls instead of a
// read-back of every set element (quadratic in the kernel's dump of interval sets):
// nf_tables bumps one ruleset generation number per network namespace on EVERY committed
// transaction, whoever sends it. After apply or verify has proven "the kernel matches the
// configuration with this digest" at generation G, the same digest at the same G means
// nothing can have changed. Any commit (our table tampered with, or any other table changed)
// moves G and sends the next run down the full read-back path.
//
// The record lives in /run (tmpfs: gone at reboot), one file per network namespace keyed by
// its cookie (unique per boot, never reused), root-only. It is an optimisation: when it is
// missing, unreadable or stale, everything is compared with the kernel.
namespace pgguard::net {

struct AppliedState {
  std::uint32_t generation = 0;
  std::string digest;  // of the configuration text and this program's binary
  std::string table;
  SysctlPolicy sysctl;  // so the fast path can check sysctls without parsing the file
};

// Identifies configuration text for this build of the program: a new binary may plan the same
// text differently, so its identity is part of the digest.
std::string configuration_digest(std::string_view text);

std::string encode_state(const AppliedState& state);
std::optional<AppliedState> decode_state(std::string_view text);

// nf_tables' current ruleset generation in the socket's network namespace.
std::uint32_t read_generation(NetlinkSocket& socket);
// The network namespace cookie of the socket, when the kernel has SO_NETNS_COOKIE (>= 5.14).
std::optional<std::uint64_t> network_namespace_cookie(const NetlinkSocket& socket);

class StateStore {
 public:
  explicit StateStore(std::string directory = "/run/pgguard-isolate")
      : directory_(std::move(directory)) {}

  std::optional<AppliedState> load(std::uint64_t cookie) const;
  // Best effort (atomic rename); a failure only costs the next run a full comparison.
  void save(std::uint64_t cookie, const AppliedState& state) const noexcept;
  void forget(std::uint64_t cookie) const noexcept;

 private:
  std::string path(std::uint64_t cookie) const;
  std::string directory_;
};

}  // namespace pgguard::net
