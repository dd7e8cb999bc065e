#include "sandbox/selinux_context.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "common/unique_fd.hpp"

// The launcher talks to the kernel's SELinux interface directly rather than through libselinux:
// libselinux's library constructor runs in every process that links it, before main, and looks
// for selinuxfs (statfs twice, /proc/filesystems, /etc/selinux/config, and /proc/self/mountinfo
// where selinuxfs is registered but not at its usual place) -- a measurable part of every launch
// (docs/sandbox.md). The launcher needs two facts, each one system call.
namespace pgguard::sandbox {

bool selinux_enabled() {
  // libselinux's rule: enabled when a writable selinuxfs is mounted (a read-only one, as in
  // containers, counts as disabled). Every kernel since 3.0 mounts it at /sys/fs/selinux.
  struct statfs status {};
  return ::statfs("/sys/fs/selinux", &status) == 0 &&
         static_cast<std::uint32_t>(status.f_type) == static_cast<std::uint32_t>(SELINUX_MAGIC) &&
         (status.f_flags & ST_RDONLY) == 0;
}

std::optional<bool> selinux_enforcing() {
  if (!selinux_enabled()) {
    return std::nullopt;
  }
  const UniqueFd file(::open("/sys/fs/selinux/enforce", O_RDONLY | O_CLOEXEC));
  char state = 0;
  if (!file || ::read(file.get(), &state, 1) != 1 || (state != '0' && state != '1')) {
    return std::nullopt;
  }
  return state == '1';
}

SelinuxPlan plan_selinux(const Profile& profile, bool enabled, bool enforcing,
                         UnmetRequirement unmet) {
  SelinuxPlan plan;
  plan.enabled = enabled;
  const auto& context = profile.selinux.context;
  if (!context) {
    return plan;
  }
  const auto refuse = [&](const std::string& why) {
    const std::string message = context->where.to_string() + ": " + context->key + ": " + why;
    if (unmet == UnmetRequirement::refuse) {
      throw UnsupportedError(message);
    }
    plan.unmet = message;
  };
  if (enabled) {
    if (!enforcing) {
      if (profile.selinux.required) {
        refuse(
            "SELinux is permissive on this host (the domain would confine nothing), and "
            "selinux.required = true");
      }
      plan.notice = "SELinux is permissive on this host: domain '" + context->value +
                    "' is entered, but nothing of it is enforced";
    }
    plan.context = context->value;
    return plan;
  }
  if (profile.selinux.required) {
    refuse("SELinux is not enabled on this host, and selinux.required = true");
  }
  plan.notice =
      "SELinux is not enabled on this host: exec context '" + context->value + "' not applied";
  return plan;
}

void apply_selinux(const Profile& profile, const SelinuxPlan& plan) {
  if (!plan.context) {
    return;
  }
  // What setexeccon_raw(3) does: the context (with its terminating NUL) written to this
  // thread's attr/exec; the kernel checks it and applies it at the next execve.
  const auto& source = *profile.selinux.context;
  const auto fail = [&](const char* what, int error) {
    throw Error(ExitCode::system, source.where.to_string() + ": " + source.key + ": " + what +
                                      " /proc/thread-self/attr/exec ('" + *plan.context +
                                      "'): " + errno_text(error));
  };
  const UniqueFd attr(::open("/proc/thread-self/attr/exec", O_WRONLY | O_CLOEXEC));
  if (!attr) {
    fail("open", errno);
  }
  const std::size_t size = plan.context->size() + 1;
  const ssize_t written = ::write(attr.get(), plan.context->c_str(), size);
  if (written < 0) {
    fail("write", errno);
  }
  if (static_cast<std::size_t>(written) != size) {
    fail("short write to", EIO);
  }
}

}  // namespace pgguard::sandbox
