#pragma once

#include <sys/capability.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/profile.hpp"

namespace pgguard::sandbox {

// Case-insensitive, with or without the "CAP_" prefix; nullopt for a name this libcap or
// this kernel does not know.
std::optional<Capability> find_capability(std::string_view name);
std::string capability_name(int value);
// The highest capability number the running kernel knows (what /proc/sys/kernel/cap_last_cap
// says; libcap probes it at start-up).
int last_capability();

// A 64-bit mask as /proc/self/status prints it.
std::uint64_t capability_mask(const std::vector<Sourced<Capability>>& capabilities);
std::string capability_names(std::uint64_t mask);

// Owns a cap_t from libcap.
class CapState {
 public:
  explicit CapState(cap_t state) : state_(state) {}
  CapState(const CapState&) = delete;
  CapState& operator=(const CapState&) = delete;
  ~CapState() {
    if (state_ != nullptr) {
      cap_free(state_);
    }
  }
  cap_t get() const { return state_; }

 private:
  cap_t state_;
};

// Drops every capability not named in the profile's bounding list (needs CAP_SETPCAP: run
// before the user switch).
void drop_bounding_set(const Profile& profile);

// Sets permitted, effective and inheritable to exactly `mask` (a 64-bit CAP_* mask).
void set_capabilities(std::uint64_t permitted_and_effective, std::uint64_t inheritable,
                      const std::string& step);

// Raises each ambient capability of the profile (it must be permitted and inheritable).
void raise_ambient(const Profile& profile);

// SECBIT_NOROOT, SECBIT_NO_SETUID_FIXUP, SECBIT_NO_CAP_AMBIENT_RAISE set; SECBIT_KEEP_CAPS
// cleared; every one of them locked. Needs CAP_SETPCAP in the effective set.
void lock_securebits();
unsigned long locked_securebits();

}  // namespace pgguard::sandbox
