#include "selinux/module_package.hpp"

#include <algorithm>
#include <cstring>

#include "common/error.hpp"

namespace pgguard::selinux {
namespace {

// libsepol's constants (sepol/policydb/module.h and policydb.h), little-endian on disk.
constexpr std::uint32_t package_magic = 0xf97cff8f;
constexpr std::uint32_t module_policy_magic = 0xf97cff8d;
constexpr std::string_view module_policy_string = "SE Linux Module";
constexpr std::uint32_t policy_type_base = 1;
constexpr std::uint32_t policy_type_module = 2;
constexpr std::uint32_t max_sections = 16;
constexpr std::uint32_t max_name_length = 255;

class Reader {
 public:
  Reader(std::string_view data, const std::string& file_name)
      : data_(data), file_name_(file_name) {}

  std::uint32_t u32(const char* what) {
    need(4, what);
    std::uint32_t value = 0;
    for (int byte = 3; byte >= 0; --byte) {
      value = (value << 8) |
              static_cast<unsigned char>(data_[position_ + static_cast<std::size_t>(byte)]);
    }
    position_ += 4;
    return value;
  }

  std::string_view bytes(std::size_t count, const char* what) {
    need(count, what);
    std::string_view piece = data_.substr(position_, count);
    position_ += count;
    return piece;
  }

  void seek(std::size_t position, const char* what) {
    if (position > data_.size()) {
      fail(std::string(what) + " lies beyond the end of the file");
    }
    position_ = position;
  }

  [[noreturn]] void fail(const std::string& message) const {
    throw ConfigError(Location{file_name_, 0}, "",
                      "not a usable SELinux policy module package: " + message);
  }

 private:
  void need(std::size_t count, const char* what) {
    if (data_.size() - position_ < count) {
      fail(std::string("truncated (") + what + " at byte " + std::to_string(position_) + ")");
    }
  }

  std::string_view data_;
  const std::string& file_name_;
  std::size_t position_ = 0;
};

bool valid_module_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

}  // namespace

ModuleHeader parse_module_header(std::string_view package, const std::string& file_name) {
  Reader reader(package, file_name);
  if (reader.u32("package magic") != package_magic) {
    reader.fail("wrong magic number (expected a .pp built by semodule_package)");
  }
  const std::uint32_t format = reader.u32("package format version");
  if (format != 1 && format != 2) {
    reader.fail("unknown package format version " + std::to_string(format));
  }
  const std::uint32_t sections = reader.u32("section count");
  if (sections == 0 || sections > max_sections) {
    reader.fail("implausible section count " + std::to_string(sections));
  }
  const std::uint32_t policy_offset = reader.u32("section offset");
  reader.seek(policy_offset, "the policy section");
  if (reader.u32("policy magic") != module_policy_magic) {
    reader.fail("the first section is not a module policy");
  }
  const std::uint32_t string_length = reader.u32("policy string length");
  if (string_length != module_policy_string.size() ||
      reader.bytes(string_length, "policy string") != module_policy_string) {
    reader.fail("the first section is not a module policy");
  }
  const std::uint32_t policy_type = reader.u32("policy type");
  if (policy_type == policy_type_base) {
    reader.fail("it holds a base policy, not a module");
  }
  if (policy_type != policy_type_module) {
    reader.fail("unknown policy type " + std::to_string(policy_type));
  }
  ModuleHeader header;
  header.policy_version = reader.u32("policy version");
  reader.u32("policy config");
  reader.u32("symbol count");
  reader.u32("object context count");
  const std::uint32_t name_length = reader.u32("module name length");
  if (name_length == 0 || name_length > max_name_length) {
    reader.fail("implausible module name length " + std::to_string(name_length));
  }
  header.name = std::string(reader.bytes(name_length, "module name"));
  if (!valid_module_name(header.name)) {
    reader.fail("invalid module name '" + header.name + "'");
  }
  const std::uint32_t version_length = reader.u32("module version length");
  if (version_length == 0 || version_length > max_name_length) {
    reader.fail("implausible module version length " + std::to_string(version_length));
  }
  header.version = std::string(reader.bytes(version_length, "module version"));
  return header;
}

std::string expected_module_name(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  constexpr std::string_view suffix = ".pp";
  if (base.size() <= suffix.size() ||
      base.compare(base.size() - suffix.size(), suffix.size(), suffix) != 0) {
    throw ConfigError(
        Location{path, 0}, "--module",
        "a policy module package file name must end in .pp (the name before it is the module's)");
  }
  base.resize(base.size() - suffix.size());
  return base;
}

}  // namespace pgguard::selinux
