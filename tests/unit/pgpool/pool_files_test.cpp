#include "pgpool/pool_files.hpp"

#include <boost/test/unit_test.hpp>

#include "lib/golden.hpp"
#include "pgpool/pool_crypto.hpp"
#include "plan_fixture.hpp"

using namespace pgguard::pgpool;
using pgguard::pgpool::test::golden_plan;
using pgguard::test::check_golden;

BOOST_AUTO_TEST_SUITE(pool_files)

// Reviewed by hand; the job tests (tests/integration/jobs) run pgpool with these files.
BOOST_AUTO_TEST_CASE(golden_pgpool_conf) {
  check_golden(render_pgpool_conf(golden_plan()), "tests/unit/pgpool/data/pgpool.conf");
}

BOOST_AUTO_TEST_CASE(golden_pool_hba_conf) {
  check_golden(render_pool_hba_conf(golden_plan()), "tests/unit/pgpool/data/pool_hba.conf");
}

BOOST_AUTO_TEST_CASE(pool_hba_has_tls_and_scram_only) {
  const auto text = render_pool_hba_conf(golden_plan());
  BOOST_TEST(text.find("trust") == std::string::npos);
  BOOST_TEST(text.find("\nhost ") == std::string::npos);
  BOOST_TEST(text.find("\nlocal ") == std::string::npos);
  BOOST_TEST(text.find("hostssl all postgres 0.0.0.0/0 reject\n") <
             text.find("hostssl all all 10.0.16.0/20 scram-sha-256\n"));
}

BOOST_AUTO_TEST_CASE(one_node_listens_on_its_own_address_and_runs_no_watchdog) {
  auto plan = golden_plan();
  plan.watchdog.reset();
  const auto text = render_pgpool_conf(plan);
  BOOST_TEST(text.find("listen_addresses = '198.18.1.14'\n") != std::string::npos);
  BOOST_TEST(text.find("use_watchdog = off\n") != std::string::npos);
  BOOST_TEST(text.find("\nhostname0") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_vip_goes_through_the_broker_and_pgpool_listens_on_all) {
  auto plan = golden_plan();
  plan.vip = Vip{"198.18.1.20", 24, "eth0", "pgpool-vip", "/var/vcap/sys/run/pgpool-vip"};
  const auto text = render_pgpool_conf(plan);
  BOOST_TEST(text.find("listen_addresses = '*'\n") != std::string::npos);
  BOOST_TEST(text.find("delegate_ip = '198.18.1.20'\n") != std::string::npos);
  BOOST_TEST(text.find("if_up_cmd = 'pgguard-vip --socket /var/vcap/sys/run/pgpool-vip/vip.sock "
                       "up $_IP_$'\n") != std::string::npos);
  BOOST_TEST(text.find("arping_cmd = 'pgguard-vip --socket /var/vcap/sys/run/pgpool-vip/vip.sock "
                       "announce $_IP_$'\n") != std::string::npos);
  BOOST_TEST(text.find("sudo") == std::string::npos);
}

// Made with pgpool 4.3.5's own tools: `pg_enc -k KEYFILE apppass` with "secretkey" in KEYFILE
// printed AES1Nu0fTBX9ZXXuBOjonOgGQ==; `pg_md5 password` prints the MD5 below.
BOOST_AUTO_TEST_CASE(password_forms_match_pgpools_own_tools) {
  BOOST_TEST(aes_pool_password("apppass", "secretkey") == "AES1Nu0fTBX9ZXXuBOjonOgGQ==");
  BOOST_TEST(md5_hex("password") == "5f4dcc3b5aa765d61d8327deb882cf99");
  const auto key = random_hex_key(32);
  BOOST_TEST(key.size() == 64U);
  BOOST_TEST(key != random_hex_key(32));
}

BOOST_AUTO_TEST_CASE(pool_passwd_and_pcp_conf_hold_no_clear_password) {
  const auto plan = golden_plan();
  const auto passwd = render_pool_passwd(plan, "0123456789abcdef0123456789abcdef");
  BOOST_TEST(passwd.find("app:AES") == 0U);
  BOOST_TEST(passwd.find("secret") == std::string::npos);
  BOOST_TEST(passwd == render_pool_passwd(plan, "0123456789abcdef0123456789abcdef"));
  BOOST_TEST(render_pcp_conf(plan).find("pcpadmin:" + md5_hex("pcp secret") + "\n") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
