#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pgguard::sandbox {

// The fields of /proc/<pid>/status the launcher checks before exec.
struct ProcessStatus {
  std::array<uid_t, 4> uid{};  // real, effective, saved, filesystem
  std::array<gid_t, 4> gid{};
  std::vector<gid_t> groups;  // sorted
  std::uint64_t cap_inheritable = 0;
  std::uint64_t cap_permitted = 0;
  std::uint64_t cap_effective = 0;
  std::uint64_t cap_bounding = 0;
  std::uint64_t cap_ambient = 0;
  int no_new_privs = 0;
  int seccomp = 0;  // 0 none, 1 strict, 2 filter
  unsigned umask = 0;

  bool operator==(const ProcessStatus&) const = default;
};

// Throws Error(system) when a field is missing or malformed: a status the launcher cannot
// read is treated like a mismatch.
ProcessStatus parse_process_status(std::string_view text);

// One line per field that differs ("CapEff: expected 0000000000000000, found ...").
std::vector<std::string> compare_process_status(const ProcessStatus& expected,
                                                const ProcessStatus& actual);

std::string format_mask(std::uint64_t mask);

}  // namespace pgguard::sandbox
