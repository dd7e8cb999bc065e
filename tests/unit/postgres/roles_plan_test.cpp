#include "postgres/roles_plan.hpp"

#include <boost/test/unit_test.hpp>
#include <map>
#include <numeric>

#include "common/error.hpp"
#include "plan_fixture.hpp"
#include "postgres/scram.hpp"

using namespace pgguard::postgres;
using pgguard::postgres::test::golden_plan;

namespace {

std::vector<std::uint8_t> fixed_salt() {
  std::vector<std::uint8_t> salt(16);
  std::iota(salt.begin(), salt.end(), 0);
  return salt;
}

// The state of a cluster that already matches the golden plan.
ClusterState converged(const NodePlan& plan) {
  ClusterState state;
  state.roles.push_back({"postgres", "", true, true, true, true, true, {}, {}});
  for (const auto& role : plan.roles) {
    state.roles.push_back({role.name, format_verifier(make_verifier(role.password, fixed_salt())),
                           role.login, role.create_database, role.create_role, role.replication,
                           false, role.member_of, grant_keys(role)});
  }
  for (const auto& database : plan.databases) {
    state.databases.push_back({database.name, database.owner});
  }
  state.slots = plan.replication_slots;
  return state;
}

std::map<std::string, std::vector<std::string>> installed_extensions(const NodePlan& plan) {
  std::map<std::string, std::vector<std::string>> out;
  for (const auto& database : plan.databases) {
    out[database.name] = database.extensions;
  }
  return out;
}

SqlPlan plan_with(const NodePlan& plan, const ClusterState& state,
                  std::map<std::string, std::vector<std::string>> extensions) {
  return plan_sql(
      plan, state, [&extensions](const std::string& database) { return extensions[database]; },
      fixed_salt);
}

std::string all_statements(const SqlPlan& sql) {
  std::string text;
  for (const auto& statement : sql.cluster_statements) {
    text += statement + "\n";
  }
  for (const auto& statement : sql.database_statements) {
    text += statement.database + ": " + statement.statement + "\n";
  }
  return text;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(roles_plan)

BOOST_AUTO_TEST_CASE(a_fresh_cluster_gets_everything_and_no_password_in_clear) {
  const NodePlan plan = golden_plan();
  ClusterState fresh;
  fresh.roles.push_back({"postgres", "", true, true, true, true, true, {}, {}});
  fresh.databases = {{"postgres", "postgres"}, {"template1", "postgres"}};
  const SqlPlan sql = plan_with(plan, fresh, {});
  const std::string text = all_statements(sql);
  BOOST_TEST(
      text.find("CREATE ROLE \"replicator\" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                "REPLICATION NOBYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:") != std::string::npos,
      text);
  BOOST_TEST(text.find("GRANT \"pg_monitor\" TO \"pgpool_monitor\";") != std::string::npos);
  BOOST_TEST(text.find("CREATE DATABASE \"appdb\" OWNER \"app\";") != std::string::npos);
  BOOST_TEST(text.find("appdb: CREATE EXTENSION IF NOT EXISTS \"citext\";") != std::string::npos);
  BOOST_TEST(text.find("SELECT pg_create_physical_replication_slot('standby_0');") !=
             std::string::npos);
  for (const auto& role : plan.roles) {
    BOOST_TEST(text.find(role.password) == std::string::npos, "password of " << role.name);
  }
  // Roles before the databases they own.
  BOOST_TEST(text.find("CREATE ROLE \"app\"") < text.find("CREATE DATABASE \"appdb\""));
  // The failover role may promote and switch synchronous replication, the replication role
  // read what pg_rewind needs; nobody else gets either.
  BOOST_TEST(text.find("GRANT EXECUTE ON FUNCTION pg_promote(boolean, integer) TO \"failover\";") !=
             std::string::npos);
  BOOST_TEST(text.find("GRANT ALTER SYSTEM ON PARAMETER synchronous_standby_names TO "
                       "\"failover\";") != std::string::npos);
  BOOST_TEST(text.find("GRANT EXECUTE ON FUNCTION pg_read_binary_file(text, bigint, bigint, "
                       "boolean) TO \"replicator\";") != std::string::npos);
  for (const char* role : {"app", "admin", "pgpool_monitor"}) {
    BOOST_TEST(text.find(std::string(") TO \"") + role + "\";") == std::string::npos, role);
    BOOST_TEST(
        text.find(std::string("synchronous_standby_names TO \"") + role) == std::string::npos,
        role);
  }
  BOOST_TEST(text.find("pg_promote(boolean, integer) TO \"replicator\"") == std::string::npos);
  BOOST_TEST(text.find("pg_ls_dir(text, boolean, boolean) TO \"failover\"") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_converged_cluster_gets_nothing) {
  const NodePlan plan = golden_plan();
  const SqlPlan sql = plan_with(plan, converged(plan), installed_extensions(plan));
  BOOST_TEST(sql.empty(), all_statements(sql));
  BOOST_TEST(sql.changes.empty());
}

BOOST_AUTO_TEST_CASE(only_what_differs_changes) {
  NodePlan plan = golden_plan();
  ClusterState state = converged(plan);
  plan.roles[2].password = "a new one";
  state.roles[4].create_database = false;                      // admin lost createdb
  state.roles[5].member_of.clear();                            // pgpool_monitor left pg_monitor
  state.roles[2].grants.erase(state.roles[2].grants.begin());  // failover lost pg_promote
  state.databases[0].owner = "admin";
  state.slots.clear();
  auto extensions = installed_extensions(plan);
  extensions["appdb"] = {"plpgsql", "pgcrypto"};
  const SqlPlan sql = plan_with(plan, state, extensions);
  BOOST_TEST(sql.changes == (std::vector<std::string>{
                                "set the password of role app", "set the attributes of role admin",
                                "granted pg_monitor to pgpool_monitor",
                                "granted function pg_promote(boolean,integer) to failover",
                                "made app the owner of database appdb",
                                "created extension citext in database appdb",
                                "created physical replication slot standby_0"}),
             all_statements(sql));
}

BOOST_AUTO_TEST_CASE(a_superuser_or_md5_role_of_the_same_name_is_brought_in_line) {
  const NodePlan plan = golden_plan();
  ClusterState state = converged(plan);
  state.roles[3].superuser = true;
  state.roles[3].password = "md5a3556571e93b0d20722ba62be61e8c2d";
  const SqlPlan sql = plan_with(plan, state, installed_extensions(plan));
  const auto text = all_statements(sql);
  BOOST_TEST(text.find("ALTER ROLE \"app\" WITH LOGIN NOSUPERUSER") != std::string::npos, text);
  BOOST_TEST(text.find("ALTER ROLE \"app\" PASSWORD 'SCRAM-SHA-256$") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(the_state_query_output_is_read_field_by_field) {
  const std::string output =
      "role\x1f"
      "app\x1fSCRAM-SHA-256$x\x1f"
      "true\x1f"
      "false\x1f"
      "false\x1f"
      "false\x1f"
      "false\x1f"
      "pg_monitor,pg_read_all_stats\n"
      "database\x1f"
      "appdb\x1f"
      "app\x1f\x1f\x1f\x1f\x1f\x1f\n"
      "slot\x1f"
      "standby_0\x1f"
      "physical\x1f\x1f\x1f\x1f\x1f\x1f\n"
      "grant\x1f"
      "app\x1f"
      "function pg_reload_conf()\x1f\x1f\x1f\x1f\x1f\x1f\n";
  const ClusterState state = parse_cluster_state(output);
  BOOST_TEST(state.roles.at(0).grants == std::vector<std::string>{"function pg_reload_conf()"});
  BOOST_CHECK_THROW(parse_cluster_state("grant\x1fnobody\x1f"
                                        "function pg_reload_conf()\x1f\x1f\x1f\x1f\x1f\x1f\n"),
                    pgguard::Error);
  BOOST_TEST_REQUIRE(state.roles.size() == 1u);
  BOOST_TEST(state.roles[0].login);
  BOOST_TEST(!state.roles[0].superuser);
  BOOST_TEST(state.roles[0].member_of.size() == 2u);
  BOOST_TEST(state.databases.at(0).owner == "app");
  BOOST_TEST(state.slots.at(0) == "standby_0");
  BOOST_CHECK_THROW(parse_cluster_state("role\x1f"
                                        "app\n"),
                    pgguard::Error);
  BOOST_CHECK_THROW(parse_cluster_state("role\x1f"
                                        "a\x1f\x1ft\x1f"
                                        "f\x1f"
                                        "f\x1f"
                                        "f\x1f"
                                        "f\x1f\n"),
                    pgguard::Error);
  BOOST_CHECK_THROW(parse_cluster_state("table\x1f"
                                        "a\x1f\x1f\x1f\x1f\x1f\x1f\x1f\n"),
                    pgguard::Error);
}

BOOST_AUTO_TEST_SUITE_END()
