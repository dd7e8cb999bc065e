#include "postgres/scram.hpp"

#include <boost/test/unit_test.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "sandbox/sha256.hpp"

using namespace pgguard::postgres;
using pgguard::sandbox::to_hex;

namespace {

std::vector<std::uint8_t> bytes(std::string_view text) {
  return {text.begin(), text.end()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(scram)

BOOST_AUTO_TEST_CASE(base64_round_trips_and_refuses_non_canonical_text) {
  BOOST_TEST(base64_encode(bytes("")) == "");
  BOOST_TEST(base64_encode(bytes("f")) == "Zg==");
  BOOST_TEST(base64_encode(bytes("fo")) == "Zm8=");
  BOOST_TEST(base64_encode(bytes("foobar")) == "Zm9vYmFy");
  BOOST_TEST((*base64_decode("Zm9vYg==") == bytes("foob")));
  for (const char* bad : {"Zg=", "Zh==", "Z===", "Zm9v!mFy", "=Zm9", "Zg==Zg=="}) {
    BOOST_TEST(!base64_decode(bad).has_value(), bad);
  }
}

// RFC 4231, test case 2.
BOOST_AUTO_TEST_CASE(hmac_matches_rfc_4231) {
  BOOST_TEST(to_hex(hmac_sha256(bytes("Jefe"), bytes("what do ya want for nothing?"))) ==
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

// The PBKDF2-HMAC-SHA256 vectors published with RFC 7914's reference implementation.
BOOST_AUTO_TEST_CASE(pbkdf2_matches_published_vectors) {
  BOOST_TEST(to_hex(pbkdf2_hmac_sha256("password", bytes("salt"), 1)) ==
             "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
  BOOST_TEST(to_hex(pbkdf2_hmac_sha256("password", bytes("salt"), 4096)) ==
             "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");
}

// The verifier PostgreSQL stores for "pencil" with this salt (computed independently with
// Python's hashlib and hmac); the integration tests log in with verifiers made here.
BOOST_AUTO_TEST_CASE(verifier_has_postgres_stored_form) {
  std::vector<std::uint8_t> salt(16);
  std::iota(salt.begin(), salt.end(), 0);
  const auto text = format_verifier(make_verifier("pencil", salt));
  BOOST_TEST(text ==
             "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/"
             "QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE=");
  const auto parsed = parse_verifier(text);
  BOOST_TEST_REQUIRE(parsed.has_value());
  BOOST_TEST(format_verifier(*parsed) == text);
  BOOST_TEST(verifier_matches(*parsed, "pencil"));
  BOOST_TEST(!verifier_matches(*parsed, "pencil "));
  BOOST_TEST(!verifier_matches(*parsed, "Pencil"));
}

BOOST_AUTO_TEST_CASE(a_verifier_with_keys_of_two_passwords_matches_neither) {
  const auto salt = random_salt();
  auto mixed = make_verifier("one", salt);
  mixed.server_key = make_verifier("two", salt).server_key;
  BOOST_TEST(!verifier_matches(mixed, "one"));
  BOOST_TEST(!verifier_matches(mixed, "two"));
}

BOOST_AUTO_TEST_CASE(other_stored_forms_are_not_verifiers) {
  for (const char* text :
       {"", "md5a3556571e93b0d20722ba62be61e8c2d", "pencil", "SCRAM-SHA-256$",
        "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCd:dd5p",
        "SCRAM-SHA-256$0:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/"
        "QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE=",
        "SCRAM-SHA-256$4096x:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/"
        "QApd/5Y=:dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE="}) {
    BOOST_TEST(!parse_verifier(text).has_value(), text);
  }
}

BOOST_AUTO_TEST_CASE(salts_are_random_and_sized) {
  const auto a = random_salt();
  const auto b = random_salt();
  BOOST_TEST(a.size() == kScramSaltBytes);
  BOOST_TEST((a != b));
}

BOOST_AUTO_TEST_CASE(passwords_postgres_would_saslprep_are_refused_by_name) {
  BOOST_CHECK_NO_THROW(check_password("Abc-123_~ !", "postgres.roles[app].password"));
  for (const std::string& bad : {std::string(), std::string("caf\xc3\xa9"), std::string("a\tb"),
                                 std::string("a\nb"), std::string("a\0b", 3)}) {
    try {
      check_password(bad, "postgres.roles[app].password");
      BOOST_ERROR("accepted a password it cannot hash as PostgreSQL does");
    } catch (const pgguard::Error& error) {
      BOOST_TEST(std::string(error.what()).find("postgres.roles[app].password") == 0);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
