#include "common/pid_file.hpp"

#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "common/error.hpp"

using pgguard::PidFile;
namespace fs = std::filesystem;

namespace {

struct ScratchDirectory {
  ScratchDirectory()
      : path(fs::temp_directory_path() / ("pgguard-pidfile-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDirectory() { fs::remove_all(path); }
  fs::path path;
};

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pid_file)

BOOST_AUTO_TEST_CASE(empty_until_published_then_removed_on_exit) {
  ScratchDirectory scratch;
  const auto path = scratch.path / "guard.pid";
  {
    PidFile file = PidFile::acquire(path.string());
    BOOST_TEST(fs::exists(path));
    BOOST_TEST(read_text(path).empty());
    file.publish();
    BOOST_TEST(read_text(path) == std::to_string(::getpid()) + "\n");
  }
  BOOST_TEST(!fs::exists(path));
}

BOOST_AUTO_TEST_CASE(a_second_holder_is_refused_and_named) {
  ScratchDirectory scratch;
  const auto path = scratch.path / "guard.pid";
  PidFile first = PidFile::acquire(path.string());
  first.publish();
  try {
    PidFile second = PidFile::acquire(path.string());
    BOOST_FAIL("a second PidFile acquired a locked file");
  } catch (const pgguard::Error& error) {
    BOOST_TEST(pgguard::to_int(error.code()) == pgguard::to_int(pgguard::ExitCode::system));
    BOOST_TEST(std::string(error.what()).find("(pid " + std::to_string(::getpid()) + ")") !=
               std::string::npos);
  }
  BOOST_TEST(read_text(path) == std::to_string(::getpid()) + "\n");
}

BOOST_AUTO_TEST_CASE(a_stale_pid_is_cleared_and_a_file_never_published_is_left) {
  ScratchDirectory scratch;
  const auto path = scratch.path / "guard.pid";
  std::ofstream(path) << "999999\n";
  {
    PidFile file = PidFile::acquire(path.string());
    BOOST_TEST(read_text(path).empty());
  }
  // Not published: nothing of ours to remove (monit reads an empty file as "not running").
  BOOST_TEST(fs::exists(path));
}

BOOST_AUTO_TEST_CASE(links_and_non_files_are_refused) {
  ScratchDirectory scratch;
  const auto target = scratch.path / "target";
  std::ofstream(target) << "precious\n";
  fs::create_symlink(target, scratch.path / "link.pid");
  BOOST_CHECK_THROW(PidFile::acquire((scratch.path / "link.pid").string()), pgguard::Error);
  BOOST_TEST(read_text(target) == "precious\n");
  BOOST_CHECK_THROW(PidFile::acquire(scratch.path.string()), pgguard::Error);
}

BOOST_AUTO_TEST_SUITE_END()
