// The publish/subscribe engine of `duplex bench --pubsub`, for servers that speak the /pubsub
// protocol (docs/pubsub-protocol.md): subscribers spread evenly over topics, publishers that
// keep a fixed number of publishes in flight (a publish is in flight until every subscriber of
// its topic has it), and every delivery timed from its publish. Each published data string
// starts with 16 hex digits naming its publisher, in-flight slot and sequence number; a
// delivery is checked by its size and its first bytes (the fixed prefix of its topic and those
// digits), never parsed as JSON. A subscriber that gets a publish twice, out of order, or not
// within 10 s is an error, so the counts are exact: once the window is drained, deliveries are
// publishes times subscribers per topic.
//
// With event_stream_path the subscribers are Server-Sent Events streams instead (`GET
// <path>?topic=tK` on the same host and port, the publishers staying WebSockets): each event's
// data must be the delivery a WebSocket subscriber would get, and is checked and timed the same
// way. A stream is subscribed once its answer's head has come, so nothing is awaited after the
// connections are open.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bench_progress.hpp"
#include "client_pool.hpp"
#include "latency_histogram.hpp"

namespace duplex::app {

struct PubsubOptions {
  ClientTarget target;
  int subscribers = 1000;         // subscriber i subscribes to topic "t<i % topics>"
  int publishers = 1;             // publisher j's n-th publish goes to topic "t<(j + n) % topics>"
  int topics = 1;                 // must divide subscribers
  size_t data_size = 512;         // of each data string, its 16-digit id included (at least 16)
  int inflight = 16;              // publishes per publisher not yet delivered to every subscriber
  std::string event_stream_path;  // not empty: subscribers are SSE streams of this path
  double warmup_seconds = 2;
  double duration_seconds = 10;
};

/// The measured window: the publishes sent in it and their deliveries, from its start until
/// the last of them arrived (publishing stops at the end of the duration; the window drains).
struct PubsubResult : ConnectionOutcome {  // connections: subscribers, then publishers
  uint64_t publishes = 0;
  uint64_t deliveries = 0;
  uint64_t delivered_bytes = 0;  // message payload bytes, JSON included
  uint64_t undelivered = 0;      // deliveries still owed when the window closed (errors too)
  double seconds = 0;
  LatencyHistogram latency;  // publish to receive, every delivery
};

class PubsubGenerator {
 public:
  explicit PubsubGenerator(PubsubOptions options) : options_(std::move(options)) {}

  ProgressCallback on_progress;

  /// Connects, subscribes (waiting for every `subscribed` answer), warms up, measures, drains
  /// and closes everything. Throws std::invalid_argument for options it cannot run.
  PubsubResult run();

 private:
  PubsubOptions options_;
};

}  // namespace duplex::app
