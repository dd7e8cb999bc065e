#define BOOST_TEST_MODULE pgguard selinux
#include <boost/test/unit_test.hpp>
