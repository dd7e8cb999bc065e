#pragma once

#include <chrono>
#include <string>

#include "net/vip_request.hpp"

// The client side of the VIP broker: what pgpool's if_up_cmd, if_down_cmd and arping_cmd run,
// inside pgpool's own sandbox (no capability). It connects, sends one request line and reads
// the one answer line.
namespace pgguard::net {

// Long enough for a broker busy with another connection (kRequestTimeout) and an announcement
// (at most 10 x 200 ms), short enough that pgpool's failover never waits for ever.
inline constexpr std::chrono::seconds kClientTimeout{10};

// Throws SystemError when the broker cannot be reached or does not answer within `timeout`.
Answer ask_vip_broker(const std::string& socket_path, const VipRequest& request,
                      std::chrono::seconds timeout = kClientTimeout);

}  // namespace pgguard::net
