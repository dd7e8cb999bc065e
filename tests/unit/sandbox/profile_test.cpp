#include "sandbox/profile.hpp"

#include <sys/capability.h>

#include <boost/test/unit_test.hpp>

#include "sandbox/identity.hpp"
#include "test_support.hpp"

using namespace pgguard;
using namespace pgguard::sandbox;
using namespace pgguard::sandbox::test;

namespace {

const std::string full_profile =
    "user = nobody\n"
    "group = nogroup\n"
    "umask = 0027\n"
    "workdir = /var/vcap/store/postgres\n"
    "nice = 10\n"
    "env = PGDATA=/var/vcap/store/postgres/data\n"
    "env = EMPTY=\n"
    "env_pass = LANG, TZ\n"
    "[rlimit]\n"
    "nofile = 1024:4096\n"
    "nproc = 256\n"
    "as = 4G:unlimited\n"
    "cpu = 60:120\n"
    "[capabilities]\n"
    "bounding = CAP_NET_ADMIN\n"
    "bounding = net_raw\n"
    "ambient = CAP_NET_ADMIN\n"
    "[seccomp]\n"
    "group = base\n"
    "allow = uname\n"
    "default_action = kill_process\n"
    "[landlock]\n"
    "read = /usr\n"
    "read = /var/vcap/packages/postgres-15\n"
    "write = /var/vcap/store/postgres\n"
    "bind_tcp = 5432\n"
    "connect_tcp = 5432, 5433\n"
    "required = true\n"
    "[selinux]\n"
    "context = system_u:system_r:pgguard_postgres_t:s0\n"
    "required = false\n";

}  // namespace

BOOST_AUTO_TEST_SUITE(profile)

BOOST_AUTO_TEST_CASE(reads_every_key) {
  const Profile profile = profile_from(full_profile);
  BOOST_TEST(profile.file == "test.profile");
  BOOST_TEST(profile.user.value == "nobody");
  BOOST_TEST(profile.user.where.line == 1);
  BOOST_REQUIRE(profile.group);
  BOOST_TEST(profile.group->value == "nogroup");
  BOOST_TEST(profile.umask == 0027U);
  BOOST_REQUIRE(profile.workdir);
  BOOST_TEST(profile.workdir->value == "/var/vcap/store/postgres");
  BOOST_REQUIRE(profile.nice);
  BOOST_TEST(*profile.nice == 10);
  BOOST_REQUIRE(profile.env_set.size() == 2U);
  BOOST_TEST(profile.env_set[0].name == "PGDATA");
  BOOST_TEST(profile.env_set[0].value == "/var/vcap/store/postgres/data");
  BOOST_TEST(profile.env_set[1].value == "");
  BOOST_TEST(profile.env_pass == (std::vector<std::string>{"LANG", "TZ"}));

  // Table order, and core added as 0:0 when absent.
  BOOST_REQUIRE(profile.rlimits.size() == 5U);
  BOOST_TEST(profile.rlimits[0].value.name == "nofile");
  BOOST_TEST(profile.rlimits[0].value.soft == 1024U);
  BOOST_TEST(profile.rlimits[0].value.hard == 4096U);
  BOOST_TEST(profile.rlimits[0].where.line == 10);
  BOOST_TEST(profile.rlimits[1].value.name == "nproc");
  BOOST_TEST(profile.rlimits[1].value.soft == 256U);
  BOOST_TEST(profile.rlimits[1].value.hard == 256U);
  BOOST_TEST(profile.rlimits[2].value.name == "core");
  BOOST_TEST(profile.rlimits[2].value.hard == 0U);
  BOOST_TEST(profile.rlimits[3].value.name == "as");
  BOOST_TEST(profile.rlimits[3].value.soft == (rlim_t{4} << 30));
  BOOST_TEST((profile.rlimits[3].value.hard == RLIM_INFINITY));
  BOOST_TEST(profile.rlimits[4].value.name == "cpu");

  BOOST_REQUIRE(profile.bounding.size() == 2U);
  BOOST_TEST(profile.bounding[0].value.value == CAP_NET_ADMIN);
  BOOST_TEST(profile.bounding[1].value.name == "CAP_NET_RAW");
  BOOST_REQUIRE(profile.ambient.size() == 1U);
  BOOST_TEST(profile.ambient[0].value.name == "CAP_NET_ADMIN");

  BOOST_REQUIRE(profile.seccomp.groups.size() == 1U);
  BOOST_TEST(profile.seccomp.groups[0].value == "base");
  BOOST_TEST(profile.seccomp.allow[0].value == "uname");
  BOOST_TEST((profile.seccomp.default_action == SeccompDefault::kill_process));

  BOOST_TEST(profile.landlock.read.size() == 2U);
  BOOST_TEST(profile.landlock.write[0].value == "/var/vcap/store/postgres");
  BOOST_TEST(profile.landlock.bind_tcp[0].value == 5432);
  BOOST_REQUIRE(profile.landlock.connect_tcp.size() == 2U);
  BOOST_TEST(profile.landlock.connect_tcp[1].value == 5433);
  BOOST_TEST(profile.landlock.required);
  BOOST_REQUIRE(profile.selinux.context);
  BOOST_TEST(profile.selinux.context->value == "system_u:system_r:pgguard_postgres_t:s0");
  BOOST_TEST(!profile.selinux.required);
}

BOOST_AUTO_TEST_CASE(defaults) {
  const Profile profile = profile_from(minimal_profile());
  BOOST_TEST(!profile.group);
  BOOST_TEST(profile.supplementary_groups.empty());
  BOOST_TEST(profile.umask == 0077U);
  BOOST_TEST(!profile.workdir);
  BOOST_TEST(profile.env_set.empty());
  BOOST_TEST(profile.env_pass.empty());
  BOOST_REQUIRE(profile.rlimits.size() == 1U);
  BOOST_TEST(profile.rlimits[0].value.name == "core");
  BOOST_TEST(profile.rlimits[0].value.soft == 0U);
  BOOST_TEST(profile.rlimits[0].value.hard == 0U);
  BOOST_TEST(profile.bounding.empty());
  BOOST_TEST(profile.ambient.empty());
  BOOST_TEST((profile.seccomp.default_action == SeccompDefault::errno_eperm));
  BOOST_TEST(!profile.landlock.required);
  BOOST_TEST(!profile.selinux.context);
}

// The "Bad profiles" of issue 4, and the other validation rules: each error names the file,
// the line and the key.
BOOST_AUTO_TEST_CASE(unknown_key) {
  const auto message = profile_error("user = nobody\nusr = nobody\n[seccomp]\nallow = read\n");
  BOOST_TEST(message == "test.profile:2: usr: unknown key");
  BOOST_TEST(profile_error(minimal_profile() + "[landlock]\nreadonly = /usr\n") ==
             "test.profile:5: landlock.readonly: unknown key");
}

BOOST_AUTO_TEST_CASE(unknown_syscall_name) {
  BOOST_TEST(profile_error("user = nobody\n[seccomp]\nallow = read, no_such_call\n")
                 .starts_with("test.profile:3: seccomp.allow: unknown system call 'no_such_call'"));
}

BOOST_AUTO_TEST_CASE(unknown_syscall_group) {
  const auto message = profile_error("user = nobody\n[seccomp]\ngroup = base\ngroup = nope\n");
  BOOST_TEST(message.starts_with("test.profile:4: seccomp.group: unknown syscall group 'nope'"));
  BOOST_TEST(message.find("base") != std::string::npos);  // lists the known groups
}

BOOST_AUTO_TEST_CASE(killed_syscall_cannot_be_allowed) {
  BOOST_TEST(profile_error("user = nobody\n[seccomp]\nallow = read\nallow = ptrace\n") ==
             "test.profile:4: seccomp.allow: 'ptrace' is on the always-killed list and cannot be "
             "allowed");
}

BOOST_AUTO_TEST_CASE(unknown_capability_name) {
  BOOST_TEST(profile_error(minimal_profile() + "[capabilities]\nbounding = CAP_NET_ADMINN\n") ==
             "test.profile:5: capabilities.bounding: unknown capability 'CAP_NET_ADMINN'");
}

BOOST_AUTO_TEST_CASE(forbidden_capability) {
  BOOST_TEST(profile_error(minimal_profile() + "[capabilities]\nbounding = CAP_SYS_RESOURCE\n")
                 .starts_with("test.profile:5: capabilities.bounding: CAP_SYS_RESOURCE is never "
                              "granted"));
  BOOST_TEST(profile_error(minimal_profile() + "[capabilities]\nbounding = sys_admin\n")
                 .starts_with("test.profile:5: capabilities.bounding: CAP_SYS_ADMIN is never"));
}

BOOST_AUTO_TEST_CASE(ambient_outside_bounding) {
  BOOST_TEST(profile_error(minimal_profile() +
                           "[capabilities]\nbounding = CAP_NET_RAW\nambient = CAP_NET_ADMIN\n") ==
             "test.profile:6: capabilities.ambient: CAP_NET_ADMIN is not in capabilities.bounding");
}

BOOST_AUTO_TEST_CASE(malformed_limits) {
  const std::string base = minimal_profile() + "[rlimit]\n";
  BOOST_TEST(
      profile_error(base + "nofile = lots\n")
          .starts_with("test.profile:5: rlimit.nofile: malformed limit 'lots': soft limit:"));
  BOOST_TEST(
      profile_error(base + "nofile = 4096:1024\n").find("soft limit is above the hard limit") !=
      std::string::npos);
  BOOST_TEST(profile_error(base + "nofile = 1:2:3\n").find("expected 'soft:hard'") !=
             std::string::npos);
  BOOST_TEST(profile_error(base + "nproc = 10K\n").find("only valid for byte limits") !=
             std::string::npos);
  BOOST_TEST(profile_error(base + "nofile = -1\n").find("rlimit.nofile") != std::string::npos);
  BOOST_TEST(profile_error(base + "nofile = 1\nnofile = 2\n").find("given more than once") !=
             std::string::npos);
  BOOST_TEST(profile_error(base + "fds = 1\n") == "test.profile:5: rlimit.fds: unknown key");
}

BOOST_AUTO_TEST_CASE(writable_path_under_read_only_one) {
  const std::string base = minimal_profile() + "[landlock]\nread = /var/vcap/packages\n";
  BOOST_TEST(profile_error(base + "write = /var/vcap/packages/postgres/tmp\n") ==
             "test.profile:6: landlock.write: writable path '/var/vcap/packages/postgres/tmp' is "
             "under the read-only path '/var/vcap/packages' (test.profile:5)");
  BOOST_TEST(profile_error(base + "write = /var/vcap/packages\n").find("is under the read-only") !=
             std::string::npos);
  // A sibling that only shares a prefix is not beneath.
  BOOST_CHECK_NO_THROW(profile_from(base + "write = /var/vcap/packages-data\n"));
  BOOST_TEST(profile_error(minimal_profile() + "[landlock]\nread = /\nwrite = /tmp\n")
                 .find("is under the read-only path '/'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(malformed_paths_ports_and_values) {
  const std::string landlock = minimal_profile() + "[landlock]\n";
  BOOST_TEST(profile_error(landlock + "read = usr\n").find("not an absolute path") !=
             std::string::npos);
  BOOST_TEST(profile_error(landlock + "read = /usr/../etc\n").find("contains '.' or '..'") !=
             std::string::npos);
  BOOST_TEST(profile_error(landlock + "read = /usr/\n").find("not normalized") !=
             std::string::npos);
  BOOST_TEST(profile_error(landlock + "read = /usr\nread = /usr\n").find("listed twice") !=
             std::string::npos);
  BOOST_TEST(profile_error(landlock + "bind_tcp = 70000\n") ==
             "test.profile:5: landlock.bind_tcp: '70000' is not a TCP port (1-65535)");
  BOOST_TEST(profile_error(landlock + "required = maybe\n").find("expected true or false") !=
             std::string::npos);
  BOOST_TEST(profile_error("user = nobody\numask = 0999\n[seccomp]\nallow = read\n")
                 .starts_with("test.profile:2: umask:"));
  BOOST_TEST(profile_error("user = nobody\nenv = NOEQUALS\n[seccomp]\nallow = read\n")
                 .starts_with("test.profile:2: env: expected NAME=value"));
  BOOST_TEST(profile_error("user = nobody\nnice = 20\n[seccomp]\nallow = read\n")
                 .starts_with("test.profile:2: nice:"));
  BOOST_TEST(profile_error("user = nobody\nnice = -5\n[seccomp]\nallow = read\n")
                 .starts_with("test.profile:2: nice: '-5' is not a nice value (0..19"));
  BOOST_TEST(profile_error("user = nobody\n[seccomp]\nallow = read\ndefault_action = trap\n")
                 .starts_with("test.profile:4: seccomp.default_action: expected errno"));
  BOOST_TEST(profile_error(minimal_profile() + "[selinux]\ncontext = unconfined_t\n")
                 .find("is not an SELinux context") != std::string::npos);
  BOOST_TEST(profile_error(minimal_profile() + "[selinux]\nrequired = true\n")
                 .find("selinux.required = true needs a context") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_user_key_and_empty_allowlist) {
  BOOST_TEST(profile_error("[seccomp]\nallow = read\n") ==
             "test.profile: user: required key is missing");
  BOOST_TEST(profile_error("user = nobody\n").find("allows no system call") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(missing_user_or_group_on_the_host) {
  const auto unknown_user = profile_from("user = pgl-no-such-user\n[seccomp]\nallow = read\n");
  BOOST_TEST(error_of([&] { resolve_identity(unknown_user); }) ==
             "test.profile:1: user: user 'pgl-no-such-user' does not exist in /etc/passwd");
  const auto unknown_group = profile_from(
      "user = nobody\nsupplementary_group = pgl-no-such-group\n[seccomp]\nallow = read\n");
  BOOST_TEST(error_of([&] { resolve_identity(unknown_group); }) ==
             "test.profile:2: supplementary_group: group 'pgl-no-such-group' does not exist in "
             "/etc/group");
  const auto root = profile_from("user = root\n[seccomp]\nallow = read\n");
  BOOST_TEST(error_of([&] { resolve_identity(root); }).find("is uid 0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(resolves_identity_by_name) {
  const auto profile =
      profile_from("user = nobody\nsupplementary_group = nogroup\n[seccomp]\nallow = read\n");
  const Identity identity = resolve_identity(profile);
  BOOST_TEST(identity.uid == 65534U);
  BOOST_TEST(identity.gid == 65534U);  // nobody's primary group
  BOOST_REQUIRE(identity.supplementary.size() == 1U);
  BOOST_TEST(identity.supplementary_names[0] == "nogroup");
}

BOOST_AUTO_TEST_SUITE_END()
