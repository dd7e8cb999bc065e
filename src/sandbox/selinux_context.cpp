#include "sandbox/selinux_context.hpp"

#include <selinux/selinux.h>

#include <cerrno>

namespace pgguard::sandbox {

bool selinux_enabled() {
  return ::is_selinux_enabled() == 1;
}

SelinuxPlan plan_selinux(const Profile& profile, bool enabled) {
  SelinuxPlan plan;
  plan.enabled = enabled;
  const auto& context = profile.selinux.context;
  if (!context) {
    return plan;
  }
  if (enabled) {
    plan.context = context->value;
    return plan;
  }
  if (profile.selinux.required) {
    throw UnsupportedError(context->where.to_string() + ": " + context->key +
                           ": SELinux is not enabled on this host, and selinux.required = true");
  }
  plan.notice =
      "SELinux is not enabled on this host: exec context '" + context->value + "' not applied";
  return plan;
}

void apply_selinux(const Profile& profile, const SelinuxPlan& plan) {
  if (!plan.context) {
    return;
  }
  if (::setexeccon(plan.context->c_str()) != 0) {
    const int saved = errno;
    const auto& source = *profile.selinux.context;
    throw Error(ExitCode::system, source.where.to_string() + ": " + source.key + ": setexeccon('" +
                                      *plan.context + "'): " + errno_text(saved));
  }
}

}  // namespace pgguard::sandbox
