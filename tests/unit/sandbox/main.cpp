#define BOOST_TEST_MODULE pgguard sandbox
#include <boost/test/unit_test.hpp>
