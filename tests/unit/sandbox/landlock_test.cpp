#include "sandbox/landlock.hpp"

#include <boost/test/unit_test.hpp>

using namespace pgguard;
using namespace pgguard::sandbox;

namespace {

constexpr std::uint64_t kExecute = 1U << 0;  // LANDLOCK_ACCESS_FS_EXECUTE
constexpr std::uint64_t kWriteFile = 1U << 1;

Sourced<std::string> at(const std::string& path, int line, const std::string& key) {
  return {path, key, Location{std::string("p.conf"), line}};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(landlock)

BOOST_AUTO_TEST_CASE(only_execute_and_write_execute_paths_carry_the_execute_right) {
  for (int abi = 1; abi <= 7; ++abi) {
    BOOST_TEST((landlock_read_access(abi) & kExecute) == 0U, "ABI " << abi);
    BOOST_TEST((landlock_write_access(abi) & kExecute) == 0U, "ABI " << abi);
    BOOST_TEST((landlock_execute_access(abi) & kExecute) != 0U, "ABI " << abi);
    BOOST_TEST((landlock_execute_access(abi) & kWriteFile) == 0U, "ABI " << abi);
    BOOST_TEST(landlock_write_execute_access(abi) == landlock_handled_fs(abi), "ABI " << abi);
    // Everything handled but execute: a write path keeps every other right it had.
    BOOST_TEST((landlock_write_access(abi) | kExecute) == landlock_handled_fs(abi), "ABI " << abi);
  }
  BOOST_TEST(landlock_execute_access(0) == 0U);
  BOOST_TEST(landlock_write_access(0) == 0U);
}

// Inodes as the kernel would report them: / is 2, /srv 10, /srv/data 11, /srv/data/bin 12,
// /opt 20 (a bind mount of /srv/data: the same inode as /srv/data, 11), /usr 30.
BOOST_AUTO_TEST_CASE(an_overlap_through_a_link_or_bind_mount_is_found_on_the_real_tree) {
  const InodeId root{1, 2}, srv{1, 10}, data{1, 11}, bin{1, 12}, usr{1, 30};
  const auto write_data = at("/srv/data", 4, "landlock.write");
  const auto exec_usr = at("/usr", 3, "landlock.execute");
  const auto exec_link = at("/usr/lib/tool", 5, "landlock.execute");  // a link into /srv/data/bin
  const auto exec_bind = at("/opt", 6, "landlock.execute");           // a bind mount of /srv/data

  const PathAncestry data_path{LandlockPathKind::write, {data, srv, root}, &write_data};
  const PathAncestry usr_path{LandlockPathKind::execute, {usr, root}, &exec_usr};
  BOOST_TEST(!write_execute_overlap({usr_path, data_path}).has_value());

  // Executable beneath writable: /usr/lib/tool resolves to /srv/data/bin.
  const PathAncestry link_path{LandlockPathKind::execute, {bin, data, srv, root}, &exec_link};
  const auto beneath = write_execute_overlap({usr_path, link_path, data_path});
  BOOST_REQUIRE(beneath.has_value());
  BOOST_TEST(*beneath ==
             "p.conf:5: landlock.execute: '/usr/lib/tool' and p.conf:4: landlock.write: "
             "'/srv/data' reach the same files on this host (through a link or a bind mount): a "
             "file written there could be run; say write_execute to allow both");

  // The same inode under another name: /opt's ".." is /, but its own inode is /srv/data's.
  const PathAncestry bind_path{LandlockPathKind::execute, {data, root}, &exec_bind};
  BOOST_TEST(write_execute_overlap({data_path, bind_path}).has_value());

  // Writable beneath executable: the write rule's files inherit execute from above.
  const auto write_bin = at("/srv/data/bin", 7, "landlock.write");
  const auto exec_data = at("/srv/data", 8, "landlock.execute");
  const PathAncestry bin_write{LandlockPathKind::write, {bin, data, srv, root}, &write_bin};
  const PathAncestry data_exec{LandlockPathKind::execute, {data, srv, root}, &exec_data};
  BOOST_TEST(write_execute_overlap({bin_write, data_exec}).has_value());

  // Read paths carry no execute; write_execute was said explicitly.
  const auto read_bin = at("/srv/data/bin", 9, "landlock.read");
  const PathAncestry bin_read{LandlockPathKind::read, {bin, data, srv, root}, &read_bin};
  BOOST_TEST(!write_execute_overlap({bin_read, data_path}).has_value());
  const PathAncestry data_waived{LandlockPathKind::write_execute, {data, srv, root}, &write_data};
  BOOST_TEST(!write_execute_overlap({link_path, data_waived}).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
