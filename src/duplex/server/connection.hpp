// Internal: one accepted TCP connection, first speaking HTTP/1.1 and then, once upgraded,
// WebSocket. Reads go through the loop's shared receive buffer; sends are queued and written
// once per loop iteration (corked); a close runs the core's CloseHandshake.
#pragma once

#include <any>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "duplex/core/ws/close_handshake.hpp"
#include "duplex/core/ws/permessage_deflate.hpp"
#include "duplex/core/ws/receiver.hpp"
#include "duplex/io/event_loop.hpp"
#include "duplex/io/output_buffer.hpp"
#include "duplex/io/socket.hpp"
#include "duplex/io/tls.hpp"
#include "duplex/server/http_exchange.hpp"
#include "duplex/server/session/session.hpp"
#include "duplex/server/websocket.hpp"

namespace duplex::core {
class HttpResponse;
}

namespace duplex::detail {

class MessageEncodings;
struct FrameSlice;
struct Skip;
struct ExchangeState;
struct HttpRoute;
class DeflateSession;
class ServerCore;

class Connection final : public WebSocket,
                         public io::IoHandler,
                         public io::Timer,
                         private core::ReceiverEvents {
 public:
  Connection(ServerCore& server, int fd, const io::PeerAddress& peer);
  ~Connection();

  /// Called by the server once the 101 response is queued; `deflate` when permessage-deflate
  /// was agreed.
  void become_websocket(Endpoint& endpoint, std::string protocol, std::any user_data,
                        std::string user_id,
                        const std::optional<core::DeflateParams>& deflate = std::nullopt);
  /// Writes queued output; the loop calls it once at the end of an iteration.
  void flush();
  /// Queues bytes as they are (an HTTP response).
  void queue_bytes(std::string_view bytes) { output().append(bytes); }
  /// Queues a message for many in the form this connection needs (the shared plain or
  /// compressed frame, or compressed with its own context).
  bool send_broadcast(MessageEncodings& frames);
  /// Queues a frame made once for many connections in a protocol's own framing of a published
  /// message (SockJS's a["..."]), as it is: plain, never compressed.
  bool send_prepared(const io::SharedBytes& frame, const MessageEncodings& frames);
  /// What a publish by `ws` skips: its session, on its loop (nothing if it never subscribed).
  static Skip skip_session(const WebSocket* ws);
  /// What a broadcast by `ws` skips: the connection itself, on its loop.
  static Skip skip_connection(const WebSocket* ws);
  /// Graceful shutdown: close 1001 if a WebSocket, else drop an idle HTTP connection.
  void shut_down();

  // An HTTP route's exchange (http/exchange_state.hpp), answered through HttpExchange.
  /// Takes over a request for `route` (its whole head, parsed already): its body is read from
  /// `rest` (the bytes after the head) and later reads; the handler runs once it is whole.
  /// Returns the bytes of `rest` used.
  size_t start_exchange(const HttpRoute& route, std::string head, std::string_view rest);
  void exchange_respond(ExchangeState& ex, int status, std::string_view body,
                        std::string_view content_type, const HttpHeaders& headers);
  void exchange_start_stream(ExchangeState& ex, int status, std::string_view content_type,
                             const HttpHeaders& headers);
  /// Queues `data` on a started stream; past `limit` queued bytes the stream is dropped.
  bool exchange_write(ExchangeState& ex, std::string_view data, size_t limit);
  /// Queues a whole chunk made for many streams (shared, not copied when it is large), on a
  /// started chunked stream; past `limit` queued bytes the stream is dropped.
  bool exchange_write_chunk(ExchangeState& ex, const io::SharedBytes& chunk, size_t limit);
  void exchange_end(ExchangeState& ex);
  /// Leaves the exchange waiting for a later answer (timeout_ms 0: no deadline).
  void exchange_hold(ExchangeState& ex, uint32_t timeout_ms);

  bool is_websocket() const { return endpoint_ != nullptr; }
  /// Over TLS, gives the session's buffers back if nothing came in for `quiet_ms`.
  void release_idle_tls(uint64_t quiet_ms) {
    if (tls_ && !dead_ && since(last_activity_ms_) >= quiet_ms) tls_->release_buffers_if_idle();
  }
  /// The transport is closed; the object is freed at the end of the iteration.
  bool retired() const { return dead_; }
  /// Open in its endpoint (in the endpoint's list), closing included until the close completes.
  bool listed() const { return listed_; }

  // WebSocket's interface, implemented here.
  bool send_message(std::string_view message, MessageType type);
  bool send_ping(std::string_view payload);
  void start_close(uint16_t code, std::string_view reason);
  void abort(std::string_view reason);
  size_t buffered() const { return out_ ? out_->size() : 0; }
  ReadyState state() const { return close_.state(); }
  std::string_view protocol_name() const {
    return extras_ ? std::string_view(extras_->protocol) : std::string_view();
  }
  const io::PeerAddress& peer() const { return peer_; }
  const io::TlsSession* tls() const { return tls_.get(); }
  Endpoint& owner() const { return *endpoint_; }
  std::any& data() { return extras().user_data; }
  ServerCore& server_core() const { return server_; }

  // Publish/subscribe, on this connection's loop.
  bool subscribe(std::string_view topic);
  bool unsubscribe(std::string_view topic);
  bool is_subscribed(std::string_view topic) const;
  std::vector<std::string> topic_names() const;
  std::string_view user() const {
    return extras_ && extras_->session ? std::string_view(extras_->session->user_id())
                                       : std::string_view();
  }
  /// Its pub/sub session: null until it subscribes or gets a user id (or other rare state).
  Session* session() const { return extras_ ? extras_->session.get() : nullptr; }

  // A connection is in one intrusive list at a time: its endpoint's list of open WebSockets
  // while open, else the server's list of the others (HTTP, closing). One pair of links each.
  Connection* next = nullptr;
  Connection* prev = nullptr;
  static void link(Connection*& head, Connection* c) {
    c->prev = nullptr;
    c->next = head;
    if (head) head->prev = c;
    head = c;
  }
  static void unlink(Connection*& head, Connection* c) {
    if (c->prev) c->prev->next = c->next;
    if (c->next) c->next->prev = c->prev;
    if (head == c) head = c->next;
    c->prev = c->next = nullptr;
  }

 private:
  struct HttpState;
  // What few connections need, made on first use, so an idle echo connection is small.
  struct Extras {
    std::unique_ptr<HttpState> http;          // a request head split across reads
    std::unique_ptr<ExchangeState> exchange;  // a route's request being read or answered
    std::string protocol;                     // the chosen subprotocol
    std::any user_data;
    // User id and topics: made on first subscribe or user binding (an HTTP connection, whose
    // exchanges may have sessions of their own, never needs one).
    std::unique_ptr<Session> session;
    Session& own_session(Connection& owner);
    Extras();
    ~Extras();
  };
  Extras& extras();
  HttpState* http() const { return extras_ ? extras_->http.get() : nullptr; }
  // Timestamps are kept as the low 32 bits of the loop's millisecond clock: differences are
  // exact for 49 days, far beyond any timeout.
  static uint32_t mark(uint64_t now_ms) { return static_cast<uint32_t>(now_ms); }
  uint64_t since(uint32_t mark_ms) const;

  void on_io(uint32_t events) override;
  void on_timer() override;
  void on_message(MessageType type, std::string_view payload) override;
  void on_ping(std::string_view payload) override;
  void on_pong(std::string_view payload) override;
  void on_close(uint16_t code, std::string_view reason) override;
  void on_protocol_error(uint16_t code, std::string_view reason) override;

  // Plain TCP on a loop that receives for it (io_uring): bytes come to on_received, and only
  // writability is watched with readiness, while the kernel pushes back.
  bool receiving() const;
  void on_readable();
  // What a read gave: > 0 bytes at `data` (writable, valid during the call), 0 at EOF, -errno.
  void on_received(char* data, ssize_t result);
  void watch_writable(bool on);
  bool continue_tls_handshake();
  void on_http_bytes(char* data, size_t len);
  ExchangeState* exchange() const { return extras_ ? extras_->exchange.get() : nullptr; }
  // Feeds body bytes to the exchange being read; runs its handler once the body is whole.
  // Returns the bytes used.
  size_t feed_exchange_body(ExchangeState& ex, std::string_view data);
  void run_exchange_handler(ExchangeState& ex);
  // The exchange is over (`completed`: its answer went out whole); the connection goes on with
  // its next request, or closes.
  void finish_exchange(ExchangeState& ex, bool completed);
  void queue_exchange_response(ExchangeState& ex, core::HttpResponse& response);
  // Whether `bytes` more may be queued on a stream; drops the stream when they may not.
  bool admit_stream_bytes(ExchangeState& ex, size_t bytes, size_t limit);
  void apply(const core::CloseStep& step, std::string_view reason);
  // Whether a frame of `frame_bytes` may be queued: open, and within max_backpressure (else
  // the slow-consumer policy applies to `payload`).
  bool admit(size_t frame_bytes, std::string_view payload, MessageType type);
  bool send_shared(const FrameSlice& frame, const MessageEncodings& frames);
  bool send_compressed(std::string_view message, MessageType type);
  // Frames `payload` into the send queue (RSV1 set when `compressed`), within max_backpressure.
  bool queue_message(std::string_view payload, MessageType type, bool compressed);
  void schedule_flush();
  void queue_control(core::Opcode op, std::string_view payload);
  io::OutputBuffer& output();
  void arm_timer();
  void report_close(uint16_t code, std::string_view reason);
  void close_transport();
  void leave_endpoint();
  void leave_pubsub();

  ServerCore& server_;
  Endpoint* endpoint_ = nullptr;
  std::unique_ptr<Extras> extras_;
  std::unique_ptr<DeflateSession> deflate_;  // when permessage-deflate was agreed
  std::unique_ptr<io::TlsSession> tls_;      // null for plain TCP
  core::Receiver receiver_;
  io::OutputBuffer* out_ = nullptr;  // lent by the server while there is output
  uint32_t last_activity_ms_ = 0;
  // Open: when the last keep-alive ping went out. Closing: when the close began (pings stop).
  uint32_t timer_mark_ms_ = 0;
  io::PeerAddress peer_;
  int fd_;
  core::CloseHandshake close_{core::Role::server};
  bool waiting_writable_ : 1 = false;  // EPOLLOUT armed: the kernel pushed back
  bool close_after_flush_ : 1 = false;
  bool write_shut_ : 1 = false;      // FIN sent; reading until the peer's EOF
  bool close_reported_ : 1 = false;  // on_close delivered
  bool dead_ : 1 = false;            // transport closed; waiting to be freed
  bool listed_ : 1 = false;          // in the endpoint's list
  bool reporting_drop_ : 1 = false;  // in on_dropped: a send from there is not reported again
  bool flush_queued_ : 1 = false;    // in the loop's flush queue (io::Flushable)

  friend class io::EventLoop;
  bool flush_queued() const { return flush_queued_; }
  void set_flush_queued(bool queued) { flush_queued_ = queued; }
};

}  // namespace duplex::detail
