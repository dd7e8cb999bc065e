#pragma once

#include <memory>
#include <stdexcept>
#include <string>

#include "common/exit_codes.hpp"

namespace pgguard {

// Where a configuration value came from, so every error can name file and line.
struct Location {
  Location() = default;
  // NOLINTNEXTLINE(google-explicit-constructor): Location{path, line} reads best at call sites
  Location(std::string file_name, int line_number = 0)
      : file(std::make_shared<const std::string>(std::move(file_name))), line(line_number) {}
  Location(std::shared_ptr<const std::string> file_name, int line_number)
      : file(std::move(file_name)), line(line_number) {}

  // Shared, not copied: a rendered file of 100,000 lines has as many locations, all naming
  // the same file, and a heap copy of its path per line was a tenth of parsing it.
  std::shared_ptr<const std::string> file;
  int line = 0;  // 0: the file as a whole (e.g. a key that is missing)

  std::string to_string() const;
};

// Every error a pgguard program reports carries its own exit code, so a main
// needs one catch block and can never map a failure to success by accident.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

// Bad configuration or profile input: "file:line: key: message".
class ConfigError : public Error {
 public:
  ConfigError(const Location& where, const std::string& key, const std::string& message);
};

// A failed system call: "what: strerror(errno)".
class SystemError : public Error {
 public:
  SystemError(const std::string& what, int errno_value);
  int errno_value() const noexcept { return errno_value_; }

 private:
  int errno_value_;
};

// A required kernel or OS feature is absent.
class UnsupportedError : public Error {
 public:
  explicit UnsupportedError(const std::string& message) : Error(ExitCode::unsupported, message) {}
};

// strerror without the thread-safety trap of strerror(3).
std::string errno_text(int errno_value);

}  // namespace pgguard
