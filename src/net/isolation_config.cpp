#include "net/isolation_config.hpp"

#include <algorithm>
#include <map>
#include <optional>

#include "common/strings.hpp"

namespace po = boost::program_options;

namespace pgguard::net {

namespace {

using config::ConfigFile;
using config::Entry;

using config::Repeatable;

po::options_description isolation_schema() {
  po::options_description schema("isolation");
  schema.add_options()                                             //
      ("table", po::value<std::string>())                          //
      ("self", po::value<Repeatable>())                            //
      ("member", po::value<Repeatable>())                          //
      ("vip", po::value<Repeatable>())                             //
      ("ports.postgres", po::value<std::string>())                 //
      ("ports.pgpool", po::value<std::string>())                   //
      ("ports.pcp", po::value<std::string>())                      //
      ("ports.watchdog", po::value<std::string>())                 //
      ("ports.heartbeat", po::value<std::string>())                //
      ("clients.cidr", po::value<Repeatable>())                    //
      ("control.cidr", po::value<Repeatable>())                    //
      ("control.tcp_port", po::value<Repeatable>())                //
      ("control.udp_port", po::value<Repeatable>())                //
      ("service_network.cidr", po::value<Repeatable>())            //
      ("icmp.echo_rate", po::value<std::string>())                 //
      ("icmp.echo_burst", po::value<std::string>())                //
      ("log.drop_prefix", po::value<std::string>())                //
      ("log.rate", po::value<std::string>())                       //
      ("log.burst", po::value<std::string>())                      //
      ("sysctl.strict_reverse_path_filter", po::value<bool>())     //
      ("sysctl.ignore_redirects", po::value<bool>())               //
      ("sysctl.disable_send_redirects", po::value<bool>())         //
      ("sysctl.disable_source_route", po::value<bool>())           //
      ("sysctl.ignore_broadcast_echo", po::value<bool>())          //
      ("sysctl.ignore_bogus_icmp_errors", po::value<bool>())       //
      ("sysctl.tcp_syncookies", po::value<bool>())                 //
      ("sysctl.log_martians", po::value<bool>())                   //
      ("sysctl.ignore_router_advertisements", po::value<bool>());  //
  return schema;
}

// The kernel computes nanoseconds-per-unit times burst in 64 bits and refuses the rule on
// overflow (a day is 8.64e13 ns): keep every accepted burst far below that.
constexpr std::uint64_t kMaxBurst = 100'000;

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Decimal without sign or leading zeros: Boost's lexical_cast would wrap "-1" to 65535.
std::uint64_t parse_decimal(const Entry& entry, std::string_view text, std::uint64_t min,
                            std::uint64_t max, const std::string& what) {
  if (!all_digits(text) || text.size() > 12 || (text.size() > 1 && text.front() == '0')) {
    throw ConfigError(entry.where, entry.key,
                      what + " '" + std::string(text) + "' is not a decimal number");
  }
  std::uint64_t value = 0;
  for (char c : text) {
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (value < min || value > max) {
    throw ConfigError(entry.where, entry.key,
                      what + " " + std::to_string(value) + " is outside " + std::to_string(min) +
                          ".." + std::to_string(max));
  }
  return value;
}

std::uint16_t parse_port(const Entry& entry) {
  return static_cast<std::uint16_t>(parse_decimal(entry, entry.value, 1, 65535, "port"));
}

Rate parse_rate(const Entry& entry) {
  const auto slash = entry.value.find('/');
  if (slash == std::string::npos) {
    throw ConfigError(entry.where, entry.key,
                      "rate '" + entry.value + "' is not of the form <n>/<second|minute|hour|day>");
  }
  Rate rate;
  rate.count = parse_decimal(entry, std::string_view(entry.value).substr(0, slash), 1,
                             1'000'000'000, "rate");
  const auto unit = entry.value.substr(slash + 1);
  static const std::map<std::string, RateUnit> units{{"second", RateUnit::second},
                                                     {"minute", RateUnit::minute},
                                                     {"hour", RateUnit::hour},
                                                     {"day", RateUnit::day}};
  const auto found = units.find(unit);
  if (found == units.end()) {
    throw ConfigError(entry.where, entry.key,
                      "rate unit '" + unit + "' is not one of second, minute, hour, day");
  }
  rate.unit = found->second;
  return rate;
}

Address parse_address(const Entry& entry, std::string_view text) {
  try {
    if (text.find('/') != std::string_view::npos) {
      throw AddressError("a single address is expected here, not a prefix");
    }
    return Address::parse(text);
  } catch (const AddressError& error) {
    throw ConfigError(entry.where, entry.key,
                      "malformed address '" + std::string(text) + "': " + error.what());
  }
}

// A VM's or the VIP's address must be one a VM can hold: the unspecified and broadcast
// addresses, loopback and multicast name no VM, so a rule for them would admit or cut off
// nothing the operator meant.
Address parse_vm_address(const Entry& entry, std::string_view text) {
  const Address address = parse_address(entry, text);
  const char* what = nullptr;
  if (address.is_zero()) {
    what = "the unspecified address";
  } else if (address.is_all_ones()) {
    what = "the broadcast address";
  } else if (address.is_loopback()) {
    what = "a loopback address";
  } else if (address.is_multicast()) {
    what = "a multicast address";
  }
  if (what != nullptr) {
    throw ConfigError(entry.where, entry.key,
                      address.to_string() + " is " + what + ", which no VM holds");
  }
  return address;
}

Cidr parse_cidr(const Entry& entry) {
  try {
    return Cidr::parse(entry.value);
  } catch (const AddressError& error) {
    throw ConfigError(entry.where, entry.key,
                      "malformed CIDR '" + entry.value + "': " + error.what());
  }
}

std::string first_on(const Entry& entry) {
  return " (first on line " + std::to_string(entry.where.line) + ")";
}

// The first entry (in file order) that repeats an earlier value, with that earlier entry.
// Sorting pairs beats a std::map at the 100,000 values a rendered list may hold.
template <typename Value>
std::optional<std::pair<const Entry*, const Entry*>> first_repeat(
    std::vector<std::pair<Value, const Entry*>> values) {
  std::stable_sort(values.begin(), values.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::optional<std::pair<const Entry*, const Entry*>> repeat;
  std::size_t group_start = 0;
  for (std::size_t i = 1; i < values.size(); ++i) {
    if (!(values[i].first == values[group_start].first)) {
      group_start = i;
    } else if (i == group_start + 1 &&
               (!repeat || values[i].second->where.line < repeat->first->where.line)) {
      repeat = std::pair{values[i].second, values[group_start].second};
    }
  }
  return repeat;
}

std::vector<Cidr> parse_cidr_list(const ConfigFile& file, const std::string& key) {
  const auto entries = file.all(key);
  std::vector<Cidr> cidrs;
  cidrs.reserve(entries.size());
  std::vector<std::pair<Cidr, const Entry*>> seen;  // lists of 100,000 CIDRs are expected
  seen.reserve(entries.size());
  for (const Entry* entry : entries) {
    cidrs.push_back(parse_cidr(*entry));
    seen.emplace_back(cidrs.back(), entry);
  }
  if (const auto repeat = first_repeat(std::move(seen))) {
    throw ConfigError(
        repeat->first->where, key,
        "duplicate CIDR " + parse_cidr(*repeat->first).to_string() + first_on(*repeat->second));
  }
  return cidrs;
}

std::vector<std::uint16_t> parse_port_list(const ConfigFile& file, const std::string& key) {
  std::vector<std::uint16_t> ports;
  std::map<std::uint16_t, const Entry*> seen;
  for (const Entry* entry : file.all(key)) {
    const auto port = parse_port(*entry);
    if (const auto found = seen.find(port); found != seen.end()) {
      throw ConfigError(entry->where, key,
                        "duplicate port " + std::to_string(port) + first_on(*found->second));
    }
    seen.emplace(port, entry);
    ports.push_back(port);
  }
  return ports;
}

const Entry* single(const ConfigFile& file, const std::string& key) {
  const auto entries = file.all(key);
  return entries.empty() ? nullptr : entries.front();
}

// A list of networks that holds a /0 means every address: for the control plane that opens its
// ports to the world, for the service network it counts every host as another instance.
void refuse_every_address(const ConfigFile& file, const std::string& key,
                          const std::vector<Cidr>& cidrs, const std::string& meaning) {
  const auto entries = file.all(key);
  for (std::size_t i = 0; i < cidrs.size(); ++i) {
    if (cidrs[i].prefix() == 0) {
      throw ConfigError(entries[i]->where, key,
                        cidrs[i].to_string() + " is every address: " + meaning);
    }
  }
}

void require_present(const ConfigFile& file, const std::string& key, const std::string& why) {
  if (file.all(key).empty()) {
    throw ConfigError(Location{file.file_name(), 0}, key, why);
  }
}

void check_log_prefix(const Entry& entry) {
  if (entry.value.empty() || entry.value.size() > 120) {
    throw ConfigError(entry.where, entry.key, "log prefix must have 1 to 120 characters");
  }
  for (char c : entry.value) {
    // nft's text would read '"' as the string's end, '\\' as an escape and '$' as a variable:
    // what apply accepts, show must render as text nft accepts.
    if (c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '$') {
      throw ConfigError(entry.where, entry.key,
                        "log prefix may hold only printable ASCII without '\"', '\\' and '$'");
    }
  }
}

void parse_ports(const ConfigFile& file, IsolationConfig& config) {
  struct PortKey {
    const char* key;
    std::uint16_t* port;
    bool udp;
  };
  const PortKey keys[] = {{"ports.postgres", &config.ports.postgres, false},
                          {"ports.pgpool", &config.ports.pgpool, false},
                          {"ports.pcp", &config.ports.pcp, false},
                          {"ports.watchdog", &config.ports.watchdog, false},
                          {"ports.heartbeat", &config.ports.heartbeat, true}};
  for (const auto& key : keys) {
    if (const Entry* entry = single(file, key.key)) {
      *key.port = parse_port(*entry);
    }
  }
  for (std::size_t i = 0; i < std::size(keys); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (keys[i].udp == keys[j].udp && *keys[i].port == *keys[j].port) {
        const Location where = file.location_of(keys[i].key).line > 0
                                   ? file.location_of(keys[i].key)
                                   : file.location_of(keys[j].key);
        throw ConfigError(where, keys[i].key,
                          "port " + std::to_string(*keys[i].port) + " is also " + keys[j].key);
      }
    }
  }
}

void parse_sysctl(const po::variables_map& values, SysctlPolicy& policy) {
  const std::pair<const char*, bool*> keys[] = {
      {"sysctl.strict_reverse_path_filter", &policy.strict_reverse_path_filter},
      {"sysctl.ignore_redirects", &policy.ignore_redirects},
      {"sysctl.disable_send_redirects", &policy.disable_send_redirects},
      {"sysctl.disable_source_route", &policy.disable_source_route},
      {"sysctl.ignore_broadcast_echo", &policy.ignore_broadcast_echo},
      {"sysctl.ignore_bogus_icmp_errors", &policy.ignore_bogus_icmp_errors},
      {"sysctl.tcp_syncookies", &policy.tcp_syncookies},
      {"sysctl.log_martians", &policy.log_martians},
      {"sysctl.ignore_router_advertisements", &policy.ignore_router_advertisements}};
  for (const auto& [key, flag] : keys) {
    if (values.count(key) != 0) {
      *flag = values[key].as<bool>();
    }
  }
}

// "<role> <address>" split on blanks without allocating: member lists can be 100,000 long.
// Two words separated by blanks. A plain loop: string_view::find_first_of calls memchr once
// per character, which showed up at 100,000 members.
std::optional<std::pair<std::string_view, std::string_view>> role_and_address(
    std::string_view value) {
  const auto is_blank = [](char c) { return c == ' ' || c == '\t'; };
  const auto* const begin = value.begin();
  const auto* const end = value.end();
  const auto* const role_end = std::find_if(begin, end, is_blank);
  const auto* const address_start = std::find_if_not(role_end, end, is_blank);
  if (role_end == end || address_start == end) {
    return std::nullopt;
  }
  const auto* const address_end = std::find_if(address_start, end, is_blank);
  if (std::find_if_not(address_end, end, is_blank) != end) {
    return std::nullopt;
  }
  return std::pair{std::string_view(begin, role_end), std::string_view(address_start, address_end)};
}

Role parse_role(const Entry& entry, std::string_view text) {
  if (text == "master") {
    return Role::master;
  }
  if (text == "standby") {
    return Role::standby;
  }
  if (text == "pgpool") {
    return Role::pgpool;
  }
  throw ConfigError(
      entry.where, entry.key,
      "unknown role '" + std::string(text) + "' (expected master, standby or pgpool)");
}

// Every member and VIP address with the entry it came from, in file order (members first).
using InstanceAddresses = std::vector<std::pair<Address, const Entry*>>;

// The members sorted by address, then file order, each with its index into config.members
// (and the instance list): one sort serves the duplicate check and every lookup.
class MemberIndex {
 public:
  explicit MemberIndex(const std::vector<Member>& members) {
    sorted_.reserve(members.size());
    for (std::size_t i = 0; i < members.size(); ++i) {
      sorted_.emplace_back(members[i].address, i);
    }
    std::sort(sorted_.begin(), sorted_.end());
  }

  // The first repeated address in file order: (the repeat's index, the first one's).
  std::optional<std::pair<std::size_t, std::size_t>> first_repeat() const {
    std::optional<std::pair<std::size_t, std::size_t>> repeat;
    for (std::size_t i = 1; i < sorted_.size(); ++i) {
      const bool second_of_group = sorted_[i].first == sorted_[i - 1].first &&
                                   (i < 2 || !(sorted_[i - 2].first == sorted_[i].first));
      if (second_of_group && (!repeat || sorted_[i].second < repeat->first)) {
        repeat = std::pair{sorted_[i].second, sorted_[i - 1].second};
      }
    }
    return repeat;
  }

  std::optional<std::size_t> find(const Address& address) const {
    const auto found = std::lower_bound(
        sorted_.begin(), sorted_.end(), address,
        [](const auto& indexed, const Address& wanted) { return indexed.first < wanted; });
    if (found == sorted_.end() || !(found->first == address)) {
      return std::nullopt;
    }
    return found->second;
  }

 private:
  std::vector<std::pair<Address, std::size_t>> sorted_;
};

// `member = <role> <address>` lines, in file order, into config.members and the instance list.
InstanceAddresses parse_members(const ConfigFile& file, IsolationConfig& config) {
  const auto member_lines = file.all("member");
  InstanceAddresses instance;
  instance.reserve(member_lines.size() + 2);
  config.members.reserve(member_lines.size());
  for (const Entry* entry : member_lines) {
    const auto words = role_and_address(entry->value);
    if (!words) {
      throw ConfigError(entry->where, "member",
                        "expected '<role> <address>', found '" + entry->value + "'");
    }
    const Role role = parse_role(*entry, words->first);
    const Address address = parse_vm_address(*entry, words->second);
    config.members.push_back(Member{role, address});
    instance.emplace_back(address, entry);
  }
  return instance;
}

// `self` lines: each a member, none repeated, all of one role, which becomes config.role.
void parse_self(const ConfigFile& file, const MemberIndex& members, IsolationConfig& config) {
  std::map<Address, const Entry*> self_entries;
  std::optional<Role> self_role;
  const Entry* first_self = nullptr;
  for (const Entry* entry : file.all("self")) {
    const Address address = parse_address(*entry, entry->value);
    if (const auto found = self_entries.find(address); found != self_entries.end()) {
      throw ConfigError(entry->where, "self",
                        "duplicate self address " + address.to_string() + first_on(*found->second));
    }
    const auto member = members.find(address);
    if (!member) {
      throw ConfigError(entry->where, "self",
                        "own address " + address.to_string() + " is not among the members");
    }
    const Role role = config.members[*member].role;
    if (self_role && *self_role != role) {
      throw ConfigError(entry->where, "self",
                        "own address " + address.to_string() + " is a " +
                            std::string(role_name(role)) + " member but " + first_self->value +
                            " (line " + std::to_string(first_self->where.line) + ") is a " +
                            std::string(role_name(*self_role)) + " member");
    }
    self_role = role;
    if (first_self == nullptr) {
      first_self = entry;
    }
    self_entries.emplace(address, entry);
    config.self.push_back(address);
  }
  config.role = *self_role;
}

// An address of a family this VM has no self address in cannot be reached from it.
void check_family(const IsolationConfig& config, const Entry& entry, const Address& address) {
  const bool has_family =
      std::any_of(config.self.begin(), config.self.end(),
                  [&](const auto& self) { return self.family() == address.family(); });
  if (!has_family) {
    throw ConfigError(entry.where, entry.key,
                      "wrong address family: " + address.to_string() + " is " +
                          std::string(family_name(address.family())) + " but this VM has no " +
                          std::string(family_name(address.family())) + " self address");
  }
}

// `vip` lines: at most one per family, none a member address; appended to the instance list.
void parse_vips(const ConfigFile& file, const MemberIndex& members, IsolationConfig& config,
                InstanceAddresses& instance) {
  std::map<Family, const Entry*> vip_per_family;
  for (const Entry* entry : file.all("vip")) {
    const Address address = parse_vm_address(*entry, entry->value);
    check_family(config, *entry, address);
    if (const auto member = members.find(address)) {
      throw ConfigError(entry->where, "vip",
                        "vip " + address.to_string() + " is also a member address (line " +
                            std::to_string(instance[*member].second->where.line) + ")");
    }
    if (const auto found = vip_per_family.find(address.family()); found != vip_per_family.end()) {
      const bool same = parse_address(*found->second, found->second->value) == address;
      throw ConfigError(entry->where, "vip",
                        std::string(same ? "duplicate vip " : "a second ") +
                            std::string(same ? address.to_string()
                                             : std::string(family_name(address.family())) +
                                                   " vip " + address.to_string()) +
                            first_on(*found->second));
    }
    vip_per_family.emplace(address.family(), entry);
    config.vips.push_back(address);
    instance.emplace_back(address, entry);
  }
}

// Members, self and VIP, with the cross-checks between them.
InstanceAddresses parse_instance(const ConfigFile& file, IsolationConfig& config) {
  require_present(file, "member", "the member list is empty: at least one member is required");
  require_present(file, "self", "no self address: list this VM's own address(es)");

  InstanceAddresses instance = parse_members(file, config);
  const MemberIndex members(config.members);
  if (const auto repeat = members.first_repeat()) {
    throw ConfigError(instance[repeat->first].second->where, "member",
                      "duplicate member address " + instance[repeat->first].first.to_string() +
                          first_on(*instance[repeat->second].second));
  }
  parse_self(file, members, config);
  for (const auto& [address, entry] : instance) {
    check_family(config, *entry, address);
  }
  parse_vips(file, members, config, instance);
  return instance;
}

// A member inside an application CIDR would blur which rules admit it; refuse the overlap.
void check_clients_exclude_instance(const ConfigFile& file, const IsolationConfig& config,
                                    const InstanceAddresses& instance) {
  if (config.clients.empty()) {
    return;
  }
  std::vector<Address> sorted;
  sorted.reserve(instance.size());
  for (const auto& [address, entry] : instance) {
    sorted.push_back(address);
  }
  std::sort(sorted.begin(), sorted.end());
  const auto clients = file.all("clients.cidr");
  for (std::size_t i = 0; i < config.clients.size(); ++i) {
    const auto range = config.clients[i].range();
    const auto inside = std::lower_bound(sorted.begin(), sorted.end(), range.first);
    if (inside == sorted.end() || !range.contains(*inside)) {
      continue;
    }
    // Name the first such entry in file order, as an operator reads the file.
    for (const auto& [address, entry] : instance) {
      if (range.contains(address)) {
        throw ConfigError(clients[i]->where, "clients.cidr",
                          "application CIDR " + config.clients[i].to_string() + " contains " +
                              entry->key + " " + address.to_string() + " (line " +
                              std::to_string(entry->where.line) + ")");
      }
    }
  }
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::master:
      return "master";
    case Role::standby:
      return "standby";
    case Role::pgpool:
      return "pgpool";
  }
  return "?";
}

bool is_postgres_role(Role role) {
  return role == Role::master || role == Role::standby;
}

std::string_view rate_unit_name(RateUnit unit) {
  switch (unit) {
    case RateUnit::second:
      return "second";
    case RateUnit::minute:
      return "minute";
    case RateUnit::hour:
      return "hour";
    case RateUnit::day:
      return "day";
  }
  return "?";
}

void check_table_name(const std::string& name, const Location& where, const std::string& key) {
  const auto valid_character = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  };
  // The '_': nft's scanner has no keyword with one and takes the longest match, so such a name
  // is always an identifier to it; a name like `counter`, `ip` or `drop` is a keyword, which
  // nft 1.0.6 cannot quote, and `show`'s text would not parse (apply, over netlink, would work).
  if (name.empty() || name.size() > 64 || (name.front() >= '0' && name.front() <= '9') ||
      !std::all_of(name.begin(), name.end(), valid_character) ||
      name.find('_') == std::string::npos) {
    throw ConfigError(where, key,
                      "table name '" + name +
                          "' must be 1-64 characters of [A-Za-z0-9_], not starting with a digit, "
                          "with at least one '_' (no nft keyword has one)");
  }
}

IsolationConfig parse_isolation_config(const ConfigFile& file) {
  // Syntax first (unknown keys, repeats of single keys, booleans), each with its line.
  const po::variables_map values = file.validate(isolation_schema());

  IsolationConfig config;
  if (const Entry* entry = single(file, "table")) {
    check_table_name(entry->value, entry->where, entry->key);
    config.table = entry->value;
  }
  const InstanceAddresses instance = parse_instance(file, config);
  parse_ports(file, config);

  config.clients = parse_cidr_list(file, "clients.cidr");
  check_clients_exclude_instance(file, config, instance);

  require_present(file, "control.cidr",
                  "the control-plane list is empty: at least one control.cidr is required, or "
                  "BOSH and monit would be locked out");
  config.control = parse_cidr_list(file, "control.cidr");
  refuse_every_address(file, "control.cidr", config.control,
                       "the control plane's ports would be open to every host; name the control "
                       "networks");
  config.control_tcp_ports = file.all("control.tcp_port").empty()
                                 ? std::vector<std::uint16_t>{22}
                                 : parse_port_list(file, "control.tcp_port");
  config.control_udp_ports = parse_port_list(file, "control.udp_port");

  require_present(file, "service_network.cidr",
                  "no service-network CIDR: at least one is required to cut off other "
                  "service instances");
  config.service_network = parse_cidr_list(file, "service_network.cidr");
  refuse_every_address(file, "service_network.cidr", config.service_network,
                       "every host outside this instance would count as another service "
                       "instance; name the service subnets");

  if (const Entry* entry = single(file, "icmp.echo_rate")) {
    config.echo_rate = parse_rate(*entry);
  }
  if (const Entry* entry = single(file, "icmp.echo_burst")) {
    config.echo_burst =
        static_cast<std::uint32_t>(parse_decimal(*entry, entry->value, 1, kMaxBurst, "burst"));
  }
  if (const Entry* entry = single(file, "log.drop_prefix")) {
    check_log_prefix(*entry);
    config.drop_log_prefix = entry->value;
  }
  if (const Entry* entry = single(file, "log.rate")) {
    config.log_rate = parse_rate(*entry);
  }
  if (const Entry* entry = single(file, "log.burst")) {
    config.log_burst =
        static_cast<std::uint32_t>(parse_decimal(*entry, entry->value, 1, kMaxBurst, "burst"));
  }
  parse_sysctl(values, config.sysctl);
  return config;
}

}  // namespace pgguard::net
