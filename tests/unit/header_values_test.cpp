#include "duplex/core/http/header_values.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace duplex::core {

namespace {

using TokenList = std::vector<std::string_view>;

TEST(HeaderValuesTest, IsToken) {
  EXPECT_TRUE(is_token("websocket"));
  EXPECT_TRUE(is_token("permessage-deflate"));
  EXPECT_TRUE(is_token("!#$%&'*+-.^_`|~09azAZ"));
  EXPECT_FALSE(is_token(""));
  for (char c : std::string_view("\"(),/:;<=>?@[\\]{} \t\x7f\x01", 21)) {
    SCOPED_TRACE(static_cast<int>(c));
    EXPECT_FALSE(is_token(std::string("a") + c));
  }
  EXPECT_FALSE(is_token(std::string_view("a\0", 2)));
  EXPECT_FALSE(is_token("\xc3\xa9"));
}

TEST(HeaderValuesTest, Iequals) {
  EXPECT_TRUE(iequals("WebSocket", "websocket"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_TRUE(iequals("Sec-WebSocket-Key", "SEC-WEBSOCKET-KEY"));
  EXPECT_FALSE(iequals("websocket", "websockets"));
  EXPECT_FALSE(iequals("a", "b"));
  // Only ASCII letters fold: '@' (0x40) and '`' (0x60) differ by the case bit but are not letters.
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_FALSE(iequals("[", "{"));
  EXPECT_FALSE(iequals("\xc3\xa9", "\xc3\x89"));
}

TEST(HeaderValuesTest, TrimOws) {
  EXPECT_EQ(trim_ows(" \t a b \t "), "a b");
  EXPECT_EQ(trim_ows("   "), "");
  EXPECT_EQ(trim_ows(""), "");
  EXPECT_EQ(trim_ows("\r a"), "\r a");  // only SP and HTAB are OWS
}

TEST(HeaderValuesTest, ParseTokenList) {
  EXPECT_EQ(parse_token_list("Upgrade"), TokenList({"Upgrade"}));
  EXPECT_EQ(parse_token_list("keep-alive, Upgrade"), TokenList({"keep-alive", "Upgrade"}));
  EXPECT_EQ(parse_token_list(" chat ,\tsuperchat\t, v2.json "),
            TokenList({"chat", "superchat", "v2.json"}));
  EXPECT_EQ(parse_token_list(",, a ,,b,"), TokenList({"a", "b"}));
  EXPECT_EQ(parse_token_list(""), TokenList());
  EXPECT_EQ(parse_token_list(" , "), TokenList());
  EXPECT_EQ(parse_token_list("a b"), std::nullopt);
  EXPECT_EQ(parse_token_list("a, b/1"), std::nullopt);
  EXPECT_EQ(parse_token_list("a, \"b\""), std::nullopt);
  EXPECT_EQ(parse_token_list("a;q=1"), std::nullopt);
  EXPECT_EQ(parse_token_list("a,\x01"), std::nullopt);

  // Views point into the input.
  const std::string value = "x, y";
  const auto list = parse_token_list(value);
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ((*list)[1].data(), value.data() + 3);
}

TEST(HeaderValuesTest, ParseExtensionsSimple) {
  const auto list = parse_extensions("permessage-deflate");
  ASSERT_TRUE(list.has_value());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "permessage-deflate");
  EXPECT_TRUE((*list)[0].params.empty());
}

TEST(HeaderValuesTest, ParseExtensionsWithParams) {
  const auto list =
      parse_extensions("permessage-deflate; client_max_window_bits; server_max_window_bits=\"10\"");
  ASSERT_TRUE(list.has_value());
  const std::vector<Extension> expected = {
      {"permessage-deflate",
       {{"client_max_window_bits", std::nullopt}, {"server_max_window_bits", "10"}}}};
  EXPECT_EQ(*list, expected);
}

TEST(HeaderValuesTest, ParseExtensionsMultipleAndWhitespace) {
  const auto list = parse_extensions(
      " permessage-deflate ;client_max_window_bits = 15 ;  server_no_context_takeover\t,"
      "x-webkit-deflate-frame , ,foo;bar=\"b\\az\"");
  ASSERT_TRUE(list.has_value());
  const std::vector<Extension> expected = {
      {"permessage-deflate",
       {{"client_max_window_bits", "15"}, {"server_no_context_takeover", std::nullopt}}},
      {"x-webkit-deflate-frame", {}},
      {"foo", {{"bar", "baz"}}}};  // quoted-pair "\a" unescapes to "a"
  EXPECT_EQ(*list, expected);
}

TEST(HeaderValuesTest, ParseExtensionsRejectsMalformed) {
  for (std::string_view bad : {
           "",
           " ",
           ",,",
           " , ",
           "a;",
           "a; ",
           "a;b=",
           "a;b= ",
           "=x",
           "a;=x",
           ";a",
           "a b",
           "a;b c",
           "a;b=c d",
           "a;b=\"10",        // unterminated
           "a;b=\"1\\",       // escape at end
           "a;b=\"\"",        // empty value is not a token
           "a;b=\"x y\"",     // unescaped value must be a token (RFC 6455 9.1)
           "a;b=\"x\\\"y\"",  // ... even when escaped
           "a;b=\"1\"x",      // junk after the quoted-string
           "a;b=\"\x01\"",    // control character
           "a;b==c",
           "\"a\"",
           "a,b;",
           "a/1",
           "a;b=c,d;",
       }) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(parse_extensions(bad), std::nullopt);
  }
}

TEST(HeaderValuesTest, SerializeExtensions) {
  EXPECT_EQ(serialize_extensions({}), "");
  const std::vector<Extension> list = {
      {"a", {{"b", "1"}}},
      {"c", {}},
      {"permessage-deflate",
       {{"server_no_context_takeover", std::nullopt}, {"client_max_window_bits", "10"}}}};
  const std::string text = serialize_extensions(list);
  EXPECT_EQ(text,
            "a; b=1, c, permessage-deflate; server_no_context_takeover; client_max_window_bits=10");
  EXPECT_EQ(parse_extensions(text), list);

  // Values that are not tokens are quoted and escaped.
  EXPECT_EQ(serialize_extensions({{"x", {{"v", "a \"b\\"}, {"e", ""}}}}),
            "x; v=\"a \\\"b\\\\\"; e=\"\"");
}

TEST(HeaderValuesTest, ExtensionsRoundTrip) {
  for (std::string_view text : {
           "permessage-deflate; client_max_window_bits; server_max_window_bits=\"10\"",
           "a,b , c;d;e=f",
           "x;y=\"z\"",
       }) {
    SCOPED_TRACE(text);
    const auto parsed = parse_extensions(text);
    ASSERT_TRUE(parsed.has_value());
    const std::string canonical = serialize_extensions(*parsed);
    EXPECT_EQ(parse_extensions(canonical), parsed);
    EXPECT_EQ(serialize_extensions(*parse_extensions(canonical)), canonical);
  }
}

}  // namespace
}  // namespace duplex::core
