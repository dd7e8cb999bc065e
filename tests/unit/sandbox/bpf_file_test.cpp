#include "sandbox/bpf_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "lib/bounded_child.hpp"
#include "lib/scratch_dir.hpp"
#include "test_support.hpp"

using namespace pgguard;
using namespace pgguard::sandbox;
using namespace pgguard::sandbox::test;

using pgguard::test::ScratchDir;

namespace {

void spill(const std::string& path, const std::string& contents, mode_t mode = 0644) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << contents;
  BOOST_REQUIRE(::chmod(path.c_str(), mode) == 0);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bpf_file)

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
