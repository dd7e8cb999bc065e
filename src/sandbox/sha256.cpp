#include "sandbox/sha256.hpp"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
// glibc's header spells its return type _Bool, which GCC accepts in C++ and clang (clang-tidy)
// does not; the two types are the same in the ABI.
#if defined(__clang__)
#define _Bool bool  // NOLINT(bugprone-reserved-identifier)
#endif
#include <sys/platform/x86.h>
#if defined(__clang__)
#undef _Bool
#endif
#endif

namespace pgguard::sandbox {

namespace {

constexpr std::array<std::uint32_t, 64> round_constants{
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr std::uint32_t rotate_right(std::uint32_t value, int count) {
  return (value >> count) | (value << (32 - count));
}

void compress_portable(std::array<std::uint32_t, 8>& state, const std::uint8_t* block) {
  std::array<std::uint32_t, 64> w{};
  for (std::size_t i = 0; i < 16; ++i) {
    w[i] = (std::uint32_t{block[4 * i]} << 24) | (std::uint32_t{block[4 * i + 1]} << 16) |
           (std::uint32_t{block[4 * i + 2]} << 8) | std::uint32_t{block[4 * i + 3]};
  }
  for (std::size_t i = 16; i < 64; ++i) {
    const std::uint32_t s0 =
        rotate_right(w[i - 15], 7) ^ rotate_right(w[i - 15], 18) ^ (w[i - 15] >> 3);
    const std::uint32_t s1 =
        rotate_right(w[i - 2], 17) ^ rotate_right(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  auto [a, b, c, d, e, f, g, h] = state;
  for (std::size_t i = 0; i < 64; ++i) {
    const std::uint32_t s1 = rotate_right(e, 6) ^ rotate_right(e, 11) ^ rotate_right(e, 25);
    const std::uint32_t choose = (e & f) ^ (~e & g);
    const std::uint32_t temp1 = h + s1 + choose + round_constants[i] + w[i];
    const std::uint32_t s0 = rotate_right(a, 2) ^ rotate_right(a, 13) ^ rotate_right(a, 22);
    const std::uint32_t majority = (a & b) ^ (a & c) ^ (b & c);
    const std::uint32_t temp2 = s0 + majority;
    h = g;
    g = f;
    f = e;
    e = d + temp1;
    d = c;
    c = b;
    b = a;
    a = temp1 + temp2;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

#if defined(__x86_64__)
// SHA-NI: SHA256RNDS2 does two rounds on the state held as {A,B,E,F} and {C,D,G,H};
// SHA256MSG1/MSG2 compute the message schedule four words at a time.
__attribute__((target("sha,sse4.1,ssse3"))) void compress_sha_extensions(
    std::array<std::uint32_t, 8>& state, const std::uint8_t* blocks, std::size_t count) {
  const __m128i byte_swap = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);
  // Register names list the dwords from the highest to the lowest, as Intel's documentation
  // does: state {A,B,C,D},{E,F,G,H} in memory becomes ABEF and CDGH.
  const __m128i cdab =
      _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&state[0])), 0xB1);
  const __m128i efgh =
      _mm_shuffle_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(&state[4])), 0x1B);
  __m128i abef = _mm_alignr_epi8(cdab, efgh, 8);
  __m128i cdgh = _mm_blend_epi16(efgh, cdab, 0xF0);

  for (; count > 0; --count, blocks += 64) {
    const __m128i abef_before = abef;
    const __m128i cdgh_before = cdgh;
    __m128i
        message[4]{};  // NOLINT(*-avoid-c-arrays): std::array drops __m128i's alignment attribute
    for (std::size_t group = 0; group < 16; ++group) {
      __m128i& words = message[group % 4];
      if (group < 4) {
        words = _mm_shuffle_epi8(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks + 16 * group)), byte_swap);
      } else {
        // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16], for t = 4*group .. 4*group+3.
        const __m128i& previous = message[(group + 3) % 4];
        const __m128i minus_seven = _mm_alignr_epi8(previous, message[(group + 2) % 4], 4);
        words = _mm_sha256msg2_epu32(
            _mm_add_epi32(_mm_sha256msg1_epu32(words, message[(group + 1) % 4]), minus_seven),
            previous);
      }
      __m128i with_constants = _mm_add_epi32(
          words, _mm_loadu_si128(reinterpret_cast<const __m128i*>(&round_constants[4 * group])));
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, with_constants);
      with_constants = _mm_shuffle_epi32(with_constants, 0x0E);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, with_constants);
    }
    abef = _mm_add_epi32(abef, abef_before);
    cdgh = _mm_add_epi32(cdgh, cdgh_before);
  }

  const __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
  const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(&state[0]), _mm_blend_epi16(feba, dchg, 0xF0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(&state[4]), _mm_alignr_epi8(dchg, feba, 8));
}
#endif

}  // namespace

bool Sha256::available(Engine engine) {
  switch (engine) {
    case Engine::portable:
      return true;
    case Engine::x86_sha_extensions:
#if defined(__x86_64__)
      // glibc's record of CPUID, made once at start-up: __builtin_cpu_supports would run
      // libgcc's own CPUID probe, and CPUID traps to the hypervisor on a VM.
      return CPU_FEATURE_ACTIVE(SHA) && CPU_FEATURE_ACTIVE(SSE4_1) && CPU_FEATURE_ACTIVE(SSSE3);
#else
      return false;
#endif
  }
  return false;
}

Sha256::Engine Sha256::best_engine() {
  return available(Engine::x86_sha_extensions) ? Engine::x86_sha_extensions : Engine::portable;
}

Sha256::Sha256(Engine engine)
    : engine_(available(engine) ? engine : Engine::portable), state_{0x6a09e667, 0xbb67ae85,
                                                                     0x3c6ef372, 0xa54ff53a,
                                                                     0x510e527f, 0x9b05688c,
                                                                     0x1f83d9ab, 0x5be0cd19} {}

void Sha256::compress(const std::uint8_t* blocks, std::size_t count) {
#if defined(__x86_64__)
  if (engine_ == Engine::x86_sha_extensions) {
    compress_sha_extensions(state_, blocks, count);
    return;
  }
#endif
  for (std::size_t i = 0; i < count; ++i) {
    compress_portable(state_, blocks + 64 * i);
  }
}

void Sha256::update(std::span<const std::byte> data) {
  total_bytes_ += data.size();
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(data.data());
  std::size_t remaining = data.size();
  if (buffered_ > 0) {
    const std::size_t taken = std::min(remaining, buffer_.size() - buffered_);
    std::memcpy(buffer_.data() + buffered_, bytes, taken);
    buffered_ += taken;
    bytes += taken;
    remaining -= taken;
    if (buffered_ < buffer_.size()) {
      return;
    }
    compress(buffer_.data(), 1);
    buffered_ = 0;
  }
  // Whole blocks straight from the caller's memory; the tail waits in the buffer.
  const std::size_t whole = remaining / 64;
  if (whole > 0) {
    compress(bytes, whole);
    bytes += 64 * whole;
    remaining -= 64 * whole;
  }
  std::memcpy(buffer_.data(), bytes, remaining);
  buffered_ = remaining;
}

void Sha256::update(std::string_view text) {
  update(std::as_bytes(std::span<const char>(text.data(), text.size())));
}

std::array<std::uint8_t, 32> Sha256::finish() {
  const std::uint64_t bit_length = total_bytes_ * 8;
  const std::byte one{0x80};
  const std::byte zero{0};
  update(std::span<const std::byte>(&one, 1));
  while (buffered_ != 56) {
    update(std::span<const std::byte>(&zero, 1));
  }
  std::array<std::byte, 8> length{};
  for (std::size_t i = 0; i < 8; ++i) {
    length[i] = static_cast<std::byte>((bit_length >> (56 - 8 * i)) & 0xff);
  }
  update(length);
  std::array<std::uint8_t, 32> digest{};
  for (std::size_t i = 0; i < 8; ++i) {
    digest[4 * i] = static_cast<std::uint8_t>(state_[i] >> 24);
    digest[4 * i + 1] = static_cast<std::uint8_t>(state_[i] >> 16);
    digest[4 * i + 2] = static_cast<std::uint8_t>(state_[i] >> 8);
    digest[4 * i + 3] = static_cast<std::uint8_t>(state_[i]);
  }
  return digest;
}

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(bytes.size() * 2);
  for (const std::uint8_t value : bytes) {
    hex += digits[value >> 4];
    hex += digits[value & 0xf];
  }
  return hex;
}

std::string sha256_hex(std::string_view text) {
  Sha256 hash;
  hash.update(text);
  const auto digest = hash.finish();
  return to_hex(digest);
}

}  // namespace pgguard::sandbox
