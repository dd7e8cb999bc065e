#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "net/address.hpp"

// The VIP broker's protocol, pure: one connection carries one request line and gets one answer
// line.
//
//   request:  "up 198.18.7.10\n" | "down 198.18.7.10\n" | "announce 198.18.7.10\n"
//   answer:   "ok <what was done>\n" | "error <why not>\n"
//
// The broker decides with peer_refusal() and judge_request() before it touches anything; what
// they refuse is answered with an error line and changes nothing.
namespace pgguard::net {

enum class VipAction { up, down, announce };
std::string_view action_name(VipAction action);

struct VipRequest {
  VipAction action = VipAction::up;
  Address address;
};

// A request line is at most this long, newline excluded ("announce 255.255.255.255" is 24).
inline constexpr std::size_t kMaxRequestLine = 64;
// A connection must deliver its whole line within this time, counted from accept.
inline constexpr std::chrono::milliseconds kRequestTimeout{2000};

// How reading a request ended.
enum class ReadEnd {
  newline,      // a '\n' arrived (bytes may hold more after it)
  end_of_file,  // the client shut down its side before any '\n'
  too_long,     // kMaxRequestLine + 1 bytes without a '\n'
  timed_out,    // kRequestTimeout passed before a '\n'
};

struct ReceivedRequest {
  std::string bytes;  // everything read, at most kMaxRequestLine + 1 bytes
  ReadEnd end = ReadEnd::end_of_file;
};

// The process at the other end of a connection (SO_PEERCRED at connect time).
struct Peer {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// Whom and what the broker serves.
struct BrokerPolicy {
  uid_t client_uid = 0;
  gid_t client_gid = 0;  // its primary group: the socket's group
  std::string client_name;
  Address vip;
};

// One decision: a request to carry out, or why the connection is refused.
struct Verdict {
  std::optional<VipRequest> request;
  std::string refusal;  // set exactly when request is empty

  bool accepted() const { return request.has_value(); }
};

// Only the configured client's uid is served: for any other peer, the reason it is refused
// (before a byte of its request is read).
std::optional<std::string> peer_refusal(const Peer& peer, const BrokerPolicy& policy);

// Parses the line and checks that its address is exactly the VIP. Refuses an empty, overlong,
// unterminated or late line, more than one line, a control character, an unknown action, an
// address that does not parse (strictly: no octal or short forms) and any other address.
Verdict judge_request(const ReceivedRequest& received, const BrokerPolicy& policy);

// The client's side: "up 198.18.7.10\n".
std::string request_line(const VipRequest& request);

// The broker's answer lines.
std::string ok_answer(std::string_view text);
std::string error_answer(std::string_view text);

// An answer as the client reads it; anything but "ok ..." counts as an error.
struct Answer {
  bool ok = false;
  std::string text;  // the line without its newline
};
Answer parse_answer(std::string_view received);

// Bytes from a peer, made safe for a log line: printable ASCII kept, everything else (and '\\'
// and '"') escaped as \n, \t, \\, \" or \xHH.
std::string printable(std::string_view bytes);

}  // namespace pgguard::net
