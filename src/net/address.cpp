#include "net/address.hpp"

#include <algorithm>
#include <cstdio>

namespace pgguard::net {

namespace {

bool is_decimal_digit(char c) {
  return c >= '0' && c <= '9';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::vector<std::string_view> split_keep_empty(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  std::size_t start = 0;
  while (true) {
    const auto end = text.find(separator, start);
    if (end == std::string_view::npos) {
      pieces.push_back(text.substr(start));
      return pieces;
    }
    pieces.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

// Runs once per member of 100,000-line files: no allocation on the way to a valid address.
std::array<std::uint8_t, 4> parse_ipv4_bytes(std::string_view text) {
  if (std::count(text.begin(), text.end(), '.') != 3) {
    throw AddressError("an IPv4 address has exactly four dot-separated decimal octets");
  }
  std::array<std::uint8_t, 4> bytes{};
  std::size_t start = 0;
  for (std::size_t i = 0; i < 4; ++i) {
    const auto end = i < 3 ? text.find('.', start) : text.size();
    const auto part = text.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part.size() > 3 ||
        !std::all_of(part.begin(), part.end(), is_decimal_digit)) {
      throw AddressError("IPv4 octet '" + std::string(part) + "' is not a decimal number");
    }
    if (part.size() > 1 && part.front() == '0') {
      // inet_aton reads a leading zero as octal: refuse rather than guess.
      throw AddressError("IPv4 octet '" + std::string(part) + "' has a leading zero");
    }
    int value = 0;
    for (char c : part) {
      value = value * 10 + (c - '0');
    }
    if (value > 255) {
      throw AddressError("IPv4 octet '" + std::string(part) + "' is greater than 255");
    }
    bytes[i] = static_cast<std::uint8_t>(value);
  }
  return bytes;
}

// Parses colon-separated groups, the last of which may be a dotted IPv4 address (two groups).
std::vector<std::uint16_t> parse_ipv6_groups(std::string_view text, bool may_end_with_ipv4) {
  std::vector<std::uint16_t> groups;
  if (text.empty()) {
    return groups;
  }
  const auto parts = split_keep_empty(text, ':');
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto part = parts[i];
    if (i + 1 == parts.size() && may_end_with_ipv4 && part.find('.') != std::string_view::npos) {
      const auto v4 = parse_ipv4_bytes(part);
      groups.push_back(static_cast<std::uint16_t>(v4[0] << 8 | v4[1]));
      groups.push_back(static_cast<std::uint16_t>(v4[2] << 8 | v4[3]));
      continue;
    }
    if (part.empty() || part.size() > 4) {
      throw AddressError("IPv6 group '" + std::string(part) + "' must have 1 to 4 hex digits");
    }
    unsigned value = 0;
    for (char c : part) {
      const int digit = hex_value(c);
      if (digit < 0) {
        throw AddressError("IPv6 group '" + std::string(part) + "' is not hexadecimal");
      }
      value = value * 16 + static_cast<unsigned>(digit);
    }
    groups.push_back(static_cast<std::uint16_t>(value));
  }
  return groups;
}

std::array<std::uint8_t, 16> parse_ipv6_bytes(std::string_view text) {
  if (text.find('%') != std::string_view::npos) {
    throw AddressError("zone ids ('%...') are not allowed");
  }
  std::vector<std::uint16_t> groups;
  const auto gap = text.find("::");
  if (gap == std::string_view::npos) {
    groups = parse_ipv6_groups(text, true);
    if (groups.size() != 8) {
      throw AddressError("an IPv6 address without '::' has exactly eight groups");
    }
  } else {
    if (text.find("::", gap + 1) != std::string_view::npos) {
      throw AddressError("'::' may appear only once in an IPv6 address");
    }
    const auto head = parse_ipv6_groups(text.substr(0, gap), false);
    const auto tail = parse_ipv6_groups(text.substr(gap + 2), true);
    if (head.size() + tail.size() > 7) {
      throw AddressError("too many groups in IPv6 address");
    }
    groups = head;
    groups.resize(8 - tail.size(), 0);
    groups.insert(groups.end(), tail.begin(), tail.end());
  }
  std::array<std::uint8_t, 16> bytes{};
  for (std::size_t i = 0; i < 8; ++i) {
    bytes[2 * i] = static_cast<std::uint8_t>(groups[i] >> 8);
    bytes[2 * i + 1] = static_cast<std::uint8_t>(groups[i] & 0xff);
  }
  const bool mapped =
      std::all_of(bytes.begin(), bytes.begin() + 10, [](auto b) { return b == 0; }) &&
      bytes[10] == 0xff && bytes[11] == 0xff;
  if (mapped) {
    throw AddressError("IPv4-mapped IPv6 address: write the IPv4 address instead");
  }
  return bytes;
}

}  // namespace

std::string_view family_name(Family family) {
  return family == Family::ipv4 ? "IPv4" : "IPv6";
}

Address Address::parse(std::string_view text) {
  if (text.empty()) {
    throw AddressError("empty address");
  }
  if (text.find(':') != std::string_view::npos) {
    return ipv6(parse_ipv6_bytes(text));
  }
  return ipv4(parse_ipv4_bytes(text));
}

Address Address::ipv4(std::array<std::uint8_t, 4> bytes) {
  Address address;
  address.family_ = Family::ipv4;
  std::copy(bytes.begin(), bytes.end(), address.bytes_.begin());
  return address;
}

Address Address::ipv6(std::array<std::uint8_t, 16> bytes) {
  Address address;
  address.family_ = Family::ipv6;
  address.bytes_ = bytes;
  return address;
}

Address Address::zero(Family family) {
  Address address;
  address.family_ = family;
  return address;
}

Address Address::all_ones(Family family) {
  Address address = zero(family);
  std::fill(address.bytes_.begin(), address.bytes_.begin() + address.size(), 0xff);
  return address;
}

bool Address::is_zero() const {
  return *this == zero(family_);
}
bool Address::is_all_ones() const {
  return *this == all_ones(family_);
}
bool Address::is_loopback() const {
  if (family_ == Family::ipv4) {
    return bytes_[0] == 127;
  }
  Address loopback = zero(Family::ipv6);
  loopback.bytes_[15] = 1;
  return *this == loopback;
}
bool Address::is_multicast() const {
  return family_ == Family::ipv4 ? (bytes_[0] & 0xf0) == 0xe0 : bytes_[0] == 0xff;
}

Address Address::next() const {
  Address result = *this;
  for (auto i = size(); i-- > 0;) {
    if (++result.bytes_[i] != 0) {
      break;
    }
  }
  return result;
}

Address Address::previous() const {
  Address result = *this;
  for (auto i = size(); i-- > 0;) {
    if (result.bytes_[i]-- != 0) {
      break;
    }
  }
  return result;
}

std::string Address::to_string() const {
  if (family_ == Family::ipv4) {
    return std::to_string(bytes_[0]) + "." + std::to_string(bytes_[1]) + "." +
           std::to_string(bytes_[2]) + "." + std::to_string(bytes_[3]);
  }
  std::array<unsigned, 8> groups{};
  for (std::size_t i = 0; i < 8; ++i) {
    groups[i] = static_cast<unsigned>(bytes_[2 * i] << 8 | bytes_[2 * i + 1]);
  }
  // RFC 5952: compress the longest run (first on a tie) of at least two zero groups.
  int best_start = -1;
  int best_length = 1;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && groups[j] == 0) {
      ++j;
    }
    if (j - i > best_length) {
      best_start = i;
      best_length = j - i;
    }
    i = j;
  }
  std::string text;
  char group_text[8];
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      text += "::";
      i += best_length - 1;
      continue;
    }
    if (!text.empty() && text.back() != ':') {
      text += ':';
    }
    (void)std::snprintf(group_text, sizeof group_text, "%x", groups[i]);
    text += group_text;
  }
  return text;
}

bool AddressRange::contains(const Address& address) const {
  return address.family() == first.family() && first <= address && address <= last;
}

bool AddressRange::overlaps(const AddressRange& other) const {
  return first.family() == other.first.family() && first <= other.last && other.first <= last;
}

Cidr Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) {
    return host(Address::parse(text));
  }
  const Address address = Address::parse(text.substr(0, slash));
  const auto prefix_text = text.substr(slash + 1);
  const int max_prefix = static_cast<int>(address.size() * 8);
  if (prefix_text.empty() || prefix_text.size() > 3 ||
      !std::all_of(prefix_text.begin(), prefix_text.end(), is_decimal_digit) ||
      (prefix_text.size() > 1 && prefix_text.front() == '0')) {
    throw AddressError("prefix length '" + std::string(prefix_text) + "' is not a decimal number");
  }
  int prefix = 0;
  for (char c : prefix_text) {
    prefix = prefix * 10 + (c - '0');
  }
  if (prefix > max_prefix) {
    throw AddressError("prefix length " + std::to_string(prefix) + " is longer than " +
                       std::to_string(max_prefix) + " for an " +
                       std::string(family_name(address.family())) + " address");
  }
  Cidr cidr(address, prefix);
  if (cidr.range().first != address) {
    throw AddressError("host bits are set after the /" + std::to_string(prefix) +
                       " prefix (the network is " + cidr.range().first.to_string() + "/" +
                       std::to_string(prefix) + ")");
  }
  return cidr;
}

Cidr Cidr::host(const Address& address) {
  return Cidr(address, static_cast<int>(address.size() * 8));
}

AddressRange Cidr::range() const {
  std::array<std::uint8_t, 16> low{};
  std::array<std::uint8_t, 16> high{};
  for (std::size_t i = 0; i < network_.size(); ++i) {
    const int bits_in_prefix = std::clamp(prefix_ - static_cast<int>(i * 8), 0, 8);
    const auto mask = static_cast<std::uint8_t>(0xff00u >> bits_in_prefix);
    low[i] = static_cast<std::uint8_t>(network_.byte(i) & mask);
    high[i] = static_cast<std::uint8_t>(low[i] | static_cast<std::uint8_t>(~mask));
  }
  if (network_.family() == Family::ipv4) {
    return {Address::ipv4({low[0], low[1], low[2], low[3]}),
            Address::ipv4({high[0], high[1], high[2], high[3]})};
  }
  return {Address::ipv6(low), Address::ipv6(high)};
}

bool Cidr::contains(const Address& address) const {
  return range().contains(address);
}

std::string Cidr::to_string() const {
  return network_.to_string() + "/" + std::to_string(prefix_);
}

std::vector<AddressRange> merge_ranges(std::vector<AddressRange> ranges) {
  std::sort(ranges.begin(), ranges.end(),
            [](const AddressRange& a, const AddressRange& b) { return a.first < b.first; });
  std::vector<AddressRange> merged;
  for (const auto& range : ranges) {
    if (!merged.empty()) {
      auto& last = merged.back();
      const bool same_family = last.last.family() == range.first.family();
      if (same_family && (range.first <= last.last ||
                          (!last.last.is_all_ones() && last.last.next() == range.first))) {
        last.last = std::max(last.last, range.last);
        continue;
      }
    }
    merged.push_back(range);
  }
  return merged;
}

std::string range_to_string(const AddressRange& range) {
  // The range is one prefix when first ^ last is a run of trailing one bits that first lacks.
  const auto size = range.first.size();
  std::size_t host_bits = 0;
  bool is_prefix = true;
  bool in_host_part = true;
  for (auto i = size; i-- > 0;) {
    const auto low = range.first.byte(i);
    const auto difference = static_cast<std::uint8_t>(low ^ range.last.byte(i));
    for (int bit = 0; bit < 8; ++bit) {
      const bool differs = (difference >> bit) & 1;
      if (in_host_part && differs && ((low >> bit) & 1) == 0) {
        ++host_bits;
        continue;
      }
      in_host_part = false;
      if (differs) {
        is_prefix = false;
      }
    }
  }
  if (!is_prefix) {
    return range.first.to_string() + "-" + range.last.to_string();
  }
  if (host_bits == 0) {
    return range.first.to_string();
  }
  return range.first.to_string() + "/" + std::to_string(size * 8 - host_bits);
}

}  // namespace pgguard::net
