#include "sandbox/account_files.hpp"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <string>

#include "sandbox/identity.hpp"
#include "test_support.hpp"

using namespace pgguard;
using namespace pgguard::sandbox;
using pgguard::sandbox::test::error_of;
using pgguard::sandbox::test::profile_from;

namespace {

const std::string kPasswd =
    "root:x:0:0:root:/root:/bin/bash\n"
    "# a comment line, an empty line and NIS compat lines are not entries\n"
    "\n"
    "+postgres::::::\n"
    "-vcap:x:1:1:::\n"
    "vcap:x:1000:1000:BOSH System User:/home/vcap:/bin/bash\n"
    "postgres:x:101:104:PostgreSQL administrator,,,:/var/lib/postgresql:/bin/bash\n"
    "postgres:x:999:999:a later duplicate, never used:/nonexistent:/bin/false\n"
    "broken line without fields\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin";  // no final newline

const std::string kGroup =
    "root:x:0:\n"
    "ssl-cert:x:103:postgres\n"
    "postgres:x:104:\n"
    "vcap:x:1000:syslog,vcap\n"
    "nogroup:x:65534:\n";

// Writes account files into a fresh directory and removes them at scope exit.
class AccountDirectory {
 public:
  AccountDirectory(const std::string& passwd, const std::string& group) {
    char pattern[] = "/tmp/pgl-accounts-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
    directory_ = pattern;
    files_.passwd = directory_ + "/passwd";
    files_.group = directory_ + "/group";
    std::ofstream(files_.passwd) << passwd;
    std::ofstream(files_.group) << group;
  }
  ~AccountDirectory() {
    (void)::unlink(files_.passwd.c_str());
    (void)::unlink(files_.group.c_str());
    (void)::rmdir(directory_.c_str());
  }
  AccountDirectory(const AccountDirectory&) = delete;
  AccountDirectory& operator=(const AccountDirectory&) = delete;
  const AccountFiles& files() const { return files_; }

 private:
  std::string directory_;
  AccountFiles files_;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(account_files)

BOOST_AUTO_TEST_CASE(finds_the_first_entry_of_a_name) {
  const auto postgres = find_user(kPasswd, "postgres", "passwd");
  BOOST_REQUIRE(postgres.has_value());
  BOOST_TEST(postgres->uid == 101U);
  BOOST_TEST(postgres->primary_gid == 104U);
  BOOST_TEST(postgres->home == "/var/lib/postgresql");
  const auto nobody = find_user(kPasswd, "nobody", "passwd");
  BOOST_REQUIRE(nobody.has_value());
  BOOST_TEST(nobody->uid == 65534U);
  BOOST_TEST(find_user(kPasswd, "vcap", "passwd")->uid == 1000U);  // not the '-vcap' line
}

BOOST_AUTO_TEST_CASE(comments_compat_lines_and_prefixes_are_not_entries) {
  BOOST_TEST(!find_user(kPasswd, "+postgres", "passwd").has_value());
  BOOST_TEST(!find_user(kPasswd,
                        "# a comment line, an empty line and NIS compat lines are "
                        "not entries",
                        "passwd")
                  .has_value());
  BOOST_TEST(!find_user(kPasswd, "post", "passwd").has_value());
  BOOST_TEST(!find_user(kPasswd, "", "passwd").has_value());
  BOOST_TEST(!find_user("", "root", "passwd").has_value());
}

BOOST_AUTO_TEST_CASE(finds_groups_by_name_and_by_gid) {
  BOOST_TEST(find_group(kGroup, "ssl-cert", "group")->gid == 103U);
  BOOST_TEST(find_group(kGroup, gid_t{104}, "group")->name == "postgres");
  BOOST_TEST(find_group(kGroup, gid_t{65534}, "group")->name == "nogroup");
  BOOST_TEST(!find_group(kGroup, "postgre", "group").has_value());
  BOOST_TEST(!find_group(kGroup, gid_t{4242}, "group").has_value());
}

// The entry asked for must be well formed; a malformed line of another name is skipped.
BOOST_AUTO_TEST_CASE(a_malformed_entry_asked_for_names_file_and_line) {
  const std::string passwd =
      "other:x:1\nroot:x:0:0:root:/root:/bin/bash\n"
      "pg:x:1o1:104:::/bin/sh\npgshort:x:5:5\n"
      "pglong:x:5:5:::/bin/sh:extra\npgmax:x:4294967295:5:::\n"
      "pgbig:x:4294967296:5:::\npggid:x:5:-1:::\npgempty:x::5:::\n";
  BOOST_TEST(find_user(passwd, "root", "/etc/passwd")->uid == 0U);
  BOOST_TEST(error_of([&] { find_user(passwd, "pg", "/etc/passwd"); }) ==
             "/etc/passwd:3: the entry of 'pg' is malformed (uid '1o1')");
  BOOST_TEST(error_of([&] { find_user(passwd, "pgshort", "/etc/passwd"); }) ==
             "/etc/passwd:4: the entry of 'pgshort' is malformed (a passwd entry has 7 fields)");
  BOOST_TEST(error_of([&] { find_user(passwd, "pglong", "/etc/passwd"); }).find(":5:") !=
             std::string::npos);
  BOOST_TEST(error_of([&] { find_user(passwd, "pgmax", "/etc/passwd"); }) ==
             "/etc/passwd:6: the entry of 'pgmax' is malformed (uid '4294967295')");
  BOOST_TEST(error_of([&] { find_user(passwd, "pgbig", "/etc/passwd"); }).find("4294967296") !=
             std::string::npos);
  BOOST_TEST(error_of([&] { find_user(passwd, "pggid", "/etc/passwd"); }) ==
             "/etc/passwd:8: the entry of 'pggid' is malformed (gid '-1')");
  BOOST_TEST(error_of([&] { find_user(passwd, "pgempty", "/etc/passwd"); }).find("uid ''") !=
             std::string::npos);
  const std::string group = "bad:x:12x:\nshort:x:13\nok:x:14:\n";
  BOOST_TEST(error_of([&] { find_group(group, "bad", "/etc/group"); }) ==
             "/etc/group:1: the entry of 'bad' is malformed (gid '12x')");
  BOOST_TEST(error_of([&] { find_group(group, "short", "/etc/group"); }) ==
             "/etc/group:2: the entry of 'short' is malformed (a group entry has 4 fields)");
  BOOST_TEST(find_group(group, gid_t{14}, "/etc/group")->name == "ok");
}

BOOST_AUTO_TEST_CASE(resolves_a_profile_from_the_given_files) {
  const AccountDirectory accounts(kPasswd, kGroup);
  const auto profile = profile_from(
      "user = postgres\nsupplementary_group = ssl-cert\nsupplementary_group = vcap\n"
      "supplementary_group = ssl-cert\n[seccomp]\nallow = read\n");
  const Identity identity = resolve_identity(profile, accounts.files());
  BOOST_TEST(identity.uid == 101U);
  BOOST_TEST(identity.gid == 104U);
  BOOST_TEST(identity.group == "postgres");  // the primary group's name, by gid
  BOOST_TEST(identity.home == "/var/lib/postgresql");
  BOOST_TEST(identity.supplementary == (std::vector<gid_t>{103, 1000}));
  BOOST_TEST(identity.supplementary_names == (std::vector<std::string>{"ssl-cert", "vcap"}));

  const auto explicit_group =
      profile_from("user = vcap\ngroup = nogroup\n[seccomp]\nallow = read\n");
  BOOST_TEST(resolve_identity(explicit_group, accounts.files()).gid == 65534U);
}

BOOST_AUTO_TEST_CASE(unknown_names_root_and_unreadable_files_are_refused) {
  const AccountDirectory accounts(kPasswd + "\nrootgroup:x:5000:0:::\n", kGroup);
  const auto& files = accounts.files();
  BOOST_TEST(error_of([&] {
               resolve_identity(profile_from("user = nosuchuser\n[seccomp]\nallow = read\n"),
                                files);
             }) == "test.profile:1: user: user 'nosuchuser' does not exist in " + files.passwd);
  BOOST_TEST(error_of([&] {
               resolve_identity(profile_from("user = vcap\ngroup = nosuchgroup\n[seccomp]\n"
                                             "allow = read\n"),
                                files);
             }) == "test.profile:2: group: group 'nosuchgroup' does not exist in " + files.group);
  BOOST_TEST(error_of([&] {
               resolve_identity(profile_from("user = root\n[seccomp]\nallow = read\n"), files);
             }).find("is uid 0") != std::string::npos);
  BOOST_TEST(error_of([&] {
               resolve_identity(profile_from("user = rootgroup\n[seccomp]\nallow = read\n"), files);
             }).find("primary group of 'rootgroup' is gid 0") != std::string::npos);
  BOOST_TEST(error_of([&] {
               resolve_identity(profile_from("user = vcap\nsupplementary_group = root\n"
                                             "[seccomp]\nallow = read\n"),
                                files);
             }).find("group 'root' is gid 0") != std::string::npos);
  AccountFiles missing = files;
  missing.group = files.group + ".missing";
  BOOST_TEST(
      error_of(
          [&] {
            resolve_identity(profile_from("user = vcap\n[seccomp]\nallow = read\n"), missing);
          },
          ExitCode::system) == "open " + missing.group + ": No such file or directory (errno 2)");
}

BOOST_AUTO_TEST_SUITE_END()
