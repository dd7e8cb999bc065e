// pgguard-vip: the VIP broker (serve) and its client (up, down, announce), see
// src/net/vip_broker.hpp and docs/sandbox.md, "The VIP broker".
#include <boost/program_options.hpp>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/program_main.hpp"
#include "net/address.hpp"
#include "net/vip_broker.hpp"
#include "net/vip_client.hpp"
#include "net/vip_config.hpp"

namespace po = boost::program_options;
using namespace pgguard;

namespace {

constexpr const char* kUsage = R"(Usage:
  pgguard-vip serve --config FILE
        the broker: listens on the configured unix socket and, for the configured client
        only, brings the configured VIP up or down (rtnetlink) or announces it (ARP); one
        request per connection, one line each way; logs every request to stderr; stops on
        SIGTERM/SIGINT (the VIP stays as it is). Runs under pgguard-launch's vip-helper
        profile (CAP_NET_ADMIN + CAP_NET_RAW), never as root.
  pgguard-vip check --config FILE
        validates FILE, resolves its client and interface; changes nothing
  pgguard-vip --socket PATH up|down|announce ADDRESS
        the client (pgpool's if_up_cmd, if_down_cmd, arping_cmd): asks the broker at PATH,
        prints its answer

Exit codes:
  serve/check: 0 stopped by SIGTERM/SIGINT, or valid; 2 bad usage or configuration (file:line:
               key:), nothing changed; 3 the kernel refused (socket, another broker listening);
               5 out of memory
  client:      0 the broker answered ok; 1 it refused or failed (its answer is printed), or it
               could not be reached; 2 bad usage; 5 out of memory

Reference: docs/sandbox.md ("The VIP broker")
)";

[[noreturn]] void usage_error(const std::string& message) {
  throw Error(ExitCode::bad_input, message + " (see --help)");
}

// UTC, to the second, as the other BOSH job logs on the VM stamp their lines.
std::string timestamp() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32] = {};
  return std::strftime(text, sizeof text, "%FT%TZ", &utc) == 0 ? "?" : text;
}

int serve(const std::string& config_path) {
  const net::VipConfig config = net::load_vip_config(config_path);
  net::run_vip_broker(config, [](std::string_view line) {
    (void)std::fprintf(stderr, "%s pgguard-vip: %.*s\n", timestamp().c_str(),
                       static_cast<int>(line.size()), line.data());
    (void)std::fflush(stderr);
  });
  return 0;
}

int check(const std::string& config_path) {
  const net::VipConfig config = net::load_vip_config(config_path);
  const net::BrokerPolicy policy = net::resolve_broker_policy(config);
  (void)net::vip_interface_index(config);
  (void)std::printf("%s: ok (VIP %s on %s, socket %s, client %s uid %u)\n", config_path.c_str(),
                    config.address_text().c_str(), config.interface.c_str(),
                    config.socket_path.c_str(), policy.client_name.c_str(),
                    static_cast<unsigned>(policy.client_uid));
  return 0;
}

int client(net::VipAction action, const std::string& address_text, const std::string& socket_path) {
  net::VipRequest request;
  request.action = action;
  try {
    request.address = net::Address::parse(address_text);
  } catch (const net::AddressError& error) {
    usage_error("ADDRESS '" + address_text + "': " + error.what());
  }
  if (request.address.family() != net::Family::ipv4) {
    usage_error("ADDRESS " + address_text + " is not IPv4");
  }
  net::Answer answer;
  try {
    answer = net::ask_vip_broker(socket_path, request);
  } catch (const SystemError& error) {
    (void)std::fprintf(stderr, "pgguard-vip: %s\n", error.what());
    return 1;
  }
  (void)std::fprintf(answer.ok ? stdout : stderr, "%s%s\n",
                     answer.ok ? "" : "pgguard-vip: ", answer.text.c_str());
  return answer.ok ? 0 : 1;
}

int run(int argc, char** argv) {
  po::options_description options;
  options.add_options()                     //
      ("config", po::value<std::string>())  //
      ("socket", po::value<std::string>())  //
      ("help,h", "")                        //
      ("words", po::value<std::vector<std::string>>());
  po::positional_options_description positional;
  positional.add("words", -1);
  po::variables_map arguments;
  try {
    po::store(po::command_line_parser(argc, argv).options(options).positional(positional).run(),
              arguments);
    po::notify(arguments);
  } catch (const po::error& error) {
    usage_error(error.what());
  }
  if (arguments.count("help") != 0) {
    (void)std::fputs(kUsage, stdout);
    return 0;
  }
  const auto words = arguments.count("words") != 0
                         ? arguments["words"].as<std::vector<std::string>>()
                         : std::vector<std::string>{};
  if (words.empty()) {
    usage_error("missing command: serve, check, up, down or announce");
  }
  const std::string& command = words.front();
  const bool has_config = arguments.count("config") != 0;
  const bool has_socket = arguments.count("socket") != 0;
  if (command == "serve" || command == "check") {
    if (words.size() != 1) {
      usage_error(command + " takes no ADDRESS");
    }
    if (!has_config || has_socket) {
      usage_error(command + " needs --config FILE (and no --socket: the file names it)");
    }
    const auto& path = arguments["config"].as<std::string>();
    return command == "serve" ? serve(path) : check(path);
  }
  net::VipAction action = net::VipAction::up;
  if (command == "up") {
    action = net::VipAction::up;
  } else if (command == "down") {
    action = net::VipAction::down;
  } else if (command == "announce") {
    action = net::VipAction::announce;
  } else {
    usage_error("unknown command '" + command + "': expected serve, check, up, down or announce");
  }
  if (words.size() != 2) {
    usage_error(command + " needs exactly one ADDRESS");
  }
  if (!has_socket || has_config) {
    usage_error(command + " needs --socket PATH (and no --config)");
  }
  return client(action, words[1], arguments["socket"].as<std::string>());
}

}  // namespace

int main(int argc, char** argv) {
  return run_program("pgguard-vip", [&] { return run(argc, argv); });
}
