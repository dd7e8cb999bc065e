#pragma once

// libsemanage 3.4's headers have no extern "C" of their own.
extern "C" {
#include <semanage/semanage.h>
}

#include <optional>
#include <string>
#include <vector>

#include "selinux/load_plan.hpp"

namespace pgguard::selinux {

struct InstalledModule {
  std::string package;  // the bytes libsemanage stores for the module (its .pp, uncompressed)
  bool enabled = false;
};

// One connection to an SELinux policy store through libsemanage. Every change goes through
// one libsemanage transaction: the store (and, on a live system, the kernel's policy) either
// takes all of it or keeps exactly what it had; a module that fails to link, breaks a
// neverallow or does not fit the base policy never replaces the installed one.
class PolicyStore {
 public:
  // `root`: an alternative root holding /etc/selinux and /var/lib/selinux (a sandbox copy of
  // a store, as `semodule -p`); then the kernel is neither asked nor reloaded.
  // Throws Error (system) when there is no policy store or it cannot be opened.
  explicit PolicyStore(const std::optional<std::string>& root);
  PolicyStore(const PolicyStore&) = delete;
  PolicyStore& operator=(const PolicyStore&) = delete;
  ~PolicyStore();

  std::optional<InstalledModule> installed_module(const std::string& name);
  std::vector<PortLabel> local_ports();

  // One transaction: install `package` as module `name` (when given), enable it, set the ports.
  void apply(const std::string& name, const std::optional<std::string>& package, bool enable,
             const std::vector<PortLabel>& ports);

 private:
  [[noreturn]] void fail(const std::string& what);
  static void collect_message(void* self, semanage_handle_t* handle, const char* format, ...);

  semanage_handle_t* handle_ = nullptr;
  bool connected_ = false;
  std::string messages_;  // libsemanage's own explanation of the last failure
};

}  // namespace pgguard::selinux
