#include "net/nft_batch.hpp"

#include <arpa/inet.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <new>

#include "common/error.hpp"
#include "net/nft_objects.hpp"

namespace pgguard::net {

namespace {

// The kernel limits a nested attribute to 64 KiB; stay below it with headroom.
constexpr std::size_t kMaxElementNestBytes = std::size_t{60} * 1024;
// Room reserved before building any one message (a full element message is < 64 KiB).
constexpr std::size_t kMaxMessageBytes = std::size_t{128} * 1024;

class BatchWriter {
 public:
  explicit BatchWriter(std::uint32_t first_sequence) : sequence_(first_sequence) {
    batch_.bytes.resize(std::size_t{1024} * 1024);
    batch_.begin_sequence = sequence_;
    auto* header = nftnl_batch_begin(reserve(), sequence_++);
    commit(header);
    batch_.first_sequence = sequence_;
  }

  // Starts a message that asks for an ack; finish it with commit().
  nlmsghdr* message(std::uint16_t type, std::uint16_t flags, std::string description) {
    batch_.descriptions.emplace(sequence_, std::move(description));
    return nftnl_nlmsg_build_hdr(reserve(), type, NFPROTO_INET, flags | NLM_F_ACK, sequence_++);
  }

  void describe(const nlmsghdr* header, std::string description) {
    batch_.descriptions[header->nlmsg_seq] = std::move(description);
  }

  void commit(nlmsghdr* header) {
    used_ += NLMSG_ALIGN(header->nlmsg_len);
    ++batch_.message_count;
  }

  Batch finish() {
    batch_.last_sequence = sequence_ - 1;
    auto* header = nftnl_batch_end(reserve(), sequence_++);
    commit(header);
    batch_.bytes.resize(used_);
    return std::move(batch_);
  }

 private:
  char* reserve() {
    if (batch_.bytes.size() - used_ < kMaxMessageBytes) {
      batch_.bytes.resize(std::max(batch_.bytes.size() * 2, used_ + kMaxMessageBytes));
    }
    return batch_.bytes.data() + used_;
  }

  Batch batch_;
  std::size_t used_ = 0;
  std::uint32_t sequence_;
};

void add_table(BatchWriter& writer, const std::string& table, std::uint16_t type,
               std::uint16_t flags, const std::string& description) {
  const auto object = make_table(table);
  auto* header = writer.message(type, flags, description);
  nftnl_table_nlmsg_build_payload(header, object.get());
  writer.commit(header);
}

std::size_t element_bytes(std::size_t key_length, bool with_flags) {
  // NFTA_LIST_ELEM nest + NFTA_SET_ELEM_KEY nest + NFTA_DATA_VALUE + optional flags.
  return 4 + 4 + 4 + NLMSG_ALIGN(key_length) + (with_flags ? 8 : 0);
}

// Elements go straight into the message (one mnl attribute each): at 100,000 elements,
// allocating an nftnl_set_elem per element costs more than the kernel's work.
void add_elements(BatchWriter& writer, const std::string& table, const SetPlan& set,
                  std::uint32_t set_id) {
  const auto elements = kernel_elements(set);
  std::size_t next = 0;
  while (next < elements.size()) {
    const std::size_t chunk_start = next;
    auto* header = writer.message(NFT_MSG_NEWSETELEM, NLM_F_CREATE | NLM_F_EXCL, "");
    mnl_attr_put_strz(header, NFTA_SET_ELEM_LIST_TABLE, table.c_str());
    mnl_attr_put_strz(header, NFTA_SET_ELEM_LIST_SET, set.name.c_str());
    mnl_attr_put_u32(header, NFTA_SET_ELEM_LIST_SET_ID, htonl(set_id));
    auto* list = mnl_attr_nest_start(header, NFTA_SET_ELEM_LIST_ELEMENTS);
    std::size_t nest_bytes = 4;
    while (next < elements.size()) {
      const auto& element = elements[next];
      const auto size = element_bytes(element.key.size(), element.interval_end);
      if (nest_bytes + size > kMaxElementNestBytes) {
        break;
      }
      nest_bytes += size;
      auto* item = mnl_attr_nest_start(header, NFTA_LIST_ELEM);
      if (element.interval_end) {
        mnl_attr_put_u32(header, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_INTERVAL_END));
      }
      auto* key = mnl_attr_nest_start(header, NFTA_SET_ELEM_KEY);
      mnl_attr_put(header, NFTA_DATA_VALUE, element.key.size(), element.key.data());
      mnl_attr_nest_end(header, key);
      mnl_attr_nest_end(header, item);
      ++next;
    }
    mnl_attr_nest_end(header, list);
    writer.commit(header);
    // Described after the fact: the chunk's extent is known only now.
    writer.describe(header, "add elements " + std::to_string(chunk_start + 1) + "-" +
                                std::to_string(next) + " of " + std::to_string(elements.size()) +
                                " to set " + set.name);
  }
}

}  // namespace

Batch build_apply_batch(const TablePlan& plan, ApplyMode mode, std::uint32_t first_sequence) {
  BatchWriter writer(first_sequence);
  const std::string table = "table inet " + plan.name;
  switch (mode) {
    case ApplyMode::create:
      add_table(writer, plan.name, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, "create " + table);
      break;
    case ApplyMode::replace:
      // Ensure-exists then delete: works whether or not it exists, in the same transaction.
      add_table(writer, plan.name, NFT_MSG_NEWTABLE, NLM_F_CREATE, "ensure " + table);
      add_table(writer, plan.name, NFT_MSG_DELTABLE, 0, "delete old " + table);
      add_table(writer, plan.name, NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, "create " + table);
      break;
    case ApplyMode::refill:
      for (const auto& chain : plan.chains) {
        NftnlRule flush(nftnl_rule_alloc());
        nftnl_rule_set_u32(flush.get(), NFTNL_RULE_FAMILY, NFPROTO_INET);
        nftnl_rule_set_str(flush.get(), NFTNL_RULE_TABLE, plan.name.c_str());
        nftnl_rule_set_str(flush.get(), NFTNL_RULE_CHAIN, chain.name.c_str());
        auto* header = writer.message(NFT_MSG_DELRULE, 0, "flush chain " + chain.name);
        nftnl_rule_nlmsg_build_payload(header, flush.get());
        writer.commit(header);
      }
      for (const auto& set : plan.sets) {
        auto* header = writer.message(NFT_MSG_DELSETELEM, 0, "flush set " + set.name);
        mnl_attr_put_strz(header, NFTA_SET_ELEM_LIST_TABLE, plan.name.c_str());
        mnl_attr_put_strz(header, NFTA_SET_ELEM_LIST_SET, set.name.c_str());
        writer.commit(header);
      }
      break;
  }

  for (std::size_t i = 0; i < plan.sets.size(); ++i) {
    const auto& set = plan.sets[i];
    const auto set_id = static_cast<std::uint32_t>(i + 1);
    if (mode != ApplyMode::refill) {
      const auto object = make_set(plan.name, set, set_id);
      auto* header =
          writer.message(NFT_MSG_NEWSET, NLM_F_CREATE | NLM_F_EXCL, "create set " + set.name);
      nftnl_set_nlmsg_build_payload(header, object.get());
      writer.commit(header);
    }
    add_elements(writer, plan.name, set, set_id);
  }
  // Every chain exists before any rule: a jump names its target chain.
  if (mode != ApplyMode::refill) {
    for (const auto& chain : plan.chains) {
      const auto object = make_chain(plan.name, chain);
      auto* header =
          writer.message(NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, "create chain " + chain.name);
      nftnl_chain_nlmsg_build_payload(header, object.get());
      writer.commit(header);
    }
  }
  for (const auto& chain : plan.chains) {
    for (const auto& rule : chain.rules) {
      const auto object = make_rule(plan.name, chain.name, rule, plan);
      auto* header =
          writer.message(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND,
                         "add rule to chain " + chain.name + " (\"" + rule.comment + "\")");
      nftnl_rule_nlmsg_build_payload(header, object.get());
      writer.commit(header);
    }
  }
  return writer.finish();
}

Batch build_remove_batch(const std::string& table, std::uint32_t first_sequence) {
  BatchWriter writer(first_sequence);
  add_table(writer, table, NFT_MSG_NEWTABLE, NLM_F_CREATE, "ensure table inet " + table);
  add_table(writer, table, NFT_MSG_DELTABLE, 0, "delete table inet " + table);
  return writer.finish();
}

void send_batch(NetlinkSocket& socket, const Batch& batch) {
  socket.send(batch.bytes.data(), batch.bytes.size());
  // Sent: from here on no failure may read as "nothing was changed".
  std::vector<NetlinkAck> errors;
  try {
    errors =
        socket.read_batch_answers(batch.begin_sequence, batch.first_sequence, batch.last_sequence);
  } catch (const SystemError& error) {
    throw BatchAnswersLost("the nftables batch was sent, but its answers were lost: " +
                           std::string(error.what()));
  } catch (const std::bad_alloc&) {
    throw BatchAnswersLost(
        "the nftables batch was sent, but its answers were lost: out of memory while reading them");
  }
  if (errors.empty()) {
    return;
  }
  const auto& first = errors.front();
  std::string what = "the kernel rejected the nftables batch";
  if (const auto found = batch.descriptions.find(first.sequence);
      found != batch.descriptions.end() && !found->second.empty()) {
    what += " at '" + found->second + "'";
  }
  if (!first.kernel_message.empty()) {
    what += " (" + first.kernel_message + ")";
  }
  what += "; nothing was changed, the previous ruleset stays in force";
  throw SystemError(what, first.error);
}

}  // namespace pgguard::net
