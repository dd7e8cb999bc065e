#include "sandbox/seccomp_policy.hpp"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>

#include "common/file_io.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"
#include "sandbox/killed_syscalls.hpp"
#include "sandbox/sha256.hpp"
#include "sandbox/syscall_groups.hpp"

namespace pgguard::sandbox {

namespace {

using namespace std::string_view_literals;

#define PGGUARD_KILLED_NAME(name) std::string_view(#name),
constexpr std::array killed_syscalls{PGGUARD_ALWAYS_KILLED_SYSCALLS(PGGUARD_KILLED_NAME)};
#undef PGGUARD_KILLED_NAME

constexpr std::array launcher_needs{
    "read"sv,   "write"sv, "close"sv,  "brk"sv,        "mmap"sv,
    "munmap"sv, "futex"sv, "execve"sv, "exit_group"sv,
};

std::uint32_t action_of(SeccompDefault action) {
  switch (action) {
    case SeccompDefault::errno_eperm:
      return SCMP_ACT_ERRNO(EPERM);
    case SeccompDefault::kill_process:
      return SCMP_ACT_KILL_PROCESS;
    case SeccompDefault::log:
      return SCMP_ACT_LOG;
  }
  return SCMP_ACT_KILL_PROCESS;
}

// Owns a libseccomp filter context.
class SeccompContext {
 public:
  explicit SeccompContext(std::uint32_t default_action) : ctx_(seccomp_init(default_action)) {
    if (ctx_ == nullptr) {
      throw SystemError("seccomp: seccomp_init", ENOMEM);
    }
  }
  SeccompContext(const SeccompContext&) = delete;
  SeccompContext& operator=(const SeccompContext&) = delete;
  ~SeccompContext() { seccomp_release(ctx_); }
  scmp_filter_ctx get() const { return ctx_; }

 private:
  scmp_filter_ctx ctx_;
};

// libseccomp returns -errno.
void check(int result, const std::string& what) {
  if (result < 0) {
    throw SystemError("seccomp: " + what, -result);
  }
}

constexpr std::string_view kMagic = "PGGUARD-SECCOMP-BPF 1";

[[noreturn]] void refuse(const std::string& path, const std::string& why) {
  throw Error(ExitCode::bad_input, path + ": refusing the seccomp BPF file: " + why +
                                       " (recompile it with 'pgguard-launch compile')");
}

std::string program_digest(const std::string& policy_digest, std::string_view program_bytes) {
  Sha256 hash;
  hash.update(policy_digest);
  hash.update("\n");
  hash.update(program_bytes);
  const auto digest = hash.finish();
  return to_hex(digest);
}

std::string_view program_bytes(const BpfProgram& program) {
  return {reinterpret_cast<const char*>(program.instructions.data()),
          program.instructions.size() * sizeof(sock_filter)};
}

}  // namespace

std::span<const std::string_view> always_killed_syscalls() {
  return killed_syscalls;
}

std::span<const std::string_view> launcher_syscalls() {
  return launcher_needs;
}

bool is_always_killed(std::string_view name) {
  return std::find(killed_syscalls.begin(), killed_syscalls.end(), name) != killed_syscalls.end();
}

int resolve_syscall(std::string_view name) {
  const std::string copy(name);
  return seccomp_syscall_resolve_name(copy.c_str());
}

int resolve_killed_syscall(std::string_view name) {
  const int number = resolve_syscall(name);
  if (number != __NR_SCMP_ERROR) {
    return number;
  }
  const long newer = number_newer_than_the_build_host(name);
  return newer >= 0 ? static_cast<int>(newer) : __NR_SCMP_ERROR;
}

namespace {

[[noreturn]] void refuse_unnumbered_killed(std::string_view name) {
  throw Error(ExitCode::unsupported,
              "seccomp: '" + std::string(name) + "' of the always-killed list is unknown to " +
                  "libseccomp " + libseccomp_version() + " for " + native_arch_name() +
                  " and has no number of its own in src/sandbox/killed_syscalls.hpp: refusing "
                  "a filter that would leave it to the default action");
}

}  // namespace

std::vector<std::string> checked_killed_list(std::span<const std::string_view> names) {
  std::vector<std::string> killed;
  killed.reserve(names.size());
  for (const auto name : names) {
    if (resolve_killed_syscall(name) == __NR_SCMP_ERROR) {
      refuse_unnumbered_killed(name);
    }
    killed.emplace_back(name);
  }
  return killed;
}

std::string native_arch_name() {
  switch (seccomp_arch_native()) {
    case SCMP_ARCH_X86_64:
      return "x86_64";
    case SCMP_ARCH_AARCH64:
      return "aarch64";
    default:
      return "arch-" + std::to_string(seccomp_arch_native());
  }
}

std::string libseccomp_version() {
  const scmp_version* version = seccomp_version();
  return std::to_string(version->major) + "." + std::to_string(version->minor) + "." +
         std::to_string(version->micro);
}

SeccompPolicy make_seccomp_policy(const Profile& profile) {
  SeccompPolicy policy;
  policy.default_action = profile.seccomp.default_action;
  // Views into the groups' static lists and the profile, sorted once: this runs on every
  // launch, and a std::set<std::string> of ~200 names cost a node allocation per name.
  std::vector<std::string_view> allowed;
  for (const auto& group_name : profile.seccomp.groups) {
    const SyscallGroup* group = find_syscall_group(group_name.value);
    if (group == nullptr) {
      throw ConfigError(group_name.where, group_name.key,
                        "unknown syscall group '" + group_name.value + "'");
    }
    allowed.insert(allowed.end(), group->syscalls.begin(), group->syscalls.end());
  }
  for (const auto& name : profile.seccomp.allow) {
    allowed.emplace_back(name.value);
  }
  std::sort(allowed.begin(), allowed.end());
  allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
  const auto is_allowed = [&allowed](std::string_view name) {
    return std::binary_search(allowed.begin(), allowed.end(), name);
  };
  for (const auto name : killed_syscalls) {
    if (is_allowed(name)) {
      throw ConfigError(Location{profile.file, 0}, "seccomp",
                        "the groups of this profile allow '" + std::string(name) +
                            "', which is on the always-killed list");
    }
  }
  // Between loading the filter and execve the launcher still reads /proc/self/status,
  // allocates, may report an error and exit; without these it would crash instead of
  // refusing cleanly, and the target could never start anyway.
  if (policy.default_action != SeccompDefault::log) {
    for (const auto name : launcher_syscalls()) {
      if (!is_allowed(name)) {
        throw ConfigError(profile.seccomp.groups.empty() ? profile.seccomp.allow.front().where
                                                         : profile.seccomp.groups.front().where,
                          "seccomp",
                          "the allowlist lacks '" + std::string(name) +
                              "', which the launcher itself needs after loading the "
                              "filter (group base has it)");
      }
    }
  }
  if (!profile.seccomp.sockets.empty()) {
    if (!is_allowed("socket")) {
      const auto& first = profile.seccomp.sockets.front();
      throw ConfigError(first.where, first.key,
                        "restricts socket(2), which no group or allow of this profile allows");
    }
    for (const auto& rule : profile.seccomp.sockets) {
      policy.socket_rules.push_back(rule.value);
    }
    std::sort(policy.socket_rules.begin(), policy.socket_rules.end(),
              [](const SocketRule& a, const SocketRule& b) { return a.name < b.name; });
  }
  policy.allowed.reserve(allowed.size());
  for (const auto name : allowed) {
    if (name == "socket" && !policy.socket_rules.empty()) {
      continue;  // allowed by the rules below only
    }
    if (name == "clone") {
      policy.clone_without_namespaces = true;
    } else if (std::find(policy.enosys.begin(), policy.enosys.end(), name) == policy.enosys.end()) {
      policy.allowed.emplace_back(name);
    }
  }
  // Every name on the list must reach the filter: one left out would get the default action.
  policy.killed = checked_killed_list(killed_syscalls);
  return policy;
}

std::string SeccompPolicy::canonical_text() const {
  std::string text = "pgguard-seccomp-policy 1\n";
  text.reserve(32 * (allowed.size() + killed.size() + 8));
  text.append("arch ").append(native_arch_name()).append("\n");
  text.append("libseccomp ").append(libseccomp_version()).append("\n");
  text.append("default ").append(to_string(default_action)).append("\n");
  text.append("badarch kill_process\n");
  for (const auto& name : allowed) {
    text.append("allow ").append(name).append("\n");
  }
  if (clone_without_namespaces) {
    text.append("allow clone if (arg0 & ")
        .append(std::to_string(kNamespaceCloneFlags))
        .append(") == 0\n");
  }
  text.append("deny clone if arg0 & ").append(std::to_string(kNamespaceCloneFlags)).append("\n");
  for (const auto& rule : socket_rules) {
    text.append("allow socket if ").append(socket_rule_condition(rule)).append("\n");
  }
  for (const auto& name : enosys) {
    text.append("enosys ").append(name).append("\n");
  }
  for (const auto& name : killed) {
    text.append("kill ")
        .append(name)
        .append(" ")
        .append(std::to_string(resolve_killed_syscall(name)))
        .append("\n");
  }
  return text;
}

std::string SeccompPolicy::digest() const {
  return sha256_hex(canonical_text());
}

BpfProgram compile_seccomp(const SeccompPolicy& policy) {
  SeccompContext context(action_of(policy.default_action));
  check(seccomp_attr_set(context.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
        "set the bad-architecture action");
  // The launcher sets no_new_privs itself, as its own checked step.
  check(seccomp_attr_set(context.get(), SCMP_FLTATR_CTL_NNP, 0), "clear the NNP attribute");
  check(seccomp_attr_set(context.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2), "binary-tree optimisation");

  const auto number_of = [](const std::string& name) {
    const int number = resolve_syscall(name);
    if (number < 0) {
      std::vector<std::string> groups;
      for (const auto& group : syscall_groups()) {
        if (std::find(group.syscalls.begin(), group.syscalls.end(), name) != group.syscalls.end()) {
          groups.emplace_back(group.name);
        }
      }
      throw Error(
          ExitCode::bad_input,
          "seccomp: '" + name + "' is not a system call of " + native_arch_name() +
              " for libseccomp " + libseccomp_version() +
              (groups.empty() ? std::string() : " (named by group " + join(groups, ", ") + ")"));
    }
    return number;
  };
  for (const auto& name : policy.allowed) {
    check(seccomp_rule_add(context.get(), SCMP_ACT_ALLOW, number_of(name), 0), "allow " + name);
  }
  if (!policy.socket_rules.empty()) {
    const int socket = number_of("socket");
    for (const auto& rule : policy.socket_rules) {
      std::vector<scmp_arg_cmp> conditions{
          SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(rule.domain))};
      if (rule.type) {
        conditions.push_back(
            SCMP_A1(SCMP_CMP_MASKED_EQ, kSocketTypeMask, static_cast<scmp_datum_t>(*rule.type)));
      }
      if (rule.protocol) {
        conditions.push_back(SCMP_A2(SCMP_CMP_EQ, static_cast<scmp_datum_t>(*rule.protocol)));
      }
      check(seccomp_rule_add_array(context.get(), SCMP_ACT_ALLOW, socket,
                                   static_cast<unsigned>(conditions.size()), conditions.data()),
            "allow socket " + rule.name);
    }
  }
  const int clone = number_of("clone");
  if (policy.clone_without_namespaces) {
    check(seccomp_rule_add(context.get(), SCMP_ACT_ALLOW, clone, 1,
                           SCMP_A0(SCMP_CMP_MASKED_EQ, kNamespaceCloneFlags, 0)),
          "allow clone without namespace flags");
  }
  // One rule per flag: libseccomp has no "masked not equal", and the rules must not overlap
  // the allow rule above. EPERM even when the default action is 'log' or 'kill_process'; with
  // the default EPERM they are the default (and libseccomp refuses a rule equal to it).
  const bool default_is_eperm = policy.default_action == SeccompDefault::errno_eperm;
  for (unsigned long long flag = 1; flag != 0 && !default_is_eperm; flag <<= 1) {
    if ((kNamespaceCloneFlags & flag) != 0) {
      check(seccomp_rule_add(context.get(), SCMP_ACT_ERRNO(EPERM), clone, 1,
                             SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)),
            "deny clone with namespace flags");
    }
  }
  for (const auto& name : policy.enosys) {
    check(seccomp_rule_add(context.get(), SCMP_ACT_ERRNO(ENOSYS), number_of(name), 0),
          "answer " + name + " with ENOSYS");
  }
  // Under default kill_process the killed list is the default, and libseccomp refuses a rule
  // equal to the default action.
  for (const auto& name : policy.killed) {
    if (policy.default_action == SeccompDefault::kill_process) {
      break;
    }
    // By number: libseccomp takes one it cannot name (lsm_set_self_attr for 2.5.4) as it is.
    const int number = resolve_killed_syscall(name);
    if (number == __NR_SCMP_ERROR) {
      refuse_unnumbered_killed(name);
    }
    check(seccomp_rule_add(context.get(), SCMP_ACT_KILL_PROCESS, number, 0), "kill " + name);
  }

  // libseccomp 2.5 exports only to a file descriptor.
  UniqueFd memory(::memfd_create("pgl-seccomp-bpf", MFD_CLOEXEC));
  if (!memory) {
    throw SystemError("seccomp: memfd_create", errno);
  }
  check(seccomp_export_bpf(context.get(), memory.get()), "export the BPF program");
  struct stat status {};
  if (::fstat(memory.get(), &status) != 0) {
    throw SystemError("seccomp: fstat of the exported program", errno);
  }
  const auto size = static_cast<std::size_t>(status.st_size);
  if (size == 0 || size % sizeof(sock_filter) != 0 || size / sizeof(sock_filter) > BPF_MAXINSNS) {
    throw Error(ExitCode::system,
                "seccomp: exported program has an invalid size of " + std::to_string(size));
  }
  BpfProgram program;
  program.instructions.resize(size / sizeof(sock_filter));
  const ssize_t read_bytes = ::pread(memory.get(), program.instructions.data(), size, 0);
  if (read_bytes < 0 || static_cast<std::size_t>(read_bytes) != size) {
    throw SystemError("seccomp: read the exported program", read_bytes < 0 ? errno : EIO);
  }
  return program;
}

std::string bpf_file_contents(const SeccompPolicy& policy, const BpfProgram& program,
                              const std::string& profile_file) {
  const std::string policy_digest = policy.digest();
  const auto bytes = program_bytes(program);
  std::string text(kMagic);
  text += "\n";
  text += "arch: " + native_arch_name() + "\n";
  text += "libseccomp: " + libseccomp_version() + "\n";
  text += "policy-sha256: " + policy_digest + "\n";
  text += "program-sha256: " + program_digest(policy_digest, bytes) + "\n";
  text += "instructions: " + std::to_string(program.instructions.size()) + "\n";
  text += "profile: " + profile_file + "\n";
  text += "\n";
  text.append(bytes);
  return text;
}

void write_bpf_file(const std::string& path, const SeccompPolicy& policy, const BpfProgram& program,
                    const std::string& profile_file) {
  const std::string contents = bpf_file_contents(policy, program, profile_file);
  // Written beside the target and renamed, so a launcher never reads half a file.
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  UniqueFd file(
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!file) {
    throw SystemError("compile: create " + temporary, errno);
  }
  std::size_t written = 0;
  while (written < contents.size()) {
    const ssize_t result =
        ::write(file.get(), contents.data() + written, contents.size() - written);
    if (result < 0) {
      const int saved = errno;
      ::unlink(temporary.c_str());
      throw SystemError("compile: write " + temporary, saved);
    }
    written += static_cast<std::size_t>(result);
  }
  if (::fsync(file.get()) != 0 || ::rename(temporary.c_str(), path.c_str()) != 0) {
    const int saved = errno;
    ::unlink(temporary.c_str());
    throw SystemError("compile: install " + path, saved);
  }
}

BpfProgram parse_bpf_file(std::string_view contents, const SeccompPolicy& policy,
                          const std::string& path) {
  const auto header_end = contents.find("\n\n");
  if (header_end == std::string_view::npos) {
    refuse(path, "no header");
  }
  const auto header = contents.substr(0, header_end);
  const auto body = contents.substr(header_end + 2);
  const auto lines = split(header, "\n");
  if (lines.empty() || lines[0] != kMagic) {
    refuse(path, "not a pgguard seccomp BPF file of format 1");
  }
  std::map<std::string, std::string> fields;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const auto colon = lines[i].find(": ");
    if (colon == std::string::npos) {
      refuse(path, "malformed header line '" + lines[i] + "'");
    }
    fields[lines[i].substr(0, colon)] = lines[i].substr(colon + 2);
  }
  const auto field = [&](const std::string& name) {
    const auto found = fields.find(name);
    if (found == fields.end()) {
      refuse(path, "header field '" + name + "' is missing");
    }
    return found->second;
  };
  if (field("arch") != native_arch_name()) {
    refuse(path, "compiled for " + field("arch") + ", this is " + native_arch_name());
  }
  if (field("libseccomp") != libseccomp_version()) {
    refuse(path,
           "compiled with libseccomp " + field("libseccomp") + ", this is " + libseccomp_version());
  }
  const std::string policy_digest = policy.digest();
  if (field("policy-sha256") != policy_digest) {
    refuse(path, "stale: it was compiled from a different seccomp policy (policy-sha256 " +
                     field("policy-sha256") + ", the profile's is " + policy_digest + ")");
  }
  std::size_t count = 0;
  const std::string count_text = field("instructions");
  const auto [end, error] =
      std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
  if (error != std::errc() || end != count_text.data() + count_text.size() || count == 0 ||
      count > BPF_MAXINSNS || body.size() != count * sizeof(sock_filter)) {
    refuse(path, "tampered: the program size does not match its header");
  }
  if (field("program-sha256") != program_digest(policy_digest, body)) {
    refuse(path, "tampered: the program does not match its digest");
  }
  BpfProgram program;
  program.instructions.resize(count);
  std::memcpy(program.instructions.data(), body.data(), body.size());
  return program;
}

BpfProgram read_bpf_file(const std::string& path, const SeccompPolicy& policy) {
  // Type checked on the descriptor before any read: a FIFO here would block the launch forever.
  const RegularFile opened = open_regular_file(path, O_NOFOLLOW);
  if (opened.error != 0) {
    throw Error(ExitCode::bad_input,
                path + ": cannot open the seccomp BPF file: " + errno_text(opened.error));
  }
  if (!opened.ok()) {
    refuse(path, opened.problem());
  }
  const int file = opened.fd.get();
  const struct stat& status = opened.status;
  if (status.st_uid != 0 && status.st_uid != ::geteuid()) {
    refuse(path, "owned by uid " + std::to_string(status.st_uid) + ", not by root");
  }
  if ((status.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    refuse(path, "writable by group or others");
  }
  constexpr std::size_t kMaxSize = std::size_t{64} * 1024 + BPF_MAXINSNS * sizeof(sock_filter);
  if (status.st_size < 0 || static_cast<std::size_t>(status.st_size) > kMaxSize) {
    refuse(path, "too large");
  }
  std::string contents(static_cast<std::size_t>(status.st_size), '\0');
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t result = ::read(file, contents.data() + done, contents.size() - done);
    if (result < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw SystemError(path + ": read", errno);
    }
    if (result == 0) {
      break;
    }
    done += static_cast<std::size_t>(result);
  }
  contents.resize(done);
  return parse_bpf_file(contents, policy, path);
}

void load_seccomp(const BpfProgram& program) {
  sock_fprog fprog{};
  fprog.len = static_cast<unsigned short>(program.instructions.size());
  fprog.filter = const_cast<sock_filter*>(program.instructions.data());
  if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) {
    throw SystemError("seccomp: seccomp(SECCOMP_SET_MODE_FILTER)", errno);
  }
}

}  // namespace pgguard::sandbox
