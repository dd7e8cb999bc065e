#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace pgguard::selinux {

// The type field of a security context ("user:role:type:level").
// Returns an empty string for a malformed context. Pure.
std::string context_type(const std::string& context);

// The canonical path of an existing path (BOSH's /var/vcap/{jobs,packages,sys} are symlinks
// into /var/vcap/data; labels live on the real files). Throws ConfigError when it is missing.
std::string canonical_existing_path(const std::string& path);

// Relabels `path` and everything below it to the contexts of the loaded policy's
// file_contexts (selinux_restorecon). Throws SystemError on the first failure.
void restore_labels(const std::string& path);

struct LabelCheck {
  std::size_t checked = 0;
  std::vector<std::string> mismatches;  // "path: has TYPE, policy wants TYPE" (first few)
};

// Walks `path` (not following symlinks) and compares each file's type with the type the
// policy's file_contexts assigns it.
LabelCheck check_labels(const std::string& path);

// True when the running kernel's policy knows this context (security_check_context):
// proves the module's types are loaded, not just stored.
bool kernel_knows_context(const std::string& context);

}  // namespace pgguard::selinux
