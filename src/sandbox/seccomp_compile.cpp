#include "sandbox/seccomp_compile.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/error.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"
#include "sandbox/syscall_groups.hpp"

namespace pgguard::sandbox {

namespace {

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

// The number of a name the policy allows; one this libseccomp does not know for this
// architecture is refused, naming the groups that list it.
int number_of(const std::string& name) {
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
}

void set_attributes(const SeccompContext& context) {
  check(seccomp_attr_set(context.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS),
        "set the bad-architecture action");
  // The launcher sets no_new_privs itself, as its own checked step.
  check(seccomp_attr_set(context.get(), SCMP_FLTATR_CTL_NNP, 0), "clear the NNP attribute");
  check(seccomp_attr_set(context.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2), "binary-tree optimisation");
}

void add_allowed(const SeccompContext& context, const SeccompPolicy& policy) {
  for (const auto& name : policy.allowed) {
    check(seccomp_rule_add(context.get(), SCMP_ACT_ALLOW, number_of(name), 0), "allow " + name);
  }
}

// The argument filter of one socket(2) rule: the family always, the type under
// kSocketTypeMask, the netlink protocol exactly.
std::vector<scmp_arg_cmp> socket_conditions(const SocketRule& rule) {
  std::vector<scmp_arg_cmp> conditions{
      SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(rule.domain))};
  if (rule.type) {
    conditions.push_back(
        SCMP_A1(SCMP_CMP_MASKED_EQ, kSocketTypeMask, static_cast<scmp_datum_t>(*rule.type)));
  }
  if (rule.protocol) {
    conditions.push_back(SCMP_A2(SCMP_CMP_EQ, static_cast<scmp_datum_t>(*rule.protocol)));
  }
  return conditions;
}

void add_socket_rules(const SeccompContext& context, const SeccompPolicy& policy) {
  if (policy.socket_rules.empty()) {
    return;
  }
  const int socket = number_of("socket");
  for (const auto& rule : policy.socket_rules) {
    const auto conditions = socket_conditions(rule);
    check(seccomp_rule_add_array(context.get(), SCMP_ACT_ALLOW, socket,
                                 static_cast<unsigned>(conditions.size()), conditions.data()),
          "allow socket " + rule.name);
  }
}

void add_clone_rules(const SeccompContext& context, const SeccompPolicy& policy) {
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
}

void add_enosys(const SeccompContext& context, const SeccompPolicy& policy) {
  for (const auto& name : policy.enosys) {
    check(seccomp_rule_add(context.get(), SCMP_ACT_ERRNO(ENOSYS), number_of(name), 0),
          "answer " + name + " with ENOSYS");
  }
}

void add_killed(const SeccompContext& context, const SeccompPolicy& policy) {
  // Under default kill_process the killed list is the default, and libseccomp refuses a rule
  // equal to the default action.
  for (const auto& name : policy.killed) {
    if (policy.default_action == SeccompDefault::kill_process) {
      break;
    }
    // By number: libseccomp takes one it cannot name (lsm_set_self_attr for 2.5.4) as it is.
    const int number = killed_syscall_number(name);
    check(seccomp_rule_add(context.get(), SCMP_ACT_KILL_PROCESS, number, 0), "kill " + name);
  }
}

BpfProgram export_program(const SeccompContext& context) {
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

}  // namespace

BpfProgram compile_seccomp(const SeccompPolicy& policy) {
  SeccompContext context(action_of(policy.default_action));
  set_attributes(context);
  add_allowed(context, policy);
  add_socket_rules(context, policy);
  add_clone_rules(context, policy);
  add_enosys(context, policy);
  add_killed(context, policy);
  return export_program(context);
}

}  // namespace pgguard::sandbox
