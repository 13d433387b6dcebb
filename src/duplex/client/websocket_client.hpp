// A WebSocket client shaped like the browser's WebSocket object: construct with a URL and
// subprotocols, attach handlers (onopen, onmessage, onerror, onclose) or listeners, send,
// close. It runs on an io::EventLoop, so thousands of clients can share one thread:
//
//   duplex::io::EventLoop loop;
//   duplex::WebSocketClient ws(loop, "ws://localhost:8080/echo");
//   ws.onopen = [&] { ws.send("Hello Server!"); };
//   ws.onmessage = [&](const duplex::MessageEvent& e) { std::cout << e.data << "\n"; ws.close(); };
//   ws.onclose = [&](const duplex::CloseEvent&) { loop.stop(); };
//   loop.run();
#pragma once

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

#include "duplex/core/ws/close_handshake.hpp"
#include "duplex/core/ws/frame.hpp"
#include "duplex/core/ws/permessage_deflate.hpp"

namespace duplex {

using core::DeflateOptions;
using core::MessageType;
using core::ReadyState;

namespace io {
class EventLoop;
}

struct MessageEvent {
  std::string_view data;  // valid during the call only
  MessageType type;
};

struct CloseEvent {
  uint16_t code;  // the server's code; 1005 if its close frame had none; 1006 if none came
  std::string_view reason;
  bool was_clean;  // both close frames were exchanged
};

/// Opt-in reconnection after a connection is lost (not after close() was called), with
/// exponential backoff and jitter, as Socket.IO clients do.
struct ReconnectPolicy {
  bool enabled = false;
  std::chrono::milliseconds initial_delay{500};
  std::chrono::milliseconds max_delay{30'000};
  double factor = 2.0;
  double jitter = 0.5;   // each delay is shortened by a random fraction up to this
  int max_attempts = 0;  // 0: no limit
};

struct ClientOptions {
  /// Offered subprotocols, in order of preference (the browser's second argument).
  std::vector<std::string> protocols;
  /// Extra request headers: Origin, Cookie, Authorization...
  std::vector<std::pair<std::string, std::string>> headers;
  /// Largest message accepted; a larger one fails the connection with 1009.
  uint64_t max_payload = 16 * 1024 * 1024;
  /// From the start of a connection attempt (DNS, TCP, proxy, HTTP) to the 101 response.
  std::chrono::milliseconds handshake_timeout{10'000};
  /// How long to wait for the server's close frame and then its TCP close.
  std::chrono::milliseconds close_timeout{5'000};
  /// Sends a ping after this much silence; zero disables.
  std::chrono::milliseconds ping_interval{0};
  /// Redirects (301, 302, 303, 307, 308) followed; zero refuses them, as browsers do.
  int max_redirects = 0;
  /// HTTP proxy for CONNECT, "http://[user:pass@]host:port". Unset: taken from the environment
  /// (http_proxy / https_proxy / all_proxy, with no_proxy), as curl does. Empty: none.
  std::optional<std::string> proxy;
  ReconnectPolicy reconnect;
  /// permessage-deflate (RFC 7692), offered when `enabled` (as browsers do) with
  /// client_max_window_bits and the server_* / client_* parameters set here (`mode` is unused).
  /// An answer that breaks the offer fails the handshake; once agreed, messages of at least
  /// `threshold` bytes are sent compressed and received ones inflated up to max_payload.
  DeflateOptions per_message_deflate;
  /// wss:// trusts the system's CA store, or only the CAs in this PEM file when set.
  std::string ca_file;
  /// A client certificate chain and key (PEM) for servers that require one (mutual TLS).
  std::string cert_file;
  std::string key_file;
  /// The name sent through SNI and checked against the certificate; empty: the URL's host.
  /// For reaching a server by address while checking its name.
  std::string server_name;
  /// wss:// without certificate or host name checks, for tests against self-signed servers;
  /// prints a warning to stderr once per process.
  bool insecure = false;
};

/// Use a client on its loop's thread. Handlers may call send() and close(); to destroy the
/// client from one of its own handlers, defer it with loop.post().
class WebSocketClient {
 public:
  /// Starts connecting at once (events fire on the loop, never from inside the constructor).
  /// Throws std::invalid_argument for a bad URL or option, like the browser's SyntaxError.
  WebSocketClient(io::EventLoop& loop, std::string url, ClientOptions options = {});
  /// Drops the connection without events.
  ~WebSocketClient();
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  // Single handlers, like the browser's onopen = ... properties.
  std::function<void()> onopen;
  /// Messages are delivered up to the server's close frame, also after close() was called.
  std::function<void(const MessageEvent&)> onmessage;
  std::function<void(std::string_view message)> onerror;  // a one-line reason
  std::function<void(const CloseEvent&)> onclose;

  // Any number of listeners, like addEventListener(); they run after the single handler.
  void add_open_listener(std::function<void()> listener);
  void add_message_listener(std::function<void(const MessageEvent&)> listener);
  void add_error_listener(std::function<void(std::string_view)> listener);
  void add_close_listener(std::function<void(const CloseEvent&)> listener);

  /// Queues a message (masked with a fresh key) and returns true. While CONNECTING it throws
  /// std::logic_error (the browser's InvalidStateError); once closing or closed the message is
  /// discarded and false returned.
  bool send(std::string_view data, MessageType type = MessageType::text);
  bool send_binary(std::string_view data) { return send(data, MessageType::binary); }
  /// Sends a ping (at most 125 bytes, else std::invalid_argument); false unless open.
  bool ping(std::string_view payload = {});
  /// The browser's close(): code 1000 or 3000-4999 and a reason of at most 123 bytes of UTF-8,
  /// else std::invalid_argument. While connecting it abandons the attempt (close event 1006).
  void close(std::optional<uint16_t> code = std::nullopt, std::string_view reason = {});

  ReadyState ready_state() const;
  /// Bytes queued but not yet written to the socket.
  size_t buffered_amount() const;
  /// The subprotocol and extensions the server chose (empty until open).
  const std::string& protocol() const;
  const std::string& extensions() const;
  /// The URL as parsed; after a redirect, the one finally connected to.
  const std::string& url() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace duplex
