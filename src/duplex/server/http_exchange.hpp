// HTTP routes beside the WebSocket endpoints: a handler for any method at a path (or under a
// prefix) sees the request with its whole body and answers it in one of three ways:
//   - whole:    exchange.respond(200, "ok");
//   - streamed: exchange.start_stream(200, "text/event-stream"); exchange.write(...); ...; end()
//               (chunked, written once per loop iteration, bounded by max_buffered);
//   - held:     auto later = exchange.hold(); ... later.respond(200, "...") from any thread
//               (a long poll), or on_close when the client goes away first.
//
//   server.http("/publish", [](duplex::HttpExchange& ex) {
//     server.publish("news", ex.body());
//     ex.respond(204);
//   }, {.cors = {.allowed_origins = {"https://app.example"}}});
//
// The exchange object lives until its response is complete or its connection closes, and
// on_close() tells which came first; a reference kept past that is dangling. Handlers run on
// the connection's loop thread; only HeldResponse may be used from other threads.
#pragma once

#include <any>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duplex/core/http/cors.hpp"
#include "duplex/io/socket.hpp"

namespace duplex {

namespace detail {
class HeldState;
}  // namespace detail

/// Cross-origin access for a route (core/http/cors.hpp): allowed origins ("*" for any),
/// credentials, the methods and headers a preflight may ask for, exposed headers, max-age.
using CorsOptions = core::CorsPolicy;

struct HttpRouteOptions {
  /// The route answers every path that starts with the route's path ("/socket.io/"), not only
  /// the path itself.
  bool prefix = false;
  /// Largest request body (Content-Length or chunked); a larger one is answered 413.
  uint64_t max_body = 1 << 20;
  /// Time the body gets to arrive once the head is in; then 408 and the connection closes.
  std::chrono::milliseconds body_timeout{10'000};
  CorsOptions cors;
  /// The handler answers CORS preflights itself (a protocol with CORS rules of its own, as
  /// SockJS has) instead of the route's `cors` policy answering them.
  bool handler_answers_preflights = false;
  /// A streamed response's queued bytes (not yet taken by the kernel) past which the stream is
  /// dropped: its connection closes and on_close runs. A client that never reads cannot grow
  /// memory without bound.
  size_t max_buffered = 1 << 20;
};

using HttpHeaders = core::HeaderList;

class HttpExchange;

/// A held exchange's answer, from any thread: copyable, and each call is posted to the
/// exchange's loop. Once the exchange has finished (answered, timed out or its client gone)
/// calls do nothing and return false. Use it while the server runs.
class HeldResponse {
 public:
  HeldResponse() = default;
  /// Answers the held exchange; false when it is no longer waiting (as far as this thread can
  /// tell: a call racing the client's disconnect returns true and does nothing).
  bool respond(int status, std::string body = {},
               std::string content_type = "text/plain; charset=utf-8", HttpHeaders headers = {});
  /// Whether the exchange may still be answered.
  bool pending() const;

 private:
  friend class HttpExchange;
  explicit HeldResponse(std::shared_ptr<detail::HeldState> state) : state_(std::move(state)) {}
  std::shared_ptr<detail::HeldState> state_;
};

class HttpExchange {
 public:
  // --- the request ---
  std::string_view method() const;
  /// The target's path, as sent (no percent-decoding), and its query without the '?'.
  std::string_view path() const;
  std::string_view query() const;
  /// The first header of that name (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const;
  /// The whole body, decoded from chunked if it was sent so.
  std::string_view body() const;
  const io::PeerAddress& remote_address() const;
  /// True over TLS (https://).
  bool secure() const;
  /// Whether the request may change anything: it has no Origin (not from a page), or comes
  /// from the server's own origin or one the route's CORS policy allows. A simple cross-origin
  /// request (a form's POST) needs no preflight, so CORS alone does not stop it from acting.
  bool origin_may_act() const;

  // --- answering (once) ---
  /// A complete response with Content-Length. CORS headers for the route are added.
  void respond(int status, std::string_view body = {},
               std::string_view content_type = "text/plain; charset=utf-8",
               const HttpHeaders& headers = {});
  /// Starts a streamed response: chunked (over HTTP/1.0, delimited by the connection's close).
  void start_stream(int status, std::string_view content_type, const HttpHeaders& headers = {});
  /// Queues bytes of a started stream (written at the end of the loop iteration). False, and
  /// nothing queued, when the stream is not writable: not started, ended, or dropped because
  /// these bytes would take a non-empty queue past max_buffered (which this call may do; one
  /// write of any size fits an empty queue, as a WebSocket message does).
  bool write(std::string_view data);
  /// Ends a streamed response; the connection goes on with its next request.
  void end();
  /// Leaves the exchange unanswered for now; answer it through the handle, from any thread, or
  /// here with respond(). `timeout` (if not zero) answers it with `timeout_status` ("") when it
  /// passes first.
  HeldResponse hold(std::chrono::milliseconds timeout = {}, int timeout_status = 204);
  /// Runs when a hold's timeout passes, to answer in its own way (a long poll's empty batch);
  /// if it leaves the exchange unanswered, `timeout_status` is sent.
  void on_timeout(std::function<void()> handler);

  /// Bytes of a streamed response queued but not yet taken by the kernel.
  size_t buffered_amount() const;
  /// Runs when a streamed response's queue has emptied after the kernel pushed back.
  void on_drain(std::function<void()> handler);
  /// Runs once when the exchange ends: `completed` when its response went out whole (or its
  /// stream was ended), false when the client went away or the stream was dropped first.
  void on_close(std::function<void(bool completed)> handler);
  bool finished() const;

  /// Per-exchange data for the application.
  std::any& user_data();

 protected:
  // The exchange is its connection's ExchangeState (server/http/exchange_state.hpp): handed out
  // by reference, never made or destroyed by the application.
  HttpExchange() = default;
  ~HttpExchange() = default;
  HttpExchange(const HttpExchange&) = delete;
  HttpExchange& operator=(const HttpExchange&) = delete;
};

using HttpHandler = std::function<void(HttpExchange&)>;

}  // namespace duplex
