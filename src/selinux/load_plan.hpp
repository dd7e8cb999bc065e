#pragma once

#include <optional>
#include <string>
#include <vector>

namespace pgguard::selinux {

enum class Protocol { tcp, udp };

std::string to_string(Protocol protocol);

// One port number bound to a port type, as a local port record of the policy store.
struct PortLabel {
  Protocol protocol = Protocol::tcp;
  int port = 0;
  std::string type;

  bool operator==(const PortLabel&) const = default;
};

std::string to_string(const PortLabel& label);

// The release's ports and their types. The types are declared by the secure_postgres module;
// the numbers are assigned here because Debian's base policy already labels 5432 and 9000
// and a module cannot override a base portcon (see secure_postgres.te).
const std::vector<PortLabel>& release_port_labels();

// What the policy store holds now, as far as the loader cares.
struct StoreState {
  std::optional<std::string> installed_sha256;  // of the installed module's package bytes
  bool enabled = false;
  std::vector<PortLabel> local_ports;  // single-port local records (ranges are left out)
};

// What must change so the store holds exactly the shipped module and the release's ports.
struct LoadPlan {
  bool install_module = false;  // absent or different content
  bool enable_module = false;   // installed with the same content but disabled
  std::vector<PortLabel> ports_to_set;

  bool changes_store() const { return install_module || enable_module || !ports_to_set.empty(); }
};

// Pure: compares the shipped module's hash and the wanted ports with the store's state.
LoadPlan plan_load(const std::string& shipped_sha256, const StoreState& state,
                   const std::vector<PortLabel>& wanted_ports);

}  // namespace pgguard::selinux
