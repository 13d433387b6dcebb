#include "duplex/core/http/http1_response_parser.hpp"

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace duplex::core {
namespace {

using namespace std::string_literals;

// Everything observable about one parse, copied out so results from different buffers compare.
struct Outcome {
  HttpParseStatus status = HttpParseStatus::need_more;
  size_t consumed = 0;
  int error_status = 0;
  std::string error_reason;
  int version_minor = -1;
  int code = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;

  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{status=" << static_cast<int>(o.status) << " consumed=" << o.consumed << " '"
            << o.error_reason << "' " << o.code << " " << o.reason
            << " headers=" << o.headers.size() << "}";
}

Outcome snapshot(const HttpParseResult& r, const HttpResponseHead& head) {
  Outcome o;
  o.status = r.status;
  o.consumed = r.consumed;
  o.error_status = r.error_status;
  o.error_reason = std::string(r.error_reason);
  if (r.status == HttpParseStatus::complete) {
    o.version_minor = head.version_minor;
    o.code = head.status;
    o.reason = std::string(head.reason);
    for (const HttpHeader& h : head.headers) o.headers.emplace_back(h.name, h.value);
  }
  return o;
}

Outcome parse_fresh(std::string_view data, HttpParseLimits limits) {
  Http1ResponseParser parser(limits);
  HttpResponseHead head;
  return snapshot(parser.parse(data, head), head);
}

// Parses `data` whole, and again feeding the growing prefixes 1..n to one parser (each prefix in
// a freshly allocated buffer, as a reallocating receive buffer would be). At every prefix the
// incremental result must equal a fresh parse of that prefix; returns the whole-buffer result.
Outcome parse_all_ways(std::string_view data, HttpParseLimits limits = {}) {
  const Outcome whole = parse_fresh(data, limits);
  Http1ResponseParser parser(limits);
  HttpResponseHead head;
  for (size_t n = 1; n <= data.size(); ++n) {
    const std::string prefix(data.substr(0, n));
    const Outcome incremental = snapshot(parser.parse(prefix, head), head);
    const Outcome fresh = parse_fresh(prefix, limits);
    if (incremental != fresh) {
      ADD_FAILURE() << "prefix " << n << ": incremental " << incremental << " != fresh " << fresh;
      break;
    }
  }
  return whole;
}

Outcome error(std::string reason) {
  Outcome o;
  o.status = HttpParseStatus::error;
  o.error_reason = std::move(reason);
  return o;
}

constexpr std::string_view kUpgrade =
    "HTTP/1.1 101 Switching Protocols\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
    "\r\n";

TEST(HttpResponseParserTest, ParsesAnUpgradeResponse) {
  const Outcome o = parse_all_ways(kUpgrade);
  EXPECT_EQ(o.status, HttpParseStatus::complete);
  EXPECT_EQ(o.consumed, kUpgrade.size());
  EXPECT_EQ(o.error_status, 0);
  EXPECT_EQ(o.version_minor, 1);
  EXPECT_EQ(o.code, 101);
  EXPECT_EQ(o.reason, "Switching Protocols");
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"Upgrade", "websocket"},
      {"Connection", "Upgrade"},
      {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
  };
  EXPECT_EQ(o.headers, headers);
}

TEST(HttpResponseParserTest, LeavesWhatFollowsTheHead) {
  // A server may send its first frames in the same segment as the 101.
  const std::string data = std::string(kUpgrade) + "\x81\x02hi" + "HTTP/1.1 200 OK\r\n\r\n";
  const Outcome o = parse_all_ways(data);
  EXPECT_EQ(o.status, HttpParseStatus::complete);
  EXPECT_EQ(o.consumed, kUpgrade.size());
}

TEST(HttpResponseParserTest, NeedsMoreUntilTheEmptyLine) {
  for (size_t n = 0; n < kUpgrade.size(); ++n) {
    SCOPED_TRACE(n);
    EXPECT_EQ(parse_fresh(kUpgrade.substr(0, n), {}).status, HttpParseStatus::need_more);
  }
}

TEST(HttpResponseParserTest, AcceptsStatusLineVariants) {
  struct Case {
    std::string line;
    int version_minor;
    int code;
    std::string reason;
  };
  const Case cases[] = {
      {"HTTP/1.1 200 OK", 1, 200, "OK"},
      {"HTTP/1.0 404 Not Found", 0, 404, "Not Found"},
      {"HTTP/1.1 101", 1, 101, ""},   // no reason and no space: common in the wild
      {"HTTP/1.1 101 ", 1, 101, ""},  // the grammar's form of an empty reason
      {"HTTP/1.1 100 Continue", 1, 100, "Continue"},
      {"HTTP/1.1 599 x", 1, 599, "x"},
      {"HTTP/1.1 302 Found  it\there", 1, 302, "Found  it\there"},
      {"HTTP/1.1 200 \xC3\x84rger", 1, 200, "\xC3\x84rger"},  // obs-text is allowed
      {"HTTP/1.1 200 not:a header", 1, 200, "not:a header"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.line);
    const Outcome o = parse_all_ways(c.line + "\r\nA: b\r\n\r\n");
    ASSERT_EQ(o.status, HttpParseStatus::complete) << o;
    EXPECT_EQ(o.version_minor, c.version_minor);
    EXPECT_EQ(o.code, c.code);
    EXPECT_EQ(o.reason, c.reason);
    EXPECT_EQ(o.headers.size(), 1u);
  }
}

TEST(HttpResponseParserTest, RejectsMalformedStatusLines) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "malformed status line"},  // no leading empty lines before a response
      {"HTTP/1.1", "malformed status line"},
      {"HTTP/1.1 ", "malformed status line"},
      {"HTTP/1.1 10", "malformed status line"},
      {"HTTP/1.1 10 x", "malformed status line"},
      {"HTTP/1.1 1010 x", "malformed status line"},
      {"HTTP/1.1  101 x", "malformed status line"},
      {"HTTP/1.1 abc OK", "malformed status line"},
      {"HTTP/1.1 1a1 OK", "malformed status line"},
      {"HTTP/1.1\t101 OK", "malformed status line"},
      {"http/1.1 101 OK", "malformed status line"},
      {"HTTP/1.10 101 OK", "malformed status line"},
      {"ICY 200 OK", "malformed status line"},
      {"HTTP/2.0 101 OK", "unsupported HTTP version"},
      {"HTTP/0.9 200 OK", "unsupported HTTP version"},
      {"HTTP/1.1 099 Low", "invalid status code"},
      {"HTTP/1.1 000 Zero", "invalid status code"},
      {"HTTP/1.1 600 High", "invalid status code"},
      {"HTTP/1.1 200 O\x01K", "control character in reason phrase"},
      {"HTTP/1.1 200 OK\x7F", "control character in reason phrase"},
      {"HTTP/1.1 200 O\0K"s, "control character in reason phrase"},
  };
  for (const auto& [line, reason] : cases) {
    SCOPED_TRACE(line);
    EXPECT_EQ(parse_all_ways(line + "\r\nA: b\r\n\r\n"), error(reason));
  }
}

TEST(HttpResponseParserTest, RejectsMalformedHeaderLines) {
  const std::pair<std::string, std::string> cases[] = {
      {" folded: value", "obsolete line folding is not allowed"},
      {"\tfolded: value", "obsolete line folding is not allowed"},
      {"no colon here", "malformed header line"},
      {": empty name", "empty header name"},
      {"Name : value", "whitespace before colon in header"},
      {"Name\t: value", "whitespace before colon in header"},
      {"Na me: value", "invalid header name"},
      {"N\xC3\xA4me: value", "invalid header name"},
      {"Name: va\x01lue", "control character in header value"},
      {"Name: va\0lue"s, "control character in header value"},
      {"Name: value\x7F", "control character in header value"},
  };
  for (const auto& [line, reason] : cases) {
    SCOPED_TRACE(line);
    EXPECT_EQ(parse_all_ways("HTTP/1.1 200 OK\r\nA: b\r\n" + line + "\r\n\r\n"), error(reason));
  }
}

TEST(HttpResponseParserTest, RejectsBareLineEndings) {
  EXPECT_EQ(parse_all_ways("HTTP/1.1 200 OK\nA: b\r\n\r\n"), error("bare LF in response head"));
  EXPECT_EQ(parse_all_ways("HTTP/1.1 200 OK\r\nA: b\n\r\n"), error("bare LF in response head"));
  EXPECT_EQ(parse_all_ways("HTTP/1.1 200 OK\r\nA: b\r\n\n"), error("bare LF in response head"));
  EXPECT_EQ(parse_all_ways("\nHTTP/1.1 200 OK\r\n\r\n"), error("bare LF in response head"));
  EXPECT_EQ(parse_all_ways("HTTP/1.1 200 OK\r\nA: b\rc\r\n\r\n"),
            error("bare CR in response head"));
  EXPECT_EQ(parse_all_ways("HTTP/1.1 200\rOK\r\n\r\n"), error("bare CR in response head"));
}

TEST(HttpResponseParserTest, KeepsHeadersInOrderWithTrimmedValues) {
  const Outcome o = parse_all_ways(
      "HTTP/1.1 200 OK\r\n"
      "Set-Cookie: a=1\r\n"
      "X-Empty:\r\n"
      "X-Spaces: \t spaced out \t\r\n"
      "set-cookie:b=2\r\n"
      "\r\n");
  ASSERT_EQ(o.status, HttpParseStatus::complete);
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"Set-Cookie", "a=1"},
      {"X-Empty", ""},
      {"X-Spaces", "spaced out"},
      {"set-cookie", "b=2"},
  };
  EXPECT_EQ(o.headers, headers);
}

TEST(HttpResponseParserTest, LooksHeadersUp) {
  const std::string data =
      "HTTP/1.1 101 Switching Protocols\r\n"
      "connection: keep-alive, UPGRADE\r\n"
      "Upgrade: h2c\r\n"
      "UPGRADE: ,WebSocket ,\r\n"
      "X-List: a b, c\r\n"
      "\r\n";
  Http1ResponseParser parser;
  HttpResponseHead head;
  ASSERT_EQ(parser.parse(data, head).status, HttpParseStatus::complete);
  EXPECT_EQ(head.header("Upgrade"), "h2c");
  EXPECT_EQ(head.header("upgrade"), "h2c");
  EXPECT_EQ(head.header("Missing"), std::nullopt);
  EXPECT_EQ(head.header_count("UPGRADE"), 2u);
  EXPECT_EQ(head.header_count("Missing"), 0u);
  EXPECT_TRUE(head.has_token("Connection", "upgrade"));
  EXPECT_TRUE(head.has_token("Upgrade", "websocket"));
  EXPECT_TRUE(head.has_token("X-List", "c"));  // a non-token element does not hide the others
  EXPECT_TRUE(head.has_token("X-List", "a b"));
  EXPECT_FALSE(head.has_token("Connection", "keep"));
  EXPECT_FALSE(head.has_token("Missing", "x"));
}

TEST(HttpResponseParserTest, EnforcesLimits) {
  const HttpParseLimits limits{.max_header_bytes = 64, .max_headers = 2};
  // Exactly 64 bytes fits; one more does not, wherever the input is split.
  const std::string head64 = "HTTP/1.1 200 OK\r\nA: " + std::string(40, 'x') + "\r\n\r\n";
  ASSERT_EQ(head64.size(), 64u);
  const Outcome fits = parse_all_ways(head64, limits);
  EXPECT_EQ(fits.status, HttpParseStatus::complete);
  EXPECT_EQ(fits.consumed, 64u);
  const std::string head65 = "HTTP/1.1 200 OK\r\nA: " + std::string(41, 'x') + "\r\n\r\n";
  EXPECT_EQ(parse_all_ways(head65, limits), error("response head too large"));
  // A head that fits is complete even when more bytes follow it.
  EXPECT_EQ(parse_all_ways(head64 + std::string(100, 'y'), limits).consumed, 64u);
  // A long first line fails as soon as the limit is passed, without waiting for its end.
  EXPECT_EQ(parse_fresh("HTTP/1.1 200 " + std::string(60, 'x'), limits),
            error("response head too large"));

  EXPECT_EQ(parse_all_ways("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n", limits).status,
            HttpParseStatus::complete);
  EXPECT_EQ(parse_all_ways("HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits),
            error("too many headers"));
}

TEST(HttpResponseParserTest, ResultIsFinalUntilReset) {
  Http1ResponseParser parser;
  HttpResponseHead head;
  const std::string first = "HTTP/1.1 200 OK\r\n\r\n";
  const std::string data = first + std::string(kUpgrade);
  const HttpParseResult r1 = parser.parse(data, head);
  ASSERT_EQ(r1.status, HttpParseStatus::complete);
  EXPECT_EQ(r1.consumed, first.size());
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.headers.empty());
  // Calling again, even with more data, gives the same result.
  EXPECT_EQ(parser.parse(data + "more", head).consumed, first.size());

  parser.reset();
  const std::string_view rest = std::string_view(data).substr(r1.consumed);
  const HttpParseResult r2 = parser.parse(rest, head);
  ASSERT_EQ(r2.status, HttpParseStatus::complete);
  EXPECT_EQ(r2.consumed, kUpgrade.size());
  EXPECT_EQ(head.status, 101);
  EXPECT_EQ(head.headers.size(), 3u);

  Http1ResponseParser failing;
  EXPECT_EQ(failing.parse("nonsense\r\n", head).status, HttpParseStatus::error);
  EXPECT_EQ(failing.parse(kUpgrade, head).error_reason, "malformed status line");
  EXPECT_EQ(head.status, 101);  // untouched by the failed parse
  failing.reset();
  EXPECT_EQ(failing.parse(kUpgrade, head).status, HttpParseStatus::complete);
}

}  // namespace
}  // namespace duplex::core
