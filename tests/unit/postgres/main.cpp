#define BOOST_TEST_MODULE pgguard postgres
#include <boost/test/unit_test.hpp>
