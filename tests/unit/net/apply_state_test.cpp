#include "net/apply_state.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>

using namespace pgguard::net;
namespace fs = std::filesystem;

BOOST_AUTO_TEST_SUITE(apply_state)

BOOST_AUTO_TEST_CASE(digest_tracks_the_text) {
  BOOST_TEST(configuration_digest("a = 1\n") == configuration_digest("a = 1\n"));
  BOOST_TEST(configuration_digest("a = 1\n") != configuration_digest("a = 2\n"));
  BOOST_TEST(configuration_digest("") != configuration_digest("\n"));
}

BOOST_AUTO_TEST_CASE(state_round_trips_and_rejects_garbage) {
  AppliedState state{4242, "abc-12", "secure_postgres", SysctlPolicy{}};
  state.sysctl.log_martians = false;
  const auto decoded = decode_state(encode_state(state));
  BOOST_TEST_REQUIRE(decoded.has_value());
  BOOST_TEST(decoded->generation == 4242u);
  BOOST_TEST(decoded->digest == "abc-12");
  BOOST_TEST(decoded->table == "secure_postgres");
  BOOST_TEST(!decoded->sysctl.log_martians);
  BOOST_TEST(decoded->sysctl.tcp_syncookies);
  for (const char* garbage :
       {"", "pgguard-isolate-state-1 x abc t 1\n", "pgguard-isolate-state-0 1 abc t 1\n",
        "pgguard-isolate-state-1 99999999999 abc t 1\n", "pgguard-isolate-state-1 1 abc t\n"}) {
    BOOST_TEST(!decode_state(garbage).has_value(), garbage);
  }
}

BOOST_AUTO_TEST_CASE(store_saves_loads_forgets_and_distrusts_writable_records) {
  const auto directory =
      fs::temp_directory_path() / ("pgguard-state-" + std::to_string(::getpid()));
  fs::remove_all(directory);
  const StateStore store(directory.string());
  BOOST_TEST(!store.load(7).has_value());
  store.save(7, AppliedState{9, "d", "t", SysctlPolicy{}});
  BOOST_TEST((fs::status(directory).permissions() == fs::perms::owner_all));
  const auto loaded = store.load(7);
  BOOST_TEST_REQUIRE(loaded.has_value());
  BOOST_TEST(loaded->generation == 9u);
  BOOST_TEST(!store.load(8).has_value());  // another network namespace

  const auto file = directory / "netns-7.state";
  ::chmod(file.c_str(), 0666);
  BOOST_TEST(!store.load(7).has_value());  // a record others could have written is ignored
  ::chmod(file.c_str(), 0600);
  store.forget(7);
  BOOST_TEST(!store.load(7).has_value());
  fs::remove_all(directory);
}

BOOST_AUTO_TEST_SUITE_END()
