#include "net/sysctl.hpp"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

using namespace pgguard::net;
namespace fs = std::filesystem;

namespace {

// A scratch copy of the parts of /proc/sys the module reads, with unhardened values.
struct ScratchSysctl {
  fs::path root;

  explicit ScratchSysctl(bool with_ipv6) {
    root = fs::temp_directory_path() / ("pgguard-sysctl-" + std::to_string(::getpid()));
    fs::remove_all(root);
    for (const char* entry : {"all", "default", "lo", "eth0"}) {
      for (const char* leaf : {"rp_filter", "accept_redirects", "secure_redirects",
                               "send_redirects", "accept_source_route", "log_martians"}) {
        write("net/ipv4/conf/" + std::string(entry) + "/" + leaf, "2");
      }
      if (with_ipv6) {
        for (const char* leaf : {"accept_redirects", "accept_source_route", "accept_ra"}) {
          write("net/ipv6/conf/" + std::string(entry) + "/" + leaf, "1");
        }
      }
    }
    for (const char* leaf :
         {"icmp_echo_ignore_broadcasts", "icmp_ignore_bogus_error_responses", "tcp_syncookies"}) {
      write("net/ipv4/" + std::string(leaf), "0");
    }
  }
  ~ScratchSysctl() { fs::remove_all(root); }

  void write(const std::string& path, const std::string& value) const {
    fs::create_directories((root / path).parent_path());
    std::ofstream(root / path) << value << "\n";
  }
  std::string read(const std::string& path) const {
    std::ifstream stream(root / path);
    std::string value;
    stream >> value;
    return value;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(sysctl)

BOOST_AUTO_TEST_CASE(plan_covers_all_default_and_each_interface) {
  const SysctlEnvironment environment{{"all", "default", "eth0"}, {"all", "default", "eth0"}};
  const auto settings = plan_sysctls(SysctlPolicy{}, environment);
  const auto has = [&settings](const std::string& path, const std::string& value) {
    return std::find(settings.begin(), settings.end(), SysctlSetting{path, value}) !=
           settings.end();
  };
  BOOST_TEST(has("net/ipv4/conf/eth0/rp_filter", "1"));
  BOOST_TEST(has("net/ipv4/conf/all/rp_filter", "1"));
  BOOST_TEST(has("net/ipv4/conf/default/accept_redirects", "0"));
  BOOST_TEST(has("net/ipv6/conf/eth0/accept_redirects", "0"));
  BOOST_TEST(has("net/ipv4/conf/eth0/send_redirects", "0"));
  BOOST_TEST(has("net/ipv6/conf/all/accept_source_route", "0"));
  BOOST_TEST(has("net/ipv4/icmp_echo_ignore_broadcasts", "1"));
  BOOST_TEST(has("net/ipv4/icmp_ignore_bogus_error_responses", "1"));
  BOOST_TEST(has("net/ipv4/tcp_syncookies", "1"));
  BOOST_TEST(has("net/ipv4/conf/eth0/log_martians", "1"));
  BOOST_TEST(has("net/ipv6/conf/eth0/accept_ra", "0"));
}

BOOST_AUTO_TEST_CASE(each_setting_can_be_switched_off) {
  SysctlPolicy policy;
  policy.strict_reverse_path_filter = false;
  policy.ignore_router_advertisements = false;
  const auto settings = plan_sysctls(policy, {{"all"}, {"all"}});
  for (const auto& setting : settings) {
    BOOST_TEST(setting.path.find("rp_filter") == std::string::npos);
    BOOST_TEST(setting.path.find("accept_ra") == std::string::npos);
  }
  SysctlPolicy none{false, false, false, false, false, false, false, false, false};
  BOOST_TEST(plan_sysctls(none, {{"all"}, {"all"}}).empty());
}

BOOST_AUTO_TEST_CASE(apply_then_compare_round_trip) {
  const ScratchSysctl scratch(true);
  const auto root = scratch.root.string();
  const auto environment = probe_sysctl_environment(root);
  BOOST_TEST(environment.ipv4_conf == (std::vector<std::string>{"all", "default", "eth0", "lo"}));
  const auto settings = plan_sysctls(SysctlPolicy{}, environment);

  const auto before = compare_sysctls(settings, root);
  BOOST_TEST(before.size() == settings.size());
  BOOST_TEST((std::find(before.begin(), before.end(),
                        "sysctl net.ipv4.conf.eth0.rp_filter is 2, expected 1") != before.end()));

  BOOST_TEST(apply_sysctls(settings, root) == settings.size());
  BOOST_TEST(scratch.read("net/ipv4/conf/eth0/rp_filter") == "1");
  BOOST_TEST(scratch.read("net/ipv6/conf/lo/accept_ra") == "0");
  BOOST_TEST(compare_sysctls(settings, root).empty());
  BOOST_TEST(apply_sysctls(settings, root) == 0u);  // idempotent: nothing left to write

  scratch.write("net/ipv4/tcp_syncookies", "0");
  BOOST_TEST(compare_sysctls(settings, root) ==
             std::vector<std::string>{"sysctl net.ipv4.tcp_syncookies is 0, expected 1"});
}

BOOST_AUTO_TEST_CASE(host_without_ipv6_gets_no_ipv6_settings) {
  const ScratchSysctl scratch(false);
  const auto environment = probe_sysctl_environment(scratch.root.string());
  BOOST_TEST(environment.ipv6_conf.empty());
  for (const auto& setting : plan_sysctls(SysctlPolicy{}, environment)) {
    BOOST_TEST(setting.path.find("ipv6") == std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
