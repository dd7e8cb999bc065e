#pragma once

#include <boost/test/unit_test.hpp>
#include <string>

#include "common/config_file.hpp"
#include "sandbox/profile.hpp"

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
