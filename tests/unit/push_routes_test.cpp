// The push routes over loopback, byte for byte: Server-Sent Events (sse_endpoint.hpp: live
// events, resume with Last-Event-ID, exactly what was missed or a "lost" event, several topics
// in one stream, one topic's order kept whatever thread publishes, heartbeats on a quiet
// stream), long polling (long_poll_endpoint.hpp: answered at once from the history, held until
// a message or the timeout, clients that vanish), publishing over HTTP, and bad requests.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "../support/raw_client.hpp"
#include "../support/server_thread.hpp"
#include "duplex/core/http/query_string.hpp"
#include "duplex/core/pubsub/pubsub_protocol.hpp"
#include "duplex/core/sse/event_stream_reader.hpp"
#include "duplex/server/long_poll_endpoint.hpp"
#include "duplex/server/pubsub_endpoint.hpp"
#include "duplex/server/sse_endpoint.hpp"
#include "duplex/server/websocket_server.hpp"

namespace duplex {
namespace {

using namespace std::chrono_literals;
using test::RawClient;
using test::ServerThread;

constexpr std::string_view kStreamHead =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
    "Cache-Control: no-cache\r\nX-Accel-Buffering: no\r\nTransfer-Encoding: chunked\r\n\r\n";

// Reads chunks of a chunked stream and gives the bytes they carry.
class Stream {
 public:
  Stream(uint16_t port, std::string_view target, std::string_view headers = {}) : client_(port) {
    client_.send_raw("GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n" +
                     std::string(headers) + "\r\n");
    head_ = client_.read_until("\r\n\r\n");
  }
  const std::string& head() const { return head_; }
  /// The stream's bytes until `marker` has arrived (all of them), "" on timeout.
  std::string until(std::string_view marker, int timeout_ms = 3000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (body_.find(marker) == std::string::npos) {
      const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                            deadline - std::chrono::steady_clock::now())
                                            .count());
      if (left <= 0) return {};
      const std::string size_line = client_.read_until("\r\n", left);
      if (size_line.empty()) return {};
      const size_t size = std::stoul(size_line, nullptr, 16);
      if (size == 0) return {};
      body_ += client_.read_until("\r\n", left).substr(0, size);
    }
    std::string got;
    got.swap(body_);
    return got;
  }
  RawClient& client() { return client_; }

 private:
  RawClient client_;
  std::string head_;
  std::string body_;
};

std::string delivery(std::string_view topic, std::string_view text) {
  std::string data;
  core::pubsub::append_json_string(data, text);
  return core::pubsub::delivery(topic, data);
}

// Sequences from 1, so that ids can be written out (a server takes them from the clock).
ServerOptions counting_from_one(ServerOptions options) {
  options.history.first_sequence = 1;
  return options;
}

Server& server_of(ServerThread& t) { return t.server; }

struct SseServer : ServerThread {
  explicit SseServer(ServerOptions options = {}, SseOptions sse = {})
      : ServerThread(counting_from_one(options)) {
    sse.topic_prefix = "pubsub:";
    server.http("/sse", sse_handler(server, sse));
    server.http("/publish", pubsub_publish_handler(server, {.topic_prefix = "pubsub:"}));
    server.http("/poll", long_poll_handler(server, {.topic_prefix = "pubsub:", .timeout = 400ms}));
    server.endpoint("/pubsub", pubsub_endpoint(server, {}, {.topic_prefix = "pubsub:"}));
    start();
  }
  void publish(std::string_view topic, std::string_view text) {
    server.publish("pubsub:" + std::string(topic), delivery(topic, text));
  }
  /// An SSE stream that joins `topic` and leaves: a recipient able to come back has followed it,
  /// so its messages are kept from now on (TopicHistory::follow).
  void follow(std::string_view topic) {
    {
      std::string target = "/sse?topic=";
      core::form_encode(target, topic);
      Stream s(port, target);
      s.until("\n\n");
      EXPECT_TRUE(wait_subscribers(topic, 1));
    }
    EXPECT_TRUE(wait_subscribers(topic, 0));
  }
  bool wait_subscribers(std::string_view topic, size_t n) {
    return test::eventually(
        [&] { return server.subscriber_count("pubsub:" + std::string(topic)) == n; });
  }
};

ServerOptions with_history(size_t messages) {
  ServerOptions options;
  options.history.max_messages = messages;
  return options;
}

TEST(Sse, LiveMessagesAreEventsWithTheirSequenceAsId) {
  SseServer t;
  Stream s(t.port, "/sse?topic=news");
  EXPECT_EQ(s.head(), kStreamHead);
  EXPECT_EQ(s.until("\n\n"), "retry: 3000\n\n");
  ASSERT_TRUE(t.wait_subscribers("news", 1));
  t.publish("news", "line one\nline two");
  t.publish("news", "");
  EXPECT_EQ(s.until("\"data\":\"\"}\n\n"),
            "id: 1\ndata: {\"type\":\"message\",\"topic\":\"news\",\"data\":\"line one\\nline "
            "two\"}\n\nid: 2\ndata: {\"type\":\"message\",\"topic\":\"news\",\"data\":\"\"}\n\n");
}

TEST(Sse, AClientThatComesBackGetsExactlyWhatItMissed) {
  SseServer t(with_history(100));
  t.follow("news");
  t.publish("news", "one");
  t.publish("news", "two");
  t.publish("news", "three");
  Stream s(t.port, "/sse?topic=news", "Last-Event-ID: 1\r\n");
  EXPECT_EQ(s.until("three\"}\n\n"),
            "retry: 3000\n\n"
            "id: 2\ndata: {\"type\":\"message\",\"topic\":\"news\",\"data\":\"two\"}\n\n"
            "id: 3\ndata: {\"type\":\"message\",\"topic\":\"news\",\"data\":\"three\"}\n\n");
  // Then live, after the replay, nothing twice.
  t.publish("news", "four");
  EXPECT_EQ(s.until("four\"}\n\n"),
            "id: 4\ndata: {\"type\":\"message\",\"topic\":\"news\",\"data\":\"four\"}\n\n");
  // The browser's way to resume without a header.
  Stream q(t.port, "/sse?topic=news&lastEventId=3");
  EXPECT_EQ(q.until("four\"}\n\n"),
            "retry: 3000\n\n"
            "id: 4\ndata: {\"type\":\"message\",\"topic\":\"news\",\"data\":\"four\"}\n\n");
}

TEST(Sse, AClientIsToldWhenTheHistoryNoLongerReachesBack) {
  SseServer t(with_history(2));
  t.follow("news");
  for (const char* m : {"one", "two", "three", "four"}) t.publish("news", m);
  Stream s(t.port, "/sse?topic=news", "Last-Event-ID: 1\r\n");
  EXPECT_EQ(s.until("four\"}\n\n"),
            "retry: 3000\n\n"
            "id: 1\nevent: lost\ndata: {\"topic\":\"news\"}\n\n"
            "id: 3\ndata: {\"type\":\"message\",\"topic\":\"news\",\"data\":\"three\"}\n\n"
            "id: 4\ndata: {\"type\":\"message\",\"topic\":\"news\",\"data\":\"four\"}\n\n");
  // An id this server never gave (another run's) cannot be matched: lost.
  Stream f(t.port, "/sse?topic=news", "Last-Event-ID: 99\r\n");
  EXPECT_EQ(f.until("\"news\"}\n\n"),
            "retry: 3000\n\nid: 4\nevent: lost\ndata: {\"topic\":\"news\"}\n\n");
}

TEST(Sse, SeveralTopicsInOneStreamResumeEachFromOneId) {
  SseServer t(with_history(10));
  Stream s(t.port, "/sse?topic=a&topic=b%20c");
  s.until("\n\n");
  ASSERT_TRUE(t.wait_subscribers("b c", 1));
  t.publish("a", "1");
  t.publish("b c", "2");
  EXPECT_EQ(s.until("\"2\"}\n\n"),
            "id: a=1&b+c=0\ndata: {\"type\":\"message\",\"topic\":\"a\",\"data\":\"1\"}\n\n"
            "id: a=1&b+c=2\ndata: {\"type\":\"message\",\"topic\":\"b c\",\"data\":\"2\"}\n\n");
  t.publish("a", "3");
  t.publish("b c", "4");
  Stream r(t.port, "/sse?topic=a&topic=b%20c", "Last-Event-ID: a=1&b+c=2\r\n");
  EXPECT_EQ(r.until("\"4\"}\n\n"),
            "retry: 3000\n\n"
            "id: a=3&b+c=2\ndata: {\"type\":\"message\",\"topic\":\"a\",\"data\":\"3\"}\n\n"
            "id: a=3&b+c=4\ndata: {\"type\":\"message\",\"topic\":\"b c\",\"data\":\"4\"}\n\n");
}

// Two threads publish to one topic while streams on two loops read it: every stream sees every
// message once, in the topic's order (ids that only grow, each message after its predecessor).
TEST(Sse, OneTopicsOrderHoldsWhateverThreadPublishes) {
  ServerOptions options = with_history(0);
  options.threads = 2;
  SseServer t(options);
  constexpr int kStreams = 6;
  constexpr int kPerThread = 300;
  std::vector<std::unique_ptr<Stream>> streams;
  for (int i = 0; i < kStreams; ++i) {
    streams.push_back(std::make_unique<Stream>(t.port, "/sse?topic=race"));
    streams.back()->until("\n\n");
  }
  ASSERT_TRUE(t.wait_subscribers("race", kStreams));
  std::vector<std::thread> publishers;
  for (int p = 0; p < 2; ++p) {
    publishers.emplace_back([&, p] {
      for (int i = 0; i < kPerThread; ++i) {
        t.publish("race", std::to_string(p) + ":" + std::to_string(i));
      }
    });
  }
  for (auto& p : publishers) p.join();
  for (auto& s : streams) {
    core::EventStreamReader reader;
    std::string bytes = s->until("\"1:" + std::to_string(kPerThread - 1) + "\"}\n\n", 10000);
    // Both publishers' last messages must be in; read until the other one's too.
    const std::string other = "\"0:" + std::to_string(kPerThread - 1) + "\"}";
    if (bytes.find(other) == std::string::npos) bytes += s->until(other + "\n\n", 10000);
    std::vector<uint64_t> ids;
    std::vector<int> next(2, 0);
    std::string_view rest = bytes;
    while (true) {
      const core::SseRead r = reader.feed(rest);
      rest.remove_prefix(r.consumed);
      if (r.status != core::SseReadStatus::message) break;
      ids.push_back(std::stoull(std::string(r.message.last_event_id)));
      // Each publisher's own messages in the order it sent them.
      const size_t at = r.message.data.find("\"data\":\"") + 8;
      const int who = r.message.data[at] - '0';
      const int n = std::stoi(std::string(r.message.data.substr(at + 2)));
      EXPECT_EQ(n, next[who]++) << "publisher " << who;
    }
    ASSERT_EQ(ids.size(), 2u * kPerThread);
    for (size_t i = 1; i < ids.size(); ++i) ASSERT_LT(ids[i - 1], ids[i]) << "at " << i;
  }
}

TEST(Sse, AQuietStreamGetsHeartbeats) {
  SseServer t({}, {.heartbeat = 200ms, .retry = 0ms});
  Stream s(t.port, "/sse?topic=quiet");
  EXPECT_EQ(s.until(":\n"), ":\n");  // no retry: a comment opens the stream
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(s.until(": heartbeat\n\n", 2000), ": heartbeat\n\n");
  EXPECT_GE(std::chrono::steady_clock::now() - start, 150ms);
  EXPECT_EQ(s.until(": heartbeat\n\n", 2000), ": heartbeat\n\n");
}

TEST(Sse, BadRequestsAreRefusedWithTheReason) {
  SseServer t;
  const auto answer = [&](std::string_view request) {
    RawClient c(t.port);
    c.send_raw(request);
    return c.read_http_response();
  };
  const auto body_of = [](const std::string& response) {
    return response.substr(response.find("\r\n\r\n") + 4);
  };
  std::string r = answer("GET /sse HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(r.substr(0, 12), "HTTP/1.1 400");
  EXPECT_EQ(body_of(r), "name at least one topic: ?topic=news\n");
  r = answer("GET /sse?topic= HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(body_of(r), "topic is empty\n");
  r = answer("GET /sse?topic=" + std::string(257, 'x') + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(body_of(r), "topic is longer than 256 bytes\n");
  std::string many = "GET /sse?";
  for (int i = 0; i < 17; ++i) many += "topic=t" + std::to_string(i) + "&";
  r = answer(many + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(body_of(r), "too many topics (at most 16)\n");
  r = answer("POST /sse?topic=a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n");
  EXPECT_EQ(r.substr(0, 31), "HTTP/1.1 405 Method Not Allowed");
  EXPECT_NE(r.find("Allow: GET\r\n"), std::string::npos);
}

TEST(Sse, PublishingOverHttpAndOverPubsubReachesStreams) {
  SseServer t;
  Stream s(t.port, "/sse?topic=news");
  s.until("\n\n");
  ASSERT_TRUE(t.wait_subscribers("news", 1));
  RawClient post(t.port);
  post.send_raw(
      "POST /publish?topic=news HTTP/1.1\r\nHost: x\r\nContent-Length: 15\r\n\r\n"
      "{ \"n\" : [1, 2]}");
  EXPECT_EQ(post.read_http_response(), "HTTP/1.1 204 No Content\r\n\r\n");
  post.send_raw("POST /publish?topic=news HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhi \"x");
  EXPECT_EQ(post.read_http_response(), "HTTP/1.1 204 No Content\r\n\r\n");
  RawClient ws(t.port);
  ASSERT_EQ(ws.upgrade("/pubsub").substr(0, 12), "HTTP/1.1 101");
  ws.send_frame(core::Opcode::text, R"({"type":"publish","topic":"news","data":true})");
  EXPECT_EQ(s.until("true}\n\n"),
            "id: 1\ndata: {\"type\":\"message\",\"topic\":\"news\",\"data\":{\"n\":[1,2]}}\n\n"
            "id: 2\ndata: {\"type\":\"message\",\"topic\":\"news\",\"data\":\"hi \\\"x\"}\n\n"
            "id: 3\ndata: {\"type\":\"message\",\"topic\":\"news\",\"data\":true}\n\n");
}

// A cross-origin form POST needs no preflight: only the server's own pages, and those CORS
// grants, may publish.
TEST(Sse, OnlyTheServersOwnAndGrantedOriginsMayPublish) {
  SseServer t;
  const auto post = [&](std::string_view origin) {
    RawClient c(t.port);
    c.send_raw("POST /publish?topic=a HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(t.port) +
               "\r\nOrigin: " + std::string(origin) + "\r\nContent-Length: 1\r\n\r\nx");
    const std::string response = c.read_http_response();
    return response.substr(0, 12) + "|" + response.substr(response.find("\r\n\r\n") + 4);
  };
  EXPECT_EQ(post("http://evil.test"), "HTTP/1.1 403|origin not allowed\n");
  EXPECT_EQ(post("http://127.0.0.1:" + std::to_string(t.port)), "HTTP/1.1 204|");
}

TEST(Sse, OneMessageOverTheLimitReachesAStreamWithNothingQueued) {
  ServerThread t(counting_from_one({}));
  t.server.http("/sse", sse_handler(server_of(t)), {.max_buffered = 1024});
  t.start();
  Stream s(t.port, "/sse?topic=big");
  s.until("\n\n");
  ASSERT_TRUE(test::eventually([&] { return t.server.subscriber_count("big") == 1; }));
  const std::string big(20'000, 'B');
  t.server.publish("big", big);
  EXPECT_EQ(s.until(big + "\n\n"), "id: 1\ndata: " + big + "\n\n");
}

TEST(Sse, AReplayOverTheLimitReachesTheClientThatCameBack) {
  ServerOptions options = with_history(100);
  ServerThread t(counting_from_one(options));
  t.server.http("/sse", sse_handler(server_of(t)), {.max_buffered = 4096});
  t.start();
  {
    Stream first(t.port, "/sse?topic=back");  // followed, so its messages are kept
    first.until("\n\n");
    ASSERT_TRUE(test::eventually([&] { return t.server.subscriber_count("back") == 1; }));
  }
  ASSERT_TRUE(test::eventually([&] { return t.server.subscriber_count("back") == 0; }));
  const std::string part(500, 'c');
  for (int i = 0; i < 60; ++i) t.server.publish("back", std::to_string(i) + part);
  Stream s(t.port, "/sse?topic=back", "Last-Event-ID: 0\r\n");
  EXPECT_EQ(s.head(), kStreamHead);
  const std::string all = s.until("59" + part + "\n\n", 5000);
  for (int i = 0; i < 60; ++i) {
    EXPECT_NE(all.find("id: " + std::to_string(i + 1) + "\ndata: " + std::to_string(i) + part),
              std::string::npos)
        << i;
  }
  // Then live messages go on (the replay's bytes count on top of the limit).
  t.server.publish("back", "live");
  EXPECT_EQ(s.until("live\n\n"), "id: 61\ndata: live\n\n");
}

TEST(Sse, PublishRefusesWhatItCannotSend) {
  SseServer t;
  const auto answer = [&](std::string_view request) {
    RawClient c(t.port);
    c.send_raw(request);
    const std::string response = c.read_http_response();
    return response.substr(0, 12) + "|" + response.substr(response.find("\r\n\r\n") + 4);
  };
  EXPECT_EQ(answer("POST /publish HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx"),
            "HTTP/1.1 400|missing topic\n");
  EXPECT_EQ(answer("POST /publish?topic= HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx"),
            "HTTP/1.1 400|topic is empty\n");
  EXPECT_EQ(answer("POST /publish?topic=a HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\n\xff"),
            "HTTP/1.1 400|body is not UTF-8\n");
  EXPECT_EQ(answer("POST /publish?topic=a HTTP/1.1\r\nHost: x\r\nContent-Length: 130\r\n\r\n" +
                   std::string(65, '[') + std::string(65, ']')),
            "HTTP/1.1 400|message is nested deeper than 64 levels\n");
  EXPECT_EQ(answer("GET /publish?topic=a HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 405|publish with POST\n");
}

// --- long polling ------------------------------------------------------------------------

std::string poll_answer(std::string_view json) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
         "Content-Length: " +
         std::to_string(json.size()) + "\r\n\r\n" + std::string(json);
}

std::string get(RawClient& c, std::string_view target, int timeout_ms = 3000) {
  c.send_raw("GET " + std::string(target) + " HTTP/1.1\r\nHost: x\r\n\r\n");
  return c.read_http_response(timeout_ms);
}

TEST(LongPoll, WhatWasPublishedBetweenPollsIsAnsweredAtOnce) {
  SseServer t(with_history(10));
  t.follow("news");
  for (const char* m : {"one", "two", "three"}) t.publish("news", m);
  RawClient c(t.port);
  EXPECT_EQ(
      get(c, "/poll?topic=news&cursor=1"),
      poll_answer(R"({"cursor":"3","messages":[{"type":"message","topic":"news","data":"two"},)"
                  R"({"type":"message","topic":"news","data":"three"}],"lost":[]})"));
  // Several topics: the cursor names each (form-encoded), and comes back whole.
  t.follow("b c");
  t.publish("b c", "four");
  EXPECT_EQ(get(c, "/poll?topic=news&topic=b%20c&cursor=news%3D3%26b%2Bc%3D0"),
            poll_answer(R"({"cursor":"news=3&b+c=4","messages":[{"type":"message","topic":"b c",)"
                        R"("data":"four"}],"lost":[]})"));
}

TEST(LongPoll, APollWaitsForTheNextMessageOrItsTimeout) {
  SseServer t(with_history(10));
  RawClient c(t.port);
  // Nothing after the cursor: held until the timeout, then the cursor to go on from.
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(get(c, "/poll?topic=news"), poll_answer(R"({"cursor":"0","messages":[],"lost":[]})"));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 390ms);
  // A message while it waits answers it at once.
  c.send_raw("GET /poll?topic=news&cursor=0 HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_TRUE(t.wait_subscribers("news", 1));
  t.publish("news", "now");
  EXPECT_EQ(c.read_http_response(),
            poll_answer(R"({"cursor":"1","messages":[{"type":"message","topic":"news",)"
                        R"("data":"now"}],"lost":[]})"));
  ASSERT_TRUE(t.wait_subscribers("news", 0));  // answered: it left the topic
}

TEST(LongPoll, AClientThatComesTooLateIsTold) {
  SseServer t(with_history(1));
  t.follow("news");
  for (const char* m : {"one", "two", "three"}) t.publish("news", m);
  RawClient c(t.port);
  EXPECT_EQ(get(c, "/poll?topic=news&cursor=1"),
            poll_answer(R"({"cursor":"3","messages":[{"type":"message","topic":"news",)"
                        R"("data":"three"}],"lost":["news"]})"));
  EXPECT_EQ(get(c, "/poll?topic=news&cursor=77"),
            poll_answer(R"({"cursor":"3","messages":[],"lost":["news"]})"));
  const std::string bad = get(c, "/poll?topic=news&cursor=x");
  EXPECT_NE(bad.find(R"("lost":["news"])"), std::string::npos) << bad;
}

TEST(LongPoll, AThousandWaitingPollsThatVanishAtOnceLeaveNothingBehind) {
  ServerOptions options = with_history(10);
  options.threads = 2;
  SseServer t(options);
  {
    std::vector<std::unique_ptr<RawClient>> clients;
    for (int i = 0; i < 1000; ++i) {
      clients.push_back(std::make_unique<RawClient>(t.port));
      clients.back()->send_raw("GET /poll?topic=crowd HTTP/1.1\r\nHost: x\r\n\r\n");
    }
    ASSERT_TRUE(t.wait_subscribers("crowd", 1000));
  }  // every client closes its socket here
  ASSERT_TRUE(t.wait_subscribers("crowd", 0));
  ASSERT_TRUE(test::eventually([&] { return t.server.connection_count() == 0; }));
  // And the server goes on serving.
  t.publish("crowd", "after");
  RawClient c(t.port);
  EXPECT_EQ(get(c, "/poll?topic=crowd&cursor=0"),
            poll_answer(R"({"cursor":"1","messages":[{"type":"message","topic":"crowd",)"
                        R"("data":"after"}],"lost":[]})"));
}

TEST(LongPoll, BadRequestsAreRefusedWithTheReason) {
  SseServer t;
  RawClient c(t.port);
  const std::string r = get(c, "/poll?topic=");
  EXPECT_EQ(r.substr(r.find("\r\n\r\n") + 4), "topic is empty\n");
  RawClient d(t.port);
  d.send_raw("DELETE /poll?topic=a HTTP/1.1\r\nHost: x\r\n\r\n");
  const std::string m = d.read_http_response();
  EXPECT_EQ(m.substr(0, 31), "HTTP/1.1 405 Method Not Allowed") << m;
}

}  // namespace
}  // namespace duplex
