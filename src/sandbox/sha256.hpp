#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace pgguard::sandbox {

// SHA-256 (FIPS 180-4), written here so the BPF-file check needs no crypto library (whose
// shared object would cost more to load than the few kilobytes the launcher hashes).
class Sha256 {
 public:
  // The x86 SHA extensions hash ~8x faster than portable code; the launcher hashes its seccomp
  // policy and BPF file on every start.
  enum class Engine { portable, x86_sha_extensions };
  static bool available(Engine engine);
  static Engine best_engine();

  explicit Sha256(Engine engine = best_engine());
  void update(std::span<const std::byte> data);
  void update(std::string_view text);
  std::array<std::uint8_t, 32> finish();

 private:
  void compress(const std::uint8_t* blocks, std::size_t count);

  Engine engine_;

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t total_bytes_ = 0;
};

std::string sha256_hex(std::string_view text);
std::string to_hex(std::span<const std::uint8_t> bytes);

}  // namespace pgguard::sandbox
