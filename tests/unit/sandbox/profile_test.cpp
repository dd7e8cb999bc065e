#include "sandbox/profile.hpp"

#include <sys/capability.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "sandbox/identity.hpp"
#include "sandbox/rlimits.hpp"
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

BOOST_AUTO_TEST_CASE(socket_rules) {
  const auto profile =
      profile_from(minimal_profile() +
                   "socket = AF_UNIX, AF_NETLINK:NETLINK_ROUTE\nsocket = AF_PACKET:SOCK_DGRAM\n");
  BOOST_REQUIRE(profile.seccomp.sockets.size() == 3U);
  BOOST_TEST(profile.seccomp.sockets[0].value.name == "AF_UNIX");
  BOOST_TEST(profile.seccomp.sockets[0].value.domain == AF_UNIX);
  BOOST_TEST(!profile.seccomp.sockets[0].value.type.has_value());
  BOOST_TEST(!profile.seccomp.sockets[0].value.protocol.has_value());
  BOOST_TEST(profile.seccomp.sockets[1].value.name == "AF_NETLINK:NETLINK_ROUTE");
  BOOST_TEST(profile.seccomp.sockets[1].value.protocol.value_or(-1) == 0);
  BOOST_TEST(profile.seccomp.sockets[2].value.type.value_or(-1) == SOCK_DGRAM);
  BOOST_TEST(profile.seccomp.sockets[2].where.line == 5);

  const auto error = [](const std::string& value) {
    return profile_error(minimal_profile() + "socket = " + value + "\n");
  };
  BOOST_TEST(error("AF_BLUETOOTH")
                 .starts_with("test.profile:4: seccomp.socket: unknown address family "
                              "'AF_BLUETOOTH' (known: AF_UNIX, "));
  BOOST_TEST(
      error("af_unix").starts_with("test.profile:4: seccomp.socket: unknown address family"));
  BOOST_TEST(
      error("AF_NETLINK:SOCK_RAW")
          .starts_with("test.profile:4: seccomp.socket: AF_NETLINK takes a netlink protocol, "
                       "not 'SOCK_RAW'"));
  BOOST_TEST(error("AF_INET:NETLINK_ROUTE")
                 .starts_with("test.profile:4: seccomp.socket: AF_INET takes a socket type, not "
                              "'NETLINK_ROUTE'"));
  BOOST_TEST(error("AF_INET:").find("takes a socket type, not ''") != std::string::npos);
  BOOST_TEST(error("AF_INET:SOCK_DGRAM:0").find("takes a socket type") != std::string::npos);
  BOOST_TEST(error("AF_UNIX, AF_UNIX") ==
             "test.profile:4: seccomp.socket: 'AF_UNIX' is listed twice");
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
  BOOST_TEST(profile_error(base + "write = /var/vcap/packages\n").find("listed twice") !=
             std::string::npos);
  // A sibling that only shares a prefix is not beneath.
  BOOST_CHECK_NO_THROW(profile_from(base + "write = /var/vcap/packages-data\n"));
  BOOST_TEST(profile_error(minimal_profile() + "[landlock]\nread = /\nwrite = /tmp\n")
                 .find("is under the read-only path '/'") != std::string::npos);
}

// W^X: nothing the process may write may it execute, unless the profile says write_execute.
BOOST_AUTO_TEST_CASE(writable_and_executable_paths_never_overlap) {
  const std::string landlock = minimal_profile() + "[landlock]\n";
  BOOST_TEST(profile_error(landlock + "write = /var/vcap/data\nexecute = /var/vcap/data/bin\n") ==
             "test.profile:6: landlock.execute: executable path '/var/vcap/data/bin' is under the "
             "writable path '/var/vcap/data' (test.profile:5): a file written there could be "
             "run; say write_execute to allow both");
  BOOST_TEST(profile_error(landlock + "execute = /opt\nwrite = /opt/tmp\n") ==
             "test.profile:6: landlock.write: writable path '/opt/tmp' is under the executable "
             "path '/opt' (test.profile:5)");
  BOOST_TEST(profile_error(landlock + "execute = /opt\nwrite_execute = /opt/jit\n")
                 .find("is under the executable path '/opt'") != std::string::npos);
  // The same path in two lists is one mistake, whichever lists they are.
  BOOST_TEST(profile_error(landlock + "read = /opt\nexecute = /opt\n") ==
             "test.profile:6: landlock.execute: '/opt' is listed twice (also test.profile:5: "
             "landlock.read)");
  BOOST_TEST(
      profile_error(landlock + "write = /opt\nwrite_execute = /opt\n").find("listed twice") !=
      std::string::npos);

  // Said explicitly, both are allowed; reading beneath a writable path is no overlap.
  const Profile waived =
      profile_from(landlock +
                   "write_execute = /var/vcap/data/jit\nexecute = /var/vcap/data/jit/bin\n"
                   "write = /var/vcap/store\nread = /var/vcap/store/conf\n");
  BOOST_TEST(waived.landlock.write_execute.size() == 1U);
  BOOST_TEST(waived.landlock.execute.size() == 1U);
  BOOST_TEST(waived.landlock.read.size() == 1U);
  BOOST_TEST(waived.landlock.write.size() == 1U);
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

// default_action = log allows every system call outside the allowlist: only with the explicit
// staging switch, which in turn means nothing without log.
BOOST_AUTO_TEST_CASE(log_needs_the_staging_switch) {
  const std::string base = "user = nobody\n[seccomp]\nallow = read\n";
  BOOST_TEST(profile_error(base + "default_action = log\n") ==
             "test.profile:4: seccomp.default_action: 'log' allows every system call outside the "
             "allowlist (it only logs them): it is for staging a new profile and needs 'staging = "
             "true' in [seccomp] beside it");
  BOOST_TEST(profile_error(base + "default_action = log\nstaging = false\n")
                 .starts_with("test.profile:4: seccomp.default_action: 'log' allows every"));
  BOOST_TEST(profile_error(base + "staging = true\n") ==
             "test.profile:4: seccomp.staging: staging = true needs default_action = log (it is "
             "errno): remove the switch when the profile leaves staging");
  BOOST_TEST(profile_error(base + "staging = true\ndefault_action = kill_process\n")
                 .starts_with("test.profile:4: seccomp.staging: staging = true needs"));
  BOOST_TEST(profile_error(base + "staging = maybe\n")
                 .starts_with("test.profile:4: seccomp.staging: expected true or false"));

  const auto staging = profile_from(base + "staging = true\ndefault_action = log\n");
  BOOST_TEST(staging.seccomp.staging);
  BOOST_TEST(staging.seccomp.staging_where.line == 4);
  BOOST_TEST((staging.seccomp.default_action == SeccompDefault::log));
  const auto production = profile_from(base + "staging = false\n");
  BOOST_TEST(!production.seccomp.staging);
}

namespace {

// One valid value for every key of a profile, and the lines the key needs beside it to be valid.
struct FieldCase {
  std::string key;  // as profile_keys() names it
  std::string value;
  std::string also = {};  // further "key = value" lines of the same section
};

std::vector<FieldCase> field_cases() {
  std::vector<FieldCase> cases{
      {"user", "nobody"},
      {"group", "nogroup"},
      {"supplementary_group", "nogroup"},
      {"umask", "0027"},
      {"workdir", "/var/vcap/store"},
      {"nice", "10"},
      {"env", "PGDATA=/var/vcap/store"},
      {"env_pass", "LANG"},
      {"capabilities.bounding", "CAP_NET_RAW"},
      {"capabilities.ambient", "CAP_NET_RAW", "bounding = CAP_NET_RAW\n"},
      {"seccomp.group", "base"},
      {"seccomp.allow", "clone"},
      {"seccomp.socket", "AF_NETLINK:NETLINK_ROUTE"},
      {"seccomp.default_action", "kill_process"},
      {"seccomp.staging", "true", "default_action = log\n"},
      {"landlock.read", "/var"},
      {"landlock.execute", "/usr"},
      {"landlock.write", "/var/tmp"},
      {"landlock.write_execute", "/var/jit"},
      {"landlock.bind_tcp", "5432"},
      {"landlock.connect_tcp", "5432"},
      {"landlock.scope", "signal"},
      {"landlock.required", "true"},
      {"selinux.context", "system_u:system_r:pgguard_postgres_t:s0"},
      {"selinux.required", "false", "context = system_u:system_r:pgguard_postgres_t:s0\n"},
  };
  for (const auto& kind : rlimit_kinds()) {
    cases.push_back({"rlimit." + std::string(kind.name), "16"});
  }
  return cases;
}

// A whole profile with `value` given to the case's key, on a line of its own; sets `line`.
std::string profile_with(const FieldCase& field, const std::string& value, int& line) {
  const auto dot = field.key.find('.');
  std::string text = field.key == "user" ? "" : "user = nobody\n";
  text += "[seccomp]\ngroup = base\n";
  const std::string section = dot == std::string::npos ? "" : field.key.substr(0, dot);
  const std::string name = dot == std::string::npos ? field.key : field.key.substr(dot + 1);
  text += section.empty() ? "[nothing]\n" : "[" + section + "]\n";
  if (section.empty()) {
    // Top-level keys come before any section.
    text = field.key + " = " + value + "\n" + text;
    line = 1;
  } else {
    text += field.also;
    line = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
    text += name + " = " + value + "\n";
  }
  return text;
}

}  // namespace

// Issue 18, item 16: a NUL (or any control character) inside a value is refused for every key of
// a profile, naming file, line and key; the same value without it is accepted.
BOOST_AUTO_TEST_CASE(control_characters_are_refused_in_every_field) {
  const auto cases = field_cases();
  std::vector<std::string> covered;
  for (const auto& field : cases) {
    covered.push_back(field.key);
    BOOST_TEST_CONTEXT("key " << field.key) {
      int line = 0;
      const auto valid = profile_with(field, field.value, line);
      BOOST_CHECK_NO_THROW(profile_from(valid));
      for (const char control : {'\0', '\x01', '\x1b', '\x7f'}) {
        const auto text = profile_with(field, field.value + control + "x", line);
        const auto message = profile_error(text);
        const std::string where = "test.profile:" + std::to_string(line) + ": " + field.key + ": ";
        BOOST_TEST(message.starts_with(where + "control character 0x"), message);
        BOOST_TEST(message.find("printable text") != std::string::npos, message);
      }
    }
  }
  // Every key of the profile has its case: a new key cannot go untested.
  std::vector<std::string> keys;
  for (const auto& rule : profile_keys()) {
    keys.push_back(rule.key);
  }
  std::sort(keys.begin(), keys.end());
  std::sort(covered.begin(), covered.end());
  BOOST_TEST(keys == covered, boost::test_tools::per_element());
}

// The cases of the issue: each NUL value used to pass every check and be applied cut short.
BOOST_AUTO_TEST_CASE(nul_values_of_the_issue_are_refused) {
  const std::string nul_x = std::string(1, '\0') + "x";
  // clone\0x: unknown to the checks, applied as an unconditional allow of clone.
  BOOST_TEST(profile_error(minimal_profile() + "allow = clone" + nul_x + "\n") ==
             "test.profile:4: seccomp.allow: control character 0x00 (NUL) at column 14: keys and "
             "values must be printable text");
  // clone3\0x (clone3 then worked instead of ENOSYS), ptrace\0x (ran instead of being killed).
  BOOST_TEST(profile_error(minimal_profile() + "allow = clone3" + nul_x + "\n")
                 .starts_with("test.profile:4: seccomp.allow: control character 0x00"));
  BOOST_TEST(profile_error(minimal_profile() + "allow = ptrace" + nul_x + "\n")
                 .starts_with("test.profile:4: seccomp.allow: control character 0x00"));
  // /var\0x beside /var/tmp: not "/var" to the beneath check, "/var" to Landlock.
  BOOST_TEST(
      profile_error(minimal_profile() + "[landlock]\nread = /var" + nul_x + "\nwrite = /var/tmp\n")
          .starts_with("test.profile:5: landlock.read: control character 0x00"));
  BOOST_TEST(profile_error(minimal_profile() + "[landlock]\nread = /var\nwrite = /var/tmp\n")
                 .find("is under the read-only path '/var'") != std::string::npos);
  BOOST_TEST(profile_error("user = nobody\nenv = A=b" + nul_x + "\n[seccomp]\nallow = read\n")
                 .starts_with("test.profile:2: env: control character 0x00"));
  BOOST_TEST(profile_error("user = nobody\nworkdir = /tmp" + nul_x + "\n[seccomp]\nallow = read\n")
                 .starts_with("test.profile:2: workdir: control character 0x00"));
  BOOST_TEST(profile_error(minimal_profile() + "[selinux]\ncontext = a:b:c:s0" + nul_x + "\n")
                 .starts_with("test.profile:5: selinux.context: control character 0x00"));
}

// load_profile reads a profile of up to 1 MiB and refuses a byte more, naming the cap.
BOOST_AUTO_TEST_CASE(load_profile_caps_the_size) {
  char pattern[] = "/tmp/pgl-unit-XXXXXX";
  BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
  const std::string path = std::string(pattern) + "/padded.profile";
  const std::string text = minimal_profile() + "#";
  std::ofstream(path) << text << std::string(kMaxProfileSize - text.size(), 'x');
  BOOST_CHECK_NO_THROW(load_profile(path));
  std::ofstream(path, std::ios::app) << "x";
  BOOST_TEST(error_of([&] { load_profile(path); }) ==
             path + ": the file is 1048577 bytes, more than the 1 MiB such a file may have");
  ::unlink(path.c_str());
  ::rmdir(pattern);
}

BOOST_AUTO_TEST_SUITE_END()
