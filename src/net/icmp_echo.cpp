#include "net/icmp_echo.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "common/error.hpp"
#include "common/strings.hpp"

namespace pgguard::net {

namespace {

constexpr std::uint8_t kEchoRequestV4 = 8;
constexpr std::uint8_t kEchoReplyV4 = 0;
constexpr std::uint8_t kEchoRequestV6 = 128;
constexpr std::uint8_t kEchoReplyV6 = 129;
constexpr std::size_t kHeaderBytes = 8;
constexpr std::size_t kPayloadBytes = 56;  // iputils' default: 64-byte ICMP messages

[[noreturn]] void usage_error(const std::string& message) {
  throw Error(ExitCode::bad_input,
              message + "\nusage: pgguard-ping [-q] [-n] [-c COUNT] [-W SECONDS] ADDRESS");
}

int parse_number(std::string_view option, std::string_view text, int low, int high) {
  int value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size() ||
      value < low || value > high) {
    usage_error("option " + std::string(option) + ": '" + std::string(text) +
                "' is not a number from " + std::to_string(low) + " to " + std::to_string(high));
  }
  return value;
}

std::string milliseconds(double value) {
  char text[32];
  (void)std::snprintf(text, sizeof text, "%.3f", value);
  return text;
}

}  // namespace

EchoRequest parse_ping_arguments(std::span<const std::string_view> arguments) {
  EchoRequest request;
  std::optional<std::string_view> destination;
  for (std::size_t index = 0; index < arguments.size(); ++index) {
    const std::string_view argument = arguments[index];
    if (argument == "-q" || argument == "-n") {
      continue;  // output is always the quiet summary; addresses are never resolved
    }
    if (argument.starts_with("-c") || argument.starts_with("-W")) {
      const std::string_view option = argument.substr(0, 2);
      std::string_view value = argument.substr(2);
      if (value.empty()) {
        if (index + 1 == arguments.size()) {
          usage_error("option " + std::string(option) + " needs a value");
        }
        value = arguments[++index];
      }
      if (option == "-c") {
        request.count = parse_number(option, value, 1, 100);
      } else {
        request.timeout_ms = parse_number(option, value, 1, 60) * 1000;
      }
      continue;
    }
    if (argument.starts_with("-")) {
      usage_error("unknown option '" + std::string(argument) + "'");
    }
    if (destination) {
      usage_error("one address only, got '" + std::string(*destination) + "' and '" +
                  std::string(argument) + "'");
    }
    destination = argument;
  }
  if (!destination) {
    usage_error("no address given");
  }
  try {
    request.destination = Address::parse(*destination);
  } catch (const AddressError& error) {
    usage_error("'" + std::string(*destination) + "' is not an IPv4 or IPv6 address (" +
                error.what() + "); host names are not resolved");
  }
  request.destination_text = std::string(*destination);
  return request;
}

std::vector<std::uint8_t> echo_request(Family family, std::uint16_t sequence) {
  std::vector<std::uint8_t> packet(kHeaderBytes + kPayloadBytes);
  packet[0] = family == Family::ipv4 ? kEchoRequestV4 : kEchoRequestV6;
  packet[6] = static_cast<std::uint8_t>(sequence >> 8);
  packet[7] = static_cast<std::uint8_t>(sequence & 0xff);
  std::iota(packet.begin() + kHeaderBytes, packet.end(), std::uint8_t{0x10});  // like iputils
  return packet;
}

std::optional<std::uint16_t> echo_reply_sequence(Family family,
                                                 std::span<const std::uint8_t> packet) {
  const std::uint8_t reply = family == Family::ipv4 ? kEchoReplyV4 : kEchoReplyV6;
  if (packet.size() < kHeaderBytes || packet[0] != reply || packet[1] != 0) {
    return std::nullopt;
  }
  return static_cast<std::uint16_t>((packet[6] << 8) | packet[7]);
}

std::string ping_summary(const EchoRequest& request, const EchoResult& result) {
  const auto received = static_cast<int>(result.round_trips_ms.size());
  const int loss =
      result.transmitted == 0 ? 0 : (100 * (result.transmitted - received)) / result.transmitted;
  const std::size_t ip_header = request.destination.family() == Family::ipv4 ? 20 : 40;
  TextBuilder text;
  text << "PING " << request.destination_text << " (" << request.destination.to_string() << ") "
       << kPayloadBytes << '(' << (kPayloadBytes + kHeaderBytes + ip_header)
       << ") bytes of data.\n\n--- " << request.destination_text << " ping statistics ---\n"
       << result.transmitted << " packets transmitted, " << received << " received, " << loss
       << "% packet loss, time " << static_cast<long>(std::lround(result.elapsed_ms)) << "ms\n";
  if (received > 0) {
    const auto& rtts = result.round_trips_ms;
    const auto [min, max] = std::minmax_element(rtts.begin(), rtts.end());
    const double mean = std::accumulate(rtts.begin(), rtts.end(), 0.0) / received;
    double squares = 0;
    for (const double rtt : rtts) {
      squares += (rtt - mean) * (rtt - mean);
    }
    text << "rtt min/avg/max/mdev = " << milliseconds(*min) << '/' << milliseconds(mean) << '/'
         << milliseconds(*max) << '/' << milliseconds(std::sqrt(squares / received)) << " ms\n";
  }
  return text.str();
}

}  // namespace pgguard::net
