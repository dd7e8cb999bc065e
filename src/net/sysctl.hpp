#pragma once

#include <string>
#include <vector>

#include "net/isolation_config.hpp"

namespace pgguard::net {

// One sysctl as a path below the sysctl root ("net/ipv4/conf/all/rp_filter") and its value.
struct SysctlSetting {
  std::string path;
  std::string value;
  friend bool operator==(const SysctlSetting&, const SysctlSetting&) = default;
};

// What exists on this host: "all", "default" and every interface, per family. IPv6 is empty
// when the host runs without IPv6.
struct SysctlEnvironment {
  std::vector<std::string> ipv4_conf;
  std::vector<std::string> ipv6_conf;
};

// Pure: the settings the policy asks for on this host. Per-interface settings cover every
// conf entry because the kernel combines "all" and the interface (max for rp_filter, or for
// send_redirects), so "all" alone does not harden an interface.
std::vector<SysctlSetting> plan_sysctls(const SysctlPolicy& policy,
                                        const SysctlEnvironment& environment);

// I/O below `root` (normally /proc/sys, which shows the caller's network namespace).
SysctlEnvironment probe_sysctl_environment(const std::string& root = "/proc/sys");
// "net.ipv4.conf.all.rp_filter is 2, expected 1" per differing setting.
std::vector<std::string> compare_sysctls(const std::vector<SysctlSetting>& settings,
                                         const std::string& root = "/proc/sys");
// Writes the settings that differ; returns how many were written. Throws SystemError.
std::size_t apply_sysctls(const std::vector<SysctlSetting>& settings,
                          const std::string& root = "/proc/sys");

}  // namespace pgguard::net
