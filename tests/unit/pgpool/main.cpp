#define BOOST_TEST_MODULE pgguard pgpool
#include <boost/test/unit_test.hpp>
