#include "net/sysctl.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "common/error.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"

namespace pgguard::net {

namespace {

std::string dotted(const std::string& path) {
  std::string name = path;
  std::replace(name.begin(), name.end(), '/', '.');
  return name;
}

void per_conf(std::vector<SysctlSetting>& out, const std::vector<std::string>& conf,
              const std::string& family, const std::string& leaf, const std::string& value) {
  for (const auto& entry : conf) {
    std::string path = "net/" + family;
    path.append("/conf/").append(entry).append("/").append(leaf);
    out.push_back({std::move(path), value});
  }
}

std::vector<std::string> list_conf(const std::string& directory) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(directory, error)) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// Reads a sysctl; nullopt when it does not exist (an interface that went away).
std::optional<std::string> read_value(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) {
      return std::nullopt;
    }
    throw SystemError("cannot read " + path, errno);
  }
  char buffer[256];
  const auto length = ::read(fd.get(), buffer, sizeof buffer);
  if (length < 0) {
    throw SystemError("cannot read " + path, errno);
  }
  return std::string(trim(std::string_view(buffer, static_cast<std::size_t>(length))));
}

}  // namespace

std::vector<SysctlSetting> plan_sysctls(const SysctlPolicy& policy,
                                        const SysctlEnvironment& environment) {
  std::vector<SysctlSetting> out;
  const auto& v4 = environment.ipv4_conf;
  const auto& v6 = environment.ipv6_conf;
  if (policy.strict_reverse_path_filter) {
    per_conf(out, v4, "ipv4", "rp_filter", "1");
  }
  if (policy.ignore_redirects) {
    per_conf(out, v4, "ipv4", "accept_redirects", "0");
    per_conf(out, v4, "ipv4", "secure_redirects", "0");
    per_conf(out, v6, "ipv6", "accept_redirects", "0");
  }
  if (policy.disable_send_redirects) {
    per_conf(out, v4, "ipv4", "send_redirects", "0");
  }
  if (policy.disable_source_route) {
    per_conf(out, v4, "ipv4", "accept_source_route", "0");
    per_conf(out, v6, "ipv6", "accept_source_route", "0");
  }
  if (policy.ignore_broadcast_echo) {
    out.push_back({"net/ipv4/icmp_echo_ignore_broadcasts", "1"});
  }
  if (policy.ignore_bogus_icmp_errors) {
    out.push_back({"net/ipv4/icmp_ignore_bogus_error_responses", "1"});
  }
  if (policy.tcp_syncookies) {
    out.push_back({"net/ipv4/tcp_syncookies", "1"});
  }
  if (policy.log_martians) {
    per_conf(out, v4, "ipv4", "log_martians", "1");
  }
  if (policy.ignore_router_advertisements) {
    per_conf(out, v6, "ipv6", "accept_ra", "0");
  }
  return out;
}

SysctlEnvironment probe_sysctl_environment(const std::string& root) {
  SysctlEnvironment environment;
  environment.ipv4_conf = list_conf(root + "/net/ipv4/conf");
  if (environment.ipv4_conf.empty()) {
    throw SystemError("cannot list " + root + "/net/ipv4/conf", ENOENT);
  }
  environment.ipv6_conf = list_conf(root + "/net/ipv6/conf");
  return environment;
}

std::vector<std::string> compare_sysctls(const std::vector<SysctlSetting>& settings,
                                         const std::string& root) {
  std::vector<std::string> out;
  for (const auto& setting : settings) {
    const auto value = read_value(root + "/" + setting.path);
    if (!value) {
      continue;  // the interface is gone: nothing left to harden
    }
    if (*value != setting.value) {
      out.push_back("sysctl " + dotted(setting.path) + " is " + *value + ", expected " +
                    setting.value);
    }
  }
  return out;
}

std::size_t apply_sysctls(const std::vector<SysctlSetting>& settings, const std::string& root) {
  std::size_t written = 0;
  for (const auto& setting : settings) {
    const std::string path = root + "/" + setting.path;
    const auto value = read_value(path);
    if (!value || *value == setting.value) {
      continue;
    }
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
    if (!fd) {
      throw SystemError("cannot open " + dotted(setting.path) + " for writing", errno);
    }
    const std::string text = setting.value + "\n";
    if (::write(fd.get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      throw SystemError("cannot set " + dotted(setting.path) + " = " + setting.value, errno);
    }
    ++written;
  }
  return written;
}

}  // namespace pgguard::net
