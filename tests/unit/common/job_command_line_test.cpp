#include "common/job_command_line.hpp"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "common/error.hpp"

using namespace pgguard;

namespace {

const JobCommands kCommands{
    "pgguard-test", "pre-start|start|stop|show", {"pre-start", "start"}, {"start"}, {"stop"},
    {"show"}};

JobCommandLine parse(std::vector<std::string> words) {
  words.insert(words.begin(), "pgguard-test");
  std::vector<char*> argv;
  for (auto& word : words) {
    argv.push_back(word.data());
  }
  return parse_job_command_line(static_cast<int>(argv.size()), argv.data(), kCommands);
}

std::string refusal(const std::vector<std::string>& words) {
  try {
    parse(words);
  } catch (const Error& error) {
    BOOST_TEST(static_cast<int>(error.code()) == static_cast<int>(ExitCode::bad_input));
    return error.what();
  }
  return "accepted";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(job_command_line)

BOOST_AUTO_TEST_CASE(each_command_takes_its_own_options) {
  const auto start =
      parse({"start", "--plan", "p.conf", "--setup", "s.conf", "--isolation-wait", "5"});
  BOOST_TEST(start.command == "start");
  BOOST_TEST(start.plan_path == "p.conf");
  BOOST_TEST(*start.setup_path == "s.conf");
  BOOST_TEST(*start.isolation_wait == 5U);
  BOOST_TEST(!start.grace.has_value());
  BOOST_TEST(*parse({"stop", "--plan", "p", "--grace", "7"}).grace == 7U);
  BOOST_TEST(*parse({"show", "--plan", "p", "--file", "x"}).file == "x");
  BOOST_TEST(parse({"--help"}).help);
}

BOOST_AUTO_TEST_CASE(an_option_for_another_command_is_refused_not_ignored) {
  BOOST_TEST(refusal({"stop", "--plan", "p", "--setup", "s"}) == "--setup does not apply to stop");
  BOOST_TEST(refusal({"start", "--plan", "p", "--grace", "1"}) ==
             "--grace does not apply to start");
  BOOST_TEST(refusal({"pre-start", "--plan", "p", "--file", "f"}) ==
             "--file does not apply to pre-start");
  BOOST_TEST(refusal({"start"}) ==
             "usage: pgguard-test pre-start|start|stop|show --plan FILE (see --help)");
  BOOST_TEST(refusal({"start", "--plan", "p", "--grace", "soon"}).find("(see --help)") !=
             std::string::npos);
  BOOST_TEST(refusal({"start", "--plan", "p", "--frobnicate"}).find("frobnicate") !=
             std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
