#define BOOST_TEST_MODULE pgguard common
#include <boost/test/unit_test.hpp>
