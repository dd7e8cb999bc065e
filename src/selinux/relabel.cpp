#include "selinux/relabel.hpp"

#include <selinux/label.h>
#include <selinux/restorecon.h>
#include <selinux/selinux.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <system_error>

#include "common/error.hpp"
#include "common/strings.hpp"

namespace pgguard::selinux {
namespace {

constexpr std::size_t max_reported_mismatches = 10;

struct LabelHandleCloser {
  void operator()(selabel_handle* handle) const { selabel_close(handle); }
};
using LabelHandle = std::unique_ptr<selabel_handle, LabelHandleCloser>;

struct ContextFree {
  void operator()(char* context) const { freecon(context); }
};
using Context = std::unique_ptr<char, ContextFree>;

}  // namespace

std::string context_type(const std::string& context) {
  const std::vector<std::string> fields = split(context, ":");
  if (fields.size() < 3) {
    return "";
  }
  return fields[2];
}

std::string canonical_existing_path(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    const int error = errno;
    throw ConfigError(Location{path, 0}, "--relabel",
                      "cannot resolve the path: " + errno_text(error));
  }
  return resolved;
}

void restore_labels(const std::string& path) {
  // IGNORE_DIGEST: always walk the tree; a digest left by an earlier policy must not make
  // restorecon skip files whose wanted label changed with this module.
  const unsigned int flags = SELINUX_RESTORECON_RECURSE | SELINUX_RESTORECON_IGNORE_DIGEST;
  errno = 0;
  if (selinux_restorecon(path.c_str(), flags) < 0) {
    throw SystemError("relabelling " + path + " failed", errno != 0 ? errno : EIO);
  }
}

LabelCheck check_labels(const std::string& path) {
  LabelHandle labels(selabel_open(SELABEL_CTX_FILE, nullptr, 0));
  if (!labels) {
    throw SystemError("cannot open the policy's file contexts", errno != 0 ? errno : EIO);
  }
  LabelCheck result;
  auto check_one = [&](const std::filesystem::path& file) {
    struct stat status {};
    if (::lstat(file.c_str(), &status) < 0) {
      throw SystemError("cannot stat " + file.string(), errno);
    }
    char* raw_wanted = nullptr;
    if (selabel_lookup(labels.get(), &raw_wanted, file.c_str(), status.st_mode) < 0) {
      // No entry (ENOENT) means the policy leaves this file alone; nothing to compare.
      if (errno == ENOENT) {
        return;
      }
      throw SystemError("cannot look up the wanted label of " + file.string(), errno);
    }
    Context wanted(raw_wanted);
    char* raw_actual = nullptr;
    if (::lgetfilecon(file.c_str(), &raw_actual) < 0) {
      throw SystemError("cannot read the label of " + file.string(), errno);
    }
    Context actual(raw_actual);
    ++result.checked;
    const std::string wanted_type = context_type(wanted.get());
    const std::string actual_type = context_type(actual.get());
    if (wanted_type != actual_type && result.mismatches.size() < max_reported_mismatches) {
      result.mismatches.push_back(file.string() + ": has " + actual_type + ", policy wants " +
                                  wanted_type);
    }
  };

  check_one(path);
  std::error_code error;
  std::filesystem::recursive_directory_iterator walk(path, std::filesystem::directory_options::none,
                                                     error);
  if (error) {
    throw SystemError("cannot walk " + path, error.value());
  }
  for (const std::filesystem::recursive_directory_iterator end; walk != end;
       walk.increment(error)) {
    if (error) {
      throw SystemError("cannot walk " + path, error.value());
    }
    check_one(walk->path());
  }
  if (error) {
    throw SystemError("cannot walk " + path, error.value());
  }
  return result;
}

bool kernel_knows_context(const std::string& context) {
  return security_check_context(context.c_str()) == 0;
}

}  // namespace pgguard::selinux
