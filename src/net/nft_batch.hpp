#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "net/netlink_socket.hpp"
#include "net/ruleset_plan.hpp"

namespace pgguard::net {

// How apply gets from the kernel's current table to the plan, always in ONE transaction.
enum class ApplyMode {
  create,   // no table yet: create it with everything in it
  replace,  // ensure-exists, delete, create: atomic replace of whatever the table holds
  refill,   // the table has exactly our sets and chains: flush them and refill (no deletion,
            // which spares the ~10 ms the kernel spends destroying a table)
};

// A complete netlink batch (BATCH_BEGIN ... BATCH_END) in one contiguous buffer.
struct Batch {
  std::vector<char> bytes;
  std::uint32_t begin_sequence = 0;
  std::uint32_t first_sequence = 0;  // first and last message that asks for an ack
  std::uint32_t last_sequence = 0;
  std::map<std::uint32_t, std::string> descriptions;  // sequence -> what the message does
  std::size_t message_count = 0;
};

Batch build_apply_batch(const TablePlan& plan, ApplyMode mode, std::uint32_t first_sequence);
// Deletes the table if it exists (ensure-exists + delete), touching nothing else.
Batch build_remove_batch(const std::string& table, std::uint32_t first_sequence);

// The batch reached the kernel but its answers could not be read. nf_tables runs a batch
// inside the sendmsg that carries it, so it has been committed or rolled back by then; which
// of the two, only reading the ruleset back can tell (isolation.cpp does).
class BatchAnswersLost : public Error {
 public:
  explicit BatchAnswersLost(const std::string& message) : Error(ExitCode::system, message) {}
};

// Sends the batch and reads every answer. Throws SystemError when the batch could not be sent
// (nothing changed) or naming the rejected message and the kernel's error (the kernel has
// rolled the whole batch back), and BatchAnswersLost when the answers could not be read.
void send_batch(NetlinkSocket& socket, const Batch& batch);

}  // namespace pgguard::net
