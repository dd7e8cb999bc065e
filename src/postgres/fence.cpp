#include "postgres/fence.hpp"

#include <charconv>
#include <map>
#include <set>

#include "common/error.hpp"
#include "common/strings.hpp"

namespace pgguard::postgres {

const char* const kOwnPrimaryQuery =
    "SELECT pg_is_in_recovery(), system_identifier, CASE WHEN pg_is_in_recovery() THEN '' "
    "ELSE pg_walfile_name(pg_current_wal_lsn()) END FROM pg_control_system();";

std::optional<SystemIdentity> parse_identify_system(std::string_view output) {
  const auto fields = split(trim(output), "\x1f");
  unsigned long timeline = 0;
  if (fields.size() != 3 ||
      std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), timeline).ec !=
          std::errc{} ||
      fields[0].find_first_not_of("0123456789") != std::string::npos) {
    return std::nullopt;
  }
  return SystemIdentity{fields[0], timeline, {}};
}

std::optional<SystemIdentity> parse_own_primary(std::string_view output) {
  const auto fields = split(trim(output), "\x1f");
  const auto refuse = [&output] {
    return Error(ExitCode::system,
                 "the server's answer about itself is not understood: " + std::string(output));
  };
  if (fields.size() == 2 && fields[0] == "t") {
    return std::nullopt;  // in recovery: no WAL segment of its own
  }
  if (fields.size() != 3 || fields[0] != "f" ||
      fields[1].find_first_not_of("0123456789") != std::string::npos) {
    throw refuse();
  }
  const std::string& segment = fields[2];
  unsigned long timeline = 0;
  if (segment.size() != 24 || segment.find_first_not_of("0123456789ABCDEF") != std::string::npos ||
      std::from_chars(segment.data(), segment.data() + 8, timeline, 16).ec != std::errc{}) {
    throw refuse();
  }
  return SystemIdentity{fields[1], timeline, {}};
}

FenceDecision decide_fence(const std::optional<SystemIdentity>& own,
                           const std::optional<SystemIdentity>& peer,
                           const std::string& peer_address) {
  if (!own || !peer || peer->timeline < own->timeline) {
    return {};
  }
  if (peer->system != own->system) {
    return {false, "the peer " + peer_address + " holds another cluster (system " + peer->system +
                       ", this one " + own->system + "): left alone"};
  }
  if (peer->timeline == own->timeline) {
    return {};  // the primary of a healthy pair: its standby is on its timeline
  }
  return {true, "the peer " + peer_address + " serves on timeline " +
                    std::to_string(peer->timeline) + ", this primary on " +
                    std::to_string(own->timeline) +
                    ": it was promoted past this node, which steps down to rejoin as its "
                    "standby"};
}

FenceOptions parse_fence_options(const std::vector<std::string>& words) {
  static const std::set<std::string, std::less<>> known = {
      "--psql", "--socket-dir", "--port", "--user",     "--pid-file",
      "--peer", "--role",       "--ca",   "--passfile", "--interval"};
  std::map<std::string, std::string, std::less<>> given;
  for (std::size_t i = 0; i < words.size(); i += 2) {
    if (!known.contains(words[i])) {
      throw Error(ExitCode::bad_input, "unknown option '" + words[i] + "'");
    }
    if (i + 1 >= words.size() || !given.emplace(words[i], words[i + 1]).second) {
      throw Error(ExitCode::bad_input, words[i] + " needs exactly one value, given once");
    }
  }
  const auto required = [&given](std::string_view name) -> std::string {
    const auto found = given.find(name);
    if (found == given.end() || found->second.empty()) {
      throw Error(ExitCode::bad_input, "missing " + std::string(name));
    }
    return found->second;
  };
  const auto absolute = [&required](std::string_view name) {
    auto value = required(name);
    if (!value.starts_with('/')) {
      throw Error(ExitCode::bad_input,
                  std::string(name) + " must be an absolute path, not '" + value + "'");
    }
    return value;
  };
  const auto number = [&given](std::string_view name, unsigned low, unsigned high,
                               unsigned fallback) {
    const auto found = given.find(name);
    if (found == given.end()) {
      return fallback;
    }
    unsigned value = 0;
    const auto& text = found->second;
    const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
    if (result.ec != std::errc{} || result.ptr != text.data() + text.size() || value < low ||
        value > high) {
      throw Error(ExitCode::bad_input, std::string(name) + " must be a whole number from " +
                                           std::to_string(low) + " to " + std::to_string(high) +
                                           ", not '" + text + "'");
    }
    return value;
  };
  FenceOptions options;
  options.psql = absolute("--psql");
  options.socket_dir = absolute("--socket-dir");
  options.port = static_cast<int>(number("--port", 1, 65535, 5432));
  options.user = required("--user");
  options.pid_file = absolute("--pid-file");
  options.interval = std::chrono::seconds(number("--interval", 1, 3600, 5));
  if (given.contains("--peer")) {
    options.peer = required("--peer");
    options.role = required("--role");
    options.ca = absolute("--ca");
    options.passfile = absolute("--passfile");
  } else if (given.contains("--role") || given.contains("--ca") || given.contains("--passfile")) {
    throw Error(ExitCode::bad_input, "--role, --ca and --passfile belong to a --peer");
  }
  return options;
}

std::vector<std::string> fence_command(const std::string& program, const FenceOptions& options) {
  std::vector<std::string> argv = {program,
                                   "--psql",
                                   options.psql,
                                   "--socket-dir",
                                   options.socket_dir,
                                   "--port",
                                   std::to_string(options.port),
                                   "--user",
                                   options.user,
                                   "--pid-file",
                                   options.pid_file,
                                   "--interval",
                                   std::to_string(options.interval.count())};
  if (!options.peer.empty()) {
    argv.insert(argv.end(), {"--peer", options.peer, "--role", options.role, "--ca", options.ca,
                             "--passfile", options.passfile});
  }
  return argv;
}

std::string own_conninfo(const FenceOptions& options) {
  return "host=" + options.socket_dir + " port=" + std::to_string(options.port) +
         " user=" + options.user + " dbname=postgres connect_timeout=5";
}

std::string peer_replication_conninfo(const FenceOptions& options) {
  return "host=" + options.peer + " port=" + std::to_string(options.port) +
         " user=" + options.role + " dbname=replication replication=true sslmode=verify-full" +
         " sslrootcert=" + options.ca + " passfile=" + options.passfile + " connect_timeout=5";
}

}  // namespace pgguard::postgres
