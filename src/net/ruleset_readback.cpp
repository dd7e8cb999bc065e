#include "net/ruleset_readback.hpp"

#include <arpa/inet.h>
#include <libnftnl/common.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <map>

#include "common/error.hpp"
#include "net/nft_objects.hpp"
#include "net/nft_text.hpp"

namespace pgguard::net {

namespace {

std::optional<SetKeyType> key_type_from_id(std::uint32_t id) {
  for (auto type : {SetKeyType::ipv4_addr, SetKeyType::ipv6_addr, SetKeyType::inet_service,
                    SetKeyType::icmp_type, SetKeyType::icmpv6_type}) {
    if (key_type_id(type) == id) {
      return type;
    }
  }
  return std::nullopt;
}

std::string hex(const SetKey& key) {
  static const char digits[] = "0123456789abcdef";
  std::string text = "0x";
  for (std::size_t i = 0; i < key.size(); ++i) {
    text += digits[key[i] >> 4];
    text += digits[key[i] & 0xf];
  }
  return text;
}

std::string key_text(std::optional<SetKeyType> type, const SetKey& key) {
  if (!type || key.size() != key_length(*type)) {
    return hex(key);
  }
  return key_to_string(*type, key);
}

bool is_address(std::optional<SetKeyType> type) {
  return type == SetKeyType::ipv4_addr || type == SetKeyType::ipv6_addr;
}

SetKey minus_one(SetKey key) {
  for (auto i = key.size(); i-- > 0;) {
    if (key.bytes[i]-- != 0) {
      break;
    }
  }
  return key;
}

bool is_zero(const SetKey& key) {
  return std::all_of(key.bytes.begin(), key.bytes.begin() + key.length,
                     [](auto byte) { return byte == 0; });
}

void normalise(std::vector<KernelElement>& elements, bool interval) {
  if (interval) {
    std::erase_if(elements,
                  [](const KernelElement& e) { return e.interval_end && is_zero(e.key); });
  }
  std::sort(elements.begin(), elements.end());
}

// Elements in a form a person can read and two sides can compare: interval start/end pairs
// become ranges; nft's leading "zero key, interval end" element (a no-op) is ignored.
std::vector<std::string> element_strings(std::uint32_t key_type_id_value, bool interval,
                                         const std::vector<KernelElement>& elements) {
  const auto type = key_type_from_id(key_type_id_value);
  std::vector<std::string> strings;
  if (!interval) {
    for (const auto& element : elements) {
      strings.push_back(key_text(type, element.key) + (element.interval_end ? " (end)" : ""));
    }
  } else {
    for (std::size_t i = 0; i < elements.size(); ++i) {
      const auto& element = elements[i];
      if (element.interval_end) {
        strings.push_back(key_text(type, element.key) + " (interval end without start)");
        continue;
      }
      SetKey last = element.key;
      std::fill(last.bytes.begin(), last.bytes.begin() + last.length, 0xff);
      if (i + 1 < elements.size() && elements[i + 1].interval_end) {
        last = minus_one(elements[i + 1].key);
        ++i;
      }
      if (is_address(type) && element.key.size() == key_length(*type) &&
          last.size() == element.key.size()) {
        strings.push_back(render_element(*type, true, SetElement{element.key, last}));
      } else {
        strings.push_back(key_text(type, element.key) + "-" + key_text(type, last));
      }
    }
  }
  std::sort(strings.begin(), strings.end());
  return strings;
}

int collect_expression(nftnl_expr* expr, void* data) {
  auto& text = *static_cast<std::string*>(data);
  const char* name = nftnl_expr_get_str(expr, NFTNL_EXPR_NAME);
  if (!text.empty()) {
    text += " ";
  }
  if (std::string_view(name) == "counter") {
    text += "[counter]";  // the values change with traffic
    return MNL_CB_OK;
  }
  char buffer[1024] = {};
  nftnl_expr_snprintf(buffer, sizeof buffer, expr, NFTNL_OUTPUT_DEFAULT, 0);
  text += "[" + std::string(name) + " " + buffer;
  if (std::string_view(name) == "cmp") {
    // libnftnl prints data in 32-bit words: a 1-byte and a 4-byte compare look alike.
    std::uint32_t length = 0;
    nftnl_expr_get(expr, NFTNL_EXPR_CMP_DATA, &length);
    text += " len " + std::to_string(length);
  }
  text += "]";
  return MNL_CB_OK;
}

int collect_comment(const nftnl_udata* attribute, void* data) {
  if (nftnl_udata_type(attribute) == NFTNL_UDATA_RULE_COMMENT) {
    const auto* value = static_cast<const char*>(nftnl_udata_get(attribute));
    const auto length = nftnl_udata_len(attribute);
    *static_cast<std::string*>(data) = std::string(value, strnlen(value, length));
  }
  return MNL_CB_OK;
}

RuleSnapshot describe_rule(nftnl_rule* rule) {
  RuleSnapshot snapshot;
  nftnl_expr_foreach(rule, collect_expression, &snapshot.expressions);
  if (nftnl_rule_is_set(rule, NFTNL_RULE_USERDATA)) {
    std::uint32_t length = 0;
    const void* data = nftnl_rule_get_data(rule, NFTNL_RULE_USERDATA, &length);
    nftnl_udata_parse(data, length, collect_comment, &snapshot.comment);
  }
  return snapshot;
}

ChainSnapshot describe_chain(const nftnl_chain* chain) {
  ChainSnapshot snapshot;
  snapshot.name = nftnl_chain_get_str(chain, NFTNL_CHAIN_NAME);
  if (nftnl_chain_is_set(chain, NFTNL_CHAIN_TYPE)) {
    snapshot.type = nftnl_chain_get_str(chain, NFTNL_CHAIN_TYPE);
  }
  if (nftnl_chain_is_set(chain, NFTNL_CHAIN_HOOKNUM)) {
    snapshot.hook = nftnl_chain_get_u32(chain, NFTNL_CHAIN_HOOKNUM);
    snapshot.priority = nftnl_chain_get_s32(chain, NFTNL_CHAIN_PRIO);
  }
  if (nftnl_chain_is_set(chain, NFTNL_CHAIN_POLICY)) {
    snapshot.policy = nftnl_chain_get_u32(chain, NFTNL_CHAIN_POLICY);
  }
  return snapshot;
}

SetSnapshot describe_set(const nftnl_set* set) {
  SetSnapshot snapshot;
  snapshot.name = nftnl_set_get_str(set, NFTNL_SET_NAME);
  snapshot.flags =
      nftnl_set_is_set(set, NFTNL_SET_FLAGS) ? nftnl_set_get_u32(set, NFTNL_SET_FLAGS) : 0;
  snapshot.key_type = nftnl_set_get_u32(set, NFTNL_SET_KEY_TYPE);
  snapshot.key_length = nftnl_set_get_u32(set, NFTNL_SET_KEY_LEN);
  snapshot.size =
      nftnl_set_is_set(set, NFTNL_SET_DESC_SIZE) ? nftnl_set_get_u32(set, NFTNL_SET_DESC_SIZE) : 0;
  return snapshot;
}

nlmsghdr* request_header(std::vector<char>& buffer, std::uint16_t type, std::uint16_t flags,
                         NetlinkSocket& socket) {
  buffer.assign(MNL_SOCKET_BUFFER_SIZE, 0);
  return nftnl_nlmsg_build_hdr(buffer.data(), type, NFPROTO_INET, flags, socket.next_sequence());
}

void check(int error, const std::string& what) {
  if (error != 0) {
    throw SystemError("cannot read " + what + " back from nf_tables", error);
  }
}

// Parses NFT_MSG_NEWSETELEM answers by hand: nftnl's parser allocates per element, which
// dominates a 100,000-element read-back.
void parse_elements(const nlmsghdr* header, std::vector<KernelElement>& elements) {
  for_each_attribute(header, sizeof(nfgenmsg), [&elements](const nlattr* list) {
    if (mnl_attr_get_type(list) != NFTA_SET_ELEM_LIST_ELEMENTS) {
      return;
    }
    for_each_nested(list, [&elements](const nlattr* item) {
      KernelElement element;
      for_each_nested(item, [&element](const nlattr* field) {
        if (mnl_attr_get_type(field) == NFTA_SET_ELEM_FLAGS) {
          element.interval_end = (ntohl(mnl_attr_get_u32(field)) & NFT_SET_ELEM_INTERVAL_END) != 0;
        } else if (mnl_attr_get_type(field) == NFTA_SET_ELEM_KEY) {
          for_each_nested(field, [&element](const nlattr* value) {
            if (mnl_attr_get_type(value) == NFTA_DATA_VALUE) {
              const auto* data = static_cast<const std::uint8_t*>(mnl_attr_get_payload(value));
              element.key = SetKey(data, mnl_attr_get_payload_len(value));
            }
          });
        }
      });
      elements.push_back(element);
    });
  });
}

template <class T>
void sort_by_name(std::vector<T>& items) {
  std::sort(items.begin(), items.end(), [](const T& a, const T& b) { return a.name < b.name; });
}

void list_limited(std::vector<std::string>& out, const std::string& prefix,
                  const std::vector<std::string>& items) {
  constexpr std::size_t kShown = 20;
  for (std::size_t i = 0; i < items.size() && i < kShown; ++i) {
    out.push_back(prefix + items[i]);
  }
  if (items.size() > kShown) {
    out.push_back(prefix + "... and " + std::to_string(items.size() - kShown) + " more");
  }
}

std::string describe_set_definition(const SetSnapshot& set) {
  const auto type = key_type_from_id(set.key_type);
  return "type " + (type ? std::string(key_type_name(*type)) : std::to_string(set.key_type)) +
         ", key length " + std::to_string(set.key_length) + ", flags " + std::to_string(set.flags) +
         ", size " + std::to_string(set.size);
}

std::string describe_chain_definition(const ChainSnapshot& chain) {
  std::string text = "type " + chain.type;
  if (chain.hook) {
    text += " hook " + std::to_string(*chain.hook) + " priority " + std::to_string(chain.priority);
  } else {
    text += " (regular chain)";
  }
  if (chain.policy) {
    text += std::string(" policy ") + (*chain.policy == NF_ACCEPT ? "accept" : "drop");
  }
  return text;
}

std::string describe_rule_text(const RuleSnapshot& rule) {
  return (rule.comment.empty() ? std::string("(no comment)") : "\"" + rule.comment + "\"") + ": " +
         rule.expressions;
}

// Minimal edit script between two rule lists (chains hold tens of rules).
void diff_rules(std::vector<std::string>& out, const std::string& chain,
                const std::vector<RuleSnapshot>& kernel, const std::vector<RuleSnapshot>& desired) {
  const auto n = kernel.size();
  const auto m = desired.size();
  std::vector<std::vector<std::size_t>> common(n + 1, std::vector<std::size_t>(m + 1, 0));
  for (auto i = n; i-- > 0;) {
    for (auto j = m; j-- > 0;) {
      common[i][j] = kernel[i] == desired[j] ? common[i + 1][j + 1] + 1
                                             : std::max(common[i + 1][j], common[i][j + 1]);
    }
  }
  std::size_t i = 0;
  std::size_t j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && kernel[i] == desired[j]) {
      ++i;
      ++j;
    } else if (j < m && (i == n || common[i][j + 1] >= common[i + 1][j])) {
      out.push_back("chain " + chain + ": missing rule " + std::to_string(j + 1) + " " +
                    describe_rule_text(desired[j]));
      ++j;
    } else {
      out.push_back("chain " + chain + ": unexpected rule " + std::to_string(i + 1) + " " +
                    describe_rule_text(kernel[i]));
      ++i;
    }
  }
}

}  // namespace

TableSnapshot desired_snapshot(const TablePlan& plan) {
  TableSnapshot snapshot;
  snapshot.exists = true;
  for (const auto& set : plan.sets) {
    const auto object = make_set(plan.name, set, 0);
    SetSnapshot described = describe_set(object.get());
    described.elements = kernel_elements(set);
    normalise(described.elements, set.interval);
    snapshot.sets.push_back(std::move(described));
  }
  for (const auto& chain : plan.chains) {
    const auto object = make_chain(plan.name, chain);
    ChainSnapshot described = describe_chain(object.get());
    for (const auto& rule : chain.rules) {
      described.rules.push_back(describe_rule(make_rule(plan.name, chain.name, rule, plan).get()));
    }
    snapshot.chains.push_back(std::move(described));
  }
  sort_by_name(snapshot.sets);
  sort_by_name(snapshot.chains);
  return snapshot;
}

bool table_exists(NetlinkSocket& socket, const std::string& table) {
  return read_table(socket, table, ReadElements::no).exists;
}

TableSnapshot read_table(NetlinkSocket& socket, const std::string& table,
                         ReadElements read_elements) {
  TableSnapshot snapshot;
  std::vector<char> buffer;

  {
    const auto object = make_table(table);
    auto* header = request_header(buffer, NFT_MSG_GETTABLE, NLM_F_ACK, socket);
    nftnl_table_nlmsg_build_payload(header, object.get());
    const int error = socket.request(header, [&](const nlmsghdr* answer) {
      NftnlTable found(nftnl_table_alloc());
      if (nftnl_table_nlmsg_parse(answer, found.get()) == 0) {
        snapshot.exists = true;
        snapshot.flags = nftnl_table_is_set(found.get(), NFTNL_TABLE_FLAGS)
                             ? nftnl_table_get_u32(found.get(), NFTNL_TABLE_FLAGS)
                             : 0;
      }
    });
    if (error == ENOENT) {
      return snapshot;
    }
    check(error, "table inet " + table);
  }

  {
    NftnlSet filter(nftnl_set_alloc());
    nftnl_set_set_str(filter.get(), NFTNL_SET_TABLE, table.c_str());
    auto* header = request_header(buffer, NFT_MSG_GETSET, NLM_F_DUMP | NLM_F_ACK, socket);
    nftnl_set_nlmsg_build_payload(header, filter.get());
    check(socket.request(header,
                         [&](const nlmsghdr* answer) {
                           NftnlSet found(nftnl_set_alloc());
                           if (nftnl_set_nlmsg_parse(answer, found.get()) == 0 &&
                               table == nftnl_set_get_str(found.get(), NFTNL_SET_TABLE)) {
                             snapshot.sets.push_back(describe_set(found.get()));
                           }
                         }),
          "the sets of table inet " + table);
  }
  for (auto& set : snapshot.sets) {
    if (read_elements == ReadElements::no) {
      break;
    }
    std::vector<KernelElement> elements;
    auto* header = request_header(buffer, NFT_MSG_GETSETELEM, NLM_F_DUMP | NLM_F_ACK, socket);
    mnl_attr_put_strz(header, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
    mnl_attr_put_strz(header, NFTA_SET_ELEM_LIST_SET, set.name.c_str());
    check(socket.request(header, [&](const nlmsghdr* answer) { parse_elements(answer, elements); }),
          "the elements of set " + set.name);
    normalise(elements, (set.flags & NFT_SET_INTERVAL) != 0);
    set.elements = std::move(elements);
  }

  {
    auto* header = request_header(buffer, NFT_MSG_GETCHAIN, NLM_F_DUMP | NLM_F_ACK, socket);
    NftnlChain filter(nftnl_chain_alloc());
    nftnl_chain_set_str(filter.get(), NFTNL_CHAIN_TABLE, table.c_str());
    nftnl_chain_nlmsg_build_payload(header, filter.get());
    check(socket.request(header,
                         [&](const nlmsghdr* answer) {
                           NftnlChain found(nftnl_chain_alloc());
                           if (nftnl_chain_nlmsg_parse(answer, found.get()) == 0 &&
                               table == nftnl_chain_get_str(found.get(), NFTNL_CHAIN_TABLE)) {
                             snapshot.chains.push_back(describe_chain(found.get()));
                           }
                         }),
          "the chains of table inet " + table);
  }
  {
    std::map<std::string, std::vector<RuleSnapshot>> rules;
    auto* header = request_header(buffer, NFT_MSG_GETRULE, NLM_F_DUMP | NLM_F_ACK, socket);
    NftnlRule filter(nftnl_rule_alloc());
    nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, table.c_str());
    nftnl_rule_nlmsg_build_payload(header, filter.get());
    check(socket.request(header,
                         [&](const nlmsghdr* answer) {
                           NftnlRule found(nftnl_rule_alloc());
                           if (nftnl_rule_nlmsg_parse(answer, found.get()) == 0 &&
                               table == nftnl_rule_get_str(found.get(), NFTNL_RULE_TABLE)) {
                             rules[nftnl_rule_get_str(found.get(), NFTNL_RULE_CHAIN)].push_back(
                                 describe_rule(found.get()));
                           }
                         }),
          "the rules of table inet " + table);
    for (auto& chain : snapshot.chains) {
      chain.rules = std::move(rules[chain.name]);
    }
  }
  sort_by_name(snapshot.sets);
  sort_by_name(snapshot.chains);
  return snapshot;
}

bool same_shape(const TableSnapshot& kernel, const TableSnapshot& desired) {
  if (!kernel.exists || kernel.flags != desired.flags ||
      kernel.sets.size() != desired.sets.size() || kernel.chains.size() != desired.chains.size()) {
    return false;
  }
  for (std::size_t i = 0; i < kernel.sets.size(); ++i) {
    const auto& a = kernel.sets[i];
    const auto& b = desired.sets[i];
    if (a.name != b.name || a.flags != b.flags || a.key_type != b.key_type ||
        a.key_length != b.key_length || a.size != b.size) {
      return false;
    }
  }
  for (std::size_t i = 0; i < kernel.chains.size(); ++i) {
    if (!kernel.chains[i].same_definition(desired.chains[i])) {
      return false;
    }
  }
  return true;
}

std::vector<std::string> compare_tables(const TableSnapshot& kernel, const TableSnapshot& desired,
                                        const std::string& table) {
  std::vector<std::string> out;
  if (!kernel.exists) {
    out.push_back("table inet " + table + " does not exist");
    return out;
  }
  if (kernel.flags != desired.flags) {
    out.push_back("table inet " + table + ": flags " + std::to_string(kernel.flags) +
                  ", expected " + std::to_string(desired.flags));
  }

  std::map<std::string, const SetSnapshot*> kernel_sets;
  for (const auto& set : kernel.sets) {
    kernel_sets[set.name] = &set;
  }
  for (const auto& want : desired.sets) {
    const auto found = kernel_sets.find(want.name);
    if (found == kernel_sets.end()) {
      out.push_back("set " + want.name + ": missing");
      continue;
    }
    const SetSnapshot& have = *found->second;
    kernel_sets.erase(found);
    if (have.flags != want.flags || have.key_type != want.key_type ||
        have.key_length != want.key_length || have.size != want.size) {
      out.push_back("set " + want.name + ": definition is " + describe_set_definition(have) +
                    ", expected " + describe_set_definition(want));
      continue;
    }
    if (have.elements == want.elements) {
      continue;
    }
    // Only on drift: ranges are what an operator recognises, so compare those as text.
    const bool interval = (want.flags & NFT_SET_INTERVAL) != 0;
    const auto want_text = element_strings(want.key_type, interval, want.elements);
    const auto have_text = element_strings(have.key_type, interval, have.elements);
    std::vector<std::string> missing;
    std::vector<std::string> unexpected;
    std::set_difference(want_text.begin(), want_text.end(), have_text.begin(), have_text.end(),
                        std::back_inserter(missing));
    std::set_difference(have_text.begin(), have_text.end(), want_text.begin(), want_text.end(),
                        std::back_inserter(unexpected));
    if (missing.empty() && unexpected.empty()) {
      out.push_back("set " + want.name + ": elements stored differently (same ranges)");
    }
    list_limited(out, "set " + want.name + ": missing element ", missing);
    list_limited(out, "set " + want.name + ": unexpected element ", unexpected);
  }
  for (const auto& [name, set] : kernel_sets) {
    out.push_back("set " + name + ": unexpected set (" + std::to_string(set->elements.size()) +
                  " elements)");
  }

  std::map<std::string, const ChainSnapshot*> kernel_chains;
  for (const auto& chain : kernel.chains) {
    kernel_chains[chain.name] = &chain;
  }
  for (const auto& want : desired.chains) {
    const auto found = kernel_chains.find(want.name);
    if (found == kernel_chains.end()) {
      out.push_back("chain " + want.name + ": missing");
      continue;
    }
    const ChainSnapshot& have = *found->second;
    kernel_chains.erase(found);
    if (!have.same_definition(want)) {
      out.push_back("chain " + want.name + ": definition is " + describe_chain_definition(have) +
                    ", expected " + describe_chain_definition(want));
    }
    if (have.rules != want.rules) {
      diff_rules(out, want.name, have.rules, want.rules);
    }
  }
  for (const auto& [name, chain] : kernel_chains) {
    out.push_back("chain " + name + ": unexpected chain (" + std::to_string(chain->rules.size()) +
                  " rules)");
  }
  return out;
}

}  // namespace pgguard::net
