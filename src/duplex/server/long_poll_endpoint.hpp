// Long polling as a ready route, the oldest push technique the web has: `GET <path>?topic=a`
// (topic may repeat) answers at once with every message published to those topics after the
// request's `cursor`, or waits until one is published or `timeout` passes, then answers.
//
//   server.http("/poll", duplex::long_poll_handler(server, {.topic_prefix = "pubsub:"}));
//   // in the page: a loop of fetch(`/poll?topic=news&cursor=${cursor}`), taking each answer's
//   // cursor for the next request.
//
// The answer is JSON: {"cursor":"<where to go on>","messages":[...],"lost":[...]}. Each message
// is the published message as a JSON value (itself when it is one, else a JSON string). The
// cursor has the form of an SSE id (sse_endpoint.hpp): a sequence for one topic, "a=5&b=7" for
// several. Messages published between two polls wait in the hub's bounded per-topic history
// (ServerOptions::history), so a client that polls again in time loses nothing; `lost` names the
// topics whose history no longer reaches back to its cursor. A poll without a cursor waits for
// the next message; a timeout answers with no messages and the cursor to go on from. One
// topic's messages come in the order they were published. Bad requests are answered 400 with
// the reason, other methods 405.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "duplex/server/http_exchange.hpp"

namespace duplex {

class Server;

struct LongPollOptions {
  /// Put before every topic a client names (as PubSubOptions::topic_prefix).
  std::string topic_prefix;
  /// Topics one poll may ask for.
  size_t max_topics = 16;
  /// How long a poll waits for a message before it is answered empty.
  std::chrono::milliseconds timeout{25'000};
};

/// The route handler. `server` must outlive it.
HttpHandler long_poll_handler(Server& server, LongPollOptions options = {});

}  // namespace duplex
