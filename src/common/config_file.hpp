#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"

namespace pgguard::config {

// The value type of a key that may be given any number of times and is read with
// ConfigFile::all() (with each value's line), never from the variables_map: validate() checks
// that it is a known key and hands Boost none of its values, which at 100,000 members would
// all be copied for nothing. Declare it with po::value<config::Repeatable>().
struct Repeatable {};
// Found by Boost through argument-dependent lookup; preferred over its generic template
// (last parameter long).
void validate(boost::any& value, const std::vector<std::string>& tokens, Repeatable*, int);

// One key a file may hold, for check_keys().
struct KeyRule {
  std::string key;
  bool repeatable = false;  // may be given any number of times
  bool required = false;
};

struct Entry {
  std::string key;  // "section.name" inside a [section], else "name"
  std::string value;
  Location where;
};

// A file in Boost.Program_options' config-file syntax ("key = value", "[section]" prefixing
// the keys that follow, '#' starting a comment), read with the line of every entry kept:
// Boost's own parser drops line numbers, and an operator fixing a rendered file needs them.
// Validation still goes through Boost (the schema is an options_description), so typed
// values, defaults and required keys keep their Boost semantics.
class ConfigFile {
 public:
  // Throws ConfigError naming the line of a malformed line, or of a control character (other
  // than tab) anywhere in a key or value.
  static ConfigFile parse(std::string_view text, std::string file_name);
  // The cap load() applies unless told otherwise: pgguard-isolate's (kMaxConfigSize, sized for
  // 100,000 members), the largest file of this syntax any pgguard program is meant to read.
  static constexpr std::size_t kDefaultMaxSize = std::size_t{16} << 20;

  // Throws ConfigError when the file cannot be read, is no regular file (a FIFO is refused
  // without blocking), or is larger than max_size bytes.
  static ConfigFile load(const std::string& path, std::size_t max_size = kDefaultMaxSize);
  // Throws the ConfigError that load() throws for a file of `size` bytes above max_size.
  static void check_size(const std::string& path, std::uint64_t size, std::size_t max_size);

  const std::string& file_name() const { return *file_name_; }
  const std::vector<Entry>& entries() const { return entries_; }

  // Every entry with this key, in file order.
  std::vector<const Entry*> all(const std::string& key) const;
  // Where the n-th entry of `key` is; the file as a whole (line 0) when there is none.
  Location location_of(const std::string& key, std::size_t occurrence = 0) const;

  // Checks each entry against `schema` (unknown key, malformed value, a single-valued key
  // given twice: each reported with its line), then checks required keys and returns the
  // stored and notified variables. Throws ConfigError on the first problem found.
  boost::program_options::variables_map validate(
      const boost::program_options::options_description& schema) const;

  // The same checks as validate() (unknown key, a single key given twice, a required key
  // missing; same messages) for files whose every value the caller reads from entries() and
  // checks itself. No variables_map is built: Boost's option lookup, store and value copies
  // were two thirds of loading a sandbox profile, which happens on every process start.
  void check_keys(const std::vector<KeyRule>& rules) const;

 private:
  // Shared by every entry's Location.
  std::shared_ptr<const std::string> file_name_ = std::make_shared<const std::string>();
  std::vector<Entry> entries_;
  // Key -> indices into entries_, in file order: rendered files can hold 100,000 addresses,
  // and every consumer asks for its keys by name.
  std::unordered_map<std::string, std::vector<std::size_t>> entries_by_key_;
};

}  // namespace pgguard::config
