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
// launcher keeps the stream machinery out of its start-up.
template <typename Body>
int run_program(const char* program, Body&& body) {
  try {
    return std::forward<Body>(body)();
  } catch (const Error& error) {
    (void)std::fprintf(stderr, "%s: %s\n", program, error.what());
    return to_int(error.code());
  } catch (const std::bad_alloc&) {
    (void)std::fprintf(stderr, "%s: %s\n", program, kOutOfMemoryMessage);
    return to_int(ExitCode::out_of_memory);
  } catch (const std::exception& error) {
    (void)std::fprintf(stderr, "%s: %s\n", program, error.what());
    return to_int(ExitCode::system);
  }
}

}  // namespace pgguard
