#include "net/vip_request.hpp"

#include <algorithm>

namespace pgguard::net {

namespace {

Verdict refuse(std::string reason) {
  Verdict verdict;
  verdict.refusal = std::move(reason);
  return verdict;
}

std::optional<VipAction> parse_action(std::string_view word) {
  if (word == "up") {
    return VipAction::up;
  }
  if (word == "down") {
    return VipAction::down;
  }
  if (word == "announce") {
    return VipAction::announce;
  }
  return std::nullopt;
}

bool is_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte >= 0x7f;
}

}  // namespace

std::string_view action_name(VipAction action) {
  switch (action) {
    case VipAction::up:
      return "up";
    case VipAction::down:
      return "down";
    case VipAction::announce:
      return "announce";
  }
  return "?";
}

std::optional<std::string> peer_refusal(const Peer& peer, const BrokerPolicy& policy) {
  if (peer.uid == policy.client_uid) {
    return std::nullopt;
  }
  return "refused: uid " + std::to_string(peer.uid) + " is not the client '" + policy.client_name +
         "' (uid " + std::to_string(policy.client_uid) + ")";
}

Verdict judge_request(const ReceivedRequest& received, const BrokerPolicy& policy) {
  const std::string_view bytes = received.bytes;
  switch (received.end) {
    case ReadEnd::too_long:
      return refuse("request longer than " + std::to_string(kMaxRequestLine) + " bytes");
    case ReadEnd::timed_out:
      return refuse("no complete request line within " + std::to_string(kRequestTimeout.count()) +
                    " ms");
    case ReadEnd::end_of_file:
      return refuse(bytes.empty() ? "empty request" : "request line not terminated by a newline");
    case ReadEnd::newline:
      break;
  }
  const auto newline = bytes.find('\n');
  if (newline == std::string_view::npos) {
    return refuse("request line not terminated by a newline");
  }
  if (newline + 1 != bytes.size()) {
    return refuse("more than one line: one request per connection");
  }
  const std::string_view line = bytes.substr(0, newline);
  if (line.size() > kMaxRequestLine) {
    return refuse("request longer than " + std::to_string(kMaxRequestLine) + " bytes");
  }
  if (std::any_of(line.begin(), line.end(), is_control)) {
    return refuse("request holds a control or non-ASCII character");
  }
  const auto space = line.find(' ');
  const std::string_view word = line.substr(0, space);
  const auto action = parse_action(word);
  if (!action || space == std::string_view::npos) {
    return refuse("unknown request '" + std::string(line) +
                  "': expected up, down or announce, a space and the address");
  }
  const std::string_view text = line.substr(space + 1);
  Address address;
  try {
    address = Address::parse(text);
  } catch (const AddressError& error) {
    return refuse("'" + std::string(text) + "' is not an address: " + error.what());
  }
  if (address != policy.vip) {
    return refuse("refused: " + address.to_string() + " is not the address this broker manages");
  }
  return {VipRequest{*action, address}, {}};
}

std::string request_line(const VipRequest& request) {
  return std::string(action_name(request.action)) + " " + request.address.to_string() + "\n";
}

std::string ok_answer(std::string_view text) {
  return "ok " + std::string(text) + "\n";
}

std::string error_answer(std::string_view text) {
  return "error " + std::string(text) + "\n";
}

Answer parse_answer(std::string_view received) {
  std::string_view line = received.substr(0, received.find('\n'));
  Answer answer;
  answer.text = printable(line);
  answer.ok = line.starts_with("ok ") && received.size() == line.size() + 1;
  return answer;
}

std::string printable(std::string_view bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  text.reserve(bytes.size());
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\\' || c == '"') {
      text += '\\';
      text += c;
    } else if (c == '\n') {
      text += "\\n";
    } else if (c == '\t') {
      text += "\\t";
    } else if (byte < 0x20 || byte >= 0x7f) {
      text += "\\x";
      text += kHex[byte >> 4];
      text += kHex[byte & 0xf];
    } else {
      text += c;
    }
  }
  return text;
}

}  // namespace pgguard::net
