#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "sandbox/profile.hpp"

namespace pgguard::sandbox {

// The Landlock ABI version of the running kernel; 0 when Landlock is absent or disabled.
int landlock_abi();

std::uint64_t landlock_handled_fs(int abi);
std::uint64_t landlock_read_access(int abi);   // read files, list directories, execute
std::uint64_t landlock_write_access(int abi);  // every handled filesystem right
std::string landlock_fs_access_names(std::uint64_t access);

// What will be enforced for a profile on a kernel with a given ABI (pure).
struct LandlockPlan {
  int abi = 0;
  bool filesystem = false;           // filesystem rules enforced
  bool tcp = false;                  // TCP bind/connect rules enforced (ABI >= 4)
  std::uint64_t scoped = 0;          // LANDLOCK_SCOPE_* enforced (ABI >= 6)
  std::vector<std::string> notices;  // what the kernel cannot enforce, said once at launch
  std::vector<std::string> unmet;    // landlock.required not met (only when reported)
};

// When the profile requires Landlock (landlock.required = true) and the ABI cannot enforce all
// of it: throws UnsupportedError, or with UnmetRequirement::report lists why in `unmet`.
LandlockPlan plan_landlock(const Profile& profile, int abi,
                           UnmetRequirement unmet = UnmetRequirement::refuse);

struct LandlockPath {
  UniqueFd fd;  // O_PATH, opened before the user switch
  std::uint64_t access = 0;
  const Sourced<std::string>* source = nullptr;
};

// Opens every read and write path of the profile; a missing path is an error naming its
// file:line:key.
std::vector<LandlockPath> open_landlock_paths(const Profile& profile, const LandlockPlan& plan);

// Creates the ruleset, adds the rules and restricts the calling process (needs no_new_privs).
void apply_landlock(const Profile& profile, const LandlockPlan& plan,
                    const std::vector<LandlockPath>& paths);

}  // namespace pgguard::sandbox
