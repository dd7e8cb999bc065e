#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace pgguard {

std::string_view trim(std::string_view text);

// Splits on any of `separators`, dropping empty pieces.
std::vector<std::string> split(std::string_view text, std::string_view separators);

std::string join(const std::vector<std::string>& pieces, std::string_view separator);

}  // namespace pgguard
