#include "sandbox/seccomp_policy.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "bpf_interpreter.hpp"
#include "lib/bounded_child.hpp"
#include "sandbox/killed_syscalls.hpp"
#include "sandbox/syscall_groups.hpp"
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

// What the launcher itself needs after loading the filter; every policy below includes it.
const std::string launcher_allow =
    "allow = read, write, close, brk, mmap, munmap, futex, execve, exit_group\n";

SeccompPolicy policy_of(const std::string& seccomp_section) {
  return make_seccomp_policy(
      profile_from("user = nobody\n[seccomp]\n" + launcher_allow + seccomp_section));
}

std::uint32_t answer(const BpfProgram& program, const char* name, std::uint64_t arg0 = 0,
                     std::uint32_t arch = AUDIT_ARCH_X86_64) {
  const int nr = resolve_syscall(name);
  BOOST_REQUIRE_MESSAGE(nr >= 0, name);
  return run_seccomp_bpf(program.instructions, syscall_data(nr, arg0, arch));
}

// A scratch directory removed at the end of the test.
struct ScratchDir {
  std::string path;
  ScratchDir() {
    char pattern[] = "/tmp/pgl-unit-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
    path = pattern;
  }
  ~ScratchDir() { (void)std::system(("rm -rf '" + path + "'").c_str()); }
};

void spill(const std::string& path, const std::string& contents, mode_t mode = 0644) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
  BOOST_REQUIRE(::chmod(path.c_str(), mode) == 0);
}

}  // namespace

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

BOOST_AUTO_TEST_CASE(bpf_file_round_trip) {
  ScratchDir scratch;
  const auto policy = policy_of("group = base\n");
  const auto program = compile_seccomp(policy);
  const std::string path = scratch.path + "/postgres.bpf";
  write_bpf_file(path, policy, program, "postgres.profile");
  const auto loaded = read_bpf_file(path, policy);
  BOOST_REQUIRE(loaded.instructions.size() == program.instructions.size());
  BOOST_TEST(std::memcmp(loaded.instructions.data(), program.instructions.data(),
                         program.instructions.size() * sizeof(sock_filter)) == 0);
  struct stat status {};
  BOOST_REQUIRE(::stat(path.c_str(), &status) == 0);
  BOOST_TEST((status.st_mode & 0777) == 0644U);
}

BOOST_AUTO_TEST_CASE(stale_bpf_file_is_refused) {
  ScratchDir scratch;
  const auto old_policy = policy_of("allow = read, write\n");
  const std::string path = scratch.path + "/stale.bpf";
  write_bpf_file(path, old_policy, compile_seccomp(old_policy), "p");
  const auto new_policy = policy_of("allow = read, write, uname\n");
  const auto message = error_of([&] { read_bpf_file(path, new_policy); });
  BOOST_TEST(message.find("stale") != std::string::npos, message);
}

BOOST_AUTO_TEST_CASE(tampered_bpf_file_is_refused) {
  ScratchDir scratch;
  const auto policy = policy_of("allow = read, write\n");
  const auto program = compile_seccomp(policy);
  const std::string good = bpf_file_contents(policy, program, "p");
  const auto refused = [&](const std::string& contents, mode_t mode = 0644) {
    const std::string path = scratch.path + "/tampered.bpf";
    ::unlink(path.c_str());
    spill(path, contents, mode);
    return error_of([&] { read_bpf_file(path, policy); });
  };
  BOOST_CHECK_NO_THROW(parse_bpf_file(good, policy, "good"));

  // Flip one bit of the last instruction (the program's final return).
  std::string flipped = good;
  flipped[flipped.size() - 1] = static_cast<char>(flipped.back() ^ 0x01);
  BOOST_TEST(refused(flipped).find("tampered: the program does not match its digest") !=
             std::string::npos);
  // An instruction appended or removed.
  BOOST_TEST(refused(good + std::string(8, '\0')).find("tampered") != std::string::npos);
  BOOST_TEST(refused(good.substr(0, good.size() - 8)).find("tampered") != std::string::npos);
  // The header's policy hash edited to claim another policy.
  const auto at = good.find("policy-sha256: ") + 15;
  std::string edited = good;
  edited[at] = edited[at] == '0' ? '1' : '0';
  BOOST_TEST(refused(edited).find("stale") != std::string::npos);
  // Not our format, or no header at all.
  BOOST_TEST(refused("\x7f"
                     "ELF garbage")
                 .find("no header") != std::string::npos);
  BOOST_TEST(refused("SOMETHING ELSE\n\n12345678").find("not a pgguard seccomp BPF file") !=
             std::string::npos);
  // Another libseccomp version.
  std::string other_version = good;
  const auto version_at = other_version.find("libseccomp: ") + 12;
  other_version.insert(version_at, "9");
  BOOST_TEST(refused(other_version).find("compiled with libseccomp") != std::string::npos);
  // A file others could have rewritten.
  BOOST_TEST(refused(good, 0666).find("writable by group or others") != std::string::npos);
  // A symlink is not followed.
  const std::string link = scratch.path + "/link.bpf";
  spill(scratch.path + "/real.bpf", good);
  BOOST_REQUIRE(::symlink((scratch.path + "/real.bpf").c_str(), link.c_str()) == 0);
  BOOST_TEST(error_of([&] { read_bpf_file(link, policy); }).find("cannot open") !=
             std::string::npos);
}

// --seccomp-bpf naming a FIFO or a device is refused at once: the old open() blocked forever on a
// FIFO without a writer, before the regular-file check could run.
BOOST_AUTO_TEST_CASE(bpf_file_that_is_no_regular_file_is_refused_without_blocking) {
  ScratchDir scratch;
  const auto policy = policy_of("allow = read, write\n");
  const std::string fifo = scratch.path + "/filter.bpf";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  for (const std::string& path : {fifo, std::string("/dev/zero")}) {
    const auto outcome = pgguard::test::run_bounded([&](std::string& message) {
      try {
        (void)read_bpf_file(path, policy);
        return 0;
      } catch (const Error& error) {
        message = error.what();
        return to_int(error.code());
      }
    });
    BOOST_TEST(outcome.exited, path << ": did not finish (signal " << outcome.signal << ")");
    BOOST_TEST(outcome.exit_code == 2, path << ": " << outcome.output);
    BOOST_TEST(outcome.output.find("refusing the seccomp BPF file: not a regular file (a ") !=
                   std::string::npos,
               outcome.output);
  }
}

BOOST_AUTO_TEST_SUITE_END()
