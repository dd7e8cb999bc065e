#include "net/vip_plan.hpp"

#include <cerrno>

namespace pgguard::net {

AddressPlan plan_address_change(VipAction action, const std::vector<InterfaceAddress>& current,
                                unsigned index, const std::string& interface, const Address& vip,
                                int prefix) {
  if (action == VipAction::announce) {
    return {AddressStep::refuse, "announce changes no address"};
  }
  const InterfaceAddress* here = nullptr;
  const InterfaceAddress* elsewhere = nullptr;
  for (const auto& entry : current) {
    if (entry.address != vip) {
      continue;
    }
    (entry.index == index ? here : elsewhere) = &entry;
  }
  if (here != nullptr && here->prefix != prefix) {
    return {AddressStep::refuse, vip.to_string() + " is on " + interface + " as /" +
                                     std::to_string(here->prefix) + ", not as the configured /" +
                                     std::to_string(prefix) + ": refusing to change it"};
  }
  if (action == VipAction::up) {
    if (here != nullptr) {
      return {AddressStep::nothing, "already present"};
    }
    if (elsewhere != nullptr) {
      return {AddressStep::refuse, vip.to_string() + " is already on interface index " +
                                       std::to_string(elsewhere->index) +
                                       ": refusing to add a second copy on " + interface};
    }
    return {AddressStep::add, {}};
  }
  if (here == nullptr) {
    return {AddressStep::nothing, "already absent"};
  }
  return {AddressStep::remove, {}};
}

std::string change_outcome(AddressStep step, int error) {
  if (step == AddressStep::add) {
    return error == 0 ? "added" : error == EEXIST ? "already present" : "";
  }
  if (step == AddressStep::remove) {
    return error == 0 ? "removed" : error == EADDRNOTAVAIL ? "already absent" : "";
  }
  return "";
}

}  // namespace pgguard::net
