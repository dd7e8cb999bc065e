#pragma once

#include <cstdio>
#include <exception>
#include <new>
#include <utility>

#include "common/error.hpp"

namespace pgguard {

// The message and exit code of a failed allocation: std::bad_alloc's what() says nothing an
// operator can act on, and the failure is no refusal by the kernel (exit code `system`).
inline constexpr const char* kOutOfMemoryMessage =
    "out of memory: a memory allocation failed (std::bad_alloc)";

// The end of every small program's main: runs `body`, and turns an Error into
// "<program>: <message>" on stderr and its exit code, a failed allocation into exit code
// `out_of_memory`, any other exception into exit code `system`. stdio, not iostreams: the
// launcher keeps the stream machinery out of its start-up. stdout is flushed first, so that
// where both streams go to one file, what the program printed stays before its error.
template <typename Body>
int run_program(const char* program, Body&& body) {
  const auto report = [program](const char* message, ExitCode code) {
    (void)std::fflush(stdout);
    (void)std::fprintf(stderr, "%s: %s\n", program, message);
    return to_int(code);
  };
  try {
    return std::forward<Body>(body)();
  } catch (const Error& error) {
    return report(error.what(), error.code());
  } catch (const std::bad_alloc&) {
    return report(kOutOfMemoryMessage, ExitCode::out_of_memory);
  } catch (const std::exception& error) {
    return report(error.what(), ExitCode::system);
  }
}

}  // namespace pgguard
