#include "net/vip_plan.hpp"

#include <boost/test/unit_test.hpp>
#include <cerrno>

using namespace pgguard::net;

namespace {

const Address kVip = Address::parse("198.18.7.10");
constexpr unsigned kIndex = 2;  // eth0

AddressPlan plan(VipAction action, const std::vector<InterfaceAddress>& current) {
  return plan_address_change(action, current, kIndex, "eth0", kVip, 24);
}

const InterfaceAddress kOwn{kIndex, Address::parse("198.18.7.2"), 24};

}  // namespace

BOOST_AUTO_TEST_SUITE(vip_plan)

BOOST_AUTO_TEST_CASE(up_adds_once) {
  BOOST_TEST((plan(VipAction::up, {kOwn}).step == AddressStep::add));
  BOOST_TEST((plan(VipAction::up, {}).step == AddressStep::add));
  const auto present = plan(VipAction::up, {kOwn, {kIndex, kVip, 24}});
  BOOST_TEST((present.step == AddressStep::nothing));
  BOOST_TEST(present.outcome == "already present");
}

BOOST_AUTO_TEST_CASE(down_removes_once) {
  BOOST_TEST((plan(VipAction::down, {kOwn, {kIndex, kVip, 24}}).step == AddressStep::remove));
  const auto absent = plan(VipAction::down, {kOwn});
  BOOST_TEST((absent.step == AddressStep::nothing));
  BOOST_TEST(absent.outcome == "already absent");
  // On another interface it is not this broker's to remove.
  BOOST_TEST((plan(VipAction::down, {{7, kVip, 24}}).step == AddressStep::nothing));
}

BOOST_AUTO_TEST_CASE(another_prefix_or_interface_is_refused) {
  for (const auto action : {VipAction::up, VipAction::down}) {
    const auto other_prefix = plan(action, {{kIndex, kVip, 32}});
    BOOST_TEST((other_prefix.step == AddressStep::refuse));
    BOOST_TEST(other_prefix.outcome ==
               "198.18.7.10 is on eth0 as /32, not as the configured /24: refusing to change it");
  }
  const auto elsewhere = plan(VipAction::up, {{7, kVip, 24}});
  BOOST_TEST((elsewhere.step == AddressStep::refuse));
  BOOST_TEST(elsewhere.outcome ==
             "198.18.7.10 is already on interface index 7: refusing to add a second copy on eth0");
  BOOST_TEST((plan(VipAction::announce, {}).step == AddressStep::refuse));
}

BOOST_AUTO_TEST_CASE(kernel_answers) {
  BOOST_TEST(change_outcome(AddressStep::add, 0) == "added");
  BOOST_TEST(change_outcome(AddressStep::add, EEXIST) == "already present");
  BOOST_TEST(change_outcome(AddressStep::add, EPERM).empty());
  BOOST_TEST(change_outcome(AddressStep::remove, 0) == "removed");
  BOOST_TEST(change_outcome(AddressStep::remove, EADDRNOTAVAIL) == "already absent");
  BOOST_TEST(change_outcome(AddressStep::remove, EPERM).empty());
  BOOST_TEST(change_outcome(AddressStep::nothing, 0).empty());
}

BOOST_AUTO_TEST_SUITE_END()
