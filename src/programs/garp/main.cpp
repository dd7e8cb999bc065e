// pgguard-garp: announces the VIP on its interface after the VIP helper added it (pgpool's
// arping_cmd), from the tiny helper that holds CAP_NET_RAW. See src/net/gratuitous_arp.hpp.
#include <boost/program_options.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/error.hpp"
#include "common/program_main.hpp"
#include "net/address.hpp"
#include "net/gratuitous_arp.hpp"

namespace po = boost::program_options;
using namespace pgguard;

namespace {

constexpr const char* kUsage =
    "usage: pgguard-garp --interface DEV --address IPV4 [--count N]\n"
    "Sends N (default 3) unsolicited ARP requests (RFC 5227 announcements) for IPV4, which must\n"
    "be configured on DEV. Needs CAP_NET_RAW.\n"
    "exit codes: 0 sent, 2 bad input (nothing sent), 3 the kernel refused\n";

net::AnnounceRequest parse_command_line(int argc, char** argv) {
  po::options_description description("options");
  description.add_options()("help", "")("interface", po::value<std::string>()->required(), "")(
      "address", po::value<std::string>()->required(), "")("count", po::value<int>(), "");
  po::variables_map variables;
  try {
    po::store(po::command_line_parser(argc, argv).options(description).run(), variables);
    if (variables.count("help") != 0) {
      (void)std::fputs(kUsage, stdout);
      std::exit(0);
    }
    po::notify(variables);
  } catch (const po::error& error) {
    throw Error(ExitCode::bad_input, std::string(error.what()) + "\n" + kUsage);
  }
  net::AnnounceRequest request;
  request.interface = variables["interface"].as<std::string>();
  const auto& text = variables["address"].as<std::string>();
  try {
    request.address = net::Address::parse(text);
  } catch (const net::AddressError& error) {
    throw Error(ExitCode::bad_input, "--address '" + text + "': " + error.what());
  }
  if (variables.count("count") != 0) {
    request.count = variables["count"].as<int>();
    if (request.count < 1 || request.count > 10) {
      throw Error(ExitCode::bad_input, "--count must be 1 to 10");
    }
  }
  return request;
}

}  // namespace

int main(int argc, char** argv) {
  return run_program("pgguard-garp", [&] {
    net::announce_address(parse_command_line(argc, argv));
    return 0;
  });
}
