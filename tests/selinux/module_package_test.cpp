#include "selinux/module_package.hpp"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <string>

#include "common/error.hpp"

namespace {

using pgguard::selinux::expected_module_name;
using pgguard::selinux::parse_module_header;

void put_u32(std::string& out, std::uint32_t value) {
  for (int byte = 0; byte < 4; ++byte) {
    out.push_back(static_cast<char>((value >> (8 * byte)) & 0xffU));
  }
}

void put_string(std::string& out, const std::string& text) {
  put_u32(out, static_cast<std::uint32_t>(text.size()));
  out += text;
}

// The header layout semodule_package writes (libsepol module.c and policydb.c).
std::string package(const std::string& name, std::uint32_t policy_type = 2,
                    std::uint32_t magic = 0xf97cff8f) {
  std::string out;
  put_u32(out, magic);
  put_u32(out, 1);   // package format
  put_u32(out, 1);   // one section
  put_u32(out, 16);  // at byte 16
  put_u32(out, 0xf97cff8d);
  put_string(out, "SE Linux Module");
  put_u32(out, policy_type);
  put_u32(out, 21);  // policy version
  put_u32(out, 1);   // config (MLS)
  put_u32(out, 8);   // symbols
  put_u32(out, 0);   // object contexts
  put_string(out, name);
  put_string(out, "1.0.0");
  out += std::string(64, '\0');  // a body the parser does not read
  return out;
}

std::string error_of(const std::string& bytes) {
  try {
    parse_module_header(bytes, "m.pp");
  } catch (const pgguard::ConfigError& error) {
    return error.what();
  }
  return "";
}

}  // namespace

BOOST_AUTO_TEST_CASE(reads_name_and_version_of_a_module_package) {
  const auto header = parse_module_header(package("secure_postgres"), "m.pp");
  BOOST_TEST(header.name == "secure_postgres");
  BOOST_TEST(header.version == "1.0.0");
  BOOST_TEST(header.policy_version == 21U);
}

BOOST_AUTO_TEST_CASE(rejects_wrong_magic_base_policy_and_bad_names) {
  BOOST_TEST(error_of(package("x", 2, 0x12345678)).find("wrong magic") != std::string::npos);
  BOOST_TEST(error_of(package("x", 1)).find("base policy") != std::string::npos);
  BOOST_TEST(error_of(package("bad name")).find("invalid module name") != std::string::npos);
  BOOST_TEST(error_of("").find("truncated") != std::string::npos);
  BOOST_TEST(error_of(package("x", 1)).find("m.pp") == 0U);
}

BOOST_AUTO_TEST_CASE(rejects_every_truncation_of_the_header) {
  const std::string full = package("secure_postgres");
  // Everything up to the end of the version string is needed; no cut may read past the end.
  const std::size_t header_end = full.size() - 64;
  for (std::size_t length = 0; length < header_end; ++length) {
    BOOST_TEST_CONTEXT("cut at " << length) {
      BOOST_CHECK_THROW(parse_module_header(full.substr(0, length), "m.pp"), pgguard::ConfigError);
    }
  }
}

BOOST_AUTO_TEST_CASE(rejects_a_section_offset_beyond_the_file) {
  std::string bytes = package("x");
  bytes[12] = static_cast<char>(0xff);
  bytes[13] = static_cast<char>(0xff);
  BOOST_TEST(error_of(bytes).find("beyond the end") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(module_name_comes_from_the_file_name) {
  BOOST_TEST(expected_module_name("/var/vcap/packages/x/secure_postgres.pp") == "secure_postgres");
  BOOST_TEST(expected_module_name("secure_postgres.pp") == "secure_postgres");
  BOOST_CHECK_THROW(expected_module_name("/tmp/secure_postgres.cil"), pgguard::ConfigError);
  BOOST_CHECK_THROW(expected_module_name("/tmp/.pp"), pgguard::ConfigError);
}
