// SockJS routes (core/sockjs/route.hpp): every path of sockjs-protocol-0.3.3.py's tests, valid
// and invalid, and what the reference (Node's sockjs 0.3.24, its routing regular expressions and
// its 405 answers read with curl) does beyond them.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "duplex/core/sockjs/route.hpp"

namespace duplex::core::sockjs {
namespace {

constexpr Transport kTransports[] = {
    Transport::websocket,   Transport::xhr,      Transport::xhr_send, Transport::xhr_streaming,
    Transport::eventsource, Transport::htmlfile, Transport::jsonp,    Transport::jsonp_send};

RouteKind kind_of(std::string_view rest) { return parse_route(rest).kind; }

TEST(SockJsRoute, Greeting) {
  // sockjs-protocol BaseUrlGreeting: base_url and base_url + '/'.
  EXPECT_EQ(kind_of(""), RouteKind::greeting);
  EXPECT_EQ(kind_of("/"), RouteKind::greeting);
  // test_notFound
  for (const char* rest : {"/a", "/a.html", "//", "///", "/a/a", "/a/a/", "/a/"}) {
    EXPECT_EQ(kind_of(rest), RouteKind::not_found) << rest;
  }
}

TEST(SockJsRoute, Iframe) {
  // sockjs-protocol IframePage: test_simpleUrl, test_versionedUrl (test_queriedUrl's are the
  // same paths, the query being the caller's).
  for (const char* rest : {"/iframe.html", "/iframe-a.html", "/iframe-.html", "/iframe-0.1.2.html",
                           "/iframe-0.1.2abc-dirty.2144.html"}) {
    EXPECT_EQ(kind_of(rest), RouteKind::iframe) << rest;
  }
  // test_invalidUrl
  for (const char* rest : {"/iframe.htm", "/iframe", "/IFRAME.HTML", "/IFRAME", "/iframe.HTML",
                           "/iframe.xml", "/iframe-/.html"}) {
    EXPECT_EQ(kind_of(rest), RouteKind::not_found) << rest;
  }
  // reference: /iframe[0-9-.a-z_]*.html[/]? with '.' any character.
  for (const char* rest :
       {"/iframe.html/", "/iframe_html", "/iframexhtml", "/iframeAhtml", "/iframe/html",
        "/iframe/html/", "/iframe..html", "/iframe!html", "/iframe-9-_.x.html", "/iframe~html"}) {
    EXPECT_EQ(kind_of(rest), RouteKind::iframe) << rest;
  }
  for (const char* rest :
       {"/iframe.html//", "/iframehtml", "/iframe-A.html", "/iframe-!.html", "/iframe~.html",
        "/iframe\nhtml", "/iframe\rhtml", "/iframe html", "/iframe\xC3\xA9html", "/iframe\xE9html",
        "/xiframe.html", "/iframe.html.html/x", "iframe.html", "/iframe.htmlx"}) {
    EXPECT_EQ(kind_of(rest), RouteKind::not_found) << rest;
  }
}

TEST(SockJsRoute, InfoAndRawWebSocket) {
  EXPECT_EQ(kind_of("/info"), RouteKind::info);
  EXPECT_EQ(kind_of("/info/"), RouteKind::info);
  EXPECT_EQ(kind_of("/websocket"), RouteKind::raw_websocket);
  EXPECT_EQ(kind_of("/websocket/"), RouteKind::raw_websocket);
  for (const char* rest : {"/info//", "/Info", "/info.json", "/infox", "/websocket//",
                           "/websockets", "/WebSocket", "info", "/chunking_test"}) {
    EXPECT_EQ(kind_of(rest), RouteKind::not_found) << rest;
  }
}

TEST(SockJsRoute, Sessions) {
  // sockjs-protocol SessionURLs.test_anyValue: any server and session.
  for (const char* part : {"/a/a", "/_/_", "/1/1", "/abcdefgh_i-j%20/abcdefg_i-j%20"}) {
    const Route route = parse_route(std::string(part) + "/xhr");
    EXPECT_EQ(route.kind, RouteKind::session) << part;
    EXPECT_EQ(route.transport, Transport::xhr);
  }
  const std::string rest = "/000/abcdefgh_i-j%20/xhr_streaming";
  const Route route = parse_route(rest);
  ASSERT_EQ(route.kind, RouteKind::session);
  EXPECT_EQ(route.server, "000");
  EXPECT_EQ(route.session, "abcdefgh_i-j%20");
  EXPECT_EQ(route.transport, Transport::xhr_streaming);
  // Views into the argument.
  EXPECT_EQ(route.server.data(), rest.data() + 1);
  EXPECT_EQ(route.session.data(), rest.data() + 5);
  // test_invalidPaths: empty parts, dots, too few or many parts.
  for (const char* part : {"//", "/a./a", "/a/a.", "/./.", "/", "///"}) {
    EXPECT_EQ(kind_of(std::string(part) + "/xhr"), RouteKind::not_found) << part;
  }
  // Every transport, with and without a trailing '/', never with two.
  for (const Transport t : kTransports) {
    const std::string name(transport_name(t));
    for (const std::string& path : {"/1/2/" + name, "/1/2/" + name + "/"}) {
      const Route r = parse_route(path);
      EXPECT_EQ(r.kind, RouteKind::session) << path;
      EXPECT_EQ(r.transport, t) << path;
      EXPECT_EQ(r.server, "1");
      EXPECT_EQ(r.session, "2");
    }
    EXPECT_EQ(kind_of("/1/2/" + name + "//"), RouteKind::not_found) << name;
    EXPECT_EQ(kind_of("/1/2/3/" + name), RouteKind::not_found) << name;
    EXPECT_EQ(kind_of("/1/" + name), RouteKind::not_found) << name;
  }
  for (const char* rest : {"/a/a/XHR", "/a/a/xhr_sendx", "/a/a/xhr_", "/a/a/", "/a/a/chunking_test",
                           "/a/a/info", "/a/a/iframe.html", "/a/.a/xhr", "/a/a/ xhr"}) {
    EXPECT_EQ(kind_of(rest), RouteKind::not_found) << rest;
  }
  // reference: [^/.]+ takes any other character.
  EXPECT_EQ(kind_of("/\n/ /xhr"), RouteKind::session);
  EXPECT_EQ(kind_of("/\xC3\xA9/%2E/jsonp"), RouteKind::session);
}

TEST(SockJsRoute, Methods) {
  const auto methods = [](std::string_view rest) { return allowed_methods(parse_route(rest)); };
  const auto allow = [](std::string_view rest) { return allow_header(parse_route(rest)); };
  // sockjs-protocol verify_options: Access-Control-Allow-Methods exactly.
  EXPECT_EQ(methods("/info"), "OPTIONS, GET");
  EXPECT_EQ(methods("/abc/abc/xhr"), "OPTIONS, POST");
  EXPECT_EQ(methods("/abc/abc/xhr_send"), "OPTIONS, POST");
  EXPECT_EQ(methods("/abc/abc/xhr_streaming"), "OPTIONS, POST");
  EXPECT_EQ(methods("/a/a/jsonp_send"), "POST");
  for (const char* rest : {"", "/iframe.html", "/websocket", "/a/a/websocket", "/a/a/eventsource",
                           "/a/a/htmlfile", "/a/a/jsonp"}) {
    EXPECT_EQ(methods(rest), "GET") << rest;
    EXPECT_EQ(allow(rest), "GET") << rest;
  }
  EXPECT_EQ(methods("/nope"), "");
  // reference: its 405 lists the methods in the order of its routing table.
  EXPECT_EQ(allow("/info"), "OPTIONS, GET");
  EXPECT_EQ(allow("/a/a/xhr"), "POST, OPTIONS");
  EXPECT_EQ(allow("/a/a/xhr_send"), "POST, OPTIONS");
  EXPECT_EQ(allow("/a/a/xhr_streaming"), "POST, OPTIONS");
  EXPECT_EQ(allow("/a/a/jsonp_send"), "POST");

  const Route xhr = parse_route("/a/a/xhr");
  EXPECT_TRUE(method_allowed(xhr, "POST"));
  EXPECT_TRUE(method_allowed(xhr, "OPTIONS"));
  for (const char* m : {"GET", "PUT", "post", "HEAD", "", "OPTIONS, POST", "POS", "POSTS", ", "}) {
    EXPECT_FALSE(method_allowed(xhr, m)) << m;
  }
  const Route info = parse_route("/info");
  EXPECT_TRUE(method_allowed(info, "GET"));
  EXPECT_TRUE(method_allowed(info, "OPTIONS"));
  EXPECT_FALSE(method_allowed(info, "HEAD"));  // reference: 405 for HEAD too
  EXPECT_FALSE(method_allowed(info, "POST"));
  const Route jsonp = parse_route("/a/a/jsonp");
  EXPECT_TRUE(method_allowed(jsonp, "GET"));
  EXPECT_FALSE(method_allowed(jsonp, "OPTIONS"));  // reference: 405, Allow: GET
  EXPECT_TRUE(method_allowed(parse_route("/a/a/jsonp_send"), "POST"));
  EXPECT_FALSE(method_allowed(parse_route("/a/a/jsonp_send"), "GET"));
  EXPECT_FALSE(method_allowed(parse_route("/a/a/websocket"), "POST"));
  EXPECT_FALSE(method_allowed(parse_route("/nope"), "GET"));
}

TEST(SockJsRoute, TransportNames) {
  EXPECT_EQ(transport_name(Transport::websocket), "websocket");
  EXPECT_EQ(transport_name(Transport::xhr), "xhr");
  EXPECT_EQ(transport_name(Transport::xhr_send), "xhr_send");
  EXPECT_EQ(transport_name(Transport::xhr_streaming), "xhr_streaming");
  EXPECT_EQ(transport_name(Transport::eventsource), "eventsource");
  EXPECT_EQ(transport_name(Transport::htmlfile), "htmlfile");
  EXPECT_EQ(transport_name(Transport::jsonp), "jsonp");
  EXPECT_EQ(transport_name(Transport::jsonp_send), "jsonp_send");
}

}  // namespace
}  // namespace duplex::core::sockjs
