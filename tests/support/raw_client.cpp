#include "raw_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <stdexcept>

#include "duplex/core/ws/mask.hpp"
#include "duplex/core/ws/receiver.hpp"
#include "duplex/core/ws/sender.hpp"

namespace duplex::test {

struct RawClient::Parser final : core::ReceiverEvents {
  core::Receiver receiver{core::Role::client, 1ull << 40};
  std::vector<Frame>* out = nullptr;
  void on_message(core::MessageType type, std::string_view p) override {
    out->push_back({Frame::message, type, std::string(p)});
  }
  void on_ping(std::string_view p) override { out->push_back({Frame::ping, {}, std::string(p)}); }
  void on_pong(std::string_view p) override { out->push_back({Frame::pong, {}, std::string(p)}); }
  void on_close(uint16_t code, std::string_view reason) override {
    out->push_back({Frame::close, {}, std::string(reason), code});
    receiver = core::Receiver(core::Role::client, 1ull << 40);  // allow reading on after close
  }
  void on_protocol_error(uint16_t code, std::string_view reason) override {
    out->push_back({Frame::error, {}, std::string(reason), code});
  }
};

RawClient::RawClient(uint16_t port) : parser_(new Parser) {
  parser_->out = &frames_;
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd_ < 0 || connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed");
  }
}

RawClient::~RawClient() {
  if (fd_ >= 0) close(fd_);
  delete parser_;
}

void RawClient::send_raw(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send failed");
    bytes.remove_prefix(static_cast<size_t>(n));
  }
}

bool RawClient::fill(int timeout_ms) {
  if (eof_) return false;
  pollfd p{fd_, POLLIN, 0};
  if (poll(&p, 1, timeout_ms) <= 0) return false;
  char buf[65536];
  const ssize_t n = recv(fd_, buf, sizeof buf, 0);
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  pending_.append(buf, static_cast<size_t>(n));
  return true;
}

void RawClient::close_socket() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  eof_ = true;
}

std::string RawClient::read_http_response(int timeout_ms, bool head_request) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    const size_t end = pending_.find("\r\n\r\n");
    if (end != std::string::npos) {
      size_t total = end + 4;
      const size_t cl = pending_.find("Content-Length: ");
      if (cl != std::string::npos && cl < end && !head_request) {
        total += std::stoul(pending_.substr(cl + 16));
      }
      if (pending_.size() >= total) {
        std::string response = pending_.substr(0, total);
        pending_.erase(0, total);
        return response;
      }
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !fill(static_cast<int>(left.count()))) return {};
  }
}

std::string RawClient::read_until(std::string_view marker, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    const size_t at = pending_.find(marker);
    if (at != std::string::npos) {
      std::string got = pending_.substr(0, at + marker.size());
      pending_.erase(0, at + marker.size());
      return got;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !fill(static_cast<int>(left.count()))) return {};
  }
}

std::string RawClient::read_all(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!eof_) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    fill(static_cast<int>(left.count()));
  }
  std::string got;
  got.swap(pending_);
  return got;
}

std::string RawClient::upgrade(std::string_view path, std::string_view extra_headers) {
  std::string request = "GET " + std::string(path) +
                        " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n" +
                        std::string(extra_headers) + "\r\n";
  send_raw(request);
  return read_http_response();
}

void RawClient::send_frame(core::Opcode op, std::string_view payload, bool fin) {
  std::string frame;
  core::append_masked_frame(frame, op, payload, core::random_mask_key(), fin);
  send_raw(frame);
}

void RawClient::send_close(uint16_t code, std::string_view reason) {
  char payload[125];
  send_frame(core::Opcode::close, {payload, core::write_close_payload(payload, code, reason)});
}

Frame RawClient::read_frame(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (frames_.empty()) {
    if (!pending_.empty()) {
      std::string chunk;
      chunk.swap(pending_);
      parser_->receiver.feed(chunk.data(), chunk.size(), *parser_);
      continue;
    }
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !fill(static_cast<int>(left.count()))) {
      throw std::runtime_error(eof_ ? "connection closed" : "timed out waiting for a frame");
    }
  }
  Frame f = std::move(frames_.front());
  frames_.erase(frames_.begin());
  return f;
}

bool RawClient::wait_eof(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!eof_) {
    pending_.clear();
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    fill(static_cast<int>(left.count()));
  }
  return true;
}

}  // namespace duplex::test
