#include "node/crash_leftovers.hpp"

#include <boost/test/unit_test.hpp>
#include <string>

#include "common/error.hpp"

using namespace pgguard::node;

namespace {

// As the 6.1 kernel prints them; the rows are those a pgpool killed with -9 left behind, next
// to a live one's and another account's.
const std::string kShm =
    "       key      shmid perms                  size  cpid  lpid nattch   uid   gid  cuid  "
    "cgid      atime      dtime      ctime                   rss                  swap\n"
    "         0          7   600             135014480  4100  4180      0   106   110   106   "
    "110 1765100000 1765100001 1765100000                135168                     0\n"
    "         0          8   600                  2512  4100  4180      0   106   110   106   "
    "110 1765100000 1765100001 1765100000                  4096                     0\n"
    "         0          9   600             135014480  5200  5230     18   106   110   106   "
    "110 1765100100          0 1765100100                135168                     0\n"
    "   5432001         10   600                    56  6000  6000      0   105   109   105   "
    "109 1765100000          0 1765100000                  4096                     0\n"
    "         0         11   600                  2512  5300  5300      0   106   110   106   "
    "110          0          0 1765100200                     0                     0\n";

const std::string kSem =
    "       key      semid perms      nsems   uid   gid  cuid  cgid      otime      ctime\n"
    "         0          3   600          9   106   110   106   110 1765100000 1765100000\n"
    "   5432003          4   600         17   105   109   105   109 1765100000 1765100000\n";

std::string refusal(const std::string& text) {
  try {
    parse_sysv_table(text, "/proc/sysvipc/shm");
  } catch (const pgguard::Error& error) {
    return error.what();
  }
  return "accepted";
}

}  // namespace

BOOST_AUTO_TEST_CASE(shared_memory_rows_are_read_by_their_header) {
  const auto segments = parse_sysv_table(kShm, "/proc/sysvipc/shm");
  BOOST_REQUIRE_EQUAL(segments.size(), 5U);
  BOOST_CHECK_EQUAL(segments[0].id, 7);
  BOOST_CHECK_EQUAL(segments[0].size, 135014480ULL);
  BOOST_CHECK_EQUAL(segments[0].creator, 4100);
  BOOST_CHECK_EQUAL(segments[0].owner, 106U);
  BOOST_CHECK_EQUAL(segments[2].attached, 18UL);
  BOOST_CHECK_EQUAL(segments[3].creator_uid, 105U);
}

BOOST_AUTO_TEST_CASE(semaphore_rows_have_no_creator) {
  const auto sets = parse_sysv_table(kSem, "/proc/sysvipc/sem");
  BOOST_REQUIRE_EQUAL(sets.size(), 2U);
  BOOST_CHECK_EQUAL(sets[0].id, 3);
  BOOST_CHECK_EQUAL(sets[0].size, 9ULL);
  BOOST_CHECK_EQUAL(sets[1].owner, 105U);
  BOOST_CHECK_EQUAL(sets[1].creator, 0);
}

BOOST_AUTO_TEST_CASE(an_empty_table_has_no_rows) {
  BOOST_CHECK(parse_sysv_table(kShm.substr(0, kShm.find('\n') + 1), "shm").empty());
}

BOOST_AUTO_TEST_CASE(a_table_it_cannot_read_is_refused_not_guessed) {
  BOOST_CHECK_EQUAL(refusal(""), "/proc/sysvipc/shm: no header line");
  BOOST_CHECK_EQUAL(refusal("key shmid perms size cpid lpid uid gid cuid cgid\n"),
                    "/proc/sysvipc/shm: the header has no column nattch: key shmid perms size "
                    "cpid lpid uid gid cuid cgid");
  BOOST_CHECK_EQUAL(refusal("key shmid size cpid nattch uid cuid\n0 7 12 4100 zero 106 106\n"),
                    "/proc/sysvipc/shm:2: nattch is not a number: zero");
  BOOST_CHECK_EQUAL(refusal("key shmid size cpid nattch uid cuid\n0 7 12 4100 0\n"),
                    "/proc/sysvipc/shm:2: no uid field");
}

BOOST_AUTO_TEST_CASE(only_the_accounts_unused_segments_of_dead_creators_are_stale) {
  const auto segments = parse_sysv_table(kShm, "/proc/sysvipc/shm");
  // 5300 is a pgpool creating its segment right now: not attached yet, but its creator runs.
  const auto stale =
      stale_shared_memory(segments, 106, [](pid_t pid) { return pid == 5200 || pid == 5300; });
  BOOST_REQUIRE_EQUAL(stale.size(), 2U);
  BOOST_CHECK_EQUAL(stale[0].id, 7);
  BOOST_CHECK_EQUAL(stale[1].id, 8);
  // PostgreSQL's segment (uid 105) is never pgpool's to remove.
  BOOST_CHECK(stale_shared_memory(segments, 105, [](pid_t) { return false; }).size() == 1);
  BOOST_CHECK(stale_shared_memory(segments, 999, [](pid_t) { return false; }).empty());
}

BOOST_AUTO_TEST_CASE(a_segment_still_attached_is_not_taken_even_when_its_creator_is_gone) {
  // The main process died, its children still use the segment (they are killed first).
  const auto segments = parse_sysv_table(
      "key shmid size cpid nattch uid cuid\n0 7 12 4100 3 106 106\n", "/proc/sysvipc/shm");
  BOOST_CHECK(stale_shared_memory(segments, 106, [](pid_t) { return false; }).empty());
}

BOOST_AUTO_TEST_CASE(a_segment_another_account_created_is_not_taken) {
  // Owner changed to the account by IPC_SET, created by someone else: not the service's.
  const auto segments = parse_sysv_table(
      "key shmid size cpid nattch uid cuid\n0 7 12 4100 0 106 0\n", "/proc/sysvipc/shm");
  BOOST_CHECK(stale_shared_memory(segments, 106, [](pid_t) { return false; }).empty());
}

BOOST_AUTO_TEST_CASE(semaphore_sets_are_the_accounts_own) {
  const auto stale = stale_semaphores(parse_sysv_table(kSem, "/proc/sysvipc/sem"), 106);
  BOOST_REQUIRE_EQUAL(stale.size(), 1U);
  BOOST_CHECK_EQUAL(stale[0].id, 3);
}

BOOST_AUTO_TEST_CASE(a_replaced_binary_still_names_its_path) {
  BOOST_CHECK_EQUAL(executable_path("/usr/sbin/pgpool (deleted)"), "/usr/sbin/pgpool");
  BOOST_CHECK_EQUAL(executable_path("/usr/sbin/pgpool"), "/usr/sbin/pgpool");
  BOOST_CHECK_EQUAL(executable_path(""), "");
}
