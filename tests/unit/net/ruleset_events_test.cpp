#include "net/ruleset_events.hpp"

#include <arpa/inet.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <boost/test/unit_test.hpp>
#include <vector>

#include "net/isolation.hpp"

using namespace pgguard::net;

namespace {

// An event as the kernel's nf_tables_gen_notify builds it: nfgenmsg, then the attributes.
std::vector<char> gen_event(std::uint16_t message_type, bool with_process) {
  std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
  nlmsghdr* header = mnl_nlmsg_put_header(buffer.data());
  header->nlmsg_type = static_cast<std::uint16_t>((NFNL_SUBSYS_NFTABLES << 8) | message_type);
  auto* generic = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(nfgenmsg)));
  generic->nfgen_family = AF_UNSPEC;
  mnl_attr_put_u32(header, NFTA_GEN_ID, htonl(4711));
  if (with_process) {
    mnl_attr_put_u32(header, NFTA_GEN_PROC_PID, htonl(1234));
    mnl_attr_put_strz(header, NFTA_GEN_PROC_NAME, "nft");
  }
  buffer.resize(header->nlmsg_len);
  return buffer;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ruleset_events)

BOOST_AUTO_TEST_CASE(a_newgen_event_names_generation_and_committer) {
  const auto message = gen_event(NFT_MSG_NEWGEN, true);
  const auto commit = parse_commit_event(reinterpret_cast<const nlmsghdr*>(message.data()));
  BOOST_TEST_REQUIRE(commit.has_value());
  BOOST_TEST(commit->generation == 4711u);
  BOOST_TEST_REQUIRE(commit->pid.has_value());
  BOOST_TEST(*commit->pid == 1234u);
  BOOST_TEST(commit->process_name == "nft");
  BOOST_TEST(describe_commit(*commit) == "generation 4711 committed by pid 1234 (nft)");
}

BOOST_AUTO_TEST_CASE(a_commit_without_process_attributes_is_still_a_commit) {
  const auto message = gen_event(NFT_MSG_NEWGEN, false);
  const auto commit = parse_commit_event(reinterpret_cast<const nlmsghdr*>(message.data()));
  BOOST_TEST_REQUIRE(commit.has_value());
  BOOST_TEST(!commit->pid.has_value());
  BOOST_TEST(describe_commit(*commit) == "generation 4711");
}

BOOST_AUTO_TEST_CASE(object_messages_are_not_commits) {
  for (const auto type : {NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE, NFT_MSG_NEWRULE, NFT_MSG_GETGEN}) {
    const auto message = gen_event(static_cast<std::uint16_t>(type), true);
    BOOST_TEST(!parse_commit_event(reinterpret_cast<const nlmsghdr*>(message.data())), type);
  }
}

BOOST_AUTO_TEST_CASE(apply_summaries_say_what_happened) {
  ApplyReport report;
  report.table = "secure_postgres";
  report.sysctls_written = 2;
  BOOST_TEST(describe_apply(report) ==
             "table inet secure_postgres in sync, nothing changed; 2 sysctls written");
  report.table_changed = true;
  report.mode = ApplyMode::refill;
  report.messages = 9;
  report.batch_bytes = 1024;
  BOOST_TEST(describe_apply(report) ==
             "table inet secure_postgres refilled (9 messages, 1024 bytes in one batch); 2 "
             "sysctls written");
  report = ApplyReport{};
  report.table = "t";
  report.unchanged_since_last_run = true;
  BOOST_TEST(describe_apply(report) ==
             "table inet t in sync (configuration and ruleset unchanged since the last run); 0 "
             "sysctls written");
}

BOOST_AUTO_TEST_SUITE_END()
