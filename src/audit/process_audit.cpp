#include "audit/process_audit.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "audit/proc_text.hpp"
#include "common/error.hpp"
#include "common/strings.hpp"
#include "sandbox/capabilities.hpp"
#include "sandbox/process_status.hpp"
#include "sandbox/rlimits.hpp"

namespace pgguard::audit {

namespace {

using sandbox::ProcessStatus;
using sandbox::SandboxPlan;

std::string octal(unsigned value) {
  char text[8];
  (void)std::snprintf(text, sizeof text, "%04o", value);
  return text;
}

template <typename Ids>
std::string ids_text(const Ids& ids) {
  std::vector<std::string> pieces;
  pieces.reserve(ids.size());
  for (const auto id : ids) {
    pieces.push_back(std::to_string(id));
  }
  return pieces.empty() ? std::string("(none)") : join(pieces, " ");
}

// The differences compare_process_status reports for the given fields.
std::vector<std::string> differences_in(const std::vector<std::string>& differences,
                                        std::initializer_list<std::string_view> fields) {
  std::vector<std::string> selected;
  for (const auto& difference : differences) {
    for (const auto field : fields) {
      if (difference.rfind(std::string(field) + ":", 0) == 0) {
        selected.push_back(difference);
      }
    }
  }
  return selected;
}

// The mask and, for a few capabilities, their names (a full bounding set would be 41 names).
std::string mask_text(std::uint64_t mask) {
  const auto count = __builtin_popcountll(mask);
  return sandbox::format_mask(mask) + " (" +
         (count <= 4 ? sandbox::capability_names(mask) : std::to_string(count) + " capabilities") +
         ")";
}

std::string limit_text(rlim_t soft, rlim_t hard) {
  return sandbox::format_limit_value(soft) + ":" + sandbox::format_limit_value(hard);
}

// What is wrong with a process's limits against the profile's: a limit above the profile's,
// soft or hard ("raised"), or one /proc does not show. A limit below the profile's is no
// deviation: a process may lower its own limits, never raise a hard one again.
std::vector<std::string> limit_problems(const SandboxPlan& plan,
                                        const std::map<int, LimitValues>& found) {
  std::vector<std::string> problems;
  for (const auto& limit : plan.profile.rlimits) {
    const auto& want = limit.value;
    const auto have = found.find(want.resource);
    if (have == found.end()) {
      problems.push_back(want.name + " not shown in /proc/PID/limits");
    } else if (have->second.soft > want.soft || have->second.hard > want.hard) {
      problems.push_back(want.name + " " + limit_text(have->second.soft, have->second.hard) +
                         " above the profile's " + limit_text(want.soft, want.hard));
    }
  }
  return problems;
}

// Everything a descendant must share with the process it descends from: identity,
// capabilities, no_new_privs, the seccomp filter mode (its umask is its own business).
std::vector<std::string> child_problems(const SandboxPlan& plan, const ProcessSample& child,
                                        const std::optional<std::string>& main_context) {
  if (!child.error.empty()) {
    return {child.error};
  }
  std::vector<std::string> problems;
  try {
    auto status = sandbox::parse_process_status(child.status);
    status.umask = plan.expected_status.umask;
    problems = sandbox::compare_process_status(plan.expected_status, status);
  } catch (const Error& error) {
    problems.emplace_back(error.what());
  }
  try {
    const auto more = limit_problems(plan, parse_proc_limits(child.limits));
    problems.insert(problems.end(), more.begin(), more.end());
  } catch (const Error& error) {
    problems.emplace_back(error.what());
  }
  if (main_context && child.security_context != main_context) {
    problems.push_back("SELinux context " + child.security_context.value_or("(unreadable)") +
                       ", not " + *main_context);
  }
  return problems;
}

bool has_landlock_rules(const sandbox::Profile& profile) {
  const auto& section = profile.landlock;
  return !section.read.empty() || !section.execute.empty() || !section.write.empty() ||
         !section.write_execute.empty() || !section.bind_tcp.empty() ||
         !section.connect_tcp.empty() || !section.scope.empty();
}

std::string ports_text(const std::vector<sandbox::Sourced<std::uint16_t>>& ports) {
  std::vector<std::string> text;
  text.reserve(ports.size());
  for (const auto& port : ports) {
    text.push_back(std::to_string(port.value));
  }
  return join(text, ",");
}

Row landlock_row(const std::string& subject, const SandboxPlan& plan, const AuditPolicy& policy,
                 bool launched) {
  const auto& section = plan.profile.landlock;
  std::string expected = std::to_string(section.read.size()) + " read, " +
                         std::to_string(section.execute.size()) + " execute, " +
                         std::to_string(section.write.size()) + " write paths";
  if (!section.write_execute.empty()) {
    expected += ", " + std::to_string(section.write_execute.size()) +
                " write+EXECUTE (W^X waived by the profile)";
  }
  if (!section.bind_tcp.empty()) {
    expected += "; tcp bind " + ports_text(section.bind_tcp);
  }
  if (!section.connect_tcp.empty()) {
    expected += "; tcp connect " + ports_text(section.connect_tcp);
  }
  if (!section.scope.empty()) {
    std::vector<std::string> scopes;
    for (const auto& scope : section.scope) {
      scopes.push_back(scope.value);
    }
    expected += "; scope " + join(scopes, ",");
  }
  const bool required = policy.landlock_required || section.required;
  if (required) {
    expected += " (required)";
  }
  Row row{"landlock", subject, expected, "", false};
  const auto& landlock = plan.landlock;
  std::vector<std::string> enforced;
  if (landlock.filesystem) {
    enforced.emplace_back("filesystem");
  }
  if (landlock.tcp) {
    enforced.emplace_back("tcp");
  }
  if (landlock.scoped != 0) {
    enforced.emplace_back("scope");
  }
  const std::string kernel = "kernel ABI " + std::to_string(landlock.abi) + " enforces " +
                             (enforced.empty() ? std::string("nothing") : join(enforced, ", "));
  if (!launched) {
    row.found = kernel +
                "; but no evidence the process was launched under it: no_new_privs or "
                "the seccomp filter is missing (rows above)";
    return row;
  }
  // Landlock keeps no trace in /proc: what shows it was applied is the launcher's order.
  const std::string how =
      "; /proc shows no Landlock domain: pgguard-launch restricts itself before loading the "
      "seccomp filter and execs only when both succeeded (Seccomp 2, NoNewPrivs 1 above)";
  // Scopes are best effort (the accounts separate where the kernel has none): said, never failed.
  const std::string scopes =
      landlock.scope_notices.empty()
          ? std::string()
          : "; scope not enforced here (ABI < 6): only the accounts separate signals and "
            "abstract sockets";
  if (landlock.notices.empty()) {
    row.found = kernel + scopes + how;
    row.ok = true;
    return row;
  }
  row.found = kernel + "; NOT ENFORCED here: " + join(landlock.notices, "; ") + scopes + how;
  row.ok = !required;
  return row;
}

Row selinux_row(const std::string& subject, const SandboxPlan& plan, const AuditPolicy& policy,
                const ProcessSample& main) {
  const auto& context = plan.profile.selinux.context;
  const bool required = policy.selinux_required || plan.profile.selinux.required;
  Row row{"selinux domain", subject,
          context ? context->value : std::string("(the profile names no context)"),
          main.security_context.value_or("(unreadable)"), false};
  if (context) {
    row.ok = main.security_context == context->value;
  } else {
    row.ok = !required;
    if (required) {
      row.expected += "; selinux.required";
    }
  }
  return row;
}

}  // namespace

sandbox::SandboxPlan audit_plan(sandbox::Profile profile, sandbox::Identity identity,
                                sandbox::HostFacts host) {
  const bool landlock_required = profile.landlock.required;
  const bool selinux_required = profile.selinux.required;
  profile.landlock.required = false;
  profile.selinux.required = false;
  auto plan = sandbox::make_sandbox_plan(std::move(profile), std::move(identity), host);
  plan.profile.landlock.required = landlock_required;
  plan.profile.selinux.required = selinux_required;
  return plan;
}

std::string subject_of(const ProcessEntry& entry) {
  return entry.job + "/" + entry.name;
}

Row process_row(const ProcessEntry& entry, const ProcessObservation& observation, bool& running) {
  running = false;
  Row row{"process", subject_of(entry),
          "running, comm " + entry.comm +
              (entry.profile ? std::string() : std::string(" (root by design)")) + ", pid file " +
              entry.pid_file,
          "", false};
  if (!observation.pid_file_error.empty()) {
    row.found = "pid file unreadable: " + observation.pid_file_error;
    return row;
  }
  if (!observation.pid_file_text) {
    row.found = "no pid file: not running";
    return row;
  }
  const auto pid = parse_pid_file(*observation.pid_file_text);
  if (!pid) {
    row.found = "pid file holds no pid: '" + std::string(trim(*observation.pid_file_text)) + "'";
    return row;
  }
  if (!observation.main) {
    row.found = "pid " + std::to_string(*pid) + " is not running (stale pid file)";
    return row;
  }
  const auto& main = *observation.main;
  if (!main.error.empty()) {
    row.found = "pid " + std::to_string(*pid) + ": " + main.error;
    return row;
  }
  if (main.comm != entry.comm) {
    row.found = "pid " + std::to_string(*pid) + " is '" + main.comm + "', not '" + entry.comm +
                "' (stale pid file)";
    return row;
  }
  row.subject += " pid " + std::to_string(*pid);
  row.found = "pid " + std::to_string(*pid) + " runs, comm " + main.comm;
  if (!entry.profile) {
    try {
      const auto status = sandbox::parse_process_status(main.status);
      row.found += ", uid " + std::to_string(status.uid[1]);
    } catch (const Error&) {
      // The uid is shown for information only; the row is about the process running.
    }
  }
  row.ok = true;
  running = true;
  return row;
}

std::vector<Row> sandbox_rows(const ProcessEntry& entry, const ProcessObservation& observation,
                              const SandboxPlan& plan, const AuditPolicy& policy) {
  const auto& main = *observation.main;
  const std::string subject = subject_of(entry) + " pid " + std::to_string(main.pid);
  std::vector<Row> rows;
  ProcessStatus status;
  try {
    status = sandbox::parse_process_status(main.status);
  } catch (const Error& error) {
    rows.push_back({"status", subject, "/proc/PID/status readable", error.what(), false});
    return rows;
  }
  const auto& expected = plan.expected_status;
  const auto differences = sandbox::compare_process_status(expected, status);

  const auto identity = differences_in(differences, {"Uid", "Gid", "Groups"});
  rows.push_back({"identity", subject,
                  "uid " + std::to_string(expected.uid[0]) + " (" + plan.identity.user + "), gid " +
                      std::to_string(expected.gid[0]) + " (" + plan.identity.group + "), groups " +
                      ids_text(expected.groups),
                  identity.empty()
                      ? "uid " + ids_text(status.uid) + ", gid " + ids_text(status.gid) +
                            ", groups " + ids_text(status.groups)
                      : join(identity, "; "),
                  identity.empty()});

  rows.push_back({"umask", subject, octal(expected.umask), octal(status.umask),
                  status.umask == expected.umask});

  const auto caps = differences_in(differences, {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"});
  const std::string caps_expected = "Inh/Prm/Eff/Amb " +
                                    sandbox::capability_names(expected.cap_effective) + ", Bnd " +
                                    sandbox::capability_names(expected.cap_bounding);
  std::vector<std::string> caps_found;
  const std::vector<std::pair<std::string, std::uint64_t>> sets{{"CapInh", status.cap_inheritable},
                                                                {"CapPrm", status.cap_permitted},
                                                                {"CapEff", status.cap_effective},
                                                                {"CapBnd", status.cap_bounding},
                                                                {"CapAmb", status.cap_ambient}};
  for (const auto& [name, mask] : sets) {
    if (!differences_in(caps, {name}).empty()) {
      caps_found.push_back(name + " " + mask_text(mask));
    }
  }
  rows.push_back({"capabilities", subject, caps_expected,
                  caps.empty() ? "as expected" : join(caps_found, "; "), caps.empty()});

  rows.push_back({"no_new_privs", subject, "NoNewPrivs 1",
                  "NoNewPrivs " + std::to_string(status.no_new_privs), status.no_new_privs == 1});
  rows.push_back({"seccomp", subject, "Seccomp 2 (filter)",
                  "Seccomp " + std::to_string(status.seccomp) +
                      (status.seccomp == 2   ? " (filter)"
                       : status.seccomp == 0 ? " (none)"
                                             : ""),
                  status.seccomp == 2});

  const auto& seccomp = plan.profile.seccomp;
  Row action{"seccomp action", subject,
             "errno or kill_process, no staging (" + plan.profile.file + ")",
             sandbox::to_string(seccomp.default_action), false};
  if (seccomp.default_action == sandbox::SeccompDefault::log || seccomp.staging) {
    action.found = std::string(sandbox::to_string(seccomp.default_action)) +
                   ": STAGING profile (seccomp.staging = true at " +
                   seccomp.staging_where.to_string() +
                   "): every syscall outside the allowlist is allowed";
  } else {
    action.ok = true;
  }
  rows.push_back(action);

  std::vector<std::string> wanted_limits;
  for (const auto& limit : plan.profile.rlimits) {
    wanted_limits.push_back(limit.value.name + " " +
                            limit_text(limit.value.soft, limit.value.hard));
  }
  Row limits{"rlimits", subject, "at most " + join(wanted_limits, ", "), "", false};
  try {
    const auto found = parse_proc_limits(main.limits);
    const auto problems = limit_problems(plan, found);
    if (problems.empty()) {
      std::vector<std::string> shown;
      for (const auto& limit : plan.profile.rlimits) {
        const auto& have = found.at(limit.value.resource);
        shown.push_back(limit.value.name + " " + limit_text(have.soft, have.hard));
      }
      limits.found = join(shown, ", ");
      limits.ok = true;
    } else {
      limits.found = join(problems, "; ");
    }
  } catch (const Error& error) {
    limits.found = error.what();
  }
  rows.push_back(limits);

  const bool launched = status.no_new_privs == 1 && status.seccomp == 2;
  if (has_landlock_rules(plan.profile)) {
    rows.push_back(landlock_row(subject, plan, policy, launched));
  }
  if (plan.host.selinux_enabled) {
    rows.push_back(selinux_row(subject, plan, policy, main));
  }

  Row children{"children", subject,
               "every descendant: same uid/gid/groups, capabilities, NoNewPrivs 1, Seccomp 2, "
               "rlimits" +
                   std::string(plan.host.selinux_enabled ? ", SELinux domain" : ""),
               "", false};
  const auto main_context =
      plan.host.selinux_enabled ? main.security_context : std::optional<std::string>();
  // Children that differ in the same way share one entry: a postmaster started without its
  // sandbox has a dozen children, each with the same differences.
  std::vector<std::pair<std::string, std::vector<std::string>>> bad;  // problems -> children
  std::size_t differing = 0;
  for (const auto& child : observation.descendants) {
    const auto problems = child_problems(plan, child, main_context);
    if (problems.empty()) {
      continue;
    }
    ++differing;
    const auto text = join(problems, ", ");
    auto same = std::find_if(bad.begin(), bad.end(),
                             [&](const auto& known) { return known.first == text; });
    if (same == bad.end()) {
      bad.emplace_back(text, std::vector<std::string>{});
      same = std::prev(bad.end());
    }
    same->second.push_back("pid " + std::to_string(child.pid) + " (" + child.comm + ")");
  }
  if (observation.descendants.empty()) {
    children.found = "no child processes";
    children.ok = true;
  } else if (bad.empty()) {
    children.found =
        std::to_string(observation.descendants.size()) + " descendants, all as expected";
    children.ok = true;
  } else {
    std::vector<std::string> entries;
    entries.reserve(bad.size());
    for (const auto& [problems, pids] : bad) {
      entries.push_back(join(pids, ", ") + ": " + problems);
    }
    children.found = std::to_string(differing) + " of " +
                     std::to_string(observation.descendants.size()) +
                     " descendants differ: " + join(entries, "; ");
  }
  rows.push_back(children);
  return rows;
}

std::vector<Row> audit_process(const ProcessEntry& entry, const ProcessObservation& observation,
                               const std::optional<sandbox::SandboxPlan>& plan,
                               const std::string& profile_error, const AuditPolicy& policy) {
  bool running = false;
  std::vector<Row> rows{process_row(entry, observation, running)};
  if (!entry.profile) {
    return rows;
  }
  if (!plan) {
    rows.push_back({"profile", subject_of(entry), "a valid profile at " + *entry.profile,
                    profile_error.empty() ? std::string("unreadable") : profile_error, false});
    return rows;
  }
  if (running) {
    auto more = sandbox_rows(entry, observation, *plan, policy);
    rows.insert(rows.end(), std::make_move_iterator(more.begin()),
                std::make_move_iterator(more.end()));
  }
  return rows;
}

}  // namespace pgguard::audit
