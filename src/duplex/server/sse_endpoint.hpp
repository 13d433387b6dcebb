// Server-Sent Events (the browser's EventSource) as a ready route: `GET <path>?topic=a&topic=b`
// is answered with a text/event-stream that carries every message published to those topics,
// from any protocol and any loop, as it is published.
//
//   server.http("/sse", duplex::sse_handler(server, {.topic_prefix = "pubsub:"}),
//               {.cors = {.allowed_origins = {"https://app.example"}}});
//   // in the page: new EventSource("/sse?topic=news").onmessage = e => show(e.data);
//
// - Each message is one event: its data is the published message (one data line per line), its
//   id the stream's cursor: the message's sequence for a stream of one topic, or
//   "topic=seq&topic=seq" (form-encoded) for several. Ids only grow, and one topic's messages
//   arrive in the order they were published.
// - Resume: a client that reconnects with Last-Event-ID (browsers do it by themselves) first
//   gets what it missed, from the hub's bounded per-topic history (ServerOptions::history), then
//   the live messages, none twice. When the history no longer reaches back that far, it first
//   gets an event of type "lost" whose data is {"topic":"..."}: a client can always tell.
// - A comment (": heartbeat") every `heartbeat` keeps proxies from closing an idle stream;
//   `retry:` tells the browser how long to wait before reconnecting. Responses say
//   Cache-Control: no-cache and X-Accel-Buffering: no, so that proxies do not buffer them.
// - Bad requests are answered 400 with the reason (no topic, too many, an empty or too long
//   name), other methods 405. A client that does not read is dropped at the route's
//   max_buffered, alone.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "duplex/server/http_exchange.hpp"

namespace duplex {

class Server;

struct SseOptions {
  /// Put before every topic a client names (as PubSubOptions::topic_prefix), so a client reaches
  /// no topic outside it.
  std::string topic_prefix;
  /// Topics one stream may ask for.
  size_t max_topics = 16;
  std::chrono::milliseconds heartbeat{15'000};
  /// The reconnection delay sent to the client (`retry:`); zero sends none.
  std::chrono::milliseconds retry{3'000};
};

/// The route handler. `server` must outlive it.
HttpHandler sse_handler(Server& server, SseOptions options = {});

}  // namespace duplex
