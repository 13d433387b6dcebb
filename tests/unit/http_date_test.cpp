// core::http_date: IMF-fixdate, as RFC 9110's example and a few edges.
#include "duplex/core/http/http_date.hpp"

#include <gtest/gtest.h>

namespace {

using duplex::core::http_date;

TEST(HttpDate, WritesImfFixdate) {
  EXPECT_EQ(http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");  // RFC 9110's example
  EXPECT_EQ(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(http_date(1709251199), "Thu, 29 Feb 2024 23:59:59 GMT");
  EXPECT_EQ(http_date(1796342399), "Thu, 03 Dec 2026 23:59:59 GMT");
  EXPECT_EQ(http_date(4102444800), "Fri, 01 Jan 2100 00:00:00 GMT");
  EXPECT_EQ(http_date(-1), "Wed, 31 Dec 1969 23:59:59 GMT");
}

}  // namespace
