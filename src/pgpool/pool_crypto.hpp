#pragma once

#include <string>
#include <string_view>

// The two password forms pgpool-II reads, computed with OpenSSL's libcrypto (the library
// pgpool itself decrypts with; a second AES implementation here would only add risk).
namespace pgguard::pgpool {

// pool_passwd's AES form of `password` under `key` (the first line of pgpool's key file):
// "AES" + base64 of AES-256-CBC with PKCS#7 padding, whose key and IV come from
// EVP_BytesToKey(SHA-1, no salt, one round) over the key text: what pgpool's pg_enc writes
// and pgpool decrypts. Deterministic: the same password and key give the same line, so an
// unchanged pool_passwd is not rewritten. Throws Error(system) if libcrypto fails.
std::string aes_pool_password(std::string_view password, std::string_view key);

// Lower-case hex MD5 of `text`: pcp.conf's password form (pg_md5).
std::string md5_hex(std::string_view text);

// `size` random bytes from the kernel, as lower-case hex: a fresh pool_passwd key.
std::string random_hex_key(std::size_t size);

}  // namespace pgguard::pgpool
