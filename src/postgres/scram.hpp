#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

// SCRAM-SHA-256 password verifiers in PostgreSQL's stored form (RFC 5802, RFC 7677):
//   SCRAM-SHA-256$<iterations>:<base64 salt>$<base64 StoredKey>:<base64 ServerKey>
// The release hashes role passwords itself and sends the server only verifiers, so a
// password never appears in a statement the server could log, and a re-run compares the
// property with the stored verifier instead of rewriting it with a new salt.
namespace pgguard::postgres {

constexpr int kScramIterations = 4096;  // PostgreSQL 15's fixed default (scram_iterations: 16+)
constexpr std::size_t kScramSaltBytes = 16;

std::string base64_encode(std::span<const std::uint8_t> bytes);
// nullopt for text that is not canonical base64 (RFC 4648, with padding).
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

std::array<std::uint8_t, 32> hmac_sha256(std::span<const std::uint8_t> key,
                                         std::span<const std::uint8_t> message);
std::array<std::uint8_t, 32> pbkdf2_hmac_sha256(std::string_view password,
                                                std::span<const std::uint8_t> salt, int iterations);

struct ScramVerifier {
  int iterations = 0;
  std::vector<std::uint8_t> salt;
  std::array<std::uint8_t, 32> stored_key{};
  std::array<std::uint8_t, 32> server_key{};
};

// Throws Error(bad_input) for a password the release cannot hash exactly as PostgreSQL would:
// PostgreSQL runs SASLprep (Unicode NFKC and mappings) over non-ASCII passwords, which is not
// implemented here, so those are refused rather than stored as a verifier no login matches.
// `what` names the property in the message.
void check_password(std::string_view password, std::string_view what);
// The same check as a reason ("is empty", "holds a character outside ..."); nullopt when fine.
std::optional<std::string> password_problem(std::string_view password);

ScramVerifier make_verifier(std::string_view password, std::span<const std::uint8_t> salt,
                            int iterations = kScramIterations);
std::string format_verifier(const ScramVerifier& verifier);
// nullopt for anything that is not a SCRAM-SHA-256 verifier (md5 hashes, plain text, NULL).
std::optional<ScramVerifier> parse_verifier(std::string_view text);
// Whether `password` is the one `verifier` was made from (constant time in the keys).
bool verifier_matches(const ScramVerifier& verifier, std::string_view password);

// kScramSaltBytes from getrandom(2). Throws SystemError.
std::vector<std::uint8_t> random_salt();

}  // namespace pgguard::postgres
