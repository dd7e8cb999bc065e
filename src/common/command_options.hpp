#pragma once

#include <boost/program_options.hpp>
#include <initializer_list>
#include <string>

#include "common/error.hpp"

namespace pgguard {

// For programs with sub-commands (pgguard-postgres, pgguard-pgpool): refuses an option given to
// a command it does not apply to, instead of ignoring it silently.
inline void restrict_option(const boost::program_options::variables_map& arguments,
                            const std::string& command, const char* option,
                            std::initializer_list<const char*> commands) {
  if (arguments.count(option) == 0) {
    return;
  }
  for (const char* name : commands) {
    if (command == name) {
      return;
    }
  }
  throw Error(ExitCode::bad_input, std::string("--") + option + " does not apply to " + command);
}

}  // namespace pgguard
