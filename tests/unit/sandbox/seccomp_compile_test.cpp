#include "sandbox/seccomp_compile.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cerrno>

#include "bpf_interpreter.hpp"
#include "test_support.hpp"

using namespace pgguard;
using namespace pgguard::sandbox;
using namespace pgguard::sandbox::test;

namespace {

constexpr std::uint32_t kAllow = SECCOMP_RET_ALLOW;
constexpr std::uint32_t kKill = SECCOMP_RET_KILL_PROCESS;
constexpr std::uint32_t kEperm = SECCOMP_RET_ERRNO | EPERM;
constexpr std::uint32_t kEnosys = SECCOMP_RET_ERRNO | ENOSYS;
constexpr std::uint32_t kLog = SECCOMP_RET_LOG;
constexpr std::uint64_t kCloneNewUser = 0x10000000;
constexpr std::uint64_t kCloneNewNet = 0x40000000;
constexpr std::uint64_t kForkFlags = 0x01200011;  // CLONE_CHILD_SETTID|CLEARTID|SIGCHLD

std::uint32_t answer(const BpfProgram& program, const char* name, std::uint64_t arg0 = 0,
                     std::uint32_t arch = AUDIT_ARCH_X86_64) {
  const int nr = resolve_syscall(name);
  BOOST_REQUIRE_MESSAGE(nr >= 0, name);
  return run_seccomp_bpf(program.instructions, syscall_data(nr, arg0, arch));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(seccomp_compile)

// A name this libseccomp does not know is refused when the filter is compiled, naming its group.
BOOST_AUTO_TEST_CASE(compiling_an_unknown_name_names_the_error) {
  SeccompPolicy policy = policy_of("group = base\n");
  policy.allowed.emplace_back("no_such_syscall");
  try {
    (void)compile_seccomp(policy);
    BOOST_FAIL("compiled a policy with an unknown system call");
  } catch (const Error& error) {
    BOOST_TEST(std::string(error.what()).find("'no_such_syscall' is not a system call") !=
                   std::string::npos,
               error.what());
  }
}

BOOST_AUTO_TEST_CASE(compiled_filter_answers_as_designed) {
  const auto policy = policy_of("allow = read, write, exit_group, clone, clone3\n");
  const auto program = compile_seccomp(policy);
  BOOST_TEST(answer(program, "read") == kAllow);
  BOOST_TEST(answer(program, "write") == kAllow);
  BOOST_TEST(answer(program, "openat") == kEperm);  // default action
  BOOST_TEST(answer(program, "clone3") == kEnosys);
  BOOST_TEST(answer(program, "clone", kForkFlags) == kAllow);
  BOOST_TEST(answer(program, "clone", kForkFlags | kCloneNewUser) == kEperm);
  BOOST_TEST(answer(program, "clone", kCloneNewNet) == kEperm);
  for (const auto name : always_killed_syscalls()) {
    BOOST_TEST(run_seccomp_bpf(program.instructions,
                               syscall_data(resolve_killed_syscall(name), 0)) == kKill,
               name);
  }
}

// Every name of the always-killed list is killed under every default action, the names this
// libseccomp cannot resolve included: under 'log' a name left to the default would be allowed.
BOOST_AUTO_TEST_CASE(every_killed_name_is_killed_under_every_default) {
  for (const char* default_action : {"errno", "kill_process", "log\nstaging = true"}) {
    const auto program = compile_seccomp(
        policy_of(std::string("allow = read\ndefault_action = ") + default_action + "\n"));
    for (const auto name : always_killed_syscalls()) {
      const int number = resolve_killed_syscall(name);
      BOOST_TEST_REQUIRE(number >= 0, name);
      BOOST_TEST(run_seccomp_bpf(program.instructions, syscall_data(number, 0)) == kKill,
                 default_action << ": " << name);
    }
  }
  // lsm_set_self_attr (460, kernel 6.8) is the one libseccomp 2.5.4 does not know.
  const auto staging =
      compile_seccomp(policy_of("allow = read\ndefault_action = log\nstaging = true\n"));
  BOOST_TEST(run_seccomp_bpf(staging.instructions, syscall_data(460, 0)) == kKill);
}

BOOST_AUTO_TEST_CASE(other_architectures_are_killed) {
  const auto program = compile_seccomp(policy_of("allow = read, write, exit_group\n"));
  // i386 entry (int 0x80): write is 4 there, but any number is killed for that arch.
  BOOST_TEST(run_seccomp_bpf(program.instructions, syscall_data(4, 0, AUDIT_ARCH_I386)) == kKill);
  // x32: x86_64 audit arch with bit 30 set in the number (read is 0, so x32 read is 0x40000000).
  BOOST_TEST(run_seccomp_bpf(program.instructions,
                             syscall_data(0x40000000 | resolve_syscall("read"))) == kKill);
  BOOST_TEST(answer(program, "read") == kAllow);
}

BOOST_AUTO_TEST_CASE(namespace_clone_denied_under_every_default) {
  const auto log_program =
      compile_seccomp(policy_of("allow = read, clone\ndefault_action = log\nstaging = true\n"));
  BOOST_TEST(answer(log_program, "openat") == kLog);
  BOOST_TEST(answer(log_program, "clone", kCloneNewUser) == kEperm);
  BOOST_TEST(answer(log_program, "clone", kForkFlags) == kAllow);
  BOOST_TEST(answer(log_program, "ptrace") == kKill);

  const auto kill_program =
      compile_seccomp(policy_of("allow = read\ndefault_action = kill_process\n"));
  BOOST_TEST(answer(kill_program, "openat") == kKill);
  BOOST_TEST(answer(kill_program, "clone", kCloneNewUser) == kEperm);
  BOOST_TEST(answer(kill_program, "clone", kForkFlags) == kKill);  // clone not allowed at all
  BOOST_TEST(answer(kill_program, "clone3") == kEnosys);
}

// [seccomp] socket: socket(2) only for the listed families, types and netlink protocols; the
// VIP broker's profile uses it to keep NETLINK_NETFILTER (the firewall) out of reach.
BOOST_AUTO_TEST_CASE(socket_rules_restrict_the_arguments_of_socket) {
  const std::string broker =
      "group = base\nsocket = AF_UNIX, AF_NETLINK:NETLINK_ROUTE, AF_PACKET:SOCK_DGRAM\n";
  const auto socket_call = [](const BpfProgram& program, std::uint64_t domain, std::uint64_t type,
                              std::uint64_t protocol) {
    seccomp_data data = syscall_data(resolve_syscall("socket"), domain);
    data.args[1] = type;
    data.args[2] = protocol;
    return run_seccomp_bpf(program.instructions, data);
  };
  constexpr std::uint64_t kCloexec = 02000000;  // SOCK_CLOEXEC
  constexpr std::uint64_t kNonblock = 04000;    // SOCK_NONBLOCK
  const auto policy = policy_of(broker);
  BOOST_TEST(
      (std::find(policy.allowed.begin(), policy.allowed.end(), "socket") == policy.allowed.end()));
  BOOST_TEST(policy.socket_rules.size() == 3U);
  const auto program = compile_seccomp(policy);
  BOOST_TEST(socket_call(program, AF_UNIX, SOCK_STREAM | kCloexec, 0) == kAllow);
  BOOST_TEST(socket_call(program, AF_UNIX, SOCK_DGRAM, 0) == kAllow);
  BOOST_TEST(socket_call(program, AF_NETLINK, SOCK_RAW | kCloexec, 0 /* ROUTE */) == kAllow);
  BOOST_TEST(socket_call(program, AF_NETLINK, SOCK_RAW | kCloexec, 12 /* NETFILTER */) == kEperm);
  BOOST_TEST(socket_call(program, AF_NETLINK, SOCK_RAW, 9 /* AUDIT */) == kEperm);
  BOOST_TEST(socket_call(program, AF_PACKET, SOCK_DGRAM | kCloexec | kNonblock, 0x0608) == kAllow);
  BOOST_TEST(socket_call(program, AF_PACKET, SOCK_RAW, 0x0300) == kEperm);
  BOOST_TEST(socket_call(program, AF_INET, SOCK_STREAM, 0) == kEperm);
  BOOST_TEST(socket_call(program, AF_INET6, SOCK_DGRAM, 0) == kEperm);
  BOOST_TEST(socket_call(program, 40 /* AF_VSOCK */, SOCK_STREAM, 0) == kEperm);
  BOOST_TEST(socket_call(program, 38 /* AF_ALG */, 5, 0) == kEperm);
  // A domain whose low 32 bits match is not the domain.
  BOOST_TEST(socket_call(program, (1ULL << 32) | AF_UNIX, SOCK_STREAM, 0) == kEperm);
  BOOST_TEST(answer(program, "read") == kAllow);  // the rest of the policy is untouched

  // Without rules the groups' unconditional allow stands.
  const auto open_program = compile_seccomp(policy_of("group = base\n"));
  BOOST_TEST(socket_call(open_program, AF_NETLINK, SOCK_RAW, 12) == kAllow);
  // Under staging the others are logged, not refused; under kill_process they kill.
  const auto staging =
      compile_seccomp(policy_of(broker + "default_action = log\nstaging = true\n"));
  BOOST_TEST(socket_call(staging, AF_NETLINK, SOCK_RAW, 12) == kLog);
  BOOST_TEST(socket_call(staging, AF_NETLINK, SOCK_RAW, 0) == kAllow);
  const auto killing = compile_seccomp(policy_of(broker + "default_action = kill_process\n"));
  BOOST_TEST(socket_call(killing, AF_NETLINK, SOCK_RAW, 12) == kKill);
  BOOST_TEST(socket_call(killing, AF_UNIX, SOCK_STREAM, 0) == kAllow);
}

BOOST_AUTO_TEST_SUITE_END()
