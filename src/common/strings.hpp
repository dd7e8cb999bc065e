#pragma once

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>
#include <vector>

namespace pgguard {

std::string_view trim(std::string_view text);

// Splits on any of `separators`, dropping empty pieces.
std::vector<std::string> split(std::string_view text, std::string_view separators);

std::string join(const std::vector<std::string>& pieces, std::string_view separator);

// Builds text with `<<` like an ostringstream, without iostreams: a stream drags the
// locale machinery's static initialisation into every program that links it, and the
// launcher's start-up is on every process start (docs/sandbox.md).
class TextBuilder {
 public:
  TextBuilder& operator<<(std::string_view text) {
    text_.append(text);
    return *this;
  }
  TextBuilder& operator<<(char character) {
    text_.push_back(character);
    return *this;
  }
  template <std::integral Integer>
  requires(!std::same_as<Integer, char> && !std::same_as<Integer, bool>) TextBuilder& operator<<(
      Integer value) {
    char digits[24];
    const auto result = std::to_chars(digits, digits + sizeof digits, value);
    text_.append(digits, result.ptr);
    return *this;
  }
  [[nodiscard]] const std::string& str() const { return text_; }

 private:
  std::string text_;
};

}  // namespace pgguard
