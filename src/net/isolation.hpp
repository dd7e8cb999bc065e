#pragma once

#include <cstddef>
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

// Throws ConfigError when the file cannot be read.
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
  std::size_t sysctls_written = 0;
};

// Makes the kernel match the configuration: one batch when the table differs, nothing when it
// is in sync; then the sysctls. Throws ConfigError before touching anything on bad input and
// SystemError when the kernel refuses (a refused batch changes nothing).
ApplyReport apply_isolation(const ConfigSource& source, const EngineOptions& options);

// Pure: the one-line summary of an apply ("table inet T replaced (...); N sysctls written").
std::string describe_apply(const ApplyReport& report);

struct VerifyReport {
  std::string table;
  bool unchanged_since_last_run = false;
  std::vector<std::string> differences;  // empty: in sync
};

VerifyReport verify_isolation(const ConfigSource& source, const EngineOptions& options);

// Deletes `inet <table>` if it exists; returns whether it existed.
bool remove_isolation(const std::string& table, const EngineOptions& options);

}  // namespace pgguard::net
