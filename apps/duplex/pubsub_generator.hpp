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
// The subscribers may be HTTP/1.1 subscribers of subscriber_path instead, on the same host and
// port, the publishers staying WebSockets: Server-Sent Events streams (`GET <path>?topic=tK`) or
// long polls (`GET <path>?topic=tK`, then `&cursor=C` with each answer's cursor). Each event's
// data, or each message of a poll's answer, must be the delivery a WebSocket subscriber would
// get, and is checked and timed the same way. A stream is subscribed once its answer's head has
// come, so nothing is awaited after the connections are open. A first poll has no cursor and so
// waits for the next message: the publishers connect first, and a priming message is published
// to every topic every 50 ms while the polls connect (each is open once its first poll has been
// answered; it then waits) and once more while they all poll again, from that answer's cursor,
// until each has been answered: then it is subscribed, and its cursor means it misses nothing.
// (Priming messages carry an id no publish has and are stepped over wherever they come; a topic
// lost in that second answer is no error, as only they can have been lost.)
//
// Or every connection, subscriber and publisher, may be a Socket.IO client (the Socket.IO app of
// `duplex serve`, docs/socketio.md, and bench/peers/socketio_peer.mjs): topics are rooms, a
// subscriber joins its room with the event `join` and an ack (`420["join","tK"]`, answered
// `430["tK"]`), and a publisher emits `42["broadcast","tK","<data>"]`, which the server emits to
// the room as `42["broadcast","<data>"]`: the delivery, checked and timed as /pubsub's are.
//
// Or every connection may be a SockJS client over its websocket transport, of one chat (the
// /sockjs/chat of `duplex serve`, bench/peers/sockjs_peer.mjs): there is one topic, the chat,
// which every session is in from its open frame on, and a publisher sends `["<data>"]`, which
// the server sends to every session, the publishers' own included: each of the subscribers and
// publishers gets every message (its text checked whole, timed, counted in order).
//
// Or every connection may be a STOMP 1.2 client over WebSocket (ClientPoolOptions::stomp; the
// broker of `duplex serve` at /stomp, RabbitMQ's web STOMP at /ws). stomp_topic: a subscriber
// subscribes to `/topic/tK` with a receipt (`SUBSCRIBE id:0 destination:/topic/tK receipt:tK`,
// answered by RECEIPT receipt-id:tK), and a publisher sends `SEND destination:/topic/tK` with a
// content-length and the data as its body: each MESSAGE's body is the delivery, checked whole,
// timed, counted in order. stomp_queue: the same over `/queue/tK`, the subscribers being
// consumers with `ack:client-individual` and `prefetch-count:16`: each message goes to one of
// its queue's consumers, which ACKs it by its `ack` header (the ACKs of one read in one write).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bench_progress.hpp"
#include "client_pool.hpp"
#include "latency_histogram.hpp"

namespace duplex::app {

enum class SubscriberKind {
  websocket,
  event_stream,
  long_poll,
  socketio,
  sockjs,
  stomp_topic,
  stomp_queue
};

struct PubsubOptions {
  ClientTarget target;
  int subscribers = 1000;  // subscriber i subscribes to topic "t<i % topics>"
  int publishers = 1;      // publisher j's n-th publish goes to topic "t<(j + n) % topics>"
  int topics = 1;          // must divide subscribers
  size_t data_size = 512;  // of each data string, its 16-digit id included (at least 16)
  int inflight = 16;       // publishes per publisher not yet delivered to every subscriber
  // socketio: the publishers too are Socket.IO clients (rooms and the `broadcast` event).
  // sockjs: every connection a SockJS client of one chat (topics must be 1), the publishers
  // recipients too. stomp_topic, stomp_queue: every connection a STOMP client, the subscribers
  // of topics or consumers of queues.
  SubscriberKind subscriber_kind = SubscriberKind::websocket;
  std::string subscriber_path;  // of the HTTP subscribers (not websocket), e.g. "/sse", "/poll"
  // More servers of one cluster: subscriber i connects to target (i % (n + 1) == 0) or to
  // other_nodes[i % (n + 1) - 1]; the publishers always to target.
  std::vector<io::SocketAddress> other_nodes;
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
  uint64_t poll_answers = 0;     // long polls answered in the window
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
