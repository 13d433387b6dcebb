// The connection machinery of `duplex bench`: many WebSocket client connections on one raw
// epoll loop. It connects them (a bounded number of handshakes at a time, TLS for wss://),
// writes what it is given (keeping what a socket does not take), walks the server's frames by
// their headers alone and hands each whole data message to a handler with its size and its first
// few payload bytes; payloads are otherwise skipped, never copied, unmasked or validated. The
// traffic itself (echo, publish/subscribe) is the handler's business.
//
// Some connections may be HTTP/1.1 subscribers instead (http_target), to the same host and port:
// Server-Sent Events streams send `GET <target>`, expect a 200 text/event-stream answer, and hand
// each event's data to the handler as a text message (EventStreamWalker reads them); long polls
// send `GET <target>`, and for each 200 application/json answer (core::Http1ResponseParser, its
// body read by core::BodyReader) hand each message of its batch to the handler as a text message
// (walk_poll_answer reads them), then poll again at once on the same connection with the
// answer's cursor. A long poll is open once its first poll has been answered: until then it
// counts among the connections being opened (max_pending_connects), so that a server which has
// not yet taken the connections it has is not handed more; then it waits for resume_polls(), so
// that while connections open, answering them is the server's only work.
//
// Or every WebSocket connection may be a Socket.IO client (socketio): Engine.IO v4 over
// WebSocket at the URL's path (`?EIO=4&transport=websocket` added to its query). It is open
// once the server's open packet (`0{...}`) has come and the CONNECT to the default namespace it
// then sends (`40`) has been answered (`40{"sid":...}`): until then it counts among the
// connections being opened. The server's pings (`2`) are answered (`3`) and never handed over;
// every other packet is, as a text message of its Engine.IO packet text (`42[...]` for an event).
//
// Or every WebSocket connection may be a SockJS client (sockjs) over its websocket transport:
// the upgrade goes to `<the URL's path>/<3 digits>/<random session id>/websocket`, and the
// connection is open once the server's open frame (`o`) has come. Heartbeats (`h`) are stepped
// over, a close frame (`c[code,"reason"]`) is an error, and every message of a message frame
// (`a["...","..."]`) is handed over whole, as a text message of its JSON string's text between
// the quotes, escapes and all (head and head_size are the whole of it, whatever head_bytes).
//
// Or every WebSocket connection may be a STOMP 1.2 client (stomp): the upgrade offers the
// subprotocol `v12.stomp`, a CONNECT frame (login and passcode `guest`, no heart-beats) goes out
// at once, and the connection is open once the server's CONNECTED frame has come. Each WebSocket
// message is gathered whole and walked as STOMP frames (one or several, heart-beat EOLs between
// them stepped over): a MESSAGE's body is handed over whole as a text message (head and
// head_size are the body, with its `ack` header's value in `ack`), a RECEIPT as the text
// `receipt:<receipt-id>`; an ERROR frame, or any other frame, is an error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/http/body_reader.hpp"
#include "duplex/core/http/url.hpp"
#include "duplex/io/socket.hpp"
#include "duplex/io/tls.hpp"
#include "poll_answer_walker.hpp"

namespace duplex::app {

/// Where the connections go, as the command resolved it.
struct ClientTarget {
  core::WebSocketUrl url;
  io::SocketAddress address;                        // resolved url host
  std::shared_ptr<const io::TlsClientContext> tls;  // wss:// only
  std::vector<io::SocketAddress> sources;  // local addresses to spread connections over (or none)
};

enum class HttpSubscriber : uint8_t { event_stream, long_poll };

struct ClientPoolOptions {
  ClientTarget target;
  // Offer permessage-deflate (client_no_context_takeover); a server that declines is an error.
  bool deflate = false;
  size_t head_bytes = 0;  // payload bytes of each message kept for the handler (at most 1,024)
  int max_pending_connects = 256;
  // When set and not null for a connection's index: the address it connects to instead of
  // target.address (another server of a cluster; same URL path and Host header).
  std::function<const io::SocketAddress*(size_t index)> address_of;
  // When set and not empty for a connection's index: that connection is an HTTP subscriber of
  // this request target (e.g. "/sse?topic=t0"), of kind http_kind, not a WebSocket.
  std::function<std::string(size_t index)> http_target;
  HttpSubscriber http_kind = HttpSubscriber::event_stream;
  // Every connection a Socket.IO client over WebSocket (not with http_target).
  bool socketio = false;
  // Every connection a SockJS client over its websocket transport (not with http_target).
  bool sockjs = false;
  // Every connection a STOMP 1.2 client over WebSocket (not with http_target).
  bool stomp = false;
};

/// A whole data message, as the pool saw it go by (an event stream's event: its data, as text; a
/// long poll's message: its JSON value, as text).
struct ReceivedMessage {
  uint8_t opcode = 0;       // of its first frame: 1 text, 2 binary
  bool compressed = false;  // RSV1: its size is the compressed one
  uint64_t size = 0;        // payload bytes, all fragments
  const uint8_t* head = nullptr;
  size_t head_size = 0;  // min(size, head_bytes)
  std::string_view ack;  // a STOMP MESSAGE's `ack` header (empty when it has none)
};

/// How the connections fared: the part of every engine's result the pool knows.
struct ConnectionOutcome {
  int opened = 0;  // connections whose handshake succeeded and that did not fail later
  uint64_t errors = 0;
  std::vector<std::string> first_errors;  // up to a few, for the report
};

/// The start of a message, printable, with its size, for an error's text.
std::string sample(const ReceivedMessage& m);

uint64_t now_ns();  // CLOCK_MONOTONIC

class ClientPool {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    /// A whole data message arrived on connection `index`, read at `now`.
    virtual void on_message(size_t index, const ReceivedMessage& message, uint64_t now) = 0;
    /// Every message of one read of connection `index` has been handed over.
    virtual void on_read_end(size_t /*index*/, uint64_t /*now*/) {}
    /// One poll's events have all been handled.
    virtual void on_poll_end(uint64_t /*now*/) {}
    /// A long poll's answer on connection `index` has been read, its messages handed over (the
    /// first answer's too, as the connection opens); the next poll, from its cursor, goes out
    /// when this returns. What it says of lost topics is the handler's to judge.
    virtual void on_poll_answer(size_t /*index*/, const PollAnswer& /*answer*/, uint64_t /*now*/) {}
  };

  ClientPool(const ClientPoolOptions& options, size_t connections, Handler& handler);
  ~ClientPool();
  ClientPool(const ClientPool&) = delete;
  ClientPool& operator=(const ClientPool&) = delete;

  /// Opens connections [first, last), at most max_pending_connects handshakes under way at a
  /// time, each given 10 s; `tick` is called about every second with the seconds so far.
  void connect(size_t first, size_t last, const std::function<void(double)>& tick);

  /// Polls for `seconds` (until `stop` says so, if sooner), calling `tick` about every second
  /// with the seconds so far. Returns the seconds it ran.
  double run_for(double seconds, const std::function<void(double)>& tick,
                 const std::function<bool()>& stop);

  /// Waits up to `timeout_ms` for events and handles them.
  void poll(int timeout_ms);

  /// Lets every open long poll poll again, from its first answer's cursor.
  void resume_polls();

  /// Sends on an open connection; what the socket does not take now goes out on writability.
  void send(size_t index, const char* data, size_t len);

  bool is_open(size_t index) const;
  /// Counts an error, keeps its text (the first few) and drops the connection.
  void fail(size_t index, std::string what);
  /// Counts an error that is no connection's fault alone.
  void count_error(std::string what);

  /// Sends a close frame (1000) on every open connection, without waiting for the answer, and
  /// closes them all.
  void close_all();
  /// Copies the connection counts and errors into an engine's result.
  void tell(ConnectionOutcome& outcome) const;

  size_t size() const;
  int open_count() const { return opened_; }

 private:
  struct Connection;
  struct HttpSubscription;

  void start_connect(Connection& c, size_t index);
  void expire_handshakes(uint64_t now);
  void on_connected(Connection& c);
  void continue_tls_handshake(Connection& c);
  void start_upgrade(Connection& c);
  void opened(Connection& c);
  void on_handshake_bytes(Connection& c, const char* data, size_t len);
  size_t read_answer_head(Connection& c, std::string_view in, std::string_view& buffered,
                          core::ResponseFraming& framing);
  void on_stream_head(Connection& c, size_t index, std::string_view in);
  void read_events(Connection& c, size_t index, std::string_view in, uint64_t now);
  void send_poll(Connection& c);
  void read_answer(Connection& c, size_t index, std::string_view in, uint64_t now);
  ssize_t receive(Connection& c, char* buffer, size_t size);
  ssize_t transmit(Connection& c, const char* data, size_t len);
  void on_readable(Connection& c, size_t index);
  void read_frames(Connection& c, size_t index, const uint8_t* p, size_t len, uint64_t now);
  bool start_frame(Connection& c, size_t index, const uint8_t* header);
  void take_payload(Connection& c, const uint8_t* p, size_t len);
  void frame_done(Connection& c, size_t index, uint64_t now);
  bool socketio_packet(Connection& c, const ReceivedMessage& message);
  void sockjs_frame(Connection& c, size_t index, uint64_t now);
  void stomp_message(Connection& c, size_t index, uint64_t now);
  void write(Connection& c, const char* data, size_t len);
  void flush_pending(Connection& c);
  void set_write_interest(Connection& c, bool on);
  void error(Connection& c, std::string what);
  void drop(Connection& c);
  size_t index_of(const Connection& c) const;
  static bool opening(const Connection& c);

  ClientPoolOptions options_;
  Handler& handler_;
  std::vector<Connection> connections_;
  std::unique_ptr<char[]> buffer_;
  std::string host_header_;
  std::string request_;                           // scratch for an HTTP subscriber's request
  core::WebSocketUrl upgrade_url_;                // the URL upgraded to (Socket.IO: with its query)
  std::string socketio_connect_, socketio_pong_;  // masked frames "40" and "3"
  std::string stomp_connect_;                     // the masked CONNECT frame
  std::string stomp_receipt_;                     // scratch: a RECEIPT handed over as text
  int epoll_fd_ = -1;
  int pending_ = 0;  // connections connecting or handshaking
  int opened_ = 0;   // connections open now
  uint64_t errors_ = 0;
  std::vector<std::string> first_errors_;
};

}  // namespace duplex::app
