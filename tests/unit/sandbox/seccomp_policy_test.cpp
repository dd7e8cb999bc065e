#include "sandbox/seccomp_policy.hpp"

#include <sys/syscall.h>

#include <algorithm>
#include <array>
#include <boost/test/unit_test.hpp>

#include "sandbox/killed_syscalls.hpp"
#include "sandbox/syscall_groups.hpp"
#include "test_support.hpp"

using namespace pgguard;
using namespace pgguard::sandbox;
using namespace pgguard::sandbox::test;

BOOST_AUTO_TEST_SUITE(seccomp_policy)

// Profile validation leaves the groups' names to this test (they are build-time data): every name
// of every shipped group is a system call of this architecture for the libseccomp the programs
// link, and none is on the always-killed list.
BOOST_AUTO_TEST_CASE(every_group_names_known_syscalls_only) {
  std::size_t names = 0;
  for (const auto& group : syscall_groups()) {
    for (const auto name : group.syscalls) {
      ++names;
      BOOST_TEST(resolve_syscall(name) >= 0, "group " << group.name << ": " << name);
      BOOST_TEST(!is_always_killed(name), "group " << group.name << ": " << name);
    }
  }
  BOOST_TEST(names > 100U);
}

BOOST_AUTO_TEST_CASE(policy_expands_groups_and_splits_special_cases) {
  const auto policy = policy_of("group = base\nallow = clone, clone3, uname\n");
  const auto has = [&](const std::vector<std::string>& list, const char* name) {
    return std::find(list.begin(), list.end(), name) != list.end();
  };
  BOOST_TEST(has(policy.allowed, "read"));  // from base
  BOOST_TEST(has(policy.allowed, "uname"));
  BOOST_TEST(!has(policy.allowed, "clone"));
  BOOST_TEST(!has(policy.allowed, "clone3"));
  BOOST_TEST(policy.clone_without_namespaces);
  BOOST_TEST(std::is_sorted(policy.allowed.begin(), policy.allowed.end()));
  BOOST_TEST(has(policy.killed, "ptrace"));
  BOOST_TEST(has(policy.killed, "unshare"));
  BOOST_TEST(has(policy.enosys, "clone3"));
  for (const auto name : always_killed_syscalls()) {
    BOOST_TEST(!has(policy.allowed, std::string(name).c_str()), name);
  }
}

BOOST_AUTO_TEST_CASE(allowlist_must_let_the_launcher_finish) {
  const auto without_execve = profile_from(
      "user = nobody\n[seccomp]\nallow = read, write, close, brk, mmap, munmap, futex\n"
      "allow = exit_group\n");
  BOOST_TEST(error_of([&] { make_seccomp_policy(without_execve); }) ==
             "test.profile:3: seccomp: the allowlist lacks 'execve', which the launcher itself "
             "needs after loading the filter (group base has it)");
  const auto staging = profile_from(
      "user = nobody\n[seccomp]\nallow = read\ndefault_action = log\nstaging = true\n");
  BOOST_CHECK_NO_THROW(make_seccomp_policy(staging));
}

// A killed name nothing can number is refused when the policy is built (the launcher does not
// start), instead of silently falling to the default action.
BOOST_AUTO_TEST_CASE(a_killed_name_without_a_number_is_refused) {
  using namespace std::string_view_literals;
  constexpr std::array known{"ptrace"sv, "lsm_set_self_attr"sv};
  BOOST_TEST(checked_killed_list(known) ==
             (std::vector<std::string>{"ptrace", "lsm_set_self_attr"}));
  constexpr std::array unknown{"ptrace"sv, "no_such_killed_call"sv};
  const auto message = error_of([&] { (void)checked_killed_list(unknown); }, ExitCode::unsupported);
  BOOST_TEST(message.starts_with("seccomp: 'no_such_killed_call' of the always-killed list is "
                                 "unknown to libseccomp"),
             message);
  BOOST_TEST(message.find("default action") != std::string::npos, message);
}

// The numbers killed_syscalls.hpp gives calls newer than the build host agree with libseccomp
// and the kernel headers wherever those know the name (a newer libseccomp or Debian release).
BOOST_AUTO_TEST_CASE(numbers_of_new_killed_calls_agree_with_libseccomp_and_headers) {
  for (const auto& entry : kSyscallNumbersNewerThanTheBuildHost) {
    BOOST_TEST(is_always_killed(entry.name), entry.name);
    if (const int known = resolve_syscall(entry.name); known >= 0) {
      BOOST_TEST(known == entry.number, entry.name);
    }
  }
#ifdef SYS_lsm_set_self_attr
  BOOST_TEST(number_newer_than_the_build_host("lsm_set_self_attr") == SYS_lsm_set_self_attr);
#endif
  BOOST_TEST(number_newer_than_the_build_host("ptrace") == -1);
}

BOOST_AUTO_TEST_CASE(socket_rules_enter_the_digest_and_need_socket_allowed) {
  const auto open = policy_of("group = base\n");
  const auto unix_only = policy_of("group = base\nsocket = AF_UNIX\n");
  BOOST_TEST(open.digest() != unix_only.digest());
  BOOST_TEST(unix_only.canonical_text().find("allow socket if arg0 == 1\n") != std::string::npos);
  BOOST_TEST(open.canonical_text().find("allow socket if") == std::string::npos);
  const auto netlink =
      policy_of("group = base\nsocket = AF_NETLINK:NETLINK_ROUTE, AF_INET:SOCK_DGRAM\n");
  BOOST_TEST(netlink.canonical_text().find("allow socket if arg0 == 2 && (arg1 & 15) == 2\n"
                                           "allow socket if arg0 == 16 && arg2 == 0\n") !=
             std::string::npos);
  // The order in the profile does not change the policy.
  BOOST_TEST(
      netlink.digest() ==
      policy_of("group = base\nsocket = AF_INET:SOCK_DGRAM\nsocket = AF_NETLINK:NETLINK_ROUTE\n")
          .digest());
  BOOST_TEST(error_of([&] {
               make_seccomp_policy(profile_from("user = nobody\n[seccomp]\n" + launcher_allow +
                                                "socket = AF_UNIX\n"));
             }) ==
             "test.profile:4: seccomp.socket: restricts socket(2), which no group or allow of "
             "this profile allows");
}

BOOST_AUTO_TEST_CASE(digest_follows_the_effective_policy) {
  const auto a = policy_of("allow = read, write\n");
  BOOST_TEST(a.digest() == policy_of("allow = write\nallow = read\n").digest());  // same policy
  BOOST_TEST(a.digest() != policy_of("allow = read, write, uname\n").digest());
  BOOST_TEST(a.digest() !=
             policy_of("allow = read, write\ndefault_action = log\nstaging = true\n").digest());
  BOOST_TEST(a.digest().size() == 64U);
}

BOOST_AUTO_TEST_SUITE_END()
