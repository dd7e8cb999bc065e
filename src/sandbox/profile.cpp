#include "sandbox/profile.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "common/strings.hpp"
#include "sandbox/capabilities.hpp"
#include "sandbox/rlimits.hpp"
#include "sandbox/seccomp_policy.hpp"
#include "sandbox/syscall_groups.hpp"

namespace pgguard::sandbox {

// Every value is read from the entries and checked below, so the keys need no Boost schema
// (see ConfigFile::check_keys: this runs on every process start).
std::vector<config::KeyRule> profile_keys() {
  constexpr bool repeatable = true;
  std::vector<config::KeyRule> keys{
      {"user", false, /*required=*/true},
      {"group"},
      {"supplementary_group", repeatable},
      {"umask"},
      {"workdir"},
      {"nice"},
      {"env", repeatable},
      {"env_pass", repeatable},
      {"capabilities.bounding", repeatable},
      {"capabilities.ambient", repeatable},
      {"seccomp.group", repeatable},
      {"seccomp.allow", repeatable},
      {"seccomp.socket", repeatable},
      {"seccomp.default_action"},
      {"seccomp.staging"},
      {"landlock.read", repeatable},
      {"landlock.execute", repeatable},
      {"landlock.write", repeatable},
      {"landlock.write_execute", repeatable},
      {"landlock.bind_tcp", repeatable},
      {"landlock.connect_tcp", repeatable},
      {"landlock.scope", repeatable},
      {"landlock.required"},
      {"selinux.context"},
      {"selinux.required"},
  };
  for (const auto& kind : rlimit_kinds()) {
    keys.push_back({"rlimit." + std::string(kind.name)});
  }
  return keys;
}

namespace {

[[noreturn]] void bad(const config::Entry& entry, const std::string& message) {
  throw ConfigError(entry.where, entry.key, message);
}

bool parse_bool(const config::Entry& entry) {
  if (entry.value == "true" || entry.value == "yes" || entry.value == "1") {
    return true;
  }
  if (entry.value == "false" || entry.value == "no" || entry.value == "0") {
    return false;
  }
  bad(entry, "expected true or false, found '" + entry.value + "'");
}

// Lists may be written one per line or comma/space separated on one line.
std::vector<std::string> list_of(const config::Entry& entry) {
  auto items = split(entry.value, ", \t");
  if (items.empty()) {
    bad(entry, "empty value");
  }
  return items;
}

Sourced<std::string> sourced(const config::Entry& entry) {
  if (entry.value.empty()) {
    bad(entry, "empty value");
  }
  return {entry.value, entry.key, entry.where};
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 32) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

bool is_valid_env_name(std::string_view name) {
  if (name.empty() || (name[0] >= '0' && name[0] <= '9')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// Absolute, no "." or ".." components, no trailing slash (except "/"), no doubled slashes:
// the lexical checks below (a writable path under a read-only one) rely on it.
std::string normalized_path(const config::Entry& entry) {
  const std::string& path = entry.value;
  if (path.empty() || path[0] != '/') {
    bad(entry, "'" + path + "' is not an absolute path");
  }
  for (const auto& component : split(path, "/")) {
    if (component == "." || component == "..") {
      bad(entry, "'" + path + "' contains '.' or '..'");
    }
  }
  if (path.find("//") != std::string::npos || (path.size() > 1 && path.back() == '/')) {
    bad(entry, "'" + path + "' is not normalized (doubled or trailing '/')");
  }
  return path;
}

bool is_beneath(const std::string& path, const std::string& directory) {
  if (directory == "/") {
    return true;
  }
  return path == directory ||
         (path.size() > directory.size() && path.compare(0, directory.size(), directory) == 0 &&
          path[directory.size()] == '/');
}

std::uint16_t parse_port(const config::Entry& entry, const std::string& text) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    bad(entry, "'" + text + "' is not a TCP port (1-65535)");
  }
  return static_cast<std::uint16_t>(value);
}

SeccompDefault parse_default_action(const config::Entry& entry) {
  if (entry.value == "errno") {
    return SeccompDefault::errno_eperm;
  }
  if (entry.value == "kill_process") {
    return SeccompDefault::kill_process;
  }
  if (entry.value == "log") {
    return SeccompDefault::log;
  }
  bad(entry, "expected errno, kill_process or log, found '" + entry.value + "'");
}

void add_capabilities(const config::Entry& entry, std::vector<Sourced<Capability>>& into) {
  for (const auto& name : list_of(entry)) {
    const auto capability = find_capability(name);
    if (!capability) {
      bad(entry, "unknown capability '" + name + "'");
    }
    if (is_forbidden_capability(capability->value)) {
      bad(entry, capability->name + " is never granted: it would let the process undo its sandbox");
    }
    const bool duplicate = std::any_of(into.begin(), into.end(), [&](const auto& existing) {
      return existing.value.value == capability->value;
    });
    if (duplicate) {
      bad(entry, capability->name + " is listed twice");
    }
    into.push_back({*capability, entry.key, entry.where});
  }
}

// [rlimit]: one limit per key; the table's order and the core default come after the entries.
void parse_rlimit_entry(const config::Entry& entry, Profile& profile) {
  const auto name = entry.key.substr(std::string("rlimit.").size());
  const RlimitKind* kind = find_rlimit_kind(name);
  LimitPair pair{};
  if (auto error = parse_limit(entry.value, kind->unit, pair)) {
    bad(entry, "malformed limit '" + entry.value + "': " + *error);
  }
  profile.rlimits.push_back(
      {RlimitSetting{std::string(kind->name), kind->resource, pair.soft, pair.hard}, entry.key,
       entry.where});
}

// No core dump unless the profile says otherwise; apply and explain in the table's order,
// whatever the file's order.
void complete_rlimits(const config::ConfigFile& file, Profile& profile) {
  const bool core_given =
      std::any_of(profile.rlimits.begin(), profile.rlimits.end(),
                  [](const Sourced<RlimitSetting>& limit) { return limit.value.name == "core"; });
  if (!core_given) {
    const RlimitKind* core = find_rlimit_kind("core");
    profile.rlimits.push_back({RlimitSetting{"core", core->resource, 0, 0}, "rlimit.core",
                               Location{file.file_name(), 0}});
  }
  const auto rank = [](const Sourced<RlimitSetting>& limit) {
    const auto kinds = rlimit_kinds();
    return std::find_if(kinds.begin(), kinds.end(),
                        [&](const RlimitKind& kind) { return kind.name == limit.value.name; }) -
           kinds.begin();
  };
  std::stable_sort(profile.rlimits.begin(), profile.rlimits.end(),
                   [&](const auto& a, const auto& b) { return rank(a) < rank(b); });
}

std::vector<Sourced<std::string>>* landlock_paths_of(const std::string& key,
                                                     LandlockSection& section) {
  if (key == "landlock.read") {
    return &section.read;
  }
  if (key == "landlock.execute") {
    return &section.execute;
  }
  if (key == "landlock.write") {
    return &section.write;
  }
  if (key == "landlock.write_execute") {
    return &section.write_execute;
  }
  return nullptr;
}

// A path may appear once in all four lists; nothing writable may lie beneath a read-only or
// executable path (it would inherit execute, or make "read-only" untrue beneath it), and
// nothing executable beneath a writable path: a file written there could then be run. The
// same overlap through a symlink or a bind mount is caught again on the opened paths
// (landlock.cpp, write_execute_overlap).
void check_landlock_paths(const LandlockSection& section) {
  std::map<std::string, const Sourced<std::string>*> seen;
  for (const auto* list :
       {&section.read, &section.execute, &section.write, &section.write_execute}) {
    for (const auto& path : *list) {
      const auto [earlier, inserted] = seen.emplace(path.value, &path);
      if (!inserted) {
        throw ConfigError(path.where, path.key,
                          "'" + path.value + "' is listed twice (also " +
                              earlier->second->where.to_string() + ": " + earlier->second->key +
                              ")");
      }
    }
  }
  for (const auto* writable : {&section.write, &section.write_execute}) {
    for (const auto& write : *writable) {
      for (const auto* above : {&section.read, &section.execute}) {
        for (const auto& other : *above) {
          if (is_beneath(write.value, other.value)) {
            throw ConfigError(write.where, write.key,
                              "writable path '" + write.value + "' is under the " +
                                  (above == &section.read ? "read-only" : "executable") +
                                  " path '" + other.value + "' (" + other.where.to_string() + ")");
          }
        }
      }
    }
  }
  for (const auto& executable : section.execute) {
    for (const auto& write : section.write) {
      if (is_beneath(executable.value, write.value)) {
        throw ConfigError(executable.where, executable.key,
                          "executable path '" + executable.value +
                              "' is under the writable path '" + write.value + "' (" +
                              write.where.to_string() +
                              "): a file written there could be run; say write_execute to "
                              "allow both");
      }
    }
  }
}

void check_ambient_bounded(const Profile& profile) {
  for (const auto& ambient : profile.ambient) {
    const bool bounded = std::any_of(
        profile.bounding.begin(), profile.bounding.end(),
        [&](const auto& bounding) { return bounding.value.value == ambient.value.value; });
    if (!bounded) {
      throw ConfigError(ambient.where, ambient.key,
                        ambient.value.name + " is not in capabilities.bounding");
    }
  }
}

void check_syscall_names(const SeccompSection& seccomp) {
  for (const auto& name : seccomp.allow) {
    if (is_always_killed(name.value)) {
      throw ConfigError(name.where, name.key,
                        "'" + name.value + "' is on the always-killed list and cannot be allowed");
    }
    if (resolve_syscall(name.value) < 0) {
      throw ConfigError(name.where, name.key,
                        "unknown system call '" + name.value + "' (for " + native_arch_name() +
                            ", libseccomp " + libseccomp_version() + ")");
    }
  }
  for (const auto& group_name : seccomp.groups) {
    const SyscallGroup* group = find_syscall_group(group_name.value);
    if (group == nullptr) {
      std::vector<std::string> known;
      for (const auto& candidate : syscall_groups()) {
        known.emplace_back(candidate.name);
      }
      throw ConfigError(
          group_name.where, group_name.key,
          "unknown syscall group '" + group_name.value + "' (known: " + join(known, ", ") + ")");
    }
    // The groups' own names are build-time data, checked by the unit tests against the
    // libseccomp the programs link; compiling the filter resolves every name again and names
    // the group of one this libseccomp does not know. Not resolving ~200 names here keeps them
    // off the launch path, where a BPF file's digest already proves they compiled.
  }
}

// 'log' allows every system call outside the allowlist. It exists to stage a new profile
// (docs/sandbox.md, "Writing a profile"), so it must be asked for twice: a profile that says
// log without the staging switch is a mistake on its way to production.
void check_staging(const SeccompSection& seccomp) {
  if (seccomp.default_action == SeccompDefault::log && !seccomp.staging) {
    throw ConfigError(seccomp.default_action_where, "seccomp.default_action",
                      "'log' allows every system call outside the allowlist (it only logs "
                      "them): it is for staging a new profile and needs 'staging = true' in "
                      "[seccomp] beside it");
  }
  if (seccomp.staging && seccomp.default_action != SeccompDefault::log) {
    throw ConfigError(seccomp.staging_where, "seccomp.staging",
                      std::string("staging = true needs default_action = log (it is ") +
                          to_string(seccomp.default_action) +
                          "): remove the switch when the profile leaves staging");
  }
}

void check_seccomp(const SeccompSection& seccomp, const Location& whole) {
  check_syscall_names(seccomp);
  check_staging(seccomp);
  if (seccomp.groups.empty() && seccomp.allow.empty()) {
    throw ConfigError(whole, "seccomp.group",
                      "the profile allows no system call (name at least one group, e.g. base)");
  }
}

void check_consistency(const config::ConfigFile& file, const Profile& profile) {
  const Location whole{file.file_name(), 0};
  check_ambient_bounded(profile);
  check_landlock_paths(profile.landlock);
  check_seccomp(profile.seccomp, whole);
  if (profile.selinux.required && !profile.selinux.context) {
    throw ConfigError(whole, "selinux.context", "selinux.required = true needs a context");
  }
}

mode_t parse_umask(const config::Entry& entry) {
  unsigned value = 0;
  const auto [end, error] =
      std::from_chars(entry.value.data(), entry.value.data() + entry.value.size(), value, 8);
  if (entry.value.empty() || error != std::errc() ||
      end != entry.value.data() + entry.value.size() || value > 0777) {
    bad(entry, "'" + entry.value + "' is not an octal umask (e.g. 0077)");
  }
  return static_cast<mode_t>(value);
}

int parse_nice(const config::Entry& entry) {
  int value = 0;
  const auto [end, error] =
      std::from_chars(entry.value.data(), entry.value.data() + entry.value.size(), value);
  if (entry.value.empty() || error != std::errc() ||
      end != entry.value.data() + entry.value.size() || value < 0 || value > 19) {
    bad(entry,
        "'" + entry.value +
            "' is not a nice value (0..19; a sandboxed process never gets a higher priority)");
  }
  return value;
}

// The keys before any section: who the process runs as, and in what environment.
void parse_identity_entry(const config::Entry& entry, Profile& profile) {
  const std::string& key = entry.key;
  if (key == "user" || key == "group") {
    if (!is_valid_name(entry.value)) {
      bad(entry, "'" + entry.value + "' is not a valid " + key + " name");
    }
    (key == "user" ? profile.user : profile.group.emplace()) = sourced(entry);
  } else if (key == "supplementary_group") {
    for (const auto& name : list_of(entry)) {
      if (!is_valid_name(name)) {
        bad(entry, "'" + name + "' is not a valid group name");
      }
      profile.supplementary_groups.push_back({name, entry.key, entry.where});
    }
  } else if (key == "umask") {
    profile.umask = parse_umask(entry);
  } else if (key == "workdir") {
    profile.workdir = Sourced<std::string>{normalized_path(entry), entry.key, entry.where};
  } else if (key == "nice") {
    profile.nice = parse_nice(entry);
  } else if (key == "env") {
    const auto equals = entry.value.find('=');
    if (equals == std::string::npos || !is_valid_env_name(entry.value.substr(0, equals))) {
      bad(entry, "expected NAME=value, found '" + entry.value + "'");
    }
    profile.env_set.push_back({entry.value.substr(0, equals), entry.value.substr(equals + 1)});
  } else if (key == "env_pass") {
    for (const auto& name : list_of(entry)) {
      if (!is_valid_env_name(name)) {
        bad(entry, "'" + name + "' is not an environment variable name");
      }
      profile.env_pass.push_back(name);
    }
  }
}

void parse_capabilities_entry(const config::Entry& entry, Profile& profile) {
  if (entry.key == "capabilities.bounding") {
    add_capabilities(entry, profile.bounding);
  } else if (entry.key == "capabilities.ambient") {
    add_capabilities(entry, profile.ambient);
  }
}

void add_socket_rules(const config::Entry& entry, SeccompSection& seccomp) {
  for (const auto& text : list_of(entry)) {
    std::string why;
    auto rule = parse_socket_rule(text, why);
    if (!rule) {
      bad(entry, why);
    }
    for (const auto& earlier : seccomp.sockets) {
      if (earlier.value.name == rule->name) {
        bad(entry, "'" + rule->name + "' is listed twice");
      }
    }
    seccomp.sockets.push_back({std::move(*rule), entry.key, entry.where});
  }
}

void parse_seccomp_entry(const config::Entry& entry, SeccompSection& seccomp) {
  const std::string& key = entry.key;
  if (key == "seccomp.group") {
    for (const auto& name : list_of(entry)) {
      seccomp.groups.push_back({name, entry.key, entry.where});
    }
  } else if (key == "seccomp.allow") {
    for (const auto& name : list_of(entry)) {
      seccomp.allow.push_back({name, entry.key, entry.where});
    }
  } else if (key == "seccomp.socket") {
    add_socket_rules(entry, seccomp);
  } else if (key == "seccomp.default_action") {
    seccomp.default_action = parse_default_action(entry);
    seccomp.default_action_where = entry.where;
  } else if (key == "seccomp.staging") {
    seccomp.staging = parse_bool(entry);
    seccomp.staging_where = entry.where;
  }
}

void parse_landlock_entry(const config::Entry& entry, LandlockSection& landlock) {
  const std::string& key = entry.key;
  if (auto* paths = landlock_paths_of(key, landlock)) {
    paths->push_back({normalized_path(entry), entry.key, entry.where});
  } else if (key == "landlock.bind_tcp" || key == "landlock.connect_tcp") {
    auto& ports = key == "landlock.bind_tcp" ? landlock.bind_tcp : landlock.connect_tcp;
    for (const auto& text : list_of(entry)) {
      ports.push_back({parse_port(entry, text), entry.key, entry.where});
    }
  } else if (key == "landlock.scope") {
    for (const auto& name : list_of(entry)) {
      if (name != "abstract_unix_socket" && name != "signal") {
        bad(entry, "expected abstract_unix_socket or signal, found '" + name + "'");
      }
      landlock.scope.push_back({name, entry.key, entry.where});
    }
  } else if (key == "landlock.required") {
    landlock.required = parse_bool(entry);
  }
}

void parse_selinux_entry(const config::Entry& entry, SelinuxSection& selinux) {
  if (entry.key == "selinux.context") {
    if (std::count(entry.value.begin(), entry.value.end(), ':') < 3) {
      bad(entry, "'" + entry.value + "' is not an SELinux context (user:role:type:level)");
    }
    selinux.context = sourced(entry);
  } else if (entry.key == "selinux.required") {
    selinux.required = parse_bool(entry);
  }
}

// One entry, by the section its key names ("rlimit.nofile": rlimit; "user": none, the
// identity). The keys were checked against profile_keys() before.
void parse_entry(const config::Entry& entry, Profile& profile) {
  const std::string_view key = entry.key;
  const auto dot = key.find('.');
  const std::string_view section = dot == std::string_view::npos ? "" : key.substr(0, dot);
  if (section.empty()) {
    parse_identity_entry(entry, profile);
  } else if (section == "rlimit") {
    parse_rlimit_entry(entry, profile);
  } else if (section == "capabilities") {
    parse_capabilities_entry(entry, profile);
  } else if (section == "seccomp") {
    parse_seccomp_entry(entry, profile.seccomp);
  } else if (section == "landlock") {
    parse_landlock_entry(entry, profile.landlock);
  } else if (section == "selinux") {
    parse_selinux_entry(entry, profile.selinux);
  }
}

}  // namespace

const char* to_string(SeccompDefault action) {
  switch (action) {
    case SeccompDefault::errno_eperm:
      return "errno";
    case SeccompDefault::kill_process:
      return "kill_process";
    case SeccompDefault::log:
      return "log";
  }
  return "?";
}

Profile parse_profile(const config::ConfigFile& file) {
  // Unknown keys, repeated single keys and the required user first.
  file.check_keys(profile_keys());

  Profile profile;
  profile.file = file.file_name();
  // In the file's order, so that the first error is the first in the file.
  for (const auto& entry : file.entries()) {
    parse_entry(entry, profile);
  }
  complete_rlimits(file, profile);
  check_consistency(file, profile);
  return profile;
}

Profile load_profile(const std::string& path) {
  return parse_profile(config::ConfigFile::load(path, kMaxProfileSize));
}

}  // namespace pgguard::sandbox
