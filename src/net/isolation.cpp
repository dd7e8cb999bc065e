#include "net/isolation.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <utility>

#include "common/config_file.hpp"
#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "net/apply_state.hpp"
#include "net/netlink_socket.hpp"
#include "net/ruleset_plan.hpp"
#include "net/ruleset_readback.hpp"
#include "net/sysctl.hpp"

namespace pgguard::net {

namespace {

// One apply or verify: its netlink socket, and the record that lets an unchanged
// configuration skip parsing and the read-back, when it applies.
class Run {
 public:
  Run(const ConfigSource& source, const EngineOptions& options)
      : store_(options.state_directory),
        socket_(NetlinkSocket::open()),
        digest_(configuration_digest(source.text())) {
    if (options.use_state) {
      cookie_ = network_namespace_cookie(socket_);
      if (cookie_) {
        record_ = store_.load(*cookie_);
      }
    }
  }

  NetlinkSocket& socket() { return socket_; }

  // The recorded state when this configuration was proven in force and nothing has been
  // committed since; nullptr when the kernel must be compared.
  const AppliedState* unchanged() {
    if (record_ && record_->digest == digest_ && record_->generation == read_generation(socket_)) {
      return &*record_;
    }
    return nullptr;
  }

  // The configuration last proven in force for this table was a different one.
  bool known_to_differ(const IsolationConfig& config) const {
    return record_ && record_->digest != digest_ && record_->table == config.table;
  }

  void remember(const IsolationConfig& config, std::uint32_t generation) const {
    if (cookie_) {
      store_.save(*cookie_, AppliedState{generation, digest_, config.table, config.sysctl});
    }
  }

 private:
  StateStore store_;
  NetlinkSocket socket_;
  std::string digest_;
  std::optional<std::uint64_t> cookie_;
  std::optional<AppliedState> record_;
};

}  // namespace

ConfigSource::ConfigSource(std::string path, void* mapping, std::size_t length)
    : path_(std::move(path)), mapping_(mapping), mapping_length_(length) {
  if (mapping_ != nullptr) {
    text_ = std::string_view(static_cast<const char*>(mapping_), mapping_length_);
  }
}

ConfigSource ConfigSource::from_text(std::string path, std::string text) {
  ConfigSource source(std::move(path), nullptr, 0);
  source.owned_ = std::move(text);
  source.text_ = source.owned_;
  return source;
}

ConfigSource::ConfigSource(ConfigSource&& other) noexcept
    : path_(std::move(other.path_)),
      owned_(std::move(other.owned_)),
      mapping_(std::exchange(other.mapping_, nullptr)),
      mapping_length_(std::exchange(other.mapping_length_, 0)) {
  text_ = mapping_ != nullptr
              ? std::string_view(static_cast<const char*>(mapping_), mapping_length_)
              : std::string_view(owned_);
  other.text_ = {};
}

ConfigSource::~ConfigSource() {
  if (mapping_ != nullptr) {
    ::munmap(mapping_, mapping_length_);
  }
}

ConfigSource read_config_source(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat status {};
  if (!fd || ::fstat(fd.get(), &status) != 0) {
    throw ConfigError(Location{path, 0}, "", "cannot read file: " + errno_text(errno));
  }
  if (!S_ISREG(status.st_mode)) {
    throw ConfigError(Location{path, 0}, "", "not a regular file");
  }
  if (status.st_size == 0) {
    return ConfigSource::from_text(path, "");
  }
  const auto length = static_cast<std::size_t>(status.st_size);
  void* mapping = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE, fd.get(), 0);
  if (mapping == MAP_FAILED) {
    throw ConfigError(Location{path, 0}, "", "cannot read file: " + errno_text(errno));
  }
  return ConfigSource(path, mapping, length);
}

IsolationConfig parse_config_source(const ConfigSource& source) {
  return parse_isolation_config(config::ConfigFile::parse(source.text(), source.path()));
}

ApplyReport apply_isolation(const ConfigSource& source, const EngineOptions& options) {
  ApplyReport report;
  Run run(source, options);
  if (const AppliedState* state = run.unchanged()) {
    report.table = state->table;
    report.unchanged_since_last_run = true;
    report.sysctls_written = apply_sysctls(plan_sysctls(state->sysctl, probe_sysctl_environment()));
    return report;
  }
  NetlinkSocket& socket = run.socket();

  // Everything that can fail on bad input or an unreadable host runs before the first change.
  const IsolationConfig config = parse_config_source(source);
  report.table = config.table;
  const TablePlan plan = plan_ruleset(config);
  const auto sysctls = plan_sysctls(config.sysctl, probe_sysctl_environment());

  // A different configuration than the one last proven in force must change something:
  // skip the element read-back (costly for large sets) and refill or replace right away.
  const bool known_to_differ = run.known_to_differ(config);
  const std::uint32_t before = read_generation(socket);
  const TableSnapshot kernel =
      read_table(socket, plan.name, known_to_differ ? ReadElements::no : ReadElements::yes);
  // Without a table there is nothing to compare: skip building the desired snapshot.
  std::optional<TableSnapshot> desired;
  if (kernel.exists) {
    desired = desired_snapshot(plan);
  }
  if (kernel.exists && !known_to_differ && kernel == *desired) {
    if (read_generation(socket) == before) {
      run.remember(config, before);
    }
  } else {
    report.mode = !kernel.exists                 ? ApplyMode::create
                  : same_shape(kernel, *desired) ? ApplyMode::refill
                                                 : ApplyMode::replace;
    const Batch batch = build_apply_batch(plan, report.mode, socket.next_sequence());
    socket.skip_sequences_through(batch.last_sequence + 1);
    send_batch(socket, batch);
    report.table_changed = true;
    report.messages = batch.message_count;
    report.batch_bytes = batch.bytes.size();
    // Exactly one commit since the read-back (ours) means the kernel holds exactly the plan.
    if (const auto after = read_generation(socket); after == before + 1) {
      run.remember(config, after);
    }
  }
  report.sysctls_written = apply_sysctls(sysctls);
  return report;
}

std::string describe_apply(const ApplyReport& report) {
  std::string text = "table inet " + report.table;
  if (report.unchanged_since_last_run) {
    text += " in sync (configuration and ruleset unchanged since the last run)";
  } else if (report.table_changed) {
    const char* how = report.mode == ApplyMode::create    ? "created"
                      : report.mode == ApplyMode::replace ? "replaced"
                                                          : "refilled";
    text += std::string(" ") + how + " (" + std::to_string(report.messages) + " messages, " +
            std::to_string(report.batch_bytes) + " bytes in one batch)";
  } else {
    text += " in sync, nothing changed";
  }
  return text + "; " + std::to_string(report.sysctls_written) + " sysctls written";
}

VerifyReport verify_isolation(const ConfigSource& source, const EngineOptions& options) {
  VerifyReport report;
  Run run(source, options);
  if (const AppliedState* state = run.unchanged()) {
    report.table = state->table;
    report.unchanged_since_last_run = true;
    report.differences = compare_sysctls(plan_sysctls(state->sysctl, probe_sysctl_environment()));
    return report;
  }
  NetlinkSocket& socket = run.socket();

  const IsolationConfig config = parse_config_source(source);
  report.table = config.table;
  const TablePlan plan = plan_ruleset(config);
  const std::uint32_t before = read_generation(socket);
  report.differences =
      compare_tables(read_table(socket, plan.name), desired_snapshot(plan), plan.name);
  if (report.differences.empty() && read_generation(socket) == before) {
    run.remember(config, before);
  }
  const auto sysctl_differences =
      compare_sysctls(plan_sysctls(config.sysctl, probe_sysctl_environment()));
  report.differences.insert(report.differences.end(), sysctl_differences.begin(),
                            sysctl_differences.end());
  return report;
}

bool remove_isolation(const std::string& table, const EngineOptions& options) {
  NetlinkSocket socket = NetlinkSocket::open();
  if (const auto cookie = network_namespace_cookie(socket)) {
    StateStore(options.state_directory).forget(*cookie);
  }
  const bool existed = table_exists(socket, table);
  const Batch batch = build_remove_batch(table, socket.next_sequence());
  socket.skip_sequences_through(batch.last_sequence + 1);
  send_batch(socket, batch);
  return existed;
}

}  // namespace pgguard::net
