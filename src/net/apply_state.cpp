#include "net/apply_state.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <sstream>
#include <vector>

#include "common/error.hpp"
#include "common/strings.hpp"
#include "common/unique_fd.hpp"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71  // Linux 5.14; absent from older headers
#endif

namespace pgguard::net {

namespace {

constexpr std::string_view kFormat = "pgguard-isolate-state-1";

std::string binary_identity() {
  struct stat status {};
  if (::stat("/proc/self/exe", &status) != 0) {
    return "unknown-binary";
  }
  return std::to_string(status.st_dev) + ":" + std::to_string(status.st_ino) + ":" +
         std::to_string(status.st_size) + ":" + std::to_string(status.st_mtim.tv_sec) + "." +
         std::to_string(status.st_mtim.tv_nsec);
}

std::string hex64(std::uint64_t value) {
  char text[17];
  (void)std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(value));
  return text;
}

std::uint32_t policy_bits(const SysctlPolicy& policy) {
  const bool flags[] = {policy.strict_reverse_path_filter,
                        policy.ignore_redirects,
                        policy.disable_send_redirects,
                        policy.disable_source_route,
                        policy.ignore_broadcast_echo,
                        policy.ignore_bogus_icmp_errors,
                        policy.tcp_syncookies,
                        policy.log_martians,
                        policy.ignore_router_advertisements};
  std::uint32_t bits = 0;
  for (std::size_t i = 0; i < std::size(flags); ++i) {
    bits |= static_cast<std::uint32_t>(flags[i]) << i;
  }
  return bits;
}

SysctlPolicy policy_from_bits(std::uint32_t bits) {
  const auto bit = [bits](int i) { return ((bits >> i) & 1u) != 0; };
  return SysctlPolicy{bit(0), bit(1), bit(2), bit(3), bit(4), bit(5), bit(6), bit(7), bit(8)};
}

}  // namespace

std::string configuration_digest(std::string_view text) {
  // libstdc++'s std::hash is MurmurHash2-64: a few GB/s, so a 100,000-line file costs well under
  // a millisecond. Not cryptographic, and it need not be: whoever can write the configuration
  // or the root-only record can change the firewall directly anyway.
  const auto identity = binary_identity();
  return hex64(std::hash<std::string_view>{}(text)) + hex64(std::hash<std::string>{}(identity)) +
         "-" + std::to_string(text.size());
}

std::string encode_state(const AppliedState& state) {
  return std::string(kFormat) + " " + std::to_string(state.generation) + " " + state.digest + " " +
         state.table + " " + std::to_string(policy_bits(state.sysctl)) + "\n";
}

std::optional<AppliedState> decode_state(std::string_view text) {
  const auto words = split(text, " \n");
  if (words.size() != 5 || words[0] != kFormat) {
    return std::nullopt;
  }
  try {
    AppliedState state;
    std::size_t used = 0;
    const auto generation = std::stoull(words[1], &used);
    if (used != words[1].size() || generation > 0xffffffffull) {
      return std::nullopt;
    }
    state.generation = static_cast<std::uint32_t>(generation);
    state.digest = words[2];
    state.table = words[3];
    state.sysctl = policy_from_bits(static_cast<std::uint32_t>(std::stoul(words[4])));
    return state;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::uint32_t read_generation(NetlinkSocket& socket) {
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  auto* header = nftnl_nlmsg_build_hdr(buffer.data(), NFT_MSG_GETGEN, NFPROTO_UNSPEC, NLM_F_ACK,
                                       socket.next_sequence());
  std::optional<std::uint32_t> generation;
  const int error = socket.request(header, [&generation](const nlmsghdr* answer) {
    for_each_attribute(answer, sizeof(nfgenmsg), [&generation](const nlattr* attribute) {
      if (mnl_attr_get_type(attribute) == NFTA_GEN_ID) {
        generation = ntohl(mnl_attr_get_u32(attribute));
      }
    });
  });
  if (error != 0) {
    throw SystemError("cannot read the nf_tables ruleset generation", error);
  }
  if (!generation) {
    throw SystemError("nf_tables answered without a ruleset generation", EPROTO);
  }
  return *generation;
}

std::optional<std::uint64_t> network_namespace_cookie(const NetlinkSocket& socket) {
  std::uint64_t cookie = 0;
  socklen_t length = sizeof cookie;
  if (::getsockopt(socket.fd(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &length) != 0 ||
      length != sizeof cookie) {
    return std::nullopt;
  }
  return cookie;
}

std::string StateStore::path(std::uint64_t cookie) const {
  return directory_ + "/netns-" + std::to_string(cookie) + ".state";
}

std::optional<AppliedState> StateStore::load(std::uint64_t cookie) const {
  UniqueFd fd(::open(path(cookie).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) {
    return std::nullopt;
  }
  struct stat status {};
  // Only a record written by our own user (root in production) that nobody else can write.
  if (::fstat(fd.get(), &status) != 0 || status.st_uid != ::geteuid() ||
      (status.st_mode & 022) != 0 || !S_ISREG(status.st_mode)) {
    return std::nullopt;
  }
  char text[512];
  const auto length = ::read(fd.get(), text, sizeof text);
  if (length <= 0) {
    return std::nullopt;
  }
  return decode_state(std::string_view(text, static_cast<std::size_t>(length)));
}

void StateStore::save(std::uint64_t cookie, const AppliedState& state) const noexcept {
  if (::mkdir(directory_.c_str(), 0700) != 0 && errno != EEXIST) {
    return;
  }
  const std::string final_path = path(cookie);
  const std::string temporary = final_path + ".tmp" + std::to_string(::getpid());
  UniqueFd fd(
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) {
    return;
  }
  const std::string text = encode_state(state);
  const bool written =
      ::write(fd.get(), text.data(), text.size()) == static_cast<ssize_t>(text.size());
  fd.reset();
  if (!written || ::rename(temporary.c_str(), final_path.c_str()) != 0) {
    ::unlink(temporary.c_str());
  }
}

void StateStore::forget(std::uint64_t cookie) const noexcept {
  ::unlink(path(cookie).c_str());
}

}  // namespace pgguard::net
