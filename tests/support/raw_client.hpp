// A blocking test client over a real loopback socket: sends hand-made HTTP and frames, reads
// server frames with the core Receiver in client role. Every read has a deadline.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/ws/frame.hpp"

namespace duplex::test {

struct Frame {
  enum Kind { message, ping, pong, close, error } kind;
  core::MessageType type = core::MessageType::text;
  std::string payload;  // message/ping/pong payload, or close reason
  uint16_t code = 0;    // close code or protocol error code
};

class RawClient {
 public:
  /// Connects to 127.0.0.1:port; throws on failure.
  explicit RawClient(uint16_t port);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  void send_raw(std::string_view bytes);
  /// Reads up to the end of an HTTP response head and its Content-Length body (none for the
  /// answer to a HEAD request); "" on timeout.
  std::string read_http_response(int timeout_ms = 3000, bool head_request = false);
  /// Reads until `marker` has arrived and returns everything up to and including it (taken off
  /// the input); "" on timeout or EOF first.
  std::string read_until(std::string_view marker, int timeout_ms = 3000);
  /// Everything that arrives until EOF or the timeout.
  std::string read_all(int timeout_ms = 3000);
  /// Sends an upgrade request for `path` and returns the response head.
  std::string upgrade(std::string_view path, std::string_view extra_headers = {});
  /// Sends a masked frame.
  void send_frame(core::Opcode op, std::string_view payload, bool fin = true);
  void send_close(uint16_t code, std::string_view reason = {});
  /// Next frame from the server; throws std::runtime_error on timeout or EOF.
  Frame read_frame(int timeout_ms = 3000);
  /// True when the server closes the TCP connection within the timeout (data is discarded).
  bool wait_eof(int timeout_ms = 3000);
  /// Closes our side of the connection.
  void close_socket();

 private:
  bool fill(int timeout_ms);  // reads more into pending_; false on EOF or timeout
  int fd_ = -1;
  std::string pending_;
  std::vector<Frame> frames_;
  bool eof_ = false;
  struct Parser;
  Parser* parser_;
};

}  // namespace duplex::test
