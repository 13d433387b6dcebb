#include "duplex/core/http/query_string.hpp"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace duplex::core {
namespace {

TEST(QueryStringTest, FindsTheFirstParameterByItsDecodedName) {
  EXPECT_EQ(query_parameter("room=lobby&nick=ann", "room"), "lobby");
  EXPECT_EQ(query_parameter("room=lobby&nick=ann", "nick"), "ann");
  EXPECT_EQ(query_parameter("nick=a&nick=b", "nick"), "a");
  EXPECT_EQ(query_parameter("ni%63k=c", "nick"), "c");
  EXPECT_EQ(query_parameter("&&nick=d&", "nick"), "d");
  EXPECT_EQ(query_parameter("nickname=x&nick=e", "nick"), "e");
  EXPECT_EQ(query_parameter("nick", "nick"), "");
  EXPECT_EQ(query_parameter("nick=", "nick"), "");
  EXPECT_EQ(query_parameter("a=b=c", "a"), "b=c");
  EXPECT_EQ(query_parameter("", "nick"), std::nullopt);
  EXPECT_EQ(query_parameter("room=lobby", "nick"), std::nullopt);
  EXPECT_EQ(query_parameter("=nick", "nick"), std::nullopt);
  EXPECT_EQ(query_parameter("=x", ""), "x");
}

TEST(QueryStringTest, DecodesLikeUrlSearchParams) {
  EXPECT_EQ(form_decode("a+b%20c"), "a b c");
  EXPECT_EQ(form_decode("%C3%A9%e2%9c%93"), "é✓");
  EXPECT_EQ(form_decode("%2B%26%3D%25"), "+&=%");
  // Stray '%' signs stay as they are, at every position.
  EXPECT_EQ(form_decode("%"), "%");
  EXPECT_EQ(form_decode("%4"), "%4");
  EXPECT_EQ(form_decode("x%4g%zz%"), "x%4g%zz%");
  EXPECT_EQ(form_decode("%41%"), "A%");
  EXPECT_EQ(form_decode("%00"), std::string(1, '\0'));
  EXPECT_EQ(form_decode("%ff"), "\xff");
  EXPECT_EQ(form_decode(""), "");
}

}  // namespace
}  // namespace duplex::core
