// HTTP routes (http_exchange.hpp) over loopback: any method with its body (Content-Length,
// chunked, 100-continue), the limits (413, 408, 400), answers whole, streamed and held (from
// another thread, on timeout), pipelined requests kept in order behind a held one, clients that
// go away, slow stream readers dropped, and CORS (preflight, credentials, refused origins).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "../support/raw_client.hpp"
#include "../support/server_thread.hpp"
#include "duplex/server/websocket_server.hpp"

namespace duplex {
namespace {

using namespace std::chrono_literals;
using test::RawClient;
using test::ServerThread;

constexpr std::string_view kText = "text/plain; charset=utf-8";

std::string ok(std::string_view body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

// A route that answers "<METHOD> <path>?<query> <body>".
HttpHandler echo_request() {
  return [](HttpExchange& ex) {
    std::string answer(ex.method());
    answer += ' ';
    answer += ex.path();
    if (!ex.query().empty()) answer += "?" + std::string(ex.query());
    answer += ' ';
    answer += ex.body();
    ex.respond(200, answer);
  };
}

TEST(HttpRoute, AnyMethodSeesPathQueryHeadersAndTheWholeBody) {
  ServerThread t;
  std::string seen_header;
  t.server.http("/echo", [&](HttpExchange& ex) {
    seen_header = ex.header("x-thing").value_or("none");
    echo_request()(ex);
  });
  t.start();
  RawClient c(t.port);
  c.send_raw(
      "POST /echo?a=1 HTTP/1.1\r\nHost: x\r\nX-Thing: yes\r\nContent-Length: 5\r\n\r\nhello");
  EXPECT_EQ(c.read_http_response(), ok("POST /echo?a=1 hello"));
  EXPECT_EQ(seen_header, "yes");
  // Keep-alive: the next request on the same connection, another method, no body.
  c.send_raw("DELETE /echo HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_http_response(), ok("DELETE /echo "));
}

TEST(HttpRoute, ChunkedBodiesAreDecodedWhateverTheirSplit) {
  ServerThread t;
  t.server.http("/echo", echo_request());
  t.start();
  RawClient c(t.port);
  const std::string request =
      "PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nTrailer: x\r\n\r\n";
  // Byte by byte across reads: the body reader keeps its place.
  for (char ch : request) {
    c.send_raw(std::string_view(&ch, 1));
    std::this_thread::sleep_for(100us);
  }
  EXPECT_EQ(c.read_http_response(), ok("PUT /echo hello, world"));
}

TEST(HttpRoute, ExpectContinueGetsA100BeforeTheBody) {
  ServerThread t;
  t.server.http("/echo", echo_request());
  t.start();
  RawClient c(t.port);
  c.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_EQ(c.read_until("\r\n\r\n"), "HTTP/1.1 100 Continue\r\n\r\n");
  c.send_raw("abc");
  EXPECT_EQ(c.read_http_response(), ok("POST /echo abc"));
}

TEST(HttpRoute, BodyOverTheLimitIs413AndTheConnectionCloses) {
  ServerThread t;
  bool called = false;
  t.server.http("/small",
                [&](HttpExchange& ex) {
                  called = true;
                  ex.respond(200);
                },
                {.max_body = 4});
  t.start();
  RawClient c(t.port);
  // Refused from the head alone, before any body byte.
  c.send_raw("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n");
  const std::string response = c.read_http_response();
  EXPECT_EQ(response.substr(0, 37), "HTTP/1.1 413 Content Too Large\r\nConte") << response;
  EXPECT_NE(response.find("Content-Length over the body limit"), std::string::npos) << response;
  EXPECT_TRUE(c.wait_eof());
  // Chunked: refused once the chunk sizes pass the limit.
  RawClient d(t.port);
  d.send_raw(
      "POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\n");
  EXPECT_EQ(d.read_http_response().substr(0, 30), "HTTP/1.1 413 Content Too Large");
  EXPECT_TRUE(d.wait_eof());
  EXPECT_FALSE(called);
}

TEST(HttpRoute, MalformedChunkingIs400) {
  ServerThread t;
  t.server.http("/echo", echo_request());
  t.start();
  RawClient c(t.port);
  c.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
  const std::string response = c.read_http_response();
  EXPECT_EQ(response.substr(0, 24), "HTTP/1.1 400 Bad Request") << response;
  EXPECT_NE(response.find("invalid chunk size"), std::string::npos) << response;
  EXPECT_TRUE(c.wait_eof());
}

TEST(HttpRoute, ABodyThatTricklesIsAnswered408AtTheBodyTimeout) {
  ServerThread t;
  bool called = false;
  t.server.http("/slow",
                [&](HttpExchange& ex) {
                  called = true;
                  ex.respond(200);
                },
                {.body_timeout = 300ms});
  t.start();
  RawClient c(t.port);
  const auto start = std::chrono::steady_clock::now();
  c.send_raw("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab");
  std::this_thread::sleep_for(100ms);
  c.send_raw("cd");  // trickling does not extend the deadline
  const std::string response = c.read_http_response(2000);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(response.substr(0, 32), "HTTP/1.1 408 Request Timeout\r\nCo") << response;
  EXPECT_GE(waited, 290ms);
  EXPECT_TRUE(c.wait_eof());
  EXPECT_FALSE(called);
}

TEST(HttpRoute, StreamedResponsesAreChunkedAndEnd) {
  ServerThread t;
  t.server.http("/stream", [](HttpExchange& ex) {
    ex.start_stream(200, "text/event-stream", {{"Cache-Control", "no-cache"}});
    EXPECT_TRUE(ex.write("data: one\n\n"));
    EXPECT_TRUE(ex.write("data: two\n\n"));
    ex.end();
    EXPECT_FALSE(ex.write("late"));
  });
  t.start();
  RawClient c(t.port);
  c.send_raw("GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(
      c.read_until("0\r\n\r\n"),
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "Transfer-Encoding: chunked\r\n\r\nb\r\ndata: one\n\n\r\nb\r\ndata: two\n\n\r\n0\r\n\r\n");
  // The connection goes on.
  c.send_raw("GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  const std::string second = c.read_all();
  EXPECT_NE(second.find("Connection: close\r\n"), std::string::npos) << second;
  EXPECT_EQ(second.substr(second.size() - 5), "0\r\n\r\n");
}

TEST(HttpRoute, HttpOneZeroStreamsEndWithTheConnection) {
  ServerThread t;
  t.server.http("/stream", [](HttpExchange& ex) {
    ex.start_stream(200, "text/plain");
    ex.write("abc");
    ex.end();
  });
  t.start();
  RawClient c(t.port);
  c.send_raw("GET /stream HTTP/1.0\r\n\r\n");
  EXPECT_EQ(c.read_all(),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nabc");
}

TEST(HttpRoute, HeldAnswersComeFromAnotherThreadAndPipelinedRequestsKeepTheirOrder) {
  ServerThread t;
  std::mutex mutex;
  std::optional<HeldResponse> held;
  t.server.http("/wait", [&](HttpExchange& ex) {
    std::lock_guard lock(mutex);
    held = ex.hold();
  });
  t.server.http("/now", echo_request());
  t.start();
  RawClient c(t.port);
  // Two requests in one write: the second waits behind the first, held one.
  c.send_raw("GET /wait HTTP/1.1\r\nHost: x\r\n\r\nGET /now HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(test::eventually([&] {
    std::lock_guard lock(mutex);
    return held.has_value();
  }));
  EXPECT_EQ(c.read_http_response(200), "");  // nothing yet: the first is held
  std::thread other([&] {
    std::lock_guard lock(mutex);
    EXPECT_TRUE(held->pending());
    EXPECT_TRUE(held->respond(200, "later"));
  });
  other.join();
  EXPECT_EQ(c.read_http_response(), ok("later"));
  EXPECT_EQ(c.read_http_response(), ok("GET /now "));
  ASSERT_TRUE(test::eventually([&] {
    std::lock_guard lock(mutex);
    return !held->pending();
  }));
  std::lock_guard lock(mutex);
  EXPECT_FALSE(held->respond(200, "twice"));
}

TEST(HttpRoute, AHoldTimesOutWithItsStatus) {
  ServerThread t;
  test::Log log;
  t.server.http("/poll", [&](HttpExchange& ex) {
    ex.on_close([&](bool completed) { log.add(completed ? "completed" : "gone"); });
    ex.hold(300ms, 204);
  });
  t.start();
  RawClient c(t.port);
  const auto start = std::chrono::steady_clock::now();
  c.send_raw("GET /poll HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_http_response(2000), "HTTP/1.1 204 No Content\r\n\r\n");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 290ms);
  EXPECT_TRUE(log.wait_for("completed"));
}

TEST(HttpRoute, AClientThatGoesAwayEndsItsHeldExchanges) {
  ServerThread t;
  test::Log log;
  std::mutex mutex;
  std::vector<HeldResponse> held;
  t.server.http("/poll", [&](HttpExchange& ex) {
    ex.on_close([&](bool completed) { log.add(completed ? "completed" : "gone"); });
    std::lock_guard lock(mutex);
    held.push_back(ex.hold());
  });
  t.start();
  {
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 50; ++i) {
      clients.push_back(std::make_unique<RawClient>(t.port));
      clients.back()->send_raw("GET /poll HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    ASSERT_TRUE(test::eventually([&] {
      std::lock_guard lock(mutex);
      return held.size() == 50;
    }));
  }  // all of them vanish at once
  EXPECT_TRUE(log.wait_count("gone", 50));
  ASSERT_TRUE(test::eventually([&] { return t.server.connection_count() == 0; }));
  std::lock_guard lock(mutex);
  for (HeldResponse& h : held) EXPECT_FALSE(h.respond(200, "too late"));
}

TEST(HttpRoute, AStreamReaderThatNeverReadsIsDroppedOthersGoOn) {
  ServerThread t;
  test::Log log;
  std::atomic<int> writes_refused{0};
  t.server.http(
      "/flood",
      [&](HttpExchange& ex) {
        ex.on_close([&](bool completed) { log.add(completed ? "completed" : "dropped"); });
        ex.start_stream(200, "application/octet-stream");
        const std::string block(64 * 1024, 'x');
        for (int i = 0; i < 1000 && ex.write(block); ++i) {
        }
        if (!ex.write(block)) ++writes_refused;
      },
      {.max_buffered = 256 * 1024});
  t.server.http("/echo", echo_request());
  t.start();
  RawClient stalled(t.port);  // never reads
  stalled.send_raw("GET /flood HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_TRUE(log.wait_for("dropped"));
  EXPECT_TRUE(test::eventually([&] { return writes_refused.load() == 1; }));
  RawClient other(t.port);
  other.send_raw("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  EXPECT_EQ(other.read_http_response(), ok("POST /echo hi"));
}

TEST(HttpRoute, AHandlerThatNeitherAnswersNorHoldsIsAnswered500) {
  ServerThread t;
  t.server.http("/forgot", [](HttpExchange&) {});
  t.start();
  RawClient c(t.port);
  c.send_raw("GET /forgot HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string response = c.read_http_response();
  EXPECT_EQ(response.substr(0, 34), "HTTP/1.1 500 Internal Server Error") << response;
}

TEST(HttpRoute, PrefixRoutesAndEndpointsShareAPath) {
  ServerThread t;
  t.server.http("/io/", echo_request(), {.prefix = true});
  t.server.endpoint(
      "/io/", {.on_message = [](WebSocket& ws, std::string_view m, MessageType) { ws.send(m); }});
  t.start();
  RawClient c(t.port);
  c.send_raw("GET /io/x/y HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_http_response(), ok("GET /io/x/y "));
  c.send_raw("GET /io/ HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_http_response(), ok("GET /io/ "));
  RawClient ws(t.port);
  EXPECT_EQ(ws.upgrade("/io/").substr(0, 12), "HTTP/1.1 101");
  ws.send_frame(core::Opcode::text, "hi");
  EXPECT_EQ(ws.read_frame().payload, "hi");
}

TEST(HttpRoute, RoutesRefuseBadPathsAndTwins) {
  Server server({.host = "127.0.0.1", .port = 0, .handle_signals = false});
  EXPECT_THROW(server.http("nope", echo_request()), std::invalid_argument);
  EXPECT_THROW(server.http("/x", nullptr), std::invalid_argument);
  server.http("/x", echo_request());
  EXPECT_THROW(server.http("/x", echo_request()), std::invalid_argument);
  server.http("/x", echo_request(), {.prefix = true});  // a prefix route is another route
}

// --- CORS ------------------------------------------------------------------------------------

HttpRouteOptions cors_for(std::vector<std::string> origins, bool credentials = false) {
  HttpRouteOptions options;
  options.cors.allowed_origins = std::move(origins);
  options.cors.allow_credentials = credentials;
  options.cors.allowed_methods = {"GET", "POST", "PUT"};
  return options;
}

TEST(HttpRouteCors, APreflightFromAnAllowedOriginIsGranted) {
  ServerThread t;
  t.server.http("/api", echo_request(), cors_for({"http://app.test"}, true));
  t.start();
  RawClient c(t.port);
  c.send_raw(
      "OPTIONS /api HTTP/1.1\r\nHost: x\r\nOrigin: http://app.test\r\n"
      "Access-Control-Request-Method: PUT\r\nAccess-Control-Request-Headers: content-type\r\n\r\n");
  EXPECT_EQ(c.read_http_response(),
            "HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: http://app.test\r\n"
            "Vary: Origin\r\nAccess-Control-Allow-Credentials: true\r\n"
            "Access-Control-Allow-Methods: GET, POST, PUT\r\n"
            "Access-Control-Allow-Headers: Content-Type, Last-Event-ID\r\n"
            "Access-Control-Max-Age: 600\r\n\r\n");
  // The actual request: the origin echoed with credentials, Vary: Origin.
  c.send_raw(
      "PUT /api HTTP/1.1\r\nHost: x\r\nOrigin: http://app.test\r\nContent-Length: 1\r\n\r\nz");
  EXPECT_EQ(c.read_http_response(),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Access-Control-Allow-Origin: http://app.test\r\nVary: Origin\r\n"
            "Access-Control-Allow-Credentials: true\r\nContent-Length: 10\r\n\r\nPUT /api z");
}

// A head split across reads leaves parser state behind: the next request on the connection (in
// the same read as the end of a preflight or of a request answered at once) is parsed afresh.
TEST(HttpRouteCors, SplitHeadsFollowedByPipelinedRequestsAreEachAnsweredOnce) {
  ServerThread t;
  t.server.http("/api", echo_request(), cors_for({"http://app.test"}));
  t.start();
  const auto ok_varying = [](std::string_view body) {
    return "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nVary: Origin\r\n"
           "Content-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
  };
  RawClient c(t.port);
  c.send_raw("OPTIONS /api HTTP/1.1\r\nHost: x\r\nOrigin: http://app.test\r\n");
  std::this_thread::sleep_for(50ms);
  c.send_raw(
      "Access-Control-Request-Method: PUT\r\n\r\n"
      "GET /api?n=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_http_response().substr(0, 23), "HTTP/1.1 204 No Content");
  EXPECT_EQ(c.read_http_response(), ok_varying("GET /api?n=1 "));
  c.send_raw("GET /api?n=2 HTTP/1.1\r\nHo");
  std::this_thread::sleep_for(50ms);
  c.send_raw("st: x\r\n\r\nGET /api?n=3 HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.read_http_response(), ok_varying("GET /api?n=2 "));
  EXPECT_EQ(c.read_http_response(), ok_varying("GET /api?n=3 "));
  EXPECT_EQ(c.read_http_response(300), "");  // nothing answered twice
}

TEST(HttpRouteCors, NothingIsGrantedToAnOriginOutsideTheList) {
  ServerThread t;
  t.server.http("/api", echo_request(), cors_for({"http://app.test"}));
  t.start();
  RawClient c(t.port);
  c.send_raw(
      "OPTIONS /api HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.test\r\n"
      "Access-Control-Request-Method: PUT\r\n\r\n");
  const std::string refused = c.read_http_response();
  EXPECT_EQ(refused.substr(0, 22), "HTTP/1.1 403 Forbidden") << refused;
  EXPECT_EQ(refused.find("Access-Control-Allow"), std::string::npos) << refused;
  EXPECT_EQ(refused.substr(refused.size() - 18), "origin not allowed");
  // A simple request is answered, without a grant (the browser keeps it from the page).
  c.send_raw("GET /api HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.test\r\n\r\n");
  EXPECT_EQ(c.read_http_response(),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nVary: Origin\r\n"
            "Content-Length: 9\r\n\r\nGET /api ");
  // A method or header the policy does not list.
  c.send_raw(
      "OPTIONS /api HTTP/1.1\r\nHost: x\r\nOrigin: http://app.test\r\n"
      "Access-Control-Request-Method: PATCH\r\n\r\n");
  EXPECT_NE(c.read_http_response().find("method not allowed"), std::string::npos);
  c.send_raw(
      "OPTIONS /api HTTP/1.1\r\nHost: x\r\nOrigin: http://app.test\r\n"
      "Access-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: X-Secret\r\n\r\n");
  EXPECT_NE(c.read_http_response().find("header not allowed: X-Secret"), std::string::npos);
}

TEST(HttpRouteCors, AWildcardGrantsEveryOriginAndWithCredentialsEchoesIt) {
  ServerThread t;
  t.server.http("/any", echo_request(), cors_for({"*"}));
  t.server.http("/creds", echo_request(), cors_for({"*"}, true));
  t.start();
  RawClient c(t.port);
  c.send_raw("GET /any HTTP/1.1\r\nHost: x\r\nOrigin: http://a.test\r\n\r\n");
  EXPECT_NE(c.read_http_response().find("Access-Control-Allow-Origin: *\r\n"), std::string::npos);
  c.send_raw("GET /creds HTTP/1.1\r\nHost: x\r\nOrigin: http://a.test\r\n\r\n");
  const std::string echoed = c.read_http_response();
  EXPECT_NE(echoed.find("Access-Control-Allow-Origin: http://a.test\r\nVary: Origin\r\n"
                        "Access-Control-Allow-Credentials: true\r\n"),
            std::string::npos)
      << echoed;
}

}  // namespace
}  // namespace duplex
