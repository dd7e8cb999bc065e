#include "node/sandbox_settings.hpp"

#include <algorithm>
#include <map>

#include "common/error.hpp"
#include "common/strings.hpp"
#include "node/plan_values.hpp"
#include "sandbox/profile.hpp"
#include "sandbox/profile_template.hpp"
#include "sandbox/rlimits.hpp"

namespace pgguard::node {

namespace {

const std::vector<std::string> kActions = {"errno", "kill_process", "log"};

// Lines to put into a section, keyed by the entry they replace.
struct SectionEdits {
  std::vector<std::pair<std::string, std::string>> entries;  // key, value, in order
  std::vector<bool> written;
};

std::string key_of(std::string_view line) {
  const auto text = trim(line);
  if (text.empty() || text.front() == '#' || text.front() == '[') {
    return {};
  }
  const auto equals = text.find('=');
  return equals == std::string_view::npos ? std::string()
                                          : std::string(trim(text.substr(0, equals)));
}

// Every line, empty ones included; no piece for the text after a final newline.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto end = text.find('\n');
    lines.push_back(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
  return lines;
}

}  // namespace

std::vector<config::KeyRule> with_sandbox_keys(std::vector<config::KeyRule> keys) {
  keys.insert(keys.end(), {{"sandbox.seccomp_default_action", false, false},
                           {"sandbox.rlimit", true, false},
                           {"sandbox.landlock_required", false, false},
                           {"sandbox.selinux_required", false, false}});
  return keys;
}

SandboxSettings parse_sandbox_settings(const config::ConfigFile& file) {
  SandboxSettings settings;
  if (single(file, "sandbox.seccomp_default_action") != nullptr) {
    settings.seccomp_default_action =
        choice_of(file, "sandbox.seccomp_default_action", "errno", kActions);
  }
  for (const auto* entry : file.all("sandbox.rlimit")) {
    const auto words = split(entry->value, " \t");
    const auto* kind = words.size() == 2 ? sandbox::find_rlimit_kind(words[0]) : nullptr;
    if (kind == nullptr) {
      throw ConfigError(entry->where, entry->key,
                        "expected 'NAME SOFT:HARD' with a limit name of the launcher "
                        "(docs/sandbox.md), found '" +
                            entry->value + "'");
    }
    sandbox::LimitPair limit{};
    if (const auto error = sandbox::parse_limit(words[1], kind->unit, limit)) {
      throw ConfigError(entry->where, entry->key, words[0] + ": " + *error);
    }
    const bool repeated =
        std::any_of(settings.rlimits.begin(), settings.rlimits.end(),
                    [&](const auto& existing) { return existing.first == words[0]; });
    if (repeated) {
      throw ConfigError(entry->where, entry->key, words[0] + " is given twice");
    }
    settings.rlimits.emplace_back(words[0], words[1]);
  }
  settings.landlock_required =
      choice_of(file, "sandbox.landlock_required", "false", {"true", "false"}) == "true";
  settings.selinux_required =
      choice_of(file, "sandbox.selinux_required", "false", {"true", "false"}) == "true";
  return settings;
}

ProfileAdjustment service_adjustment(const SandboxSettings& settings) {
  return {settings.seccomp_default_action, settings.rlimits, settings.landlock_required,
          std::nullopt, settings.selinux_required};
}

ProfileAdjustment tool_adjustment(const SandboxSettings& settings) {
  return {std::nullopt, {}, settings.landlock_required, std::nullopt, settings.selinux_required};
}

std::string adjust_profile(std::string_view profile, const ProfileAdjustment& adjustment) {
  std::map<std::string, SectionEdits> edits;
  for (const auto& [name, limit] : adjustment.rlimits) {
    edits["rlimit"].entries.emplace_back(name, limit);
  }
  if (adjustment.seccomp_default_action) {
    edits["seccomp"].entries.emplace_back("default_action", *adjustment.seccomp_default_action);
    // log is refused without the staging switch: the operator who asked for log asked for it.
    if (*adjustment.seccomp_default_action == "log") {
      edits["seccomp"].entries.emplace_back("staging", "true");
    }
  }
  if (adjustment.landlock_required) {
    edits["landlock"].entries.emplace_back("required", "true");
  }
  if (adjustment.selinux_context) {
    edits["selinux"].entries.emplace_back("context", *adjustment.selinux_context);
    edits["selinux"].entries.emplace_back("required",
                                          adjustment.selinux_required ? "true" : "false");
  }
  for (auto& [section, edit] : edits) {
    edit.written.assign(edit.entries.size(), false);
  }

  std::vector<std::string> lines;
  std::string section;
  std::size_t section_end = 0;  // after the section's last entry: where additions go
  const auto close_section = [&] {
    const auto found = edits.find(section);
    if (found == edits.end()) {
      return;
    }
    std::vector<std::string> added;
    for (std::size_t i = 0; i < found->second.entries.size(); ++i) {
      if (!found->second.written[i]) {
        added.push_back(found->second.entries[i].first + " = " + found->second.entries[i].second);
        found->second.written[i] = true;
      }
    }
    lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(section_end), added.begin(),
                 added.end());
  };
  for (const auto piece : lines_of(profile)) {
    const auto text = trim(piece);
    if (!text.empty() && text.front() == '[' && text.back() == ']') {
      close_section();
      section = std::string(text.substr(1, text.size() - 2));
      lines.emplace_back(piece);
      section_end = lines.size();
      continue;
    }
    const std::string key = key_of(piece);
    const auto found = edits.find(section);
    std::string line(piece);
    if (!key.empty() && found != edits.end()) {
      auto& edit = found->second;
      for (std::size_t i = 0; i < edit.entries.size(); ++i) {
        if (edit.entries[i].first == key) {
          // Only the first occurrence: a repeated key stays for the profile parser to refuse.
          if (!edit.written[i]) {
            line = key + " = " + edit.entries[i].second;
            edit.written[i] = true;
          }
          break;
        }
      }
    }
    lines.push_back(line);
    if (!key.empty()) {
      section_end = lines.size();
    }
  }
  close_section();
  std::string out;
  for (const auto& line : lines) {
    out += line + "\n";
  }
  // Sections the profile does not have (a shipped profile has no [selinux]).
  for (const auto& [name, edit] : edits) {
    if (std::find(edit.written.begin(), edit.written.end(), false) == edit.written.end()) {
      continue;
    }
    out += "\n[" + name + "]\n";
    for (std::size_t i = 0; i < edit.entries.size(); ++i) {
      if (!edit.written[i]) {
        out += edit.entries[i].first + " = " + edit.entries[i].second + "\n";
      }
    }
  }
  return out;
}

std::string render_profile(std::string_view template_text, const std::string& name,
                           const std::map<std::string, std::string>& placeholders,
                           const ProfileAdjustment& adjustment) {
  auto text =
      adjust_profile(sandbox::instantiate_profile(template_text, name, placeholders), adjustment);
  (void)sandbox::parse_profile(config::ConfigFile::parse(text, name));
  return text;
}

}  // namespace pgguard::node
