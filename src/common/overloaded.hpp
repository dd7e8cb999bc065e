#pragma once

namespace pgguard {

// One callable out of several lambdas, for std::visit over a variant.
template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
// clang 14 lacks C++20 aggregate deduction; GCC does not need this guide.
template <typename... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace pgguard
