#include "net/isolation.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <new>
#include <optional>
#include <utility>

#include "common/config_file.hpp"
#include "common/error.hpp"
#include "common/file_io.hpp"
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

// After BatchAnswersLost: reads the ruleset back on a fresh socket (the old one may still hold
// late answers, or have dropped them) and returns when the kernel holds what the batch asked
// for; throws what really happened otherwise.
void settle_lost_answers(const BatchAnswersLost& lost, std::uint32_t generation_before,
                         const std::function<bool(NetlinkSocket&)>& goal_in_force,
                         const std::string& goal, const std::string& not_goal) {
  LostAnswersEvidence evidence;
  evidence.generation_before = generation_before;
  try {
    NetlinkSocket fresh = NetlinkSocket::open();
    evidence.generation_after = read_generation(fresh);
    if (*evidence.generation_after != generation_before) {
      evidence.goal_in_force = goal_in_force(fresh);
    }
  } catch (const std::bad_alloc&) {
    evidence.reread_error = "out of memory";
  } catch (const std::exception& error) {
    evidence.reread_error = error.what();
  }
  const LostAnswersVerdict verdict = judge_lost_answers(evidence);
  if (verdict == LostAnswersVerdict::goal_in_force) {
    return;
  }
  throw Error(
      verdict == LostAnswersVerdict::not_committed ? ExitCode::system : ExitCode::incomplete,
      describe_lost_answers(verdict, evidence, lost.what(), goal, not_goal));
}

}  // namespace

LostAnswersVerdict judge_lost_answers(const LostAnswersEvidence& evidence) {
  // Every commit bumps the generation, a rolled-back batch does not: the same number means no
  // batch of anyone's was committed in between, ours included.
  if (evidence.generation_after && *evidence.generation_after == evidence.generation_before) {
    return LostAnswersVerdict::not_committed;
  }
  if (evidence.goal_in_force.value_or(false)) {
    return LostAnswersVerdict::goal_in_force;
  }
  return LostAnswersVerdict::unknown;
}

std::string describe_lost_answers(LostAnswersVerdict verdict, const LostAnswersEvidence& evidence,
                                  const std::string& lost, const std::string& goal,
                                  const std::string& not_goal) {
  const std::string before = std::to_string(evidence.generation_before);
  switch (verdict) {
    case LostAnswersVerdict::not_committed:
      return lost + "; read back: the ruleset generation is still " + before +
             ", so nothing was committed and the previous ruleset stays in force";
    case LostAnswersVerdict::goal_in_force:
      return lost + "; read back: " + goal + " (generation " + before + " -> " +
             std::to_string(evidence.generation_after.value_or(0)) + ")";
    case LostAnswersVerdict::unknown:
      break;
  }
  if (!evidence.generation_after || !evidence.goal_in_force) {
    return lost + "; reading the ruleset back failed too (" + evidence.reread_error +
           "): whether the batch was committed is unknown; run 'pgguard-isolate verify'";
  }
  return lost + "; read back: the ruleset generation moved from " + before + " to " +
         std::to_string(*evidence.generation_after) + " and " + not_goal +
         ": whether this batch was committed is unknown (another commit came between), and the "
         "configuration is not in force; run 'pgguard-isolate apply' again";
}

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
  const Location whole{path, 0};
  // The type is checked on the descriptor before any read: a FIFO would block the open (and a
  // monit start with it) forever, a device would be read without end.
  RegularFile file = open_regular_file(path);
  if (file.error != 0) {
    throw ConfigError(whole, "", "cannot read file: " + errno_text(file.error));
  }
  if (!file.ok()) {
    throw ConfigError(whole, "", file.problem());
  }
  config::ConfigFile::check_size(path, static_cast<std::uint64_t>(file.status.st_size),
                                 kMaxConfigSize);
  if (file.status.st_size == 0) {
    return ConfigSource::from_text(path, "");
  }
  const auto length = static_cast<std::size_t>(file.status.st_size);
  void* mapping = ::mmap(nullptr, length, PROT_READ, MAP_PRIVATE, file.fd.get(), 0);
  if (mapping == MAP_FAILED) {
    // Not the file's fault: a regular file of a size below the cap can always be mapped.
    const int error = errno;
    if (error == ENOMEM) {
      throw Error(ExitCode::out_of_memory, path + ": cannot map the file: out of memory");
    }
    throw SystemError(path + ": cannot map the file", error);
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
    report.messages = batch.message_count;
    report.batch_bytes = batch.bytes.size();
    try {
      send_batch(socket, batch);
    } catch (const BatchAnswersLost& lost) {
      const std::string table = "table inet " + plan.name;
      settle_lost_answers(
          lost, before,
          [&plan](NetlinkSocket& fresh) {
            return read_table(fresh, plan.name) == desired_snapshot(plan);
          },
          table + " is the configured one", table + " is not the configured one");
      report.answers_lost = true;
    }
    report.table_changed = true;
  }
  if (!report.table_changed) {
    report.sysctls_written = apply_sysctls(sysctls);
    return report;
  }

  // The new table is in force from here on: nothing below may be reported as "nothing changed".
  // The sysctls come after the commit on purpose. A batch the kernel refuses then changes
  // nothing at all, sysctls included (exit `system`: the previous state stays in force); and a
  // sysctl that cannot be written (a read-only /proc/sys) does not keep the isolation itself
  // out, which it would if the sysctls went first and stopped the apply. The price is this
  // window, in which a failure leaves the new table without its sysctls: reported as such.
  try {
    // Exactly one commit since the read-back (ours) means the kernel holds exactly the plan.
    // After lost answers the socket is not trusted, and the next run compares instead.
    if (!report.answers_lost) {
      if (const auto after = read_generation(socket); after == before + 1) {
        run.remember(config, after);
      }
    }
    report.sysctls_written = apply_sysctls(sysctls);
  } catch (const std::exception& error) {
    const bool out_of_memory = dynamic_cast<const std::bad_alloc*>(&error) != nullptr;
    const std::string summary = describe_apply(report);
    throw Error(ExitCode::incomplete,
                summary.substr(0, summary.rfind("; ")) +
                    ", and it is in force; but the sysctls were not all written: " +
                    (out_of_memory ? std::string("out of memory") : std::string(error.what())));
  }
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
            std::to_string(report.batch_bytes) + " bytes in one batch";
    if (report.answers_lost) {
      text += "; the kernel's answers were lost, the table read back is the configured one";
    }
    text += ")";
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
  const std::uint32_t before = read_generation(socket);
  const bool existed = table_exists(socket, table);
  const Batch batch = build_remove_batch(table, socket.next_sequence());
  socket.skip_sequences_through(batch.last_sequence + 1);
  try {
    send_batch(socket, batch);
  } catch (const BatchAnswersLost& lost) {
    settle_lost_answers(
        lost, before, [&table](NetlinkSocket& fresh) { return !table_exists(fresh, table); },
        "table inet " + table + " no longer exists", "table inet " + table + " still exists");
  }
  return existed;
}

}  // namespace pgguard::net
