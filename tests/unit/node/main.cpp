#define BOOST_TEST_MODULE pgguard node
#include <boost/test/unit_test.hpp>
