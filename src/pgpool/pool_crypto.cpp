#include "pgpool/pool_crypto.hpp"

#include <openssl/evp.h>
#include <sys/random.h>

#include <array>
#include <cerrno>
#include <memory>
#include <vector>

#include "common/error.hpp"

namespace pgguard::pgpool {

namespace {

struct CipherContextDeleter {
  void operator()(EVP_CIPHER_CTX* context) const { EVP_CIPHER_CTX_free(context); }
};
struct DigestContextDeleter {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};

[[noreturn]] void crypto_failed(const char* what) {
  throw Error(ExitCode::system, std::string("libcrypto: ") + what + " failed");
}

std::string hex(const unsigned char* bytes, std::size_t size) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xf]);
  }
  return out;
}

}  // namespace

std::string aes_pool_password(std::string_view password, std::string_view key) {
  std::array<unsigned char, EVP_MAX_KEY_LENGTH> aes_key{};
  std::array<unsigned char, EVP_MAX_IV_LENGTH> iv{};
  const EVP_CIPHER* cipher = EVP_aes_256_cbc();
  if (EVP_BytesToKey(cipher, EVP_sha1(), nullptr,
                     reinterpret_cast<const unsigned char*>(key.data()),
                     static_cast<int>(key.size()), 1, aes_key.data(), iv.data()) <= 0) {
    crypto_failed("EVP_BytesToKey");
  }
  const std::unique_ptr<EVP_CIPHER_CTX, CipherContextDeleter> context(EVP_CIPHER_CTX_new());
  std::vector<unsigned char> encrypted(password.size() + EVP_MAX_BLOCK_LENGTH);
  int written = 0;
  int final_written = 0;
  if (!context ||
      EVP_EncryptInit_ex(context.get(), cipher, nullptr, aes_key.data(), iv.data()) != 1 ||
      EVP_EncryptUpdate(context.get(), encrypted.data(), &written,
                        reinterpret_cast<const unsigned char*>(password.data()),
                        static_cast<int>(password.size())) != 1 ||
      EVP_EncryptFinal_ex(context.get(), encrypted.data() + written, &final_written) != 1) {
    crypto_failed("AES-256-CBC encryption");
  }
  const auto size = static_cast<std::size_t>(written) + static_cast<std::size_t>(final_written);
  std::string encoded(4 * ((size + 2) / 3) + 1, '\0');
  const int encoded_size = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                                           encrypted.data(), static_cast<int>(size));
  encoded.resize(static_cast<std::size_t>(encoded_size));
  return "AES" + encoded;
}

std::string md5_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  const std::unique_ptr<EVP_MD_CTX, DigestContextDeleter> context(EVP_MD_CTX_new());
  if (!context || EVP_DigestInit_ex(context.get(), EVP_md5(), nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), text.data(), text.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest.data(), &size) != 1) {
    crypto_failed("MD5");
  }
  return hex(digest.data(), size);
}

std::string random_hex_key(std::size_t size) {
  std::vector<unsigned char> bytes(size);
  std::size_t filled = 0;
  while (filled < size) {
    const ssize_t got = ::getrandom(bytes.data() + filled, size - filled, 0);
    if (got < 0) {
      if (errno == EINTR) {
        continue;
      }
      throw SystemError("getrandom", errno);
    }
    filled += static_cast<std::size_t>(got);
  }
  return hex(bytes.data(), size);
}

}  // namespace pgguard::pgpool
