#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "audit/host_audit.hpp"
#include "audit/listeners.hpp"
#include "audit/process_audit.hpp"

// The smoke test's reads of /proc and /sys: thin, no decisions (those are in the pure files).
namespace pgguard::audit {

// A small file's content; nullopt when it does not exist (ENOENT). Throws SystemError for any
// other failure.
std::optional<std::string> read_if_exists(const std::string& path);

// /proc/PID/{comm,status,limits} and, with `security_context`, attr/current. A process that
// is gone gets `error` set instead.
ProcessSample read_process(pid_t pid, bool security_context);

// Whether /proc/PID exists.
bool process_exists(pid_t pid);

// Every process of this pid namespace with its parent.
std::vector<std::pair<pid_t, pid_t>> process_parents();

// The processes holding each of the `inodes` (sockets), from /proc/*/fd.
std::map<std::uint64_t, std::vector<SocketOwner>> socket_owners(
    const std::set<std::uint64_t>& inodes);

// The listening sockets of the caller's network namespace: /proc/net/{tcp,tcp6,udp,udp6}; a
// table the kernel does not have (no IPv6) is skipped.
std::vector<ListeningSocket> listening_sockets();

// net.ipv4.ip_local_port_range of this network namespace; the kernel's default when unreadable.
EphemeralPorts ephemeral_ports();

// SELinux state, the release module's types known to the kernel (the check pgguard-selinux
// load makes after loading), the Landlock ABI.
HostConfinement read_host_confinement();

// The files of `directory` whose names end with `suffix`, sorted; empty when it cannot be read.
std::vector<std::string> files_with_suffix(const std::string& directory, const std::string& suffix);

}  // namespace pgguard::audit
