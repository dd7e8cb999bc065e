#include "sandbox/sandbox_plan.hpp"

#include <algorithm>
#include <cstdio>

#include "common/strings.hpp"
#include "sandbox/capabilities.hpp"
#include "sandbox/rlimits.hpp"

namespace pgguard::sandbox {

namespace {

std::string octal(mode_t mode) {
  char text[8];
  (void)std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
  return text;
}

std::string ports(const std::vector<Sourced<std::uint16_t>>& list) {
  std::vector<std::string> text;
  text.reserve(list.size());
  for (const auto& port : list) {
    text.push_back(std::to_string(port.value));
  }
  return text.empty() ? std::string("(none)") : join(text, ",");
}

std::string wrapped(const std::vector<std::string>& names, std::size_t indent) {
  std::string text;
  std::size_t column = indent;
  for (const auto& name : names) {
    if (column + name.size() + 1 > 100 && column > indent) {
      text += "\n" + std::string(indent, ' ');
      column = indent;
    } else if (!text.empty()) {
      text += " ";
      ++column;
    }
    text += name;
    column += name.size();
  }
  return text.empty() ? std::string("(none)") : text;
}

const char* default_action_text(SeccompDefault action) {
  switch (action) {
    case SeccompDefault::errno_eperm:
      return "errno (EPERM)";
    case SeccompDefault::kill_process:
      return "kill_process";
    case SeccompDefault::log:
      return "log (staging: everything is allowed and logged)";
  }
  return "?";
}

}  // namespace

SandboxPlan make_sandbox_plan(Profile profile, Identity identity, HostFacts host,
                              UnmetRequirement unmet) {
  SandboxPlan plan;
  plan.profile = std::move(profile);
  plan.identity = std::move(identity);
  plan.host = host;
  plan.seccomp = make_seccomp_policy(plan.profile);
  plan.landlock = plan_landlock(plan.profile, host.landlock_abi, unmet);
  plan.selinux = plan_selinux(plan.profile, host.selinux_enabled, host.selinux_enforcing, unmet);
  plan.bounding = capability_mask(plan.profile.bounding);
  plan.ambient = capability_mask(plan.profile.ambient);

  auto& expected = plan.expected_status;
  expected.uid.fill(plan.identity.uid);
  expected.gid.fill(plan.identity.gid);
  expected.groups = plan.identity.supplementary;
  std::sort(expected.groups.begin(), expected.groups.end());
  // Only ambient capabilities survive; after execve they become permitted and effective.
  expected.cap_inheritable = plan.ambient;
  expected.cap_permitted = plan.ambient;
  expected.cap_effective = plan.ambient;
  expected.cap_ambient = plan.ambient;
  expected.cap_bounding = plan.bounding;
  expected.no_new_privs = 1;
  expected.seccomp = 2;
  expected.umask = plan.profile.umask;
  return plan;
}

std::vector<ExposureItem> exposure_items(const SandboxPlan& plan) {
  const auto& profile = plan.profile;
  std::vector<ExposureItem> items;
  const auto add = [&](bool secure, double weight, std::string setting, std::string description) {
    items.push_back({secure, weight, std::move(setting), std::move(description)});
  };
  add(plan.identity.uid != 0, 2.0, "User=" + plan.identity.user,
      "Service runs as a non-root user (uid " + std::to_string(plan.identity.uid) + ")");
  add(true, 1.0, "NoNewPrivileges=yes", "Service cannot gain privileges through execve");
  add(plan.bounding == 0, 1.5, "CapabilityBoundingSet=" + capability_names(plan.bounding),
      plan.bounding == 0 ? "Service cannot hold any capability"
                         : "Service may hold the listed capabilities");
  add(plan.ambient == 0, 1.5, "AmbientCapabilities=" + capability_names(plan.ambient),
      plan.ambient == 0 ? "Service and its children hold no capability"
                        : "Service and every child it starts hold these capabilities");
  add(true, 0.5, "SecureBits=noroot,no-setuid-fixup,keep-caps-off (locked)",
      "Root and setuid cannot regain capabilities");
  add(profile.seccomp.default_action != SeccompDefault::log, 1.5,
      std::string("SystemCallFilter=allowlist (") +
          std::to_string(plan.seccomp.allowed.size() +
                         (plan.seccomp.clone_without_namespaces ? 1 : 0)) +
          " syscalls), default " + to_string(profile.seccomp.default_action),
      profile.seccomp.default_action == SeccompDefault::log
          ? "Staging: syscalls outside the allowlist are only logged"
          : "System calls outside the allowlist are refused");
  add(true, 0.5, "SystemCallArchitectures=native", "x32 and i386 entry kill the process");
  add(true, 0.5, "RestrictNamespaces=yes",
      "unshare and setns kill, clone with namespace flags is refused, clone3 returns ENOSYS");
  add(true, 0.3, "ProtectKernelModules,ProtectClock,LockPersonality-like killed list",
      std::to_string(plan.seccomp.killed.size()) + " high-risk syscalls kill the process");
  const auto core = std::find_if(profile.rlimits.begin(), profile.rlimits.end(),
                                 [](const auto& limit) { return limit.value.name == "core"; });
  add(core != profile.rlimits.end() && core->value.hard == 0, 0.2, "LimitCORE=0",
      "No core dumps with memory contents");
  const auto has_limit = [&](const char* name) {
    return std::any_of(profile.rlimits.begin(), profile.rlimits.end(), [&](const auto& limit) {
      return limit.value.name == name && limit.value.hard != RLIM_INFINITY;
    });
  };
  add(has_limit("nofile") && has_limit("nproc"), 0.5, "LimitNOFILE,LimitNPROC",
      "File descriptors and processes are bounded");
  add(plan.landlock.filesystem, 1.5,
      "Landlock filesystem (ABI " + std::to_string(plan.landlock.abi) + ")",
      plan.landlock.filesystem
          ? (profile.landlock.write_execute.empty()
                 ? "Writes only beneath the write paths, none of them executable"
                 : "Writes only beneath the write paths; some are also executable")
          : "Filesystem access is not restricted beyond DAC");
  add(plan.landlock.tcp, 0.7, "Landlock TCP bind/connect",
      plan.landlock.tcp ? "TCP bind and connect only to the profile's ports"
                        : "TCP bind and connect are not restricted");
  add(plan.selinux.context.has_value(), 1.0,
      "SELinuxContext=" + (profile.selinux.context ? profile.selinux.context->value : "(none)"),
      plan.selinux.context ? "Confined by an SELinux domain"
                           : (plan.selinux.enabled ? "No SELinux domain named"
                                                   : "SELinux not enabled on this host"));
  return items;
}

double exposure_score(const std::vector<ExposureItem>& items) {
  double total = 0;
  double exposed = 0;
  for (const auto& item : items) {
    total += item.weight;
    exposed += item.secure ? 0 : item.weight;
  }
  return total == 0 ? 10.0 : 10.0 * exposed / total;
}

namespace {

// The profile's name, then what whoever reads explain must not miss: a staging profile, and
// a host that lacks what the profile requires.
void explain_warnings(TextBuilder& out, const SandboxPlan& plan) {
  const auto& profile = plan.profile;
  out << "profile: " << profile.file << "\n\n";
  if (profile.seccomp.staging) {
    // First, before anything else: whoever reads explain must not miss it.
    out << "!! STAGING PROFILE (seccomp.staging = true, "
        << profile.seccomp.staging_where.to_string() << "): the seccomp default action is 'log',\n"
        << "!! so every system call outside the allowlist is ALLOWED and only logged. Not for "
           "production.\n\n";
  }
  std::vector<std::string> unmet = plan.landlock.unmet;
  if (plan.selinux.unmet) {
    unmet.push_back(*plan.selinux.unmet);
  }
  if (!unmet.empty()) {
    out << "!! run REFUSES this profile on this host (exit 4): what it requires is missing here\n";
    for (const auto& reason : unmet) {
      out << "!!   " << reason << "\n";
    }
    out << "\n";
  }
}

void explain_identity(TextBuilder& out, const SandboxPlan& plan) {
  const auto& profile = plan.profile;
  const auto& identity = plan.identity;
  out << "identity\n";
  out << "  user:                 " << identity.user << " (uid " << identity.uid << ")\n";
  out << "  group:                " << identity.group << " (gid " << identity.gid << ")\n";
  std::string supplementary;
  for (std::size_t i = 0; i < identity.supplementary.size(); ++i) {
    supplementary += (i > 0 ? ", " : "") + identity.supplementary_names[i] + " (gid " +
                     std::to_string(identity.supplementary[i]) + ")";
  }
  out << "  supplementary groups: " << (supplementary.empty() ? "(cleared)" : supplementary)
      << "\n";
  out << "  umask:                " << octal(profile.umask) << "\n";
  out << "  workdir:              " << (profile.workdir ? profile.workdir->value : "(unchanged)")
      << "\n";
  if (profile.nice) {
    out << "  nice:                 " << *profile.nice << "\n";
  }
  out << "  environment:          everything dropped except\n";
  for (const auto& variable : profile.env_set) {
    out << "    set  " << variable.name << "=" << variable.value << "\n";
  }
  for (const auto& name : profile.env_pass) {
    out << "    pass " << name << "\n";
  }
  out << "\n";
}

void explain_capabilities(TextBuilder& out, const SandboxPlan& plan) {
  out << "capabilities (just before execve; after it, permitted = effective = ambient)\n";
  out << "  bounding:    " << capability_names(plan.bounding) << "\n";
  out << "  permitted:   " << capability_names(plan.expected_status.cap_permitted) << "\n";
  out << "  effective:   " << capability_names(plan.expected_status.cap_effective) << "\n";
  out << "  inheritable: " << capability_names(plan.expected_status.cap_inheritable) << "\n";
  out << "  ambient:     " << capability_names(plan.ambient) << "\n";
  out << "  securebits:  noroot, no_setuid_fixup, no_cap_ambient_raise set; keep_caps off;"
         " all locked\n";
  out << "  no_new_privs: 1 (always)\n\n";
}

void explain_rlimits(TextBuilder& out, const Profile& profile) {
  out << "rlimits (soft:hard)\n";
  for (const auto& limit : profile.rlimits) {
    char name[16];
    (void)std::snprintf(name, sizeof name, "%-10s", limit.value.name.c_str());
    out << "  " << name << " " << format_limit_value(limit.value.soft) << ":"
        << format_limit_value(limit.value.hard) << "\n";
  }
  out << "\n";
}

// What socket(2) may do: its [seccomp] socket rules, else whatever the allowlist says.
std::string socket_summary(const SeccompPolicy& seccomp) {
  if (seccomp.socket_rules.empty()) {
    return std::find(seccomp.allowed.begin(), seccomp.allowed.end(), "socket") !=
                   seccomp.allowed.end()
               ? "any address family (no [seccomp] socket rule)"
               : "not allowed";
  }
  std::vector<std::string> names;
  for (const auto& rule : seccomp.socket_rules) {
    names.push_back(rule.name);
  }
  return "only " + join(names, ", ") +
         "; any other: " + default_action_text(seccomp.default_action);
}

void explain_seccomp(TextBuilder& out, const SandboxPlan& plan) {
  const auto& profile = plan.profile;
  const auto& seccomp = plan.seccomp;
  std::vector<std::string> groups;
  for (const auto& group : profile.seccomp.groups) {
    groups.push_back(group.value);
  }
  out << "seccomp (" << native_arch_name() << " only, libseccomp " << libseccomp_version()
      << ", binary-tree optimisation)\n";
  out << "  groups:         " << (groups.empty() ? "(none)" : join(groups, ", ")) << "\n";
  out << "  default action: " << default_action_text(seccomp.default_action) << "\n";
  out << "  staging:        "
      << (profile.seccomp.staging ? "yes (" + profile.seccomp.staging_where.to_string() + ")"
                                  : std::string("no"))
      << "\n";
  out << "  other arch:     kill_process (i386 int 0x80, x32)\n";
  out << "  allowed (" << seccomp.allowed.size() << "):\n    " << wrapped(seccomp.allowed, 4)
      << "\n";
  if (seccomp.clone_without_namespaces) {
    out << "  clone:          allowed without namespace flags; with any, EPERM\n";
  } else {
    out << "  clone:          not allowed; with namespace flags, EPERM\n";
  }
  out << "  socket:         " << socket_summary(seccomp) << "\n";
  out << "  ENOSYS:         " << join(seccomp.enosys, ", ") << " (glibc falls back to clone)\n";
  out << "  killed (" << seccomp.killed.size() << "):\n    " << wrapped(seccomp.killed, 4) << "\n";
  out << "  policy sha256:  " << seccomp.digest() << "\n\n";
}

void explain_landlock_paths(TextBuilder& out, const SandboxPlan& plan) {
  const auto& profile = plan.profile;
  const auto& landlock = plan.landlock;
  if (!landlock.filesystem) {
    out << "  not enforced\n";
    return;
  }
  out << "  handled:  " << landlock_fs_access_names(landlock_handled_fs(landlock.abi)) << "\n";
  const auto list = [&](const char* label, const std::vector<Sourced<std::string>>& paths) {
    for (const auto& path : paths) {
      out << "  " << label << path.value << "\n";
    }
  };
  list("read     ", profile.landlock.read);
  list("execute  ", profile.landlock.execute);
  list("write    ", profile.landlock.write);
  list("write+EXECUTE (W^X waived) ", profile.landlock.write_execute);
  out << "  (read: read files, list directories; execute: read + execute; write: every "
         "handled right but execute)\n";
  out << "  (every other path: none of the handled rights)\n";
}

// Which of the two keeps this process from other services: the Landlock scope, or only the
// account the jobs give each service.
void explain_landlock_scopes(TextBuilder& out, const SandboxPlan& plan) {
  const auto& landlock = plan.landlock;
  const auto unscoped = [&](std::uint64_t scope, const std::string& name) {
    return (landlock.requested_scopes & scope) != 0
               ? " (its " + name + " scope needs Landlock ABI 6)"
               : " (the profile has no " + name + " scope)";
  };
  out << "  signals:     "
      << ((landlock.scoped & kLandlockScopeSignal) != 0
              ? std::string("only to processes of this sandbox (Landlock scope)")
              : "to any process of uid " + std::to_string(plan.identity.uid) + " (" +
                    plan.identity.user + "): only its account separates it from other services" +
                    unscoped(kLandlockScopeSignal, "signal"))
      << "\n";
  out << "  abstract unix sockets: "
      << ((landlock.scoped & kLandlockScopeAbstractUnixSocket) != 0
              ? std::string("only those of this sandbox (Landlock scope)")
              : "any on the host (no file permission applies to them)" +
                    unscoped(kLandlockScopeAbstractUnixSocket, "abstract_unix_socket"))
      << "\n";
}

void explain_landlock(TextBuilder& out, const SandboxPlan& plan) {
  const auto& profile = plan.profile;
  const auto& landlock = plan.landlock;
  out << "landlock (kernel ABI " << landlock.abi
      << "; required: " << (profile.landlock.required ? "yes" : "no") << ")\n";
  explain_landlock_paths(out, plan);
  out << "  bind_tcp:    " << ports(profile.landlock.bind_tcp)
      << (landlock.tcp ? "" : " (not enforced)") << "\n";
  out << "  connect_tcp: " << ports(profile.landlock.connect_tcp)
      << (landlock.tcp ? "" : " (not enforced)") << "\n";
  explain_landlock_scopes(out, plan);
  for (const auto* notices : {&landlock.notices, &landlock.scope_notices}) {
    for (const auto& notice : *notices) {
      out << "  notice: " << notice << "\n";
    }
  }
  out << "\n";
}

void explain_selinux(TextBuilder& out, const SandboxPlan& plan) {
  const auto& profile = plan.profile;
  out << "selinux (" << (plan.selinux.enabled ? "enabled" : "not enabled") << " on this host)\n";
  out << "  exec context: "
      << (plan.selinux.context
              ? *plan.selinux.context
              : (profile.selinux.context ? "(skipped) " + profile.selinux.context->value
                                         : std::string("(none)")))
      << "\n";
  if (plan.selinux.notice) {
    out << "  notice: " << *plan.selinux.notice << "\n";
  }
  out << "\n";
}

void explain_read_back(TextBuilder& out, const SandboxPlan& plan) {
  const auto& expected = plan.expected_status;
  out << "read back before execve (/proc/self/status)\n";
  out << "  Uid: " << plan.identity.uid << " x4  Gid: " << plan.identity.gid
      << " x4  Groups: " << expected.groups.size() << "\n";
  out << "  CapInh " << format_mask(expected.cap_inheritable) << "  CapPrm "
      << format_mask(expected.cap_permitted) << "  CapEff " << format_mask(expected.cap_effective)
      << "\n  CapBnd " << format_mask(expected.cap_bounding) << "  CapAmb "
      << format_mask(expected.cap_ambient) << "  NoNewPrivs 1  Seccomp 2  Umask "
      << octal(expected.umask) << "\n\n";
}

void explain_exposure(TextBuilder& out, const SandboxPlan& plan) {
  const auto items = exposure_items(plan);
  out << "exposure\n";
  for (const auto& item : items) {
    char weight[16];
    (void)std::snprintf(weight, sizeof weight, "%.1f", item.secure ? 0.0 : item.weight);
    out << "  " << (item.secure ? "✓ " : "✗ ") << item.setting << "\n      " << item.description
        << (item.secure ? "" : std::string("  (+") + weight + ")") << "\n";
  }
  const double score = exposure_score(items);
  char score_text[16];
  (void)std::snprintf(score_text, sizeof score_text, "%.1f", score);
  const char* level = score < 2.0   ? "OK"
                      : score < 5.0 ? "MEDIUM"
                      : score < 9.0 ? "EXPOSED"
                                    : "UNSAFE";
  out << "\n→ Overall exposure level: " << score_text << " " << level << "\n";
}

}  // namespace

std::string explain_plan(const SandboxPlan& plan) {
  TextBuilder out;
  explain_warnings(out, plan);
  explain_identity(out, plan);
  explain_capabilities(out, plan);
  explain_rlimits(out, plan.profile);
  explain_seccomp(out, plan);
  explain_landlock(out, plan);
  explain_selinux(out, plan);
  explain_read_back(out, plan);
  explain_exposure(out, plan);
  return out.str();
}

}  // namespace pgguard::sandbox
