#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "sandbox/profile.hpp"

namespace pgguard::sandbox {

// The Landlock ABI version of the running kernel; 0 when Landlock is absent or disabled.
int landlock_abi();

std::uint64_t landlock_handled_fs(int abi);
// The rights of each kind of path (profile.hpp, LandlockSection).
std::uint64_t landlock_read_access(int abi);           // read files, list directories
std::uint64_t landlock_execute_access(int abi);        // read + execute
std::uint64_t landlock_write_access(int abi);          // every handled right but execute
std::uint64_t landlock_write_execute_access(int abi);  // every handled right
std::string landlock_fs_access_names(std::uint64_t access);

inline constexpr std::uint64_t kLandlockScopeAbstractUnixSocket = 1ULL << 0;  // ABI 6
inline constexpr std::uint64_t kLandlockScopeSignal = 1ULL << 1;              // ABI 6

// What will be enforced for a profile on a kernel with a given ABI (pure).
struct LandlockPlan {
  int abi = 0;
  bool filesystem = false;             // filesystem rules enforced
  bool tcp = false;                    // TCP bind/connect rules enforced (ABI >= 4)
  std::uint64_t requested_scopes = 0;  // LANDLOCK_SCOPE_* the profile's scope names
  std::uint64_t scoped = 0;            // of those, what is enforced (ABI >= 6)
  std::vector<std::string> notices;    // what the kernel cannot enforce, said once at launch
  // Scopes this ABI lacks: said like notices, but never refused under landlock.required.
  std::vector<std::string> scope_notices;
  std::vector<std::string> unmet;  // landlock.required not met (only when reported)
};

// When the profile requires Landlock (landlock.required = true) and the ABI cannot enforce its
// filesystem or TCP rules (scopes are best effort, see scope_notices): throws UnsupportedError, or
// with UnmetRequirement::report lists why in `unmet`.
LandlockPlan plan_landlock(const Profile& profile, int abi,
                           UnmetRequirement unmet = UnmetRequirement::refuse);

enum class LandlockPathKind { read, execute, write, write_execute };

// A file or directory as the kernel identifies it.
struct InodeId {
  dev_t dev = 0;
  ino_t ino = 0;
  bool operator==(const InodeId&) const = default;
};

// A profile path on this host: its own inode first, then each directory up to the root.
struct PathAncestry {
  LandlockPathKind kind = LandlockPathKind::read;
  std::vector<InodeId> chain;
  const Sourced<std::string>* source = nullptr;
};

// W^X on the host's real tree (pure): names the first execute path and write path where one's
// inode lies on the other's way up, so that some file would get both rights.
std::optional<std::string> write_execute_overlap(const std::vector<PathAncestry>& paths);

struct LandlockPath {
  UniqueFd fd;  // O_PATH, opened before the user switch
  std::uint64_t access = 0;
  const Sourced<std::string>* source = nullptr;
};

// Opens every path of the profile; a missing path is an error naming its file:line:key, and an
// execute path that reaches the same files as a write path (write_execute_overlap) refuses
// the profile (exit 2).
std::vector<LandlockPath> open_landlock_paths(const Profile& profile, const LandlockPlan& plan);

// Creates the ruleset, adds the rules and restricts the calling process (needs no_new_privs).
void apply_landlock(const Profile& profile, const LandlockPlan& plan,
                    const std::vector<LandlockPath>& paths);

}  // namespace pgguard::sandbox
