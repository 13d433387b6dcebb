#include "duplex/core/http/http_response.hpp"

#include <gtest/gtest.h>

#include <string>

namespace duplex::core {
namespace {

TEST(HttpResponseTest, ReasonPhrases) {
  EXPECT_EQ(reason_phrase(200), "OK");
  EXPECT_EQ(reason_phrase(101), "Switching Protocols");
  EXPECT_EQ(reason_phrase(204), "No Content");
  EXPECT_EQ(reason_phrase(304), "Not Modified");
  EXPECT_EQ(reason_phrase(400), "Bad Request");
  EXPECT_EQ(reason_phrase(403), "Forbidden");
  EXPECT_EQ(reason_phrase(404), "Not Found");
  EXPECT_EQ(reason_phrase(405), "Method Not Allowed");
  EXPECT_EQ(reason_phrase(413), "Content Too Large");
  EXPECT_EQ(reason_phrase(426), "Upgrade Required");
  EXPECT_EQ(reason_phrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(reason_phrase(500), "Internal Server Error");
  EXPECT_EQ(reason_phrase(503), "Service Unavailable");
  EXPECT_EQ(reason_phrase(505), "HTTP Version Not Supported");
  EXPECT_EQ(reason_phrase(299), "Unknown");
  EXPECT_EQ(reason_phrase(0), "Unknown");
  EXPECT_EQ(reason_phrase(-1), "Unknown");
}

TEST(HttpResponseTest, SerializesBodyWithHeadersInOrder) {
  std::string out = "previous;";
  HttpResponse(200)
      .header("Cache-Control", "no-store")
      .body("<h1>hi</h1>", "text/html; charset=utf-8")
      .header("X-Frame-Options", "DENY")
      .serialize(out);
  EXPECT_EQ(out,
            "previous;"
            "HTTP/1.1 200 OK\r\n"
            "Cache-Control: no-store\r\n"
            "Content-Type: text/html; charset=utf-8\r\n"
            "X-Frame-Options: DENY\r\n"
            "Content-Length: 11\r\n"
            "\r\n"
            "<h1>hi</h1>");
}

TEST(HttpResponseTest, HeadOnlyKeepsContentLength) {
  std::string out;
  HttpResponse(404).body("not here\n", "text/plain").serialize(out, /*head_only=*/true);
  EXPECT_EQ(out,
            "HTTP/1.1 404 Not Found\r\n"
            "Content-Type: text/plain\r\n"
            "Content-Length: 9\r\n"
            "\r\n");
}

TEST(HttpResponseTest, EmptyBodyHasZeroLength) {
  std::string out;
  HttpResponse(500).serialize(out);
  EXPECT_EQ(out, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
  out.clear();
  HttpResponse(999).serialize(out);
  EXPECT_EQ(out, "HTTP/1.1 999 Unknown\r\nContent-Length: 0\r\n\r\n");
}

TEST(HttpResponseTest, NoContentLengthFor101And204And304) {
  std::string out;
  HttpResponse(101).header("Upgrade", "websocket").serialize(out);
  EXPECT_EQ(out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
  out.clear();
  HttpResponse(204).serialize(out);
  EXPECT_EQ(out, "HTTP/1.1 204 No Content\r\n\r\n");
  out.clear();
  HttpResponse(304).header("ETag", "\"v1\"").body("ignored", "").serialize(out);
  EXPECT_EQ(out, "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n");
}

TEST(HttpResponseTest, SecondBodyReplacesContentType) {
  std::string out;
  HttpResponse(200)
      .body("a", "text/plain")
      .header("X", "1")
      .body("{}", "application/json")
      .serialize(out);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX: 1\r\n"
            "Content-Length: 2\r\n\r\n{}");
  out.clear();
  HttpResponse(200).body("abc", "").serialize(out);  // no Content-Type when none is given
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
}

TEST(HttpResponseTest, HeaderInjectionIsNeutralised) {
  std::string out;
  HttpResponse(200)
      .header("Location", "/a\r\nSet-Cookie: x=1")
      .header("Bad Name", "v")
      .header("", "v")
      .header("X\r\nY", "v")
      .serialize(out);
  EXPECT_EQ(out, "HTTP/1.1 200 OK\r\nLocation: /a  Set-Cookie: x=1\r\nContent-Length: 0\r\n\r\n");
}

}  // namespace
}  // namespace duplex::core
