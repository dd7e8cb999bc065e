#pragma once

#include <string>
#include <vector>

#include "net/route_messages.hpp"
#include "net/vip_request.hpp"

// What the VIP broker's up and down must change, decided from the addresses the kernel listed
// (pure). Both are idempotent: the VIP already where it should be is success with nothing sent.
namespace pgguard::net {

enum class AddressStep {
  nothing,  // already as asked: `outcome` says so
  add,      // RTM_NEWADDR
  remove,   // RTM_DELADDR
  refuse,   // the state is not one the broker may change: `outcome` says why
};

struct AddressPlan {
  AddressStep step = AddressStep::nothing;
  std::string outcome;  // for nothing and refuse
};

// For up or down of vip/prefix on the interface with index `index` ("announce" is not an
// address change: refused). up: present with the prefix -> nothing; present with another prefix,
// or present on another interface -> refuse (a second copy would make two routes for it);
// else add. down: present with the prefix -> remove; present with another prefix -> refuse (it
// is not the address the broker manages); else nothing.
AddressPlan plan_address_change(VipAction action, const std::vector<InterfaceAddress>& current,
                                unsigned index, const std::string& interface, const Address& vip,
                                int prefix);

// The answer text after the kernel answered the change: "added", "removed", or for the races
// an up or down can lose harmlessly (EEXIST after add, EADDRNOTAVAIL after remove) "already
// present" / "already absent"; an empty string for any other error (the caller reports it).
std::string change_outcome(AddressStep step, int error);

}  // namespace pgguard::net
