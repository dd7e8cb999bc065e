#include "postgres/scram.hpp"

#include <sys/random.h>

#include <cerrno>
#include <charconv>

#include "common/error.hpp"
#include "sandbox/sha256.hpp"

namespace pgguard::postgres {

namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view kPrefix = "SCRAM-SHA-256$";

std::array<std::uint8_t, 32> sha256(std::span<const std::uint8_t> data) {
  sandbox::Sha256 hash;
  hash.update(std::as_bytes(data));
  return hash.finish();
}

std::span<const std::uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

template <std::size_t N>
bool equal_constant_time(const std::array<std::uint8_t, N>& a,
                         const std::array<std::uint8_t, N>& b) {
  std::uint8_t difference = 0;
  for (std::size_t i = 0; i < N; ++i) {
    difference = static_cast<std::uint8_t>(difference | (a[i] ^ b[i]));
  }
  return difference == 0;
}

template <std::size_t N>
std::optional<std::array<std::uint8_t, N>> decode_exact(std::string_view text) {
  const auto decoded = base64_decode(text);
  if (!decoded || decoded->size() != N) {
    return std::nullopt;
  }
  std::array<std::uint8_t, N> out{};
  std::copy(decoded->begin(), decoded->end(), out.begin());
  return out;
}

}  // namespace

std::string base64_encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t group =
        (std::uint32_t{bytes[i]} << 16) | (std::uint32_t{bytes[i + 1]} << 8) | bytes[i + 2];
    for (const int shift : {18, 12, 6, 0}) {
      out.push_back(kAlphabet[(group >> shift) & 0x3f]);
    }
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t group = std::uint32_t{bytes[i]} << 16;
    if (rest == 2) {
      group |= std::uint32_t{bytes[i + 1]} << 8;
    }
    out.push_back(kAlphabet[(group >> 18) & 0x3f]);
    out.push_back(kAlphabet[(group >> 12) & 0x3f]);
    out.push_back(rest == 2 ? kAlphabet[(group >> 6) & 0x3f] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) {
    return std::nullopt;
  }
  std::vector<std::uint8_t> out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    std::uint32_t group = 0;
    int padding = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      std::uint32_t value = 0;
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        ++padding;
      } else if (const auto position = kAlphabet.find(c);
                 position != std::string_view::npos && padding == 0) {
        value = static_cast<std::uint32_t>(position);
      } else {
        return std::nullopt;
      }
      group = (group << 6) | value;
    }
    out.push_back(static_cast<std::uint8_t>(group >> 16));
    if (padding < 2) {
      out.push_back(static_cast<std::uint8_t>(group >> 8));
    }
    if (padding < 1) {
      out.push_back(static_cast<std::uint8_t>(group));
    }
  }
  // Canonical only: the bits a padded group drops must be zero, so each value has one form.
  if (!out.empty() && base64_encode(out) != text) {
    return std::nullopt;
  }
  return out;
}

std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key,
                                         std::span<const std::uint8_t> message) {
  std::array<std::uint8_t, 64> block{};
  if (key.size() > block.size()) {
    const auto digest = sha256(key);
    std::copy(digest.begin(), digest.end(), block.begin());
  } else {
    std::copy(key.begin(), key.end(), block.begin());
  }
  std::array<std::uint8_t, 64> inner_pad{};
  std::array<std::uint8_t, 64> outer_pad{};
  for (std::size_t i = 0; i < block.size(); ++i) {
    inner_pad[i] = static_cast<std::uint8_t>(block[i] ^ 0x36);
    outer_pad[i] = static_cast<std::uint8_t>(block[i] ^ 0x5c);
  }
  sandbox::Sha256 inner;
  inner.update(std::as_bytes(std::span(inner_pad)));
  inner.update(std::as_bytes(message));
  const auto inner_digest = inner.finish();
  sandbox::Sha256 outer;
  outer.update(std::as_bytes(std::span(outer_pad)));
  outer.update(std::as_bytes(std::span(inner_digest)));
  return outer.finish();
}

std::array<std::uint8_t, 32> pbkdf2_hmac_sha256(std::string_view password,
                                                std::span<const std::uint8_t> salt,
                                                int iterations) {
  // One output block (dkLen = hLen = 32), as SCRAM-SHA-256 needs: U1 = HMAC(P, S || INT(1)).
  std::vector<std::uint8_t> first(salt.begin(), salt.end());
  first.insert(first.end(), {0, 0, 0, 1});
  auto u = hmac_sha256(bytes_of(password), first);
  auto result = u;
  for (int i = 1; i < iterations; ++i) {
    u = hmac_sha256(bytes_of(password), u);
    for (std::size_t j = 0; j < result.size(); ++j) {
      result[j] = static_cast<std::uint8_t>(result[j] ^ u[j]);
    }
  }
  return result;
}

std::optional<std::string> password_problem(std::string_view password) {
  if (password.empty()) {
    return "is empty";
  }
  for (const char c : password) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7e) {
      return "holds a character outside printable ASCII; PostgreSQL would SASLprep it, which "
             "this release does not reproduce, so no login could match";
    }
  }
  return std::nullopt;
}

void check_password(std::string_view password, std::string_view what) {
  if (const auto problem = password_problem(password)) {
    throw Error(ExitCode::bad_input, std::string(what) + " " + *problem);
  }
}

ScramVerifier make_verifier(std::string_view password, std::span<const std::uint8_t> salt,
                            int iterations) {
  ScramVerifier verifier;
  verifier.iterations = iterations;
  verifier.salt.assign(salt.begin(), salt.end());
  const auto salted = pbkdf2_hmac_sha256(password, salt, iterations);
  const auto client_key = hmac_sha256(salted, bytes_of("Client Key"));
  verifier.stored_key = sha256(client_key);
  verifier.server_key = hmac_sha256(salted, bytes_of("Server Key"));
  return verifier;
}

std::string format_verifier(const ScramVerifier& verifier) {
  return std::string(kPrefix) + std::to_string(verifier.iterations) + ":" +
         base64_encode(verifier.salt) + "$" + base64_encode(verifier.stored_key) + ":" +
         base64_encode(verifier.server_key);
}

std::optional<ScramVerifier> parse_verifier(std::string_view text) {
  if (!text.starts_with(kPrefix)) {
    return std::nullopt;
  }
  text.remove_prefix(kPrefix.size());
  const auto colon = text.find(':');
  const auto dollar = text.find('$');
  if (colon == std::string_view::npos || dollar == std::string_view::npos || dollar < colon) {
    return std::nullopt;
  }
  ScramVerifier verifier;
  const auto iterations = text.substr(0, colon);
  const auto [end, error] = std::from_chars(
      iterations.data(), iterations.data() + iterations.size(), verifier.iterations);
  if (error != std::errc{} || end != iterations.data() + iterations.size() ||
      verifier.iterations < 1) {
    return std::nullopt;
  }
  auto salt = base64_decode(text.substr(colon + 1, dollar - colon - 1));
  const auto keys = text.substr(dollar + 1);
  const auto key_colon = keys.find(':');
  if (!salt || salt->empty() || key_colon == std::string_view::npos) {
    return std::nullopt;
  }
  const auto stored = decode_exact<32>(keys.substr(0, key_colon));
  const auto server = decode_exact<32>(keys.substr(key_colon + 1));
  if (!stored || !server) {
    return std::nullopt;
  }
  verifier.salt = std::move(*salt);
  verifier.stored_key = *stored;
  verifier.server_key = *server;
  return verifier;
}

bool verifier_matches(const ScramVerifier& verifier, std::string_view password) {
  const auto candidate = make_verifier(password, verifier.salt, verifier.iterations);
  // Both keys: a verifier whose halves came from different passwords matches neither.
  return equal_constant_time(candidate.stored_key, verifier.stored_key) &
         equal_constant_time(candidate.server_key, verifier.server_key);
}

std::vector<std::uint8_t> random_salt() {
  std::vector<std::uint8_t> salt(kScramSaltBytes);
  std::size_t filled = 0;
  while (filled < salt.size()) {
    const ssize_t got = ::getrandom(salt.data() + filled, salt.size() - filled, 0);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw SystemError("getrandom for a SCRAM salt", errno);
    }
    filled += static_cast<std::size_t>(got);
  }
  return salt;
}

}  // namespace pgguard::postgres
