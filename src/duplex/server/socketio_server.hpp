// Socket.IO v4 on the server (the Socket.IO protocol v5 over Engine.IO v4), wire-compatible with
// socket.io-client 4 and shaped like Node's `socket.io`:
//
//   duplex::Server server({.port = 3000});
//   duplex::socketio::Server io(server, {.engine = {.cors = {.allowed_origins = {"*"}}}});
//   io.on_connection([&io](duplex::socketio::Socket& socket) {
//     socket.on("chat message", [&io](duplex::socketio::Socket&, const duplex::socketio::Args&
//     args,
//                                     duplex::socketio::Ack) {
//       io.emit("chat message", args.value(0));  // to everyone
//     });
//   });
//   server.listen();
//   server.run();
//
// Arguments arrive as the JSON text the client sent and are parsed only when asked for
// (Args::json); an argument passed on (Args::value) is sent as it came, never parsed. Rooms and
// namespaces are topics of the server's publish/subscribe hub, so a room of the default namespace
// is the topic of the same name: what /pubsub, SSE or POST /publish send to topic "news" reaches
// the room "news" as the event "message", and an emit of "message" with one argument to a room
// reaches that topic's other subscribers (docs/socketio.md). An emit to many sockets is encoded
// once, whatever the number of recipients.
//
// A socket lives on the loop of its Engine.IO session: its handlers run on that loop's thread.
// Emits to rooms, namespaces and other sockets may be made from any thread.
#pragma once

#include <any>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duplex/core/json/json_value.hpp"
#include "duplex/server/engineio_server.hpp"

namespace duplex {
class Server;
}

namespace duplex::socketio {

/// JSON values as Socket.IO carries them: objects keep their keys in insertion order, binary
/// values (Json::binary) travel as attachments.
using Json = core::json::Json;

namespace detail {
class SocketImpl;
class NamespaceImpl;
struct ServerState;
}  // namespace detail

/// A value to emit: anything Json holds, or JSON text sent exactly as it is (Value::raw, and
/// what Args::value gives, which costs no parse).
class Value {
 public:
  template <class T>
  requires std::is_constructible_v<Json, T&&> Value(T&& value)
      : json_(std::forward<T>(value)) {}  // NOLINT: implicit, as in Node's emit
  static Value raw(std::string json_text) {
    Value v;
    v.raw_ = std::move(json_text);
    return v;
  }
  bool is_raw() const { return raw_.has_value(); }
  const std::string& raw_text() const { return *raw_; }
  const Json& json() const { return json_; }

 private:
  Value() = default;
  Json json_;
  std::optional<std::string> raw_;
};

/// The arguments of an event (after its name) or of an ack, as the client sent them.
class Args {
 public:
  size_t size() const { return raw_.size(); }
  bool empty() const { return raw_.empty(); }
  /// The JSON text of argument `i` (binary attachments appear as their placeholders).
  std::string_view raw(size_t i) const { return raw_.at(i); }
  /// Argument `i` parsed, binary attachments in place (std::out_of_range past the end).
  Json json(size_t i) const;
  /// Argument `i` as a value to pass on: sent as it came, unless it holds binary.
  Value value(size_t i) const;
  /// Every argument, parsed, as an array.
  Json array() const;
  /// Argument `i` if it is a JSON string, else nullopt.
  std::optional<std::string> string(size_t i) const;

  /// The binary attachments the arguments' placeholders stand for.
  std::span<const std::string_view> attachments() const { return attachments_; }

  // Made by the server.
  Args(std::vector<std::string_view> raw, std::span<const std::string_view> attachments)
      : raw_(std::move(raw)), attachments_(attachments) {}

 private:
  std::vector<std::string_view> raw_;
  std::span<const std::string_view> attachments_;
};

/// The answer to an event the client sent with an acknowledgement callback. Copyable; the
/// first call sends it, later ones do nothing, and so does a call once the socket is gone. Call
/// it on the socket's loop.
class Ack {
 public:
  Ack() = default;
  /// Whether the client asked for an acknowledgement.
  bool wanted() const { return id_.has_value(); }
  void operator()(std::vector<Value> args = {}) const;
  template <class... A>
  void send(A&&... args) const {
    (*this)(std::vector<Value>{Value(std::forward<A>(args))...});
  }

 private:
  friend class detail::SocketImpl;
  Ack(std::weak_ptr<detail::SocketImpl> socket, uint64_t id, std::shared_ptr<bool> sent)
      : socket_(std::move(socket)), id_(id), sent_(std::move(sent)) {}
  std::weak_ptr<detail::SocketImpl> socket_;
  std::optional<uint64_t> id_;
  std::shared_ptr<bool> sent_;
};

/// What the client answered to an emit with an acknowledgement, or that it did not in time.
struct AckReply {
  bool timed_out = false;  // "operation has timed out"
  Args args{{}, {}};       // valid during the callback
};

class Socket;
using EventHandler = std::function<void(Socket&, const Args&, Ack)>;
using AnyHandler = std::function<void(Socket&, std::string_view event, const Args&, Ack)>;

/// A refusal from connect middleware: the client's connect_error carries `message` and `data`.
struct ConnectError {
  std::string message;
  Json data;  // null: no "data" field
};
using Middleware = std::function<std::optional<ConnectError>(Socket&)>;

/// A set of recipients: rooms to reach (none: the whole namespace), rooms and a socket to skip.
/// Emit from any thread.
class Broadcast {
 public:
  Broadcast& to(std::string_view room) {
    rooms_.emplace_back(room);
    return *this;
  }
  Broadcast& in(std::string_view room) { return to(room); }
  Broadcast& except(std::string_view room) {
    except_.emplace_back(room);
    return *this;
  }
  /// Skipped by recipients that could not take it now (a poll not held, a slow reader).
  Broadcast& volatile_() {
    volatile_flag_ = true;
    return *this;
  }
  template <class... A>
  void emit(std::string_view event, A&&... args) {
    emit_values(event, std::vector<Value>{Value(std::forward<A>(args))...});
  }
  void emit_values(std::string_view event, const std::vector<Value>& args);
  /// Every matching socket (on every loop) joins / leaves `room`; disconnect_sockets disconnects
  /// them ("server namespace disconnect", or the whole client with `close`).
  void sockets_join(std::string_view room);
  void sockets_leave(std::string_view room);
  void disconnect_sockets(bool close = false);
  /// The ids of the matching sockets on every loop, sorted.
  std::vector<std::string> fetch_socket_ids() const;

  // Made by Namespace and Socket.
  Broadcast(std::shared_ptr<detail::NamespaceImpl> nsp, const detail::SocketImpl* skip)
      : nsp_(std::move(nsp)), skip_(skip) {}

 private:
  std::shared_ptr<detail::NamespaceImpl> nsp_;
  const detail::SocketImpl* skip_;  // the sender, for socket.broadcast / socket.to(...)
  std::vector<std::string> rooms_;
  std::vector<std::string> except_;
  bool volatile_flag_ = false;
};

class Socket {
 public:
  /// The socket id (not the Engine.IO session id, which stays private to the client).
  const std::string& id() const;
  /// The namespace's name ("/", "/admin").
  const std::string& nsp() const;
  /// The CONNECT packet's auth payload ({} when none was sent).
  const Json& auth() const;
  /// The Engine.IO session underneath (its transport, remote address, ...).
  engineio::Socket& conn() const;
  bool connected() const;
  /// The socket came back within the recovery window (Options::connection_state_recovery)
  /// with its id, rooms and data, and was sent what it missed.
  bool recovered() const;

  void on(std::string event, EventHandler handler);
  /// Every event, before its own handler.
  void on_any(AnyHandler handler);
  /// Once: "io server disconnect" is the client's name for "server namespace disconnect";
  /// others are "client namespace disconnect", "transport close", "transport error", "ping
  /// timeout", "parse error", "forced close", "forced server close", "server shutting down".
  void on_disconnect(std::function<void(Socket&, std::string_view reason)> handler);

  template <class... A>
  bool emit(std::string_view event, A&&... args) {
    return emit_values(event, std::vector<Value>{Value(std::forward<A>(args))...});
  }
  bool emit_values(std::string_view event, const std::vector<Value>& args);
  /// Emits with an acknowledgement callback; with a timeout (not zero) the callback gets
  /// timed_out if the client has not answered by then.
  bool emit_with_ack(std::string_view event, const std::vector<Value>& args,
                     std::function<void(const AckReply&)> callback,
                     std::chrono::milliseconds timeout = {});

  /// Joins / leaves a room: false when already in it / not in it, and for the room of the
  /// socket's own id, which it is always in.
  bool join(std::string_view room);
  bool leave(std::string_view room);
  /// The rooms joined, the socket's own id first (every socket is in the room of its id).
  std::vector<std::string> rooms() const;
  /// Other sockets of the namespace (all of them, or those in `room`).
  Broadcast broadcast() const;
  Broadcast to(std::string_view room) const;
  Broadcast except(std::string_view room) const;

  /// Leaves the namespace ("server namespace disconnect"; the client is told and does not
  /// reconnect), or with `close` ends the whole Engine.IO session.
  void disconnect(bool close = false);

  std::any& data();

 protected:
  Socket() = default;
  ~Socket() = default;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
};

class Namespace {
 public:
  const std::string& name() const;
  void use(Middleware middleware);
  void on_connection(std::function<void(Socket&)> handler);
  template <class... A>
  void emit(std::string_view event, A&&... args) {
    all().emit(event, std::forward<A>(args)...);
  }
  Broadcast to(std::string_view room) const;
  Broadcast except(std::string_view room) const;
  Broadcast all() const;
  /// Connected sockets on every loop.
  size_t socket_count() const;

  // Made by the server.
  explicit Namespace(std::shared_ptr<detail::NamespaceImpl> impl) : impl_(std::move(impl)) {}

 private:
  std::shared_ptr<detail::NamespaceImpl> impl_;
};

struct Options {
  /// The Engine.IO layer: path (/socket.io/), ping interval and timeout, max payload, CORS.
  engineio::Options engine{.path = "/socket.io/"};
  /// A client that connects to no namespace within this time is closed.
  std::chrono::milliseconds connect_timeout{45'000};
  /// Binary attachments one packet may carry.
  size_t max_attachments = 10;
  /// Rooms of the default namespace are the hub's topics of the same name under this prefix.
  /// With the prefix the /pubsub endpoint uses (PubSubOptions::topic_prefix, "pubsub:" in
  /// `duplex serve`), room "news" is /pubsub's (and SSE's and POST /publish's) topic "news":
  /// what they publish arrives as the event "message" with their data, and an emit of "message"
  /// with one argument reaches them as a publish of that data (docs/socketio.md).
  std::string pubsub_prefix;
  /// Connection state recovery (socket.io 4.6+): emits to the namespace, rooms and single
  /// sockets carry an offset (their last argument, as in Node); a socket that drops (transport
  /// close or error, ping timeout, forced close) is kept for max_disconnection_duration, and a
  /// client that comes back within it gets its id, rooms and data back and the emits it missed
  /// (Socket::recovered()), without the middleware again when recovery_skips_middlewares.
  bool connection_state_recovery = false;
  std::chrono::milliseconds max_disconnection_duration{120'000};
  bool recovery_skips_middlewares = true;
  /// Emits kept per namespace for recovery, at most: past it the oldest go (a client whose
  /// offset went with them starts afresh), so a burst of emits cannot grow memory without
  /// bound within the window.
  size_t recovery_max_packets = 100'000;
};

class Server {
 public:
  Server(duplex::Server& server, Options options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// The namespace of that name, made on first use ("/" is the default one).
  Namespace of(std::string_view name);
  /// Namespaces made when a client asks for a name `match` accepts; `setup` runs once for each
  /// (to add middleware and a connection handler) before its first socket connects.
  void of(std::function<bool(std::string_view name, const Json& auth)> match,
          std::function<void(Namespace)> setup);

  // The default namespace's, as in Node (io.on("connection"), io.emit, io.to(room)).
  void use(Middleware middleware) { of("/").use(std::move(middleware)); }
  void on_connection(std::function<void(Socket&)> handler) {
    of("/").on_connection(std::move(handler));
  }
  template <class... A>
  void emit(std::string_view event, A&&... args) {
    of("/").emit(event, std::forward<A>(args)...);
  }
  Broadcast to(std::string_view room) { return of("/").to(room); }
  Broadcast except(std::string_view room) { return of("/").except(room); }

  engineio::Server& engine();

 private:
  std::shared_ptr<detail::ServerState> state_;
};

}  // namespace duplex::socketio
