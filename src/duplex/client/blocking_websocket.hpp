// A blocking WebSocket client for scripts and tests: each call runs a private event loop until
// its result is there or its timeout passes.
//
//   duplex::BlockingWebSocket ws("ws://localhost:8080/echo");
//   ws.send("hello");
//   auto reply = ws.receive();  // std::optional<Message>
//   ws.close();
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "duplex/client/websocket_client.hpp"

namespace duplex {

namespace io {
class EventLoop;
}

class BlockingWebSocket {
 public:
  struct Message {
    std::string data;
    MessageType type;
  };
  struct Closed {
    uint16_t code;
    std::string reason;
    bool was_clean;
    std::string error;  // the error event's text, if one fired
  };

  /// Connects; throws std::runtime_error with the reason when the connection cannot be opened.
  explicit BlockingWebSocket(std::string url, ClientOptions options = {});
  ~BlockingWebSocket();

  /// Queues a message and writes it; throws std::runtime_error once the connection is closed.
  void send(std::string_view data, MessageType type = MessageType::text);
  /// The next message, or nullopt when the timeout passes or the connection has closed.
  std::optional<Message> receive(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Runs the closing handshake (code as in WebSocketClient::close) and returns how it ended,
  /// or what ended the connection earlier.
  Closed close(std::optional<uint16_t> code = 1000, std::string_view reason = {},
               std::chrono::milliseconds timeout = std::chrono::seconds(10));
  /// Set once the connection has closed, by either side.
  const std::optional<Closed>& closed() const { return closed_; }
  const std::string& protocol() const { return ws_->protocol(); }
  WebSocketClient& client() { return *ws_; }

 private:
  template <class Done>
  bool run_until(Done done, std::chrono::milliseconds timeout);

  std::unique_ptr<io::EventLoop> loop_;
  std::unique_ptr<WebSocketClient> ws_;
  std::deque<Message> inbox_;
  std::optional<Closed> closed_;
  std::string error_;
  bool open_ = false;
};

}  // namespace duplex
