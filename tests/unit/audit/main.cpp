#define BOOST_TEST_MODULE pgguard audit
#include <boost/test/unit_test.hpp>
