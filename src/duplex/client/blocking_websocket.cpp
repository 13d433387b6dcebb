#include "duplex/client/blocking_websocket.hpp"

#include <stdexcept>

#include "duplex/io/event_loop.hpp"

namespace duplex {

template <class Done>
bool BlockingWebSocket::run_until(Done done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    loop_->run_once(static_cast<int>(left.count()));
  }
  return true;
}

BlockingWebSocket::BlockingWebSocket(std::string url, ClientOptions options)
    : loop_(std::make_unique<io::EventLoop>()) {
  const auto timeout = options.handshake_timeout + std::chrono::seconds(1);
  ws_ = std::make_unique<WebSocketClient>(*loop_, std::move(url), std::move(options));
  ws_->onopen = [this] { open_ = true; };
  ws_->onmessage = [this](const MessageEvent& e) {
    inbox_.push_back({std::string(e.data), e.type});
  };
  ws_->onerror = [this](std::string_view message) {
    if (error_.empty()) error_ = message;
  };
  ws_->onclose = [this](const CloseEvent& e) {
    closed_ = Closed{e.code, std::string(e.reason), e.was_clean, error_};
  };
  if (!run_until([this] { return open_ || closed_; }, timeout) || !open_) {
    throw std::runtime_error(error_.empty() ? "connection failed" : error_);
  }
}

BlockingWebSocket::~BlockingWebSocket() = default;

void BlockingWebSocket::send(std::string_view data, MessageType type) {
  if (!ws_->send(data, type)) throw std::runtime_error("connection is closed");
  loop_->run_once(0);  // write it now
}

std::optional<BlockingWebSocket::Message> BlockingWebSocket::receive(
    std::chrono::milliseconds timeout) {
  run_until([this] { return !inbox_.empty() || closed_; }, timeout);
  if (inbox_.empty()) return std::nullopt;
  Message m = std::move(inbox_.front());
  inbox_.pop_front();
  return m;
}

BlockingWebSocket::Closed BlockingWebSocket::close(std::optional<uint16_t> code,
                                                   std::string_view reason,
                                                   std::chrono::milliseconds timeout) {
  if (!closed_) {
    ws_->close(code, reason);
    if (!run_until([this] { return closed_.has_value(); }, timeout)) {
      closed_ = Closed{1006, {}, false, "close timed out"};  // the destructor drops the socket
    }
  }
  return *closed_;
}

}  // namespace duplex
