#include "duplex/core/http/http1_parser.hpp"

#include <gtest/gtest.h>

#include <optional>
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
  std::string method, target, path, query;
  int version_minor = -1;
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<uint64_t> content_length;
  bool chunked = false;

  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{status=" << static_cast<int>(o.status) << " consumed=" << o.consumed
            << " error=" << o.error_status << " '" << o.error_reason << "' " << o.method << " "
            << o.target << " headers=" << o.headers.size() << "}";
}

Outcome snapshot(const HttpParseResult& r, const HttpRequest& req) {
  Outcome o;
  o.status = r.status;
  o.consumed = r.consumed;
  o.error_status = r.error_status;
  o.error_reason = std::string(r.error_reason);
  if (r.status == HttpParseStatus::complete) {
    o.method = std::string(req.method);
    o.target = std::string(req.target);
    o.path = std::string(req.path);
    o.query = std::string(req.query);
    o.version_minor = req.version_minor;
    for (const HttpHeader& h : req.headers) o.headers.emplace_back(h.name, h.value);
    o.content_length = req.content_length;
    o.chunked = req.chunked;
  }
  return o;
}

Outcome parse_fresh(std::string_view data, HttpParseLimits limits) {
  Http1RequestParser parser(limits);
  HttpRequest req;
  const HttpParseResult r = parser.parse(data, req);
  return snapshot(r, req);
}

// Parses `data` whole, and again feeding the growing prefixes 1..n to one parser (each prefix in
// a freshly allocated buffer, as a reallocating receive buffer would be). At every prefix the
// incremental result must equal a fresh parse of that prefix; returns the whole-buffer result.
Outcome parse_all_ways(std::string_view data, HttpParseLimits limits = {}) {
  const Outcome whole = parse_fresh(data, limits);
  Http1RequestParser parser(limits);
  HttpRequest req;
  for (size_t n = 1; n <= data.size(); ++n) {
    const std::string prefix(data.substr(0, n));
    const Outcome incremental = snapshot(parser.parse(prefix, req), req);
    const Outcome fresh = parse_fresh(prefix, limits);
    if (incremental != fresh) {
      ADD_FAILURE() << "prefix " << n << ": incremental " << incremental << " != fresh " << fresh;
      break;
    }
  }
  return whole;
}

Outcome expect_complete(std::string_view data, HttpParseLimits limits = {}) {
  const Outcome o = parse_all_ways(data, limits);
  EXPECT_EQ(o.status, HttpParseStatus::complete) << o;
  return o;
}

void expect_error(std::string_view data, int status, std::string_view reason,
                  HttpParseLimits limits = {}) {
  const Outcome o = parse_all_ways(data, limits);
  EXPECT_EQ(o.status, HttpParseStatus::error) << o;
  EXPECT_EQ(o.error_status, status) << o;
  EXPECT_EQ(o.error_reason, reason) << o;
  EXPECT_EQ(o.consumed, 0u);
}

TEST(Http1ParserTest, ParsesSimpleRequest) {
  const std::string data =
      "GET /chat?room=1&x HTTP/1.1\r\n"
      "Host: server.example.com\r\n"
      "Upgrade:websocket\r\n"
      "X-Spaces: \t  a  b \t \r\n"
      "X-Empty:\r\n"
      "X-Blank:   \r\n"
      "\r\n";
  const Outcome o = expect_complete(data);
  EXPECT_EQ(o.consumed, data.size());
  EXPECT_EQ(o.method, "GET");
  EXPECT_EQ(o.target, "/chat?room=1&x");
  EXPECT_EQ(o.path, "/chat");
  EXPECT_EQ(o.query, "room=1&x");
  EXPECT_EQ(o.version_minor, 1);
  const std::vector<std::pair<std::string, std::string>> headers = {{"Host", "server.example.com"},
                                                                    {"Upgrade", "websocket"},
                                                                    {"X-Spaces", "a  b"},
                                                                    {"X-Empty", ""},
                                                                    {"X-Blank", ""}};
  EXPECT_EQ(o.headers, headers);
  EXPECT_FALSE(o.content_length.has_value());
  EXPECT_FALSE(o.chunked);
}

TEST(Http1ParserTest, PathAndQuery) {
  EXPECT_EQ(expect_complete("GET / HTTP/1.1\r\nHost: a\r\n\r\n").query, "");
  const Outcome empty_query = expect_complete("GET /a? HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(empty_query.path, "/a");
  EXPECT_EQ(empty_query.query, "");
  const Outcome two = expect_complete("GET /a?b?c HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(two.path, "/a");
  EXPECT_EQ(two.query, "b?c");
  const Outcome star = expect_complete("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(star.method, "OPTIONS");
  EXPECT_EQ(star.path, "*");
  const Outcome absolute = expect_complete("GET http://a/b?c HTTP/1.1\r\nHost: a\r\n\r\n");
  EXPECT_EQ(absolute.target, "http://a/b?c");
  EXPECT_EQ(absolute.query, "c");
}

TEST(Http1ParserTest, Http10WithoutHost) {
  const Outcome o = expect_complete("GET /index.html HTTP/1.0\r\n\r\n");
  EXPECT_EQ(o.version_minor, 0);
  EXPECT_TRUE(o.headers.empty());
  EXPECT_EQ(o.consumed, 28u);
}

TEST(Http1ParserTest, SkipsLeadingEmptyLines) {
  const std::string data = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
  const Outcome o = expect_complete(data);
  EXPECT_EQ(o.method, "GET");
  EXPECT_EQ(o.consumed, data.size());
  expect_error("\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "bare LF in request head");
}

TEST(Http1ParserTest, RealisticBrowserRequest) {
  const std::string data =
      "GET /chat HTTP/1.1\r\n"
      "Host: localhost:8080\r\n"
      "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
      "Accept: */*\r\n"
      "Accept-Language: en-US,en;q=0.5\r\n"
      "Accept-Encoding: gzip, deflate, br, zstd\r\n"
      "Sec-WebSocket-Version: 13\r\n"
      "Origin: http://localhost:8080\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Connection: keep-alive, Upgrade\r\n"
      "Cookie: a=\"b c\"; d=\xc3\xa9\r\n"
      "Pragma: no-cache\r\n"
      "Cache-Control: no-cache\r\n"
      "Upgrade: websocket\r\n"
      "\r\n";
  const Outcome o = expect_complete(data);
  EXPECT_EQ(o.headers.size(), 14u);
  EXPECT_EQ(o.headers[10].second, "a=\"b c\"; d=\xc3\xa9");  // obs-text is allowed in values
  EXPECT_EQ(o.consumed, data.size());
}

TEST(Http1ParserTest, StopsAtEndOfHeadLeavingFrameBytes) {
  const std::string head = "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n";
  const std::string data = head + "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"s;
  const Outcome o = expect_complete(data);
  EXPECT_EQ(o.consumed, head.size());
}

TEST(Http1ParserTest, PipelinedRequests) {
  const std::string first = "GET /one HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string second = "POST /two HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
  const std::string body = "hello";
  const std::string third = "HEAD /three HTTP/1.1\r\nHost: a\r\n\r\n";
  const std::string data = first + second + body + third;

  Http1RequestParser parser;
  HttpRequest req;
  std::string_view rest = data;

  HttpParseResult r = parser.parse(rest, req);
  ASSERT_EQ(r.status, HttpParseStatus::complete);
  EXPECT_EQ(r.consumed, first.size());
  EXPECT_EQ(req.target, "/one");
  rest.remove_prefix(r.consumed);

  parser.reset();
  r = parser.parse(rest, req);
  ASSERT_EQ(r.status, HttpParseStatus::complete);
  EXPECT_EQ(r.consumed, second.size());
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.content_length, 5u);
  rest.remove_prefix(r.consumed + *req.content_length);

  parser.reset();
  r = parser.parse(rest, req);
  ASSERT_EQ(r.status, HttpParseStatus::complete);
  EXPECT_EQ(r.consumed, third.size());
  EXPECT_EQ(req.method, "HEAD");
  EXPECT_EQ(req.target, "/three");
  EXPECT_FALSE(req.content_length.has_value());
  EXPECT_EQ(rest.size(), third.size());

  // Each request on its own, split at every byte, gives the same results.
  EXPECT_EQ(expect_complete(data).consumed, first.size());
  EXPECT_EQ(expect_complete(second + body + third).consumed, second.size());
}

TEST(Http1ParserTest, ResultIsStickyAndViewsFollowTheLatestBuffer) {
  Http1RequestParser parser;
  HttpRequest req;
  const std::string data = "GET /x HTTP/1.1\r\nHost: a\r\n\r\nNEXT";
  std::string first(data.substr(0, 20));
  EXPECT_EQ(parser.parse(first, req).status, HttpParseStatus::need_more);

  const std::string second = data;  // a different allocation, as after a buffer reallocation
  HttpParseResult r = parser.parse(second, req);
  ASSERT_EQ(r.status, HttpParseStatus::complete);
  EXPECT_EQ(req.target, "/x");
  EXPECT_GE(req.target.data(), second.data());
  EXPECT_LT(req.target.data(), second.data() + second.size());

  const std::string third = data + "MORE";
  r = parser.parse(third, req);
  ASSERT_EQ(r.status, HttpParseStatus::complete);
  EXPECT_EQ(r.consumed, data.size() - 4);
  EXPECT_EQ(req.headers.at(0).value.data(), third.data() + 23);

  Http1RequestParser failing;
  EXPECT_EQ(failing.parse("BAD\r\n", req).error_status, 400);
  const HttpParseResult again = failing.parse("BAD\r\nGET / HTTP/1.1\r\n\r\n", req);
  EXPECT_EQ(again.status, HttpParseStatus::error);
  EXPECT_EQ(again.error_reason, "malformed request line");
  failing.reset();
  EXPECT_EQ(failing.parse("GET / HTTP/1.1\r\nHost: a\r\n\r\n", req).status,
            HttpParseStatus::complete);
}

TEST(Http1ParserTest, NeedMoreUntilTerminator) {
  Http1RequestParser parser;
  HttpRequest req;
  EXPECT_EQ(parser.parse("", req).status, HttpParseStatus::need_more);
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nHost: a\r\n", req).status, HttpParseStatus::need_more);
  EXPECT_EQ(parser.parse("GET / HTTP/1.1\r\nHost: a\r\n\r", req).status,
            HttpParseStatus::need_more);
  EXPECT_TRUE(req.method.empty());  // untouched until complete
}

TEST(Http1ParserTest, HeaderLookups) {
  Http1RequestParser parser;
  HttpRequest req;
  const std::string data =
      "GET / HTTP/1.1\r\n"
      "Host: a\r\n"
      "connection: keep-alive, Upgrade\r\n"
      "X-Dup: one\r\n"
      "x-dup: two\r\n"
      "Upgrade: h2c\r\n"
      "UPGRADE: foo ,, WebSocket ,\r\n"
      "X-List: upgrade2, notupgrade\r\n"
      "\r\n";
  ASSERT_EQ(parser.parse(data, req).status, HttpParseStatus::complete);
  EXPECT_EQ(req.header("X-DUP"), "one");
  EXPECT_EQ(req.header_count("x-dup"), 2u);
  EXPECT_EQ(req.header_count("missing"), 0u);
  EXPECT_FALSE(req.header("missing").has_value());
  EXPECT_TRUE(req.has_token("Connection", "upgrade"));
  EXPECT_TRUE(req.has_token("Connection", "KEEP-ALIVE"));
  EXPECT_TRUE(req.has_token("upgrade", "websocket"));  // found in the second instance
  EXPECT_FALSE(req.has_token("X-List", "upgrade"));    // whole elements only
  EXPECT_FALSE(req.has_token("Missing", "upgrade"));
  EXPECT_FALSE(req.has_token("Connection", ""));
}

TEST(Http1ParserTest, ContentLength) {
  EXPECT_EQ(
      expect_complete("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n").content_length,
      42u);
  EXPECT_EQ(
      expect_complete("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n").content_length,
      0u);
  EXPECT_EQ(expect_complete("POST / HTTP/1.1\r\nHost: a\r\ncontent-length: 7\r\n"
                            "Content-Length:7 \r\n\r\n")
                .content_length,
            7u);
  EXPECT_EQ(expect_complete("POST / HTTP/1.1\r\nHost: a\r\n"
                            "Content-Length: 18446744073709551615\r\n\r\n")
                .content_length,
            UINT64_MAX);
  for (const char* bad : {"", "4 2", "+4", "-1", "0x10", "1,1", "1, 1", "4a",
                          "18446744073709551616", "99999999999999999999999"}) {
    SCOPED_TRACE(bad);
    expect_error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: "s + bad + "\r\n\r\n", 400,
                 "invalid Content-Length");
  }
  expect_error("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\n", 400,
               "conflicting Content-Length values");
}

TEST(Http1ParserTest, TransferEncoding) {
  const Outcome chunked =
      expect_complete("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n");
  EXPECT_TRUE(chunked.chunked);
  EXPECT_FALSE(chunked.content_length.has_value());
  EXPECT_TRUE(
      expect_complete("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n")
          .chunked);
  EXPECT_TRUE(expect_complete("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n")
                  .chunked);

  expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 400,
               "Transfer-Encoding does not end in chunked");
  expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400,
               "Transfer-Encoding does not end in chunked");
  expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:\r\n\r\n", 400,
               "Transfer-Encoding does not end in chunked");
  expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400,
               "invalid Transfer-Encoding");
  expect_error("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chu(nked\r\n\r\n", 400,
               "invalid Transfer-Encoding");
  expect_error(
      "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
      "both Content-Length and Transfer-Encoding");
  expect_error(
      "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nHost: a\r\nContent-Length: 3\r\n\r\n", 400,
      "both Content-Length and Transfer-Encoding");
  expect_error("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
               "Transfer-Encoding in an HTTP/1.0 request");
}

TEST(Http1ParserTest, HostRules) {
  expect_error("GET / HTTP/1.1\r\n\r\n", 400, "missing Host header");
  expect_error("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400, "repeated Host header");
  expect_error("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", 400, "repeated Host header");
  EXPECT_EQ(expect_complete("GET / HTTP/1.1\r\nHost:\r\n\r\n").headers.at(0).second, "");
}

struct ErrorCase {
  std::string data;
  int status;
  std::string_view reason;
};

TEST(Http1ParserTest, RequestLineErrors) {
  const std::string tail = "\r\nHost: a\r\n\r\n";
  const std::vector<ErrorCase> cases = {
      {"GET" + tail, 400, "malformed request line"},
      {"GET /" + tail, 400, "malformed request line"},  // HTTP/0.9
      {"GET  / HTTP/1.1" + tail, 400, "malformed request line"},
      {"GET / HTTP/1.1" + tail.substr(0, 2) + "\r\n", 400, "missing Host header"},
      {" GET / HTTP/1.1" + tail, 400, "invalid request method"},
      {"G@T / HTTP/1.1" + tail, 400, "invalid request method"},
      {"GET\t/ HTTP/1.1" + tail, 400, "invalid request method"},
      {"GET /a\x01 HTTP/1.1" + tail, 400, "invalid request target"},
      {"GET /a\x7f HTTP/1.1" + tail, 400, "invalid request target"},
      {"GET /\xc3\xa9 HTTP/1.1" + tail, 400, "invalid request target"},
      {"GET /a\tb HTTP/1.1" + tail, 400, "invalid request target"},
      {"GET /\0 HTTP/1.1"s + tail, 400, "invalid request target"},
      {"GET / a HTTP/1.1" + tail, 400, "malformed HTTP version"},
      {"GET / HTTP/1.1 " + tail, 400, "malformed HTTP version"},
      {"GET / http/1.1" + tail, 400, "malformed HTTP version"},
      {"GET / HTTP/1.1x" + tail, 400, "malformed HTTP version"},
      {"GET / HTTP/11.1" + tail, 400, "malformed HTTP version"},
      {"GET / HTTP/1" + tail, 400, "malformed HTTP version"},
      {"GET / HTTP/a.b" + tail, 400, "malformed HTTP version"},
      {"GET / " + tail, 400, "malformed HTTP version"},
      {"GET / HTTP/2.0" + tail, 505, "unsupported HTTP version"},
      {"GET / HTTP/1.2" + tail, 505, "unsupported HTTP version"},
      {"GET / HTTP/0.9" + tail, 505, "unsupported HTTP version"},
      {"GET / HTTP/3.0" + tail, 505, "unsupported HTTP version"},
      {"GET / HTTP/1.1\nHost: a\r\n\r\n", 400, "bare LF in request head"},
      {"GET / HTTP/1.1\r\r\nHost: a\r\n\r\n", 400, "bare CR in request head"},
      {"GET /\r HTTP/1.1" + tail, 400, "bare CR in request head"},
      {"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n"s, 400, "bare LF in request head"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.data);
    expect_error(c.data, c.status, c.reason);
  }
}

TEST(Http1ParserTest, HeaderLineErrors) {
  const std::string start = "GET / HTTP/1.1\r\nHost: a\r\n";
  const std::vector<ErrorCase> cases = {
      {start + " X: y\r\n\r\n", 400, "obsolete line folding is not allowed"},
      {start + "X: y\r\n continued\r\n\r\n", 400, "obsolete line folding is not allowed"},
      {start + "X: y\r\n\tcontinued\r\n\r\n", 400, "obsolete line folding is not allowed"},
      {"GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400, "obsolete line folding is not allowed"},
      {start + "X y\r\n\r\n", 400, "malformed header line"},
      {start + "X\r\n\r\n", 400, "malformed header line"},
      {start + ": y\r\n\r\n", 400, "empty header name"},
      {start + ":\r\n\r\n", 400, "empty header name"},
      {start + "X : y\r\n\r\n", 400, "whitespace before colon in header"},
      {start + "X\t: y\r\n\r\n", 400, "whitespace before colon in header"},
      {start + "X(y): z\r\n\r\n", 400, "invalid header name"},
      {start + "X Y: z\r\n\r\n", 400, "invalid header name"},
      {start + "\xc3\xa9: z\r\n\r\n", 400, "invalid header name"},
      {start + "X: a\x01"
               "b\r\n\r\n",
       400, "control character in header value"},
      {start + "X: a\x7f\r\n\r\n", 400, "control character in header value"},
      {start + "X: a\0b\r\n\r\n"s, 400, "control character in header value"},
      {start + "X: \x1b[0m\r\n\r\n", 400, "control character in header value"},
      {start + "X: a\rb\r\n\r\n", 400, "bare CR in request head"},
      {start + "X: a\n\r\n", 400, "bare LF in request head"},
      {start + "\n", 400, "bare LF in request head"},
      {start + "\r\r\n", 400, "bare CR in request head"},
  };
  for (const ErrorCase& c : cases) {
    SCOPED_TRACE(c.data);
    expect_error(c.data, c.status, c.reason);
  }
}

TEST(Http1ParserTest, FirstErrorInByteOrderWins) {
  // A bad line early decides the outcome even when a later line is also bad or the head is huge.
  expect_error("GET / HTTP/1.1\r\nX y\r\nG@T: z\r\n\r\n", 400, "malformed header line");
  expect_error("GET / HTTP/1.1\r\nX y\r\n" + std::string(200, 'a'), 400, "malformed header line",
               {.max_header_bytes = 64});
  expect_error("GET / HTTP/2.0\r\n" + std::string(200, 'a'), 505, "unsupported HTTP version",
               {.max_header_bytes = 64});
}

TEST(Http1ParserTest, HeadSizeLimit) {
  const HttpParseLimits limits{.max_header_bytes = 64, .max_headers = 100};
  const std::string start = "GET / HTTP/1.1\r\nHost: a\r\nX: ";
  const std::string end = "\r\n\r\n";
  const std::string exact = start + std::string(64 - start.size() - end.size(), 'v') + end;
  ASSERT_EQ(exact.size(), 64u);
  EXPECT_EQ(expect_complete(exact, limits).consumed, 64u);

  const std::string over = start + std::string(65 - start.size() - end.size(), 'v') + end;
  expect_error(over, 431, "request head too large", limits);

  // Rejected before any terminator arrives, as soon as the limit is reached without a line
  // end (the head can then no longer end within it): at 64 bytes, not at 65, so that a result
  // is the same whatever follows (the fuzzer found the difference).
  const std::string endless = start + std::string(100, 'v');
  expect_error(endless, 431, "request head too large", limits);
  EXPECT_EQ(parse_fresh(endless.substr(0, 63), limits).status, HttpParseStatus::need_more);
  EXPECT_EQ(parse_fresh(endless.substr(0, 64), limits).error_status, 431);

  // Leading empty lines count towards the limit.
  expect_error("\r\n\r\n" + exact, 431, "request head too large", limits);

  // The default limit is 8 KiB.
  const std::string big = "GET / HTTP/1.1\r\nHost: a\r\nX: " + std::string(8200, 'v') + "\r\n\r\n";
  const Outcome o = parse_fresh(big, {});
  EXPECT_EQ(o.error_status, 431);
  EXPECT_EQ(o.error_reason, "request head too large");
}

TEST(Http1ParserTest, HeaderCountLimit) {
  const HttpParseLimits limits{.max_header_bytes = 8192, .max_headers = 3};
  const std::string three = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n";
  EXPECT_EQ(expect_complete(three, limits).headers.size(), 3u);
  expect_error("GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", 431, "too many headers",
               limits);

  std::string many = "GET / HTTP/1.1\r\nHost: a\r\n";
  for (int i = 0; i < 100; ++i) many += "X: y\r\n";
  many += "\r\n";
  const Outcome o = parse_fresh(many, {});
  EXPECT_EQ(o.error_status, 431);
  EXPECT_EQ(o.error_reason, "too many headers");
}

}  // namespace
}  // namespace duplex::core
