// Internal: the Socket.IO side of one Engine.IO session: it decodes the session's messages into
// Socket.IO packets (joining binary attachments to their packet), connects namespaces, and routes
// each packet to the socket of its namespace, as the reference's Client does: a second CONNECT
// to a namespace, a packet for a namespace not connected or one that does not decode closes the
// whole session; a session that connects no namespace within connect_timeout is closed.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/io/timers.hpp"
#include "duplex/server/protocols/socketio/socketio_state.hpp"

namespace duplex::socketio::detail {

class SocketImpl;

class ClientImpl final : public std::enable_shared_from_this<ClientImpl> {
 public:
  ClientImpl(ServerState& server, engineio::Socket& engine);
  ~ClientImpl();

  /// Hooks the client to its session's handlers and arms the connect timeout.
  void start();
  engineio::Socket& engine() const { return engine_; }
  ServerState& server() const { return server_; }

  /// Sends one Socket.IO packet (and its attachments, as binary messages).
  bool send(std::string_view text, std::span<const std::string> attachments = {});
  /// The socket left its namespace.
  void forget(const std::string& nsp);
  /// Every socket leaves ("server namespace disconnect"), then the session closes.
  void disconnect_all();

 private:
  struct ConnectTimer final : io::Timer {
    ClientImpl* self = nullptr;
    void on_timer() override { self->connect_timed_out(); }
  };
  void on_message(std::string_view data, bool binary);
  void on_packet(std::string_view text, std::span<const std::string_view> attachments);
  void connect(std::string_view nsp, std::string_view auth_json);
  void on_close(std::string_view reason);
  void connect_timed_out();
  /// A protocol violation: the session is closed (its sockets report "forced close").
  void fail();

  ServerState& server_;
  engineio::Socket& engine_;
  std::map<std::string, std::shared_ptr<SocketImpl>, std::less<>> sockets_;  // by namespace
  // A binary packet waiting for its attachments.
  std::string pending_;
  size_t pending_attachments_ = 0;
  std::vector<std::string> attachments_;
  std::vector<std::string_view> attachment_views_;
  ConnectTimer connect_timer_;
  bool closed_ = false;
};

}  // namespace duplex::socketio::detail
