#pragma once

#include <cstdio>
#include <exception>
#include <utility>

#include "common/error.hpp"

namespace pgguard {

// The end of every small program's main: runs `body`, and turns an Error into
// "<program>: <message>" on stderr and its exit code, any other exception into exit code
// `system`. stdio, not iostreams: the launcher keeps the stream machinery out of its start-up.
template <typename Body>
int run_program(const char* program, Body&& body) {
  try {
    return std::forward<Body>(body)();
  } catch (const Error& error) {
    (void)std::fprintf(stderr, "%s: %s\n", program, error.what());
    return to_int(error.code());
  } catch (const std::exception& error) {
    (void)std::fprintf(stderr, "%s: %s\n", program, error.what());
    return to_int(ExitCode::system);
  }
}

}  // namespace pgguard
