#include "selinux/load_plan.hpp"

#include <algorithm>

namespace pgguard::selinux {

std::string to_string(Protocol protocol) {
  return protocol == Protocol::tcp ? "tcp" : "udp";
}

std::string to_string(const PortLabel& label) {
  return to_string(label.protocol) + "/" + std::to_string(label.port) + " " + label.type;
}

const std::vector<PortLabel>& release_port_labels() {
  static const std::vector<PortLabel> labels{
      {Protocol::tcp, 5432, "secpg_postgres_port_t"},   // clients, replication, tools
      {Protocol::tcp, 9999, "secpg_pgpool_port_t"},     // pgpool clients
      {Protocol::tcp, 9898, "secpg_pgpool_port_t"},     // PCP
      {Protocol::tcp, 9000, "secpg_watchdog_port_t"},   // watchdog
      {Protocol::udp, 9694, "secpg_heartbeat_port_t"},  // watchdog heartbeat
  };
  return labels;
}

LoadPlan plan_load(const std::string& shipped_sha256, const StoreState& state,
                   const std::vector<PortLabel>& wanted_ports) {
  LoadPlan plan;
  plan.install_module = !state.installed_sha256 || *state.installed_sha256 != shipped_sha256;
  plan.enable_module = !plan.install_module && !state.enabled;
  for (const PortLabel& wanted : wanted_ports) {
    const bool present = std::find(state.local_ports.begin(), state.local_ports.end(), wanted) !=
                         state.local_ports.end();
    if (!present) {
      plan.ports_to_set.push_back(wanted);
    }
  }
  return plan;
}

}  // namespace pgguard::selinux
