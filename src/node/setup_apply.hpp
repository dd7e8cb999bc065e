#pragma once

#include <optional>
#include <string>
#include <vector>

#include "node/setup_plan.hpp"
#include "sandbox/account_files.hpp"

namespace pgguard::node {

struct SetupEnvironment {
  sandbox::AccountFiles account_files;
  std::string useradd = "/usr/sbin/useradd";
};

struct SetupReport {
  std::vector<std::string> changes;  // one line per change; empty: nothing changed
};

// Makes the VM match the plan, idempotently: a second run changes nothing.
// - accounts: created with useradd --system --user-group (no home, no login shell) when
//   missing; an existing one must not be uid 0 and must have its own group;
// - directories: created when missing (missing parents root-owned 0755), then owner, group and
//   mode set; a path that exists as anything but a directory (a symlink included) is an error;
// - installs: the source's content written to a temporary file beside the destination with
//   the final owner and mode, fsynced, renamed over it; skipped when content, owner and mode
//   already match. Nothing is followed through a symlink at the destination.
// Accounts first, then directories, then installs; the first failure stops the run (exit 3)
// with what was changed before it reported. Throws SystemError.
SetupReport apply_setup(const SetupPlan& plan, const SetupEnvironment& environment = {});

// A job helper's --setup FILE (pgguard-postgres, pgguard-pgpool): the file loaded, validated
// and applied; its change lines, none without a file. Throws as parse_setup_plan and
// apply_setup do.
std::vector<std::string> apply_setup_file(const std::optional<std::string>& path);

// One generated file, written the way installs are (temporary file with the final owner and
// mode, fsync, rename); nothing is written when content, owner and mode already match.
// Returns whether the file was written. Throws SystemError.
bool install_content(const std::string& destination, const std::string& content,
                     const Ownership& ownership, const SetupEnvironment& environment = {});

}  // namespace pgguard::node
