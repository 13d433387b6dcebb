// Internal: what an HTTP route's exchange holds while it lives: a copy of its request head
// (parsed again where it now lies), its decoded body, where its answer stands, and the handlers
// the application set. The connection drives it (connection.cpp); the public facade reads it
// (http_exchange.cpp). Data only: nothing here calls anyone.
#pragma once

#include <any>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "duplex/core/http/body_reader.hpp"
#include "duplex/core/http/http1_parser.hpp"
#include "duplex/server/http_exchange.hpp"

namespace duplex::io {
class EventLoop;
}

namespace duplex::detail {

class Connection;

/// A route: a handler at a path (or under a prefix) with its options.
struct HttpRoute {
  std::string path;
  HttpHandler handler;
  HttpRouteOptions options;

  bool matches(std::string_view target_path) const {
    return options.prefix ? target_path.substr(0, path.size()) == path : target_path == path;
  }
};

/// Shared between a held exchange (on its loop) and the HeldResponse handles given out (any
/// thread). `exchange` is read and cleared on the loop only; `pending` may be read anywhere.
class HeldState {
 public:
  HeldState(io::EventLoop& loop, HttpExchange& exchange) : loop_(loop), exchange_(&exchange) {}
  io::EventLoop& loop() { return loop_; }
  HttpExchange* exchange() const { return exchange_; }
  void finish() {
    exchange_ = nullptr;
    pending_.store(false, std::memory_order_release);
  }
  bool pending() const { return pending_.load(std::memory_order_acquire); }

 private:
  io::EventLoop& loop_;
  HttpExchange* exchange_;
  std::atomic<bool> pending_{true};
};

/// The exchange itself: the public HttpExchange is its face.
struct ExchangeState final : HttpExchange {
  enum class Phase : uint8_t {
    body,       // the head is in, the body is coming
    handler,    // the handler runs; not yet answered
    held,       // left unanswered by the handler (hold)
    streaming,  // a streamed response is under way
    done,       // answered whole, or stream ended, or the client went away
  };

  ExchangeState(Connection& connection, const HttpRoute& http_route, std::string head_bytes)
      : conn(connection), route(http_route), head(std::move(head_bytes)) {}

  Connection& conn;
  const HttpRoute& route;
  std::string head;           // the request head, copied out of the receive buffer
  core::HttpRequest request;  // views into `head`
  std::string body;
  std::unique_ptr<core::BodyReader> reader;  // while a body is coming
  std::string waiting;                       // pipelined requests that came in behind this one
  uint32_t hold_timeout_ms = 0;              // up to 49 days
  uint16_t hold_timeout_status = 204;
  Phase phase = Phase::body;
  bool keep_alive : 1 = true;  // HTTP/1.1 without Connection: close
  bool head_only : 1 = false;  // a HEAD request: no body in the answer
  bool chunked : 1 = true;     // a stream is chunked (HTTP/1.1) or ends with the connection
  std::shared_ptr<HeldState> held;
  std::function<void()> on_drain;
  std::function<void()> on_timeout;
  std::function<void(bool)> on_close;
  std::any user_data;
  // What a protocol built on the exchange keeps alive as long as it (an SSE stream, a poll):
  // freed with the exchange, after on_close.
  std::shared_ptr<void> attachment;

  /// Frees the request head once nothing will read it again (a stream whose head has gone out:
  /// an idle SSE stream keeps only what it needs). The accessors then see an empty request.
  void forget_request() {
    request = {};
    std::string().swap(head);
  }
};

inline ExchangeState& state_of(HttpExchange& exchange) {
  return static_cast<ExchangeState&>(exchange);
}
inline const ExchangeState& state_of(const HttpExchange& exchange) {
  return static_cast<const ExchangeState&>(exchange);
}

}  // namespace duplex::detail
