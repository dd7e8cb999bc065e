#include "net/vip_config.hpp"

#include <algorithm>

#include "common/strings.hpp"

namespace pgguard::net {

namespace {

using config::Entry;

[[noreturn]] void bad(const Entry& entry, const std::string& message) {
  throw ConfigError(entry.where, entry.key, message);
}

// Decimal without sign or leading zeros, within [min, max].
int parse_small_decimal(const Entry& entry, std::string_view text, int min, int max,
                        const std::string& what) {
  const bool digits =
      !text.empty() && text.size() <= 3 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (!digits || (text.size() > 1 && text.front() == '0')) {
    bad(entry, what + " '" + std::string(text) + "' is not a decimal number");
  }
  int value = 0;
  for (const char c : text) {
    value = value * 10 + (c - '0');
  }
  if (value < min || value > max) {
    bad(entry, what + " " + std::to_string(value) + " is outside " + std::to_string(min) + ".." +
                   std::to_string(max));
  }
  return value;
}

std::uint32_t as_number(const Address& address) {
  return std::uint32_t{address.byte(0)} << 24 | std::uint32_t{address.byte(1)} << 16 |
         std::uint32_t{address.byte(2)} << 8 | std::uint32_t{address.byte(3)};
}

// What no deployment means by a VIP; each would take an address the host or the link needs.
const char* unusable_reason(std::uint32_t address) {
  const auto in = [address](std::uint32_t network, int prefix) {
    const std::uint32_t mask = prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix);
    return (address & mask) == network;
  };
  if (in(0x00000000, 8)) {
    return "is in 0.0.0.0/8 (\"this network\")";
  }
  if (in(0x7f000000, 8)) {
    return "is a loopback address";
  }
  if (in(0xa9fe0000, 16)) {
    return "is a link-local address";
  }
  if (in(0xe0000000, 4)) {
    return "is a multicast address";
  }
  if (in(0xf0000000, 4)) {
    return "is reserved (240.0.0.0/4) or the broadcast address";
  }
  return nullptr;
}

void parse_address(const Entry& entry, VipConfig& config) {
  const std::string text(trim(entry.value));
  const auto slash = text.find('/');
  if (slash == std::string::npos) {
    bad(entry, "'" + text + "' has no prefix: expected IPV4/PREFIX, e.g. 198.18.7.10/24");
  }
  try {
    config.address = Address::parse(text.substr(0, slash));
  } catch (const AddressError& error) {
    bad(entry, "'" + text + "': " + error.what());
  }
  if (config.address.family() != Family::ipv4) {
    bad(entry, "'" + text + "' is not IPv4: pgpool's delegate IP is announced with ARP");
  }
  config.prefix =
      parse_small_decimal(entry, std::string_view(text).substr(slash + 1), 1, 32, "prefix");
  const std::uint32_t number = as_number(config.address);
  if (const char* reason = unusable_reason(number)) {
    bad(entry, config.address.to_string() + " " + reason + ": not a VIP");
  }
  if (config.prefix <= 30) {
    const std::uint32_t host_mask = ~std::uint32_t{0} >> config.prefix;
    if ((number & host_mask) == 0) {
      bad(entry, text + " is the network address of its prefix, not a host address");
    }
    if ((number & host_mask) == host_mask) {
      bad(entry, text + " is the broadcast address of its prefix, not a host address");
    }
  }
}

// The kernel's own rule for device names (dev_valid_name): 1-15 bytes, not "." or "..", no
// '/', ':' or whitespace. ':' would name a label ("eth0:0"), not a device.
std::string parse_interface(const Entry& entry) {
  std::string name(trim(entry.value));
  if (name.empty() || name.size() > 15) {
    bad(entry, "'" + name + "' is not an interface name (1 to 15 bytes)");
  }
  if (name == "." || name == ".." || std::any_of(name.begin(), name.end(), [](char c) {
        return c == '/' || c == ':' || c == ' ' || c == '\t';
      })) {
    bad(entry, "'" + name + "' is not an interface name (no '/', ':' or blanks, not . or ..)");
  }
  return name;
}

std::string parse_socket_path(const Entry& entry) {
  std::string path(trim(entry.value));
  if (path.empty() || path.front() != '/') {
    bad(entry, "'" + path + "' is not an absolute path");
  }
  if (path.back() == '/' || path.find("//") != std::string::npos) {
    bad(entry, "'" + path + "' is not normalized (doubled or trailing '/')");
  }
  for (const auto& component : split(path, "/")) {
    if (component == "." || component == "..") {
      bad(entry, std::string("'")
                     .append(path)
                     .append("' has a '")
                     .append(component)
                     .append("' component"));
    }
  }
  if (path.size() > kMaxSocketPathLength) {
    bad(entry, "'" + path + "' is " + std::to_string(path.size()) +
                   " bytes long; a unix socket path may have at most " +
                   std::to_string(kMaxSocketPathLength) + " here");
  }
  return path;
}

std::string parse_client(const Entry& entry) {
  std::string name(trim(entry.value));
  const bool portable =
      !name.empty() && name.size() <= 32 &&
      ((name.front() >= 'a' && name.front() <= 'z') || name.front() == '_') &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
      });
  if (!portable) {
    bad(entry, "'" + name + "' is not a portable user name ([a-z_][a-z0-9_-]{0,31})");
  }
  if (name == "root") {
    bad(entry, "root is never a client: the client is pgpool's own account");
  }
  return name;
}

}  // namespace

std::string VipConfig::address_text() const {
  return address.to_string() + "/" + std::to_string(prefix);
}

VipConfig parse_vip_config(const config::ConfigFile& file) {
  file.check_keys({{"address", false, true},
                   {"interface", false, true},
                   {"socket", false, true},
                   {"client", false, true},
                   {"announce_count", false, false}});
  VipConfig config;
  config.file = file.file_name();
  for (const auto& entry : file.entries()) {
    if (entry.key == "address") {
      parse_address(entry, config);
    } else if (entry.key == "interface") {
      config.interface = parse_interface(entry);
      config.interface_where = entry.where;
    } else if (entry.key == "socket") {
      config.socket_path = parse_socket_path(entry);
      config.socket_where = entry.where;
    } else if (entry.key == "client") {
      config.client = parse_client(entry);
      config.client_where = entry.where;
    } else if (entry.key == "announce_count") {
      config.announce_count = parse_small_decimal(entry, trim(entry.value), 1, 10, "count");
    }
  }
  return config;
}

VipConfig load_vip_config(const std::string& path) {
  return parse_vip_config(config::ConfigFile::load(path, kMaxVipConfigSize));
}

}  // namespace pgguard::net
