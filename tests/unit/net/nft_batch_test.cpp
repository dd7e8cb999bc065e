#include "net/nft_batch.hpp"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <boost/test/unit_test.hpp>
#include <map>

#include "net/nft_objects.hpp"
#include "test_configs.hpp"

using namespace pgguard::net;

namespace {

struct Message {
  std::uint16_t type;  // NFT_MSG_* or NFNL_MSG_BATCH_*
  std::uint16_t flags;
  std::uint32_t sequence;
  std::size_t elements = 0;            // NEWSETELEM: elements in the message
  std::size_t element_nest_bytes = 0;  // NEWSETELEM: size of the element list attribute
};

std::vector<Message> walk(const Batch& batch) {
  std::vector<Message> messages;
  auto remaining = static_cast<int>(batch.bytes.size());
  for (auto* header = reinterpret_cast<const nlmsghdr*>(batch.bytes.data());
       mnl_nlmsg_ok(header, remaining); header = mnl_nlmsg_next(header, &remaining)) {
    const bool batch_marker =
        header->nlmsg_type == NFNL_MSG_BATCH_BEGIN || header->nlmsg_type == NFNL_MSG_BATCH_END;
    Message message{
        static_cast<std::uint16_t>(batch_marker ? header->nlmsg_type : header->nlmsg_type & 0xff),
        header->nlmsg_flags, header->nlmsg_seq};
    if (!batch_marker) {
      BOOST_TEST((header->nlmsg_type >> 8) == NFNL_SUBSYS_NFTABLES);
    }
    if (message.type == NFT_MSG_NEWSETELEM) {
      for_each_attribute(header, sizeof(nfgenmsg), [&message](const nlattr* attribute) {
        if (mnl_attr_get_type(attribute) == NFTA_SET_ELEM_LIST_ELEMENTS) {
          message.element_nest_bytes = mnl_attr_get_len(attribute);
          for_each_nested(attribute, [&message](const nlattr*) { ++message.elements; });
        }
      });
    }
    messages.push_back(message);
  }
  BOOST_TEST(remaining == 0);
  return messages;
}

std::size_t count(const std::vector<Message>& messages, std::uint16_t type) {
  return static_cast<std::size_t>(std::count_if(
      messages.begin(), messages.end(), [type](const Message& m) { return m.type == type; }));
}

TablePlan big_plan(std::size_t clients) {
  std::string text =
      "self = 198.18.1.13\nmember = pgpool 198.18.1.13\n"
      "self = 2001:db8::13\nmember = pgpool 2001:db8::13\n[clients]\n";
  for (std::size_t i = 0; i < clients; ++i) {
    // Every other address, so the ranges cannot merge: 2 kernel elements per client. Data
    // only, never a host, so it may leave 198.18.0.0/15.
    const auto host = 2 * i;
    text += "cidr = 10." + std::to_string(host / 65536) + "." + std::to_string(host / 256 % 256) +
            "." + std::to_string(host % 256) + "\n";
  }
  text += "[control]\ncidr = 198.18.0.0/28\n[service_network]\ncidr = 198.18.0.0/16\n";
  return plan_ruleset(pgguard::net::test::parse_config(text));
}

void check_framing(const Batch& batch, const std::vector<Message>& messages) {
  BOOST_TEST_REQUIRE(messages.size() >= 3u);
  BOOST_TEST(messages.front().type == NFNL_MSG_BATCH_BEGIN);
  BOOST_TEST(messages.back().type == NFNL_MSG_BATCH_END);
  BOOST_TEST(messages.size() == batch.message_count);
  BOOST_TEST(messages.front().sequence == batch.begin_sequence);
  for (std::size_t i = 1; i + 1 < messages.size(); ++i) {
    BOOST_TEST(messages[i].sequence == messages[i - 1].sequence + 1);
    BOOST_TEST((messages[i].flags & NLM_F_ACK) != 0);  // every answer is read back
    BOOST_TEST(batch.descriptions.count(messages[i].sequence) == 1u);
  }
  BOOST_TEST(batch.first_sequence == messages[1].sequence);
  BOOST_TEST(batch.last_sequence == messages[messages.size() - 2].sequence);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(nft_batch)

BOOST_AUTO_TEST_CASE(create_batch_builds_everything_once_without_deleting) {
  const auto plan = plan_ruleset(pgguard::net::test::load_config("docs/examples/isolation.conf"));
  const auto batch = build_apply_batch(plan, ApplyMode::create, 100);
  const auto messages = walk(batch);
  check_framing(batch, messages);
  BOOST_TEST(messages[1].type == NFT_MSG_NEWTABLE);
  BOOST_TEST((messages[1].flags & NLM_F_EXCL) != 0);
  BOOST_TEST(count(messages, NFT_MSG_DELTABLE) == 0u);
  BOOST_TEST(count(messages, NFT_MSG_NEWTABLE) == 1u);
  BOOST_TEST(count(messages, NFT_MSG_NEWSET) == plan.sets.size());
  BOOST_TEST(count(messages, NFT_MSG_NEWCHAIN) == plan.chains.size());
  std::size_t rules = 0;
  for (const auto& chain : plan.chains) {
    rules += chain.rules.size();
  }
  BOOST_TEST(count(messages, NFT_MSG_NEWRULE) == rules);
}

BOOST_AUTO_TEST_CASE(every_chain_exists_before_the_first_rule) {
  // A jump names its target chain, which must already exist in the transaction.
  const auto plan = plan_ruleset(pgguard::net::test::load_config("docs/examples/isolation.conf"));
  for (const auto mode : {ApplyMode::create, ApplyMode::replace, ApplyMode::refill}) {
    const auto messages = walk(build_apply_batch(plan, mode, 1));
    const auto first_rule = std::find_if(messages.begin(), messages.end(), [](const Message& m) {
      return m.type == NFT_MSG_NEWRULE;
    });
    BOOST_TEST_REQUIRE((first_rule != messages.end()));
    const auto chain_work = mode == ApplyMode::refill ? NFT_MSG_DELRULE : NFT_MSG_NEWCHAIN;
    BOOST_TEST(std::count_if(messages.begin(), first_rule, [chain_work](const Message& m) {
                 return m.type == chain_work;
               }) == static_cast<std::ptrdiff_t>(plan.chains.size()));
  }
}

BOOST_AUTO_TEST_CASE(replace_batch_deletes_and_recreates_in_the_same_transaction) {
  const auto plan = plan_ruleset(pgguard::net::test::load_config("docs/examples/isolation.conf"));
  const auto messages = walk(build_apply_batch(plan, ApplyMode::replace, 1));
  BOOST_TEST_REQUIRE(messages.size() > 4u);
  BOOST_TEST(messages[1].type == NFT_MSG_NEWTABLE);  // ensure it exists, so the delete succeeds
  BOOST_TEST((messages[1].flags & NLM_F_EXCL) == 0);
  BOOST_TEST(messages[2].type == NFT_MSG_DELTABLE);
  BOOST_TEST(messages[3].type == NFT_MSG_NEWTABLE);
  BOOST_TEST(count(messages, NFT_MSG_DELTABLE) == 1u);
}

BOOST_AUTO_TEST_CASE(refill_batch_flushes_without_deleting_the_table) {
  const auto plan = plan_ruleset(pgguard::net::test::load_config("docs/examples/isolation.conf"));
  const auto messages = walk(build_apply_batch(plan, ApplyMode::refill, 1));
  BOOST_TEST(count(messages, NFT_MSG_DELTABLE) == 0u);
  BOOST_TEST(count(messages, NFT_MSG_NEWTABLE) == 0u);
  BOOST_TEST(count(messages, NFT_MSG_NEWSET) == 0u);
  BOOST_TEST(count(messages, NFT_MSG_DELRULE) == plan.chains.size());
  BOOST_TEST(count(messages, NFT_MSG_DELSETELEM) == plan.sets.size());
  BOOST_TEST(count(messages, NFT_MSG_NEWRULE) > 0u);
}

BOOST_AUTO_TEST_CASE(large_sets_are_chunked_below_the_64k_nest_limit) {
  const std::size_t clients = 100'000;
  const auto plan = big_plan(clients);
  const auto batch = build_apply_batch(plan, ApplyMode::create, 1);
  const auto messages = walk(batch);
  check_framing(batch, messages);
  std::size_t elements = 0;
  std::size_t element_messages = 0;
  for (const auto& message : messages) {
    if (message.type == NFT_MSG_NEWSETELEM) {
      BOOST_TEST(message.element_nest_bytes < 65536u);
      elements += message.elements;
      ++element_messages;
    }
  }
  std::size_t expected = 0;
  for (const auto& set : plan.sets) {
    expected += kernel_elements(set).size();
  }
  BOOST_TEST(elements == expected);
  BOOST_TEST(elements > 2 * clients);  // start and end of each client range, plus the rest
  BOOST_TEST(element_messages > 50u);
  BOOST_TEST(batch.bytes.size() > 208u * 1024u);  // needs the raised send buffer
}

BOOST_AUTO_TEST_CASE(remove_batch_only_touches_our_table) {
  const auto messages = walk(build_remove_batch("secure_postgres", 7));
  BOOST_TEST_REQUIRE(messages.size() == 4u);
  BOOST_TEST(messages[1].type == NFT_MSG_NEWTABLE);
  BOOST_TEST(messages[2].type == NFT_MSG_DELTABLE);
}

BOOST_AUTO_TEST_CASE(interval_elements_end_one_past_the_range) {
  SetPlan set{"s",
              SetKeyType::ipv4_addr,
              true,
              {{{198, 18, 0, 0}, {198, 18, 0, 255}}, {{255, 255, 255, 0}, {255, 255, 255, 255}}}};
  const auto elements = kernel_elements(set);
  BOOST_TEST_REQUIRE(elements.size() == 3u);  // the range ending at the top has no end element
  BOOST_TEST(!elements[0].interval_end);
  BOOST_TEST(elements[1].interval_end);
  BOOST_TEST((elements[1].key == SetKey{198, 18, 1, 0}));
  BOOST_TEST(!elements[2].interval_end);
}

BOOST_AUTO_TEST_SUITE_END()
