#define BOOST_TEST_MODULE pgguard net
#include <boost/test/unit_test.hpp>
