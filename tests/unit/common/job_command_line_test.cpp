#include "common/job_command_line.hpp"

#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "common/error.hpp"

using namespace pgguard;

namespace {

const JobCommands kCommands{"pgguard-test",
                            "pre-start|start|post-start|stop|drain|show",
                            {"pre-start", "start"},
                            {"start"},
                            {"stop", "drain"},
                            {"post-start"},
                            {"show"},
                            {"drain"}};

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
  BOOST_TEST(*parse({"post-start", "--plan", "p", "--wait", "9"}).wait == 9U);
  BOOST_TEST(!parse({"stop", "--plan", "p"}).answer_output.valid());
  BOOST_TEST(parse({"--help"}).help);
}

BOOST_AUTO_TEST_CASE(an_option_for_another_command_is_refused_not_ignored) {
  BOOST_TEST(refusal({"stop", "--plan", "p", "--setup", "s"}) == "--setup does not apply to stop");
  BOOST_TEST(refusal({"start", "--plan", "p", "--grace", "1"}) ==
             "--grace does not apply to start");
  BOOST_TEST(refusal({"pre-start", "--plan", "p", "--file", "f"}) ==
             "--file does not apply to pre-start");
  BOOST_TEST(refusal({"start"}) ==
             "usage: pgguard-test pre-start|start|post-start|stop|drain|show --plan FILE (see "
             "--help)");
  BOOST_TEST(refusal({"stop", "--plan", "p", "--wait", "1"}) == "--wait does not apply to stop");
  BOOST_TEST(refusal({"start", "--plan", "p", "--grace", "soon"}).find("(see --help)") !=
             std::string::npos);
  BOOST_TEST(refusal({"start", "--plan", "p", "--frobnicate"}).find("frobnicate") !=
             std::string::npos);
}

// BOSH reads a drain script's stdout as one integer: what the stop says goes to --log, and
// only the answer to the stdout the program started with.
BOOST_AUTO_TEST_CASE(drain_answers_only_an_integer_on_the_original_stdout) {
  std::cout.flush();  // Boost.Test's own output, written before the redirection
  int answer_pipe[2];
  BOOST_REQUIRE(::pipe(answer_pipe) == 0);
  const int saved_stdout = ::dup(STDOUT_FILENO);
  const int saved_stderr = ::dup(STDERR_FILENO);
  BOOST_REQUIRE(::dup2(answer_pipe[1], STDOUT_FILENO) >= 0);
  ::close(answer_pipe[1]);
  char log_path[] = "/tmp/pgguard-drain-test.XXXXXX";
  const int log_fd = ::mkstemp(log_path);
  BOOST_REQUIRE(log_fd >= 0);
  ::close(log_fd);
  {
    const auto line = parse({"drain", "--plan", "p", "--log", log_path});
    std::cout << "drain: stopped pid 42 (fast shutdown)" << std::endl;
    answer_drain(line);
  }
  ::dup2(saved_stdout, STDOUT_FILENO);
  ::dup2(saved_stderr, STDERR_FILENO);
  ::close(saved_stdout);
  ::close(saved_stderr);
  std::string answer(16, '\0');
  answer.resize(static_cast<std::size_t>(
      std::max<ssize_t>(0, ::read(answer_pipe[0], answer.data(), answer.size()))));
  ::close(answer_pipe[0]);
  BOOST_TEST(answer == "0\n");
  std::ifstream log(log_path);
  const std::string logged((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
  ::unlink(log_path);
  BOOST_TEST(logged == "drain: stopped pid 42 (fast shutdown)\n");
}

BOOST_AUTO_TEST_SUITE_END()
