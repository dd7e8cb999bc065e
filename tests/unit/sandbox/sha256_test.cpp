#include "sandbox/sha256.hpp"

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace pgguard::sandbox;

namespace {

std::string hex_of(Sha256::Engine engine, const std::string& text) {
  Sha256 hash(engine);
  hash.update(text);
  return to_hex(hash.finish());
}

// Every engine this CPU runs, so the x86 SHA extensions are checked where they exist.
std::vector<Sha256::Engine> engines_here() {
  std::vector<Sha256::Engine> engines{Sha256::Engine::portable};
  if (Sha256::available(Sha256::Engine::x86_sha_extensions)) {
    engines.push_back(Sha256::Engine::x86_sha_extensions);
  }
  return engines;
}

bool cpuinfo_has_flag(const std::string& flag) {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) == 0) {
      std::istringstream words(line);
      std::string word;
      while (words >> word) {
        if (word == flag) {
          return true;
        }
      }
      return false;
    }
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sha256)

// FIPS 180-4 example vectors, plus lengths around the 55/56/64-byte padding boundaries.
BOOST_AUTO_TEST_CASE(known_vectors) {
  for (const auto engine : engines_here()) {
    BOOST_TEST_CONTEXT("engine " << static_cast<int>(engine)) {
      BOOST_TEST(hex_of(engine, "") ==
                 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
      BOOST_TEST(hex_of(engine, "abc") ==
                 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
      BOOST_TEST(hex_of(engine, "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
                 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
      BOOST_TEST(hex_of(engine, std::string(1000000, 'a')) ==
                 "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
      BOOST_TEST(hex_of(engine, std::string(55, 'a')) ==
                 "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
      BOOST_TEST(hex_of(engine, std::string(56, 'a')) ==
                 "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
      BOOST_TEST(hex_of(engine, std::string(64, 'a')) ==
                 "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
    }
  }
}

BOOST_AUTO_TEST_CASE(incremental_equals_whole) {
  Sha256 hash;
  hash.update("abcdbcdecdefdefgefghfghighij");
  hash.update("hijkijkljklmklmnlmnomnopnopq");
  const auto digest = hash.finish();
  BOOST_TEST(to_hex(digest) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

// The CPU's own flag list decides whether the SHA extensions must be in use: detection that
// silently fell back to portable code would pass every vector above.
BOOST_AUTO_TEST_CASE(sha_extensions_detected_where_the_cpu_has_them) {
  const bool cpu_has = cpuinfo_has_flag("sha_ni") && cpuinfo_has_flag("sse4_1");
  BOOST_TEST(Sha256::available(Sha256::Engine::x86_sha_extensions) == cpu_has);
  BOOST_TEST((Sha256::best_engine() == Sha256::Engine::x86_sha_extensions) == cpu_has);
  BOOST_TEST_MESSAGE("x86 SHA extensions on this CPU: " << (cpu_has ? "yes" : "no"));
}

// Random contents, lengths across several blocks, and random split points: every engine agrees
// with the portable one, whatever mix of buffered and whole-block updates.
BOOST_AUTO_TEST_CASE(engines_agree_on_random_input_and_splits) {
  std::mt19937 random(20261129);
  for (std::size_t length = 0; length < 700; length += 7) {
    std::string text(length, '\0');
    for (char& character : text) {
      character = static_cast<char>(random() & 0xff);
    }
    const std::string expected = hex_of(Sha256::Engine::portable, text);
    for (const auto engine : engines_here()) {
      Sha256 hash(engine);
      std::size_t at = 0;
      while (at < text.size()) {
        const std::size_t piece = std::min<std::size_t>(text.size() - at, random() % 150);
        hash.update(std::string_view(text).substr(at, piece));
        at += piece;
      }
      BOOST_TEST(to_hex(hash.finish()) == expected, "length " << length);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
