#include "net/isolation.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "common/error.hpp"
#include "lib/bounded_child.hpp"
#include "lib/scratch_dir.hpp"

using namespace pgguard;
using namespace pgguard::net;

using pgguard::test::ScratchDir;

namespace {

// The exit code and message read_config_source gives for `path`, in a child that must finish
// within seconds (a FIFO used to block the open forever).
test::ChildOutcome read_bounded(const std::string& path) {
  return test::run_bounded([&](std::string& message) {
    try {
      (void)read_config_source(path);
      message = "read";
      return 0;
    } catch (const Error& error) {
      message = error.what();
      return to_int(error.code());
    }
  });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(isolation_engine)

// --config naming a FIFO, a device or a directory: exit 2 at once, naming the file type.
BOOST_AUTO_TEST_CASE(config_that_is_no_regular_file_is_refused_without_blocking) {
  ScratchDir scratch;
  const std::string fifo = scratch.path + "/isolation.conf";
  BOOST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  const std::pair<std::string, std::string> cases[] = {
      {fifo, "a FIFO"}, {"/dev/zero", "a character device"}, {scratch.path, "a directory"}};
  for (const auto& [path, type] : cases) {
    const auto outcome = read_bounded(path);
    BOOST_TEST(outcome.exited, path << ": did not finish (signal " << outcome.signal << ")");
    BOOST_TEST(outcome.exit_code == 2, path << ": " << outcome.output);
    BOOST_TEST(outcome.output == path + ": not a regular file (" + type + ")");
  }
}

// Up to 16 MiB is read; a byte more is refused before the file is mapped or parsed (a file of
// blank lines that size used to end in std::bad_alloc, reported as a kernel refusal).
BOOST_AUTO_TEST_CASE(config_above_the_cap_is_refused_before_parsing) {
  ScratchDir scratch;
  const std::string path = scratch.path + "/isolation.conf";
  std::ofstream(path) << std::string(kMaxConfigSize, '\n');
  BOOST_TEST(read_config_source(path).text().size() == kMaxConfigSize);
  std::ofstream(path, std::ios::app) << "\n";
  const auto outcome = read_bounded(path);
  BOOST_TEST(outcome.exit_code == 2, outcome.output);
  BOOST_TEST(outcome.output == path +
                                   ": the file is 16777217 bytes, more than the 16 MiB such a "
                                   "file may have");
}

// The cap admits the largest configuration the release is sized for: 100,000 members at the
// longest IPv6 text and 100,000 client CIDRs of the same length (10.5 MB), read and parsed.
BOOST_AUTO_TEST_CASE(cap_admits_100000_members_and_100000_client_cidrs) {
  std::string text =
      "# Rendered by the isolation job for deployment/pgpool/0.\n"
      "table = secure_postgres\n"
      "self = 2001:db8:f000:0:ffff:ffff:ffff:ffff\n";
  char line[96];
  for (int i = 0; i < 100000; ++i) {
    (void)std::snprintf(line, sizeof line, "member = pgpool 2001:db8:%x:%x:ffff:ffff:ffff:ffff\n",
                        0xf000 + (i >> 16), i & 0xffff);
    text += line;
  }
  text += "[clients]\n";
  for (int i = 0; i < 100000; ++i) {
    (void)std::snprintf(line, sizeof line, "cidr = 2001:db8:%x:%x:ffff:ffff:ffff:ff00/120\n",
                        0xe000 + (i >> 16), i & 0xffff);
    text += line;
  }
  text += "[control]\ncidr = 2001:db8:ff::/64\n[service_network]\ncidr = 2001:db8::/32\n";
  BOOST_TEST(text.size() > 10000000u);
  ScratchDir scratch;
  const std::string path = scratch.path + "/isolation.conf";
  std::ofstream(path) << text;
  const auto config = parse_config_source(read_config_source(path));
  BOOST_TEST(config.members.size() == 100000u);
  BOOST_TEST(config.clients.size() == 100000u);
}

// After lost answers the generation read back decides: unchanged means no commit at all, so the
// previous ruleset stays in force; otherwise only the table's content can say more.
BOOST_AUTO_TEST_CASE(lost_answers_are_judged_by_what_is_read_back) {
  const std::string lost = "the nftables batch was sent, but its answers were lost: x";
  const std::string goal = "table inet t is the configured one";
  const std::string not_goal = "table inet t is not the configured one";

  LostAnswersEvidence unchanged{41, 41, std::nullopt, ""};
  BOOST_TEST((judge_lost_answers(unchanged) == LostAnswersVerdict::not_committed));
  BOOST_TEST(
      describe_lost_answers(LostAnswersVerdict::not_committed, unchanged, lost, goal, not_goal) ==
      lost +
          "; read back: the ruleset generation is still 41, so nothing was committed "
          "and the previous ruleset stays in force");

  LostAnswersEvidence committed{41, 42, true, ""};
  BOOST_TEST((judge_lost_answers(committed) == LostAnswersVerdict::goal_in_force));
  BOOST_TEST(
      describe_lost_answers(LostAnswersVerdict::goal_in_force, committed, lost, goal, not_goal) ==
      lost + "; read back: table inet t is the configured one (generation 41 -> 42)");

  // Ours or another commit: the configured table is in force either way.
  LostAnswersEvidence moved_in_force{41, 43, true, ""};
  BOOST_TEST((judge_lost_answers(moved_in_force) == LostAnswersVerdict::goal_in_force));

  LostAnswersEvidence moved_elsewhere{41, 43, false, ""};
  BOOST_TEST((judge_lost_answers(moved_elsewhere) == LostAnswersVerdict::unknown));
  BOOST_TEST(
      describe_lost_answers(LostAnswersVerdict::unknown, moved_elsewhere, lost, goal, not_goal) ==
      lost +
          "; read back: the ruleset generation moved from 41 to 43 and table inet t is "
          "not the configured one: whether this batch was committed is unknown "
          "(another commit came between), and the configuration is not in force; run "
          "'pgguard-isolate apply' again");

  LostAnswersEvidence unreadable{41, std::nullopt, std::nullopt, "cannot open netfilter netlink"};
  BOOST_TEST((judge_lost_answers(unreadable) == LostAnswersVerdict::unknown));
  BOOST_TEST(describe_lost_answers(LostAnswersVerdict::unknown, unreadable, lost, goal, not_goal) ==
             lost +
                 "; reading the ruleset back failed too (cannot open netfilter netlink): "
                 "whether the batch was committed is unknown; run 'pgguard-isolate verify'");
  // The generation moved but the table could not be read.
  LostAnswersEvidence half{41, 42, std::nullopt, "no answer from nf_tables"};
  BOOST_TEST((judge_lost_answers(half) == LostAnswersVerdict::unknown));
}

BOOST_AUTO_TEST_SUITE_END()
