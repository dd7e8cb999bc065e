#include "sandbox/profile_template.hpp"

#include "common/error.hpp"

namespace pgguard::sandbox {

namespace {

bool is_placeholder_character(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

void check_value(const std::string& name, const std::string& value, const std::string& where) {
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f || c == '#' || c == '[' || c == ']') {
      throw ConfigError(Location{where, 0}, name,
                        "value '" + value +
                            "' holds a line break, control character, '#' or bracket, which "
                            "would change the profile's structure");
    }
  }
}

}  // namespace

std::string instantiate_profile(std::string_view template_text, const std::string& template_name,
                                const std::map<std::string, std::string>& values) {
  for (const auto& [name, value] : values) {
    check_value(name, value, template_name);
  }
  std::string out;
  out.reserve(template_text.size());
  int line = 1;
  for (std::size_t i = 0; i < template_text.size(); ++i) {
    const char c = template_text[i];
    if (c == '\n') {
      ++line;
    }
    if (c != '@') {
      out.push_back(c);
      continue;
    }
    std::size_t end = i + 1;
    while (end < template_text.size() && is_placeholder_character(template_text[end])) {
      ++end;
    }
    if (end == i + 1 || end >= template_text.size() || template_text[end] != '@') {
      out.push_back(c);  // a lone '@' (e.g. in a comment) is text
      continue;
    }
    const std::string name(template_text.substr(i + 1, end - i - 1));
    const auto found = values.find(name);
    if (found == values.end()) {
      throw ConfigError(Location{template_name, line}, name,
                        "placeholder @" + name + "@ has no value");
    }
    out += found->second;
    i = end;
  }
  return out;
}

}  // namespace pgguard::sandbox
