#pragma once

#include <boost/test/unit_test.hpp>
#include <string>

#include "common/config_file.hpp"
#include "sandbox/profile.hpp"
#include "sandbox/seccomp_policy.hpp"

namespace pgguard::sandbox::test {

inline Profile profile_from(const std::string& text) {
  return parse_profile(config::ConfigFile::parse(text, "test.profile"));
}

// A valid minimal profile; tests append keys to it.
inline std::string minimal_profile() {
  return "user = nobody\n"
         "[seccomp]\n"
         "allow = read, write, exit_group\n";
}

// What the launcher itself needs after loading the filter; every seccomp policy of the seccomp
// and BPF file tests includes it.
inline const std::string launcher_allow =
    "allow = read, write, close, brk, mmap, munmap, futex, execve, exit_group\n";

// The seccomp policy of a profile with this [seccomp] section (after launcher_allow).
inline SeccompPolicy policy_of(const std::string& seccomp_section) {
  return make_seccomp_policy(
      profile_from("user = nobody\n[seccomp]\n" + launcher_allow + seccomp_section));
}

// The message of the Error that `action` throws; fails the test if none is thrown.
template <typename Action>
std::string error_of(Action action, ExitCode expected_code = ExitCode::bad_input) {
  try {
    action();
  } catch (const Error& error) {
    BOOST_TEST(static_cast<int>(error.code()) == static_cast<int>(expected_code));
    return error.what();
  }
  BOOST_FAIL("expected an error");
  return {};
}

inline std::string profile_error(const std::string& text) {
  return error_of([&] { profile_from(text); });
}

}  // namespace pgguard::sandbox::test
