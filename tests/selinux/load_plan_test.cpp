#include "selinux/load_plan.hpp"

#include <boost/test/unit_test.hpp>

#include "selinux/relabel.hpp"

namespace {

using pgguard::selinux::LoadPlan;
using pgguard::selinux::PortLabel;
using pgguard::selinux::Protocol;
using pgguard::selinux::StoreState;

const std::vector<PortLabel> wanted{{Protocol::tcp, 5432, "secpg_postgres_port_t"},
                                    {Protocol::udp, 9694, "secpg_heartbeat_port_t"}};

}  // namespace

BOOST_AUTO_TEST_CASE(first_install_installs_module_and_every_port) {
  const LoadPlan plan = plan_load("aa", StoreState{}, wanted);
  BOOST_TEST(plan.install_module);
  BOOST_TEST(plan.ports_to_set.size() == 2U);
  BOOST_TEST(plan.changes_store());
}

BOOST_AUTO_TEST_CASE(same_content_enabled_with_ports_changes_nothing) {
  const StoreState state{std::string("aa"), true, wanted};
  const LoadPlan plan = plan_load("aa", state, wanted);
  BOOST_TEST(!plan.changes_store());
}

BOOST_AUTO_TEST_CASE(different_content_is_an_upgrade) {
  const StoreState state{std::string("bb"), true, wanted};
  const LoadPlan plan = plan_load("aa", state, wanted);
  BOOST_TEST(plan.install_module);
  BOOST_TEST(plan.ports_to_set.empty());
}

BOOST_AUTO_TEST_CASE(disabled_module_with_same_content_is_only_enabled) {
  const StoreState state{std::string("aa"), false, wanted};
  const LoadPlan plan = plan_load("aa", state, wanted);
  BOOST_TEST(!plan.install_module);
  BOOST_TEST(plan.enable_module);
}

BOOST_AUTO_TEST_CASE(a_port_with_another_type_or_protocol_is_set_again) {
  const StoreState state{std::string("aa"),
                         true,
                         {{Protocol::tcp, 5432, "postgresql_port_t"},
                          {Protocol::tcp, 9694, "secpg_heartbeat_port_t"}}};
  const LoadPlan plan = plan_load("aa", state, wanted);
  BOOST_TEST(plan.ports_to_set == wanted);
}

BOOST_AUTO_TEST_CASE(release_ports_are_the_five_the_jobs_use) {
  const auto& labels = pgguard::selinux::release_port_labels();
  BOOST_TEST(labels.size() == 5U);
  BOOST_TEST(to_string(labels.front()) == "tcp/5432 secpg_postgres_port_t");
}

BOOST_AUTO_TEST_CASE(context_type_is_the_third_field) {
  BOOST_TEST(pgguard::selinux::context_type("system_u:object_r:secpg_postgres_data_t:s0") ==
             "secpg_postgres_data_t");
  BOOST_TEST(pgguard::selinux::context_type("system_u:object_r:x_t:s0:c0.c1023") == "x_t");
  BOOST_TEST(pgguard::selinux::context_type("garbage").empty());
}
