#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/isolation_config.hpp"
#include "net/nft_batch.hpp"

// The kernel-facing operations of pgguard-isolate, each on the caller's network namespace.
namespace pgguard::net {

// The configuration file, mapped read-only: its text is hashed for the unchanged-configuration
// fast path before (and instead of) being parsed, and a 100,000-line file is not copied.
class ConfigSource {
 public:
  static ConfigSource from_text(std::string path, std::string text);
  ConfigSource(ConfigSource&& other) noexcept;
  ConfigSource& operator=(ConfigSource&&) = delete;
  ConfigSource(const ConfigSource&) = delete;
  ~ConfigSource();

  const std::string& path() const { return path_; }
  std::string_view text() const { return text_; }

 private:
  friend ConfigSource read_config_source(const std::string& path);
  ConfigSource(std::string path, void* mapping, std::size_t length);

  std::string path_;
  std::string owned_;        // from_text
  void* mapping_ = nullptr;  // read_config_source: the mmap'ed file
  std::size_t mapping_length_ = 0;
  std::string_view text_;
};

// Throws ConfigError when the file cannot be read, is no regular file (a FIFO is refused
// without blocking) or is larger than kMaxConfigSize.
ConfigSource read_config_source(const std::string& path);
// Throws ConfigError (file:line: key:) on bad input.
IsolationConfig parse_config_source(const ConfigSource& source);

struct EngineOptions {
  bool use_state = true;  // false: always compare with the kernel (--full)
  std::string state_directory = "/run/pgguard-isolate";
};

struct ApplyReport {
  std::string table;
  bool unchanged_since_last_run = false;  // fast path: generation and digest matched
  bool table_changed = false;
  ApplyMode mode = ApplyMode::create;
  std::size_t messages = 0;
  std::size_t batch_bytes = 0;
  // The kernel's answers to the batch were lost, and reading the table back showed it in force.
  bool answers_lost = false;
  std::size_t sysctls_written = 0;
};

// Makes the kernel match the configuration: one batch when the table differs, nothing when it
// is in sync; then the sysctls. Throws ConfigError before touching anything on bad input,
// SystemError (exit code `system`) when nothing was changed (the kernel refused the batch, or
// its answers were lost and the ruleset generation shows no commit), and Error(incomplete)
// when the new table is in force but a sysctl could not be written, or when the answers were
// lost and the read-back cannot tell which table is in force.
ApplyReport apply_isolation(const ConfigSource& source, const EngineOptions& options);

// Pure: the one-line summary of an apply ("table inet T replaced (...); N sysctls written").
std::string describe_apply(const ApplyReport& report);

struct VerifyReport {
  std::string table;
  bool unchanged_since_last_run = false;
  std::vector<std::string> differences;  // empty: in sync
};

VerifyReport verify_isolation(const ConfigSource& source, const EngineOptions& options);

// Deletes `inet <table>` if it exists; returns whether it existed. Lost answers are settled
// as for apply_isolation (the goal: the table no longer exists).
bool remove_isolation(const std::string& table, const EngineOptions& options);

// What reading the ruleset back shows after the answers to a batch were lost (pure).
struct LostAnswersEvidence {
  std::uint32_t generation_before = 0;  // read before the table was read back and the batch built
  std::optional<std::uint32_t> generation_after;  // empty: reading it back failed
  std::optional<bool> goal_in_force;  // the table is as the batch would make it (empty: not read)
  std::string reread_error;           // why reading back failed
};

enum class LostAnswersVerdict {
  not_committed,  // no commit at all since before: the previous ruleset stays in force
  goal_in_force,  // the kernel holds what the batch asked for
  unknown,        // something was committed, and it is not what the batch asked for
};

LostAnswersVerdict judge_lost_answers(const LostAnswersEvidence& evidence);

// The message for a verdict: `lost` is the BatchAnswersLost text, `goal` and `not_goal` say
// what the batch was for in the kernel's words ("table inet t is the configured one", "... is
// not the configured one").
std::string describe_lost_answers(LostAnswersVerdict verdict, const LostAnswersEvidence& evidence,
                                  const std::string& lost, const std::string& goal,
                                  const std::string& not_goal);

}  // namespace pgguard::net
