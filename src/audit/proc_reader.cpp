#include "audit/proc_reader.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <tuple>

#include "audit/proc_text.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"
#include "sandbox/landlock.hpp"
#include "sandbox/selinux_context.hpp"
#include "selinux/load_plan.hpp"

namespace pgguard::audit {

namespace {

// Owns a DIR* from opendir(3).
class Directory {
 public:
  explicit Directory(const std::string& path) : dir_(::opendir(path.c_str())) {}
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;
  ~Directory() {
    if (dir_ != nullptr) {
      (void)::closedir(dir_);
    }
  }
  bool valid() const { return dir_ != nullptr; }
  // The next entry's name, skipping "." and ".."; nullopt at the end.
  std::optional<std::string> next() {
    while (const dirent* entry = ::readdir(dir_)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") {
        return name;
      }
    }
    return std::nullopt;
  }

 private:
  DIR* dir_;
};

std::optional<pid_t> pid_of(const std::string& name) {
  pid_t pid = 0;
  const auto [end, error] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (name.empty() || error != std::errc() || end != name.data() + name.size() || pid <= 0) {
    return std::nullopt;
  }
  return pid;
}

// What the kernel answers when asked whether a context is valid in the loaded policy (what
// security_check_context(3) does, without libselinux).
bool kernel_knows_context(const std::string& context) {
  const UniqueFd fd(::open("/sys/fs/selinux/context", O_RDWR | O_CLOEXEC));
  if (!fd) {
    return false;
  }
  const std::string request = context + std::string(1, '\0');
  return ::write(fd.get(), request.data(), request.size()) == static_cast<ssize_t>(request.size());
}

}  // namespace

std::optional<std::string> read_if_exists(const std::string& path) {
  try {
    return read_regular_file(path);
  } catch (const SystemError& error) {
    if (error.errno_value() == ENOENT) {
      return std::nullopt;
    }
    throw;
  }
}

bool process_exists(pid_t pid) {
  return ::access(("/proc/" + std::to_string(pid)).c_str(), F_OK) == 0;
}

ProcessSample read_process(pid_t pid, bool security_context) {
  ProcessSample sample;
  sample.pid = pid;
  const std::string base = "/proc/" + std::to_string(pid) + "/";
  try {
    sample.comm = std::string(trim(read_regular_file(base + "comm")));
    sample.status = read_regular_file(base + "status");
    sample.limits = read_regular_file(base + "limits");
    if (security_context) {
      sample.security_context = security_context_text(read_regular_file(base + "attr/current"));
    }
  } catch (const Error& error) {
    sample.error = error.what();
  }
  return sample;
}

std::vector<std::pair<pid_t, pid_t>> process_parents() {
  std::vector<std::pair<pid_t, pid_t>> parents;
  Directory proc("/proc");
  if (!proc.valid()) {
    throw SystemError("cannot list /proc", errno);
  }
  while (const auto name = proc.next()) {
    const auto pid = pid_of(*name);
    if (!pid) {
      continue;
    }
    try {
      if (const auto parent = parse_stat_parent(read_regular_file("/proc/" + *name + "/stat"))) {
        parents.emplace_back(*pid, *parent);
      }
    } catch (const Error&) {
      // Exited while we listed: not a process of ours any more.
    }
  }
  return parents;
}

std::map<std::uint64_t, std::vector<SocketOwner>> socket_owners(
    const std::set<std::uint64_t>& inodes) {
  std::map<std::uint64_t, std::vector<SocketOwner>> owners;
  Directory proc("/proc");
  if (!proc.valid() || inodes.empty()) {
    return owners;
  }
  while (const auto name = proc.next()) {
    const auto pid = pid_of(*name);
    if (!pid) {
      continue;
    }
    const std::string fd_dir = "/proc/" + *name + "/fd";
    Directory fds(fd_dir);
    if (!fds.valid()) {
      continue;
    }
    std::set<std::uint64_t> held;
    while (const auto fd = fds.next()) {
      char target[64] = {};
      const auto length = ::readlink((fd_dir + "/" + *fd).c_str(), target, sizeof target - 1);
      const std::string_view link(target, length > 0 ? static_cast<std::size_t>(length) : 0);
      constexpr std::string_view prefix = "socket:[";
      if (link.substr(0, prefix.size()) != prefix || link.back() != ']') {
        continue;
      }
      const auto number = link.substr(prefix.size(), link.size() - prefix.size() - 1);
      std::uint64_t inode = 0;
      const auto [end, error] =
          std::from_chars(number.data(), number.data() + number.size(), inode);
      if (error == std::errc() && end == number.data() + number.size() &&
          inodes.count(inode) != 0) {
        held.insert(inode);
      }
    }
    if (held.empty()) {
      continue;
    }
    std::string comm;
    try {
      comm = std::string(trim(read_regular_file("/proc/" + *name + "/comm")));
    } catch (const Error&) {
      comm = "?";
    }
    for (const auto inode : held) {
      owners[inode].push_back({*pid, comm});
    }
  }
  for (auto& [inode, list] : owners) {
    std::sort(list.begin(), list.end(),
              [](const SocketOwner& a, const SocketOwner& b) { return a.pid < b.pid; });
  }
  return owners;
}

std::vector<ListeningSocket> listening_sockets() {
  std::vector<ListeningSocket> sockets;
  const std::vector<std::tuple<const char*, Protocol, net::Family>> tables{
      {"/proc/net/tcp", Protocol::tcp, net::Family::ipv4},
      {"/proc/net/tcp6", Protocol::tcp, net::Family::ipv6},
      {"/proc/net/udp", Protocol::udp, net::Family::ipv4},
      {"/proc/net/udp6", Protocol::udp, net::Family::ipv6}};
  for (const auto& [path, protocol, family] : tables) {
    const auto text = read_if_exists(path);
    if (!text) {
      continue;
    }
    auto found = parse_proc_net(*text, protocol, family);
    sockets.insert(sockets.end(), found.begin(), found.end());
  }
  return sockets;
}

EphemeralPorts ephemeral_ports() {
  EphemeralPorts ports;
  const auto text = read_if_exists("/proc/sys/net/ipv4/ip_local_port_range");
  if (!text) {
    return ports;
  }
  const auto fields = split(*text, " \t\n");
  unsigned first = 0;
  unsigned last = 0;
  if (fields.size() == 2 &&
      std::from_chars(fields[0].data(), fields[0].data() + fields[0].size(), first).ec ==
          std::errc{} &&
      std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), last).ec ==
          std::errc{} &&
      first > 0 && first <= last && last <= 65535) {
    ports.first = static_cast<std::uint16_t>(first);
    ports.last = static_cast<std::uint16_t>(last);
  }
  return ports;
}

HostConfinement read_host_confinement() {
  HostConfinement host;
  host.landlock_abi = sandbox::landlock_abi();
  host.selinux_enabled = sandbox::selinux_enabled();
  for (const auto& label : selinux::release_port_labels()) {
    if (std::find(host.module_types.begin(), host.module_types.end(), label.type) ==
        host.module_types.end()) {
      host.module_types.push_back(label.type);
    }
  }
  if (!host.selinux_enabled) {
    return host;
  }
  // nullopt: reported as unreadable by the mode row.
  host.selinux_enforcing = sandbox::selinux_enforcing();
  for (const auto& type : host.module_types) {
    if (!kernel_knows_context("system_u:object_r:" + type + ":s0")) {
      host.missing_types.push_back(type);
    }
  }
  return host;
}

std::vector<std::string> files_with_suffix(const std::string& directory,
                                           const std::string& suffix) {
  std::vector<std::string> files;
  Directory dir(directory);
  if (!dir.valid()) {
    return files;
  }
  while (const auto name = dir.next()) {
    if (name->size() > suffix.size() &&
        name->compare(name->size() - suffix.size(), suffix.size(), suffix) == 0) {
      files.push_back(directory + "/" + *name);
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace pgguard::audit
