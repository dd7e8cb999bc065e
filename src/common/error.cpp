#include "common/error.hpp"

#include <cstring>

namespace pgguard {

std::string Location::to_string() const {
  std::string text = file ? *file : std::string();
  if (line > 0) {
    text += ":" + std::to_string(line);
  }
  return text;
}

ConfigError::ConfigError(const Location& where, const std::string& key, const std::string& message)
    : Error(ExitCode::bad_input,
            where.to_string() + ": " + (key.empty() ? std::string() : key + ": ") + message) {}

SystemError::SystemError(const std::string& what, int errno_value)
    : Error(ExitCode::system, what + ": " + errno_text(errno_value)), errno_value_(errno_value) {}

std::string errno_text(int errno_value) {
  char buffer[256] = {};
  // GNU strerror_r may return a static string instead of filling the buffer.
  const char* text = ::strerror_r(errno_value, buffer, sizeof buffer);
  return std::string(text) + " (errno " + std::to_string(errno_value) + ")";
}

}  // namespace pgguard
