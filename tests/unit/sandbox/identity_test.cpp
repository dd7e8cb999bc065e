#include "sandbox/identity.hpp"

#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <string>

using namespace pgguard::sandbox;

namespace {

// The NSS configuration is process-wide: each case runs in a child, which exits 0 when root is
// found and 1 when it is not.
int root_found_with(const std::string& nsswitch_path) {
  const pid_t child = ::fork();
  BOOST_REQUIRE(child >= 0);
  if (child == 0) {
    use_configured_sources_without_nscd(nsswitch_path);
    ::_exit(::getpwnam("root") != nullptr ? 0 : 1);
  }
  int status = 0;
  BOOST_REQUIRE(::waitpid(child, &status, 0) == child);
  BOOST_REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

int root_found_after_configuring(const std::string& nsswitch_text) {
  char pattern[] = "/tmp/pgl-nss-XXXXXX";
  const int fd = ::mkstemp(pattern);
  BOOST_REQUIRE(fd >= 0);
  (void)::close(fd);
  std::ofstream(pattern, std::ios::trunc) << nsswitch_text;
  const int found = root_found_with(pattern);
  (void)::unlink(pattern);
  return found;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(identity)

// The service line from the file is the one glibc uses: a source that does not exist finds
// nobody, "files" (with a trailing comment, spaces, other databases around it) finds root.
BOOST_AUTO_TEST_CASE(lookups_use_the_files_service_line) {
  BOOST_TEST(root_found_after_configuring("passwd: no_such_nss_service\n") == 1);
  BOOST_TEST(root_found_after_configuring("# hosts first\nhosts: files dns\n"
                                          "passwd:   files   # local users\ngroup: files\n") == 0);
}

// No file, or no passwd line: glibc's own defaults, which find root in /etc/passwd.
BOOST_AUTO_TEST_CASE(missing_file_or_line_leaves_the_defaults) {
  BOOST_TEST(root_found_after_configuring("hosts: files\n") == 0);
  BOOST_TEST(root_found_with("/nonexistent/nsswitch.conf") == 0);
}

BOOST_AUTO_TEST_SUITE_END()
