#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace pgguard::sandbox {

// The launcher resolves users and groups from the local account files, /etc/passwd and
// /etc/group, itself: no NSS. It runs as root before any part of the sandbox is in place, so it
// loads no NSS module into itself and asks no directory service over the network; BOSH jobs
// create their users locally, and bpm (pure-Go os/user) resolves the same way. It also keeps
// the launcher free of glibc's NSS, so it links fully static (docs/sandbox.md, "Launch cost").
struct AccountFiles {
  std::string passwd = "/etc/passwd";
  std::string group = "/etc/group";
};

struct UserEntry {
  uid_t uid = 0;
  gid_t primary_gid = 0;
  std::string home;
};

struct GroupEntry {
  std::string name;
  gid_t gid = 0;
};

// Pure lookups in a file's text, as glibc's "files" service reads it: one entry per line, the
// first entry with the name (or gid) wins; empty lines, '#' comments and NIS compat lines
// ('+', '-') are skipped, and so are other malformed lines. The entry asked for being malformed
// (wrong field count, an id that is not a decimal number below 2^32-1) is an error naming
// path:line, never a guess. `path` only names the file in errors.
std::optional<UserEntry> find_user(std::string_view passwd_text, std::string_view name,
                                   const std::string& path);
std::optional<GroupEntry> find_group(std::string_view group_text, std::string_view name,
                                     const std::string& path);
std::optional<GroupEntry> find_group(std::string_view group_text, gid_t gid,
                                     const std::string& path);

}  // namespace pgguard::sandbox
