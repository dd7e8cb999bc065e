#include <sys/stat.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "node/service_process.hpp"

using namespace pgguard::node;

namespace {

// A bin directory as a package installs it: an executable program, a file without the
// execute bit, a subdirectory and a symbolic link to the program.
class BinDirectory {
 public:
  BinDirectory() {
    char pattern[] = "/tmp/pgu-bin-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(pattern) != nullptr);
    path_ = pattern;
    std::ofstream(path_ + "/pgpool") << "#!/bin/sh\n";
    BOOST_REQUIRE(::chmod((path_ + "/pgpool").c_str(), 0755) == 0);
    std::ofstream(path_ + "/readme") << "text\n";
    BOOST_REQUIRE(::chmod((path_ + "/readme").c_str(), 0644) == 0);
    BOOST_REQUIRE(::mkdir((path_ + "/share").c_str(), 0755) == 0);
    BOOST_REQUIRE(::symlink((path_ + "/pgpool").c_str(), (path_ + "/link").c_str()) == 0);
  }
  ~BinDirectory() {
    for (const char* name : {"/pgpool", "/readme", "/link"}) {
      (void)::unlink((path_ + name).c_str());
    }
    (void)::rmdir((path_ + "/share").c_str());
    (void)::rmdir(path_.c_str());
  }
  BinDirectory(const BinDirectory&) = delete;
  BinDirectory& operator=(const BinDirectory&) = delete;
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

std::string refusal(const std::vector<std::string>& programs) {
  try {
    require_programs(programs, "pgpool.bin_dir");
  } catch (const pgguard::Error& error) {
    BOOST_CHECK(error.code() == pgguard::ExitCode::bad_input);
    return error.what();
  }
  return "accepted";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(required_programs)

BOOST_AUTO_TEST_CASE(accepts_executables_and_links_to_them) {
  const BinDirectory bin;
  BOOST_TEST(refusal({bin / "pgpool", bin / "link"}) == "accepted");
}

BOOST_AUTO_TEST_CASE(names_a_missing_program_and_the_property) {
  const BinDirectory bin;
  BOOST_TEST(refusal({bin / "pgpool", bin / "pcp_attach_node"}) ==
             "pgpool.bin_dir: cannot use " + bin / "pcp_attach_node" +
                 ": No such file or directory (errno 2)");
}

BOOST_AUTO_TEST_CASE(refuses_a_file_without_the_execute_bit) {
  const BinDirectory bin;
  BOOST_TEST(refusal({bin / "readme"}) ==
             "pgpool.bin_dir: " + bin / "readme" + " is not an executable file");
}

BOOST_AUTO_TEST_CASE(refuses_a_directory) {
  const BinDirectory bin;
  BOOST_TEST(refusal({bin / "share"}) ==
             "pgpool.bin_dir: " + bin / "share" + " is not an executable file");
}

BOOST_AUTO_TEST_SUITE_END()
