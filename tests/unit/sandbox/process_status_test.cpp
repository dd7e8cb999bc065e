#include "sandbox/process_status.hpp"

#include <boost/test/unit_test.hpp>

#include "common/error.hpp"

using namespace pgguard;
using namespace pgguard::sandbox;

namespace {

// Shaped like kernel 6.18's /proc/self/status (fields trimmed to those around ours).
const std::string sandboxed_status =
    "Name:\tpostgres\n"
    "Umask:\t0077\n"
    "State:\tR (running)\n"
    "Tgid:\t4242\n"
    "Uid:\t101\t101\t101\t101\n"
    "Gid:\t104\t104\t104\t104\n"
    "FDSize:\t64\n"
    "Groups:\t \n"
    "CapInh:\t0000000000000000\n"
    "CapPrm:\t0000000000000000\n"
    "CapEff:\t0000000000000000\n"
    "CapBnd:\t0000000000000000\n"
    "CapAmb:\t0000000000000000\n"
    "NoNewPrivs:\t1\n"
    "Seccomp:\t2\n"
    "Seccomp_filters:\t1\n"
    "Speculation_Store_Bypass:\tthread vulnerable\n";

ProcessStatus expected_postgres() {
  ProcessStatus status;
  status.uid = {101, 101, 101, 101};
  status.gid = {104, 104, 104, 104};
  status.no_new_privs = 1;
  status.seccomp = 2;
  status.umask = 0077;
  return status;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  BOOST_REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(process_status)

BOOST_AUTO_TEST_CASE(parses_the_checked_fields) {
  const auto status = parse_process_status(sandboxed_status);
  BOOST_TEST((status == expected_postgres()));
  BOOST_TEST(compare_process_status(expected_postgres(), status).empty());
}

BOOST_AUTO_TEST_CASE(parses_groups_and_masks) {
  const auto status = parse_process_status(
      replaced(replaced(replaced(sandboxed_status, "Groups:\t \n", "Groups:\t44 4 104 \n"),
                        "CapAmb:\t0000000000000000", "CapAmb:\t0000000000003000"),
               "CapBnd:\t0000000000000000", "CapBnd:\t000001ffffffffff"));
  BOOST_TEST((status.groups == std::vector<gid_t>{4, 44, 104}));  // sorted
  BOOST_TEST(status.cap_ambient == 0x3000U);
  BOOST_TEST(status.cap_bounding == 0x1ffffffffffULL);
}

BOOST_AUTO_TEST_CASE(reports_every_difference) {
  const auto root = parse_process_status(replaced(
      replaced(replaced(sandboxed_status, "Uid:\t101\t101\t101\t101", "Uid:\t101\t0\t0\t0"),
               "CapEff:\t0000000000000000", "CapEff:\t0000000000002000"),
      "Seccomp:\t2", "Seccomp:\t0"));
  const auto differences = compare_process_status(expected_postgres(), root);
  BOOST_REQUIRE(differences.size() == 3U);
  BOOST_TEST(differences[0] == "Uid: expected 101 101 101 101, found 101 0 0 0");
  BOOST_TEST(differences[1] == "CapEff: expected 0000000000000000, found 0000000000002000");
  BOOST_TEST(differences[2] == "Seccomp: expected 2, found 0");

  auto with_groups = expected_postgres();
  with_groups.groups = {104};
  BOOST_TEST(compare_process_status(with_groups, parse_process_status(sandboxed_status)) ==
             (std::vector<std::string>{"Groups: expected 104, found (none)"}));
  auto without_nnp =
      parse_process_status(replaced(sandboxed_status, "NoNewPrivs:\t1", "NoNewPrivs:\t0"));
  BOOST_TEST(compare_process_status(expected_postgres(), without_nnp) ==
             (std::vector<std::string>{"NoNewPrivs: expected 1, found 0"}));
}

BOOST_AUTO_TEST_CASE(every_checked_field_is_compared) {
  const auto sandboxed = parse_process_status(sandboxed_status);
  for (const std::string field : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    const auto actual = parse_process_status(
        replaced(sandboxed_status, field + ":\t0000000000000000", field + ":\t0000000000001000"));
    BOOST_TEST(compare_process_status(expected_postgres(), actual) ==
                   (std::vector<std::string>{
                       field + ": expected 0000000000000000, found 0000000000001000"}),
               field);
  }
  auto gid = sandboxed;
  gid.gid[3] = 0;
  BOOST_TEST(compare_process_status(expected_postgres(), gid).size() == 1U);
  auto umask = sandboxed;
  umask.umask = 0022;
  BOOST_TEST(compare_process_status(expected_postgres(), umask) ==
             (std::vector<std::string>{"Umask: expected 0077, found 0022"}));
  auto filter = sandboxed;
  filter.seccomp = 1;
  BOOST_TEST(compare_process_status(expected_postgres(), filter).size() == 1U);
}

BOOST_AUTO_TEST_CASE(missing_or_malformed_field_is_an_error) {
  const auto error_of = [](const std::string& text) -> std::string {
    try {
      parse_process_status(text);
    } catch (const Error& error) {
      BOOST_TEST(static_cast<int>(error.code()) == static_cast<int>(ExitCode::system));
      return error.what();
    }
    return "(no error)";
  };
  BOOST_TEST(error_of(replaced(sandboxed_status, "CapAmb:\t0000000000000000\n", "")) ==
             "/proc/self/status: CapAmb: missing");
  BOOST_TEST(error_of(replaced(sandboxed_status, "Uid:\t101\t101\t101\t101", "Uid:\t101\t101")) ==
             "/proc/self/status: Uid: expected 4 ids, found '101\t101'");
  BOOST_TEST(error_of(replaced(sandboxed_status, "CapEff:\t0000000000000000", "CapEff:\tzz")) ==
             "/proc/self/status: CapEff: 'zz' is not a number");
}

BOOST_AUTO_TEST_CASE(reads_this_process) {
  // The real file parses (no root needed): the parser matches this kernel's format.
  FILE* file = std::fopen("/proc/self/status", "r");
  BOOST_REQUIRE(file != nullptr);
  std::string text(65536, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), file));
  std::fclose(file);
  const auto status = parse_process_status(text);
  BOOST_TEST(status.uid[0] == ::getuid());
  BOOST_TEST(status.gid[1] == ::getegid());
}

BOOST_AUTO_TEST_SUITE_END()
