#include "duplex/client/websocket_client.hpp"

#include <openssl/rand.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>

#include "duplex/core/http/http1_response_parser.hpp"
#include "duplex/core/http/url.hpp"
#include "duplex/core/text/utf8.hpp"
#include "duplex/core/ws/client_handshake.hpp"
#include "duplex/core/ws/close_codes.hpp"
#include "duplex/core/ws/deflate_codec.hpp"
#include "duplex/core/ws/receiver.hpp"
#include "duplex/core/ws/sender.hpp"
#include "duplex/io/event_loop.hpp"
#include "duplex/io/socket.hpp"
#include "duplex/io/transport.hpp"

namespace duplex {

namespace {

constexpr uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP;
constexpr uint64_t kNever = ~uint64_t{0};

uint64_t ms(std::chrono::milliseconds d) { return static_cast<uint64_t>(d.count()); }

std::string env(const char* lower, const char* upper) {
  if (const char* v = std::getenv(lower); v && *v) return v;
  if (const char* v = std::getenv(upper); v && *v) return v;
  return {};
}

std::array<uint8_t, 16> random_key() {
  std::array<uint8_t, 16> key;
  if (RAND_bytes(key.data(), key.size()) != 1) throw std::runtime_error("RAND_bytes failed");
  return key;
}

core::ClientHandshakeOptions handshake_options(const ClientOptions& options) {
  core::ClientHandshakeOptions h;
  h.protocols = options.protocols;
  h.headers = options.headers;
  if (options.per_message_deflate.enabled)
    h.extensions = core::deflate_offer(options.per_message_deflate);
  return h;
}

io::TlsClientSettings tls_settings(const ClientOptions& options) {
  return {options.ca_file, options.cert_file, options.key_file, options.insecure};
}

}  // namespace

class WebSocketClient::Impl final : public io::IoHandler,
                                    public io::Timer,
                                    private core::ReceiverEvents,
                                    public std::enable_shared_from_this<Impl> {
 public:
  Impl(io::EventLoop& loop, WebSocketClient* owner, core::WebSocketUrl url, ClientOptions options)
      : loop_(loop),
        owner_(owner),
        url_(std::move(url)),
        url_text_(url_.to_string()),
        options_(std::move(options)),
        receiver_(core::Role::client, options_.max_payload) {}

  void use_tls(std::shared_ptr<const io::TlsClientContext> context) {
    tls_context_ = std::move(context);
  }

  /// The first attempt, posted by the constructor: skipped if close() came first.
  void init() { choose_proxy(); }

  void begin() {
    if (phase_ == Phase::connecting && !user_closed_) start();
  }

  ~Impl() { drop_socket(); }

  // --- the public object's interface ------------------------------------------------------

  void start() {
    ++attempt_id_;
    phase_ = Phase::connecting;
    close_ = core::CloseHandshake(core::Role::client);
    receiver_ = core::Receiver(core::Role::client, options_.max_payload);
    in_.clear();
    out_.clear();
    out_offset_ = 0;
    protocol_.clear();
    extensions_.clear();
    deflater_.reset();
    inflater_.reset();
    close_after_flush_ = write_shut_ = false;
    peer_code_ = core::close_code::kAbnormal;
    peer_reason_.clear();
    attempt_started_ms_ = loop_.now_ms();
    arm_timer();

    if (!proxy_error_.empty()) return fail(proxy_error_);
    std::string error;
    const std::string host = proxy_ ? proxy_->host : url_.host;
    const uint16_t port = proxy_ ? proxy_->port : url_.port;
    if (io::is_numeric_host(host)) {
      addresses_ = io::resolve_tcp(host, port, error);
      next_address_ = 0;
      return addresses_.empty() ? fail(error) : connect_next();
    }
    // Name lookups block: they run on the loop's helper thread.
    auto result = std::make_shared<std::pair<std::vector<io::SocketAddress>, std::string>>();
    std::weak_ptr<Impl> weak = shared_from_this();
    const uint64_t id = attempt_id_;
    loop_.offload(
        [result, host, port] { result->first = io::resolve_tcp(host, port, result->second); },
        [weak, id, result] {
          auto self = weak.lock();
          if (!self || self->attempt_id_ != id || self->phase_ != Phase::connecting) return;
          self->addresses_ = std::move(result->first);
          self->next_address_ = 0;
          self->addresses_.empty() ? self->fail(result->second) : self->connect_next();
        });
  }

  void detach() {
    owner_ = nullptr;
    user_closed_ = true;
    drop_socket();
    loop_.cancel(*this);
    phase_ = Phase::closed;
    // Events already collected in this loop iteration may still name this object.
    loop_.post([keep = shared_from_this()] {});
  }

  bool send(std::string_view data, MessageType type) {
    if (phase_ == Phase::connecting) throw std::logic_error("WebSocket is still connecting");
    if (phase_ != Phase::open || close_.state() != ReadyState::open) return false;
    const auto op = static_cast<core::Opcode>(type);
    if (const std::string* compressed = compress(data)) {
      core::append_masked_frame(out_, op, *compressed, core::random_mask_key(), true, true);
      if (scratch_.capacity() > 64 * 1024) std::string().swap(scratch_);
    } else {
      core::append_masked_frame(out_, op, data, core::random_mask_key());
    }
    loop_.queue_flush(*this);
    return true;
  }

  bool ping(std::string_view payload) {
    if (payload.size() > core::kMaxControlPayload) {
      throw std::invalid_argument("ping payload over 125 bytes");
    }
    if (phase_ != Phase::open || close_.state() != ReadyState::open) return false;
    queue_control(core::Opcode::ping, payload);
    return true;
  }

  void close(std::optional<uint16_t> code, std::string_view reason) {
    if (code && *code != core::close_code::kNormal && (*code < 3000 || *code > 4999)) {
      throw std::invalid_argument("close code must be 1000 or 3000-4999, not " +
                                  std::to_string(*code));
    }
    if (reason.size() > core::kMaxControlPayload - 2) {
      throw std::invalid_argument("close reason over 123 bytes");
    }
    if (!core::is_valid_utf8(reason)) throw std::invalid_argument("close reason is not UTF-8");
    user_closed_ = true;
    auto self = shared_from_this();
    switch (phase_) {
      case Phase::connecting:
        return fail("closed before the connection was established");
      case Phase::waiting_reconnect:
        loop_.cancel(*this);
        phase_ = Phase::closed;
        return;
      case Phase::open:
        // Without a code the close frame has no body (the peer sees 1005).
        apply(close_.close(code.value_or(core::close_code::kNoStatus)), reason);
        return;
      case Phase::closed:
        return;
    }
  }

  ReadyState ready_state() const {
    switch (phase_) {
      case Phase::connecting:
        return ReadyState::connecting;
      case Phase::open:
        return close_.state();
      default:
        return ReadyState::closed;
    }
  }
  size_t buffered() const { return out_.size() - out_offset_; }
  const std::string& protocol() const { return protocol_; }
  const std::string& extensions() const { return extensions_; }
  const std::string& url() const { return url_text_; }

  std::vector<std::function<void()>> open_listeners;
  std::vector<std::function<void(const MessageEvent&)>> message_listeners;
  std::vector<std::function<void(std::string_view)>> error_listeners;
  std::vector<std::function<void(const CloseEvent&)>> close_listeners;

 private:
  // connecting: DNS, TCP, proxy CONNECT and the HTTP upgrade; open: WebSocket traffic
  // (close_ tells open or closing); waiting_reconnect: between attempts.
  enum class Phase { connecting, open, waiting_reconnect, closed };
  enum class Step { tcp, proxy, tls, http };

  // --- connection attempt -------------------------------------------------------------------

  /// Decided once, at construction, from the options or the environment as it is then.
  void choose_proxy() {
    std::string spec;
    if (options_.proxy) {
      spec = *options_.proxy;
    } else {
      spec = url_.secure ? env("https_proxy", "HTTPS_PROXY") : env("http_proxy", "HTTP_PROXY");
      if (spec.empty()) spec = env("all_proxy", "ALL_PROXY");
      if (!spec.empty() &&
          core::no_proxy_matches(env("no_proxy", "NO_PROXY"), url_.host, url_.port)) {
        spec.clear();
      }
    }
    if (spec.empty()) return;
    auto parsed = core::parse_proxy_url(spec);
    if (auto* message = std::get_if<std::string>(&parsed)) {
      proxy_error_ = "invalid proxy '" + spec + "': " + *message;
      return;
    }
    proxy_ = std::get<core::ProxyConfig>(parsed);
  }

  void connect_next() {
    drop_socket();
    int last_error = ECONNREFUSED;
    while (next_address_ < addresses_.size()) {
      const io::SocketAddress& address = addresses_[next_address_++];
      fd_ = io::connect_tcp(address);
      if (fd_ >= 0) {
        connecting_to_ = address.to_string();
        step_ = Step::tcp;
        loop_.add(fd_, this, EPOLLOUT | kReadEvents);
        return;
      }
      last_error = errno;
    }
    fail(describe_connect_error(last_error));
  }

  std::string describe_connect_error(int error) const {
    const std::string where =
        connecting_to_.empty() ? url_.host + ":" + std::to_string(url_.port) : connecting_to_;
    if (error == ECONNREFUSED) return "connection refused (" + where + ")";
    return std::string(std::strerror(error)) + " (" + where + ")";
  }

  void on_connected() {
    loop_.modify(fd_, this, kReadEvents);
    if (proxy_) {
      step_ = Step::proxy;
      const std::string target = authority();
      out_ += "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n";
      if (!proxy_->authorization.empty()) {
        out_ += "Proxy-Authorization: " + proxy_->authorization + "\r\n";
      }
      out_ += "\r\n";
      loop_.queue_flush(*this);
      return;
    }
    start_tls_or_upgrade();
  }

  std::string authority() const {
    const std::string host = url_.ipv6_literal() ? "[" + url_.host + "]" : url_.host;
    return host + ":" + std::to_string(url_.port);
  }

  void send_upgrade() {
    step_ = Step::http;
    handshake_ =
        std::make_unique<core::ClientHandshake>(url_, handshake_options(options_), random_key());
    out_ += handshake_->request();
    loop_.queue_flush(*this);
  }

  void on_proxy_bytes() {
    core::HttpResponseHead head;
    core::Http1ResponseParser parser;
    const core::HttpParseResult r = parser.parse(in_, head);
    if (r.status == core::HttpParseStatus::need_more) return;
    if (r.status == core::HttpParseStatus::error) {
      return fail("proxy sent a malformed response: " + std::string(r.error_reason));
    }
    if (head.status < 200 || head.status > 299) {
      return fail("proxy refused CONNECT: " + std::to_string(head.status) + " " +
                  std::string(head.reason));
    }
    in_.erase(0, r.consumed);
    start_tls_or_upgrade();
  }

  void start_tls_or_upgrade() {
    if (!url_.secure) return send_upgrade();
    try {
      if (!tls_context_) tls_context_ = io::TlsClientContext::get(tls_settings(options_));
      tls_ = io::TlsSession::connect(
          tls_context_, fd_, options_.server_name.empty() ? url_.host : options_.server_name);
    } catch (const std::exception& e) {
      return fail(e.what());
    }
    step_ = Step::tls;
    on_tls_handshake();
  }

  void on_tls_handshake() {
    switch (tls_->handshake(loop_, this, kReadEvents)) {
      case io::TlsSession::Progress::pending:
        return;
      case io::TlsSession::Progress::failed:
        return fail("TLS handshake failed: " + tls_->error());
      case io::TlsSession::Progress::done:
        return send_upgrade();
    }
  }

  void on_handshake_bytes() {
    const core::ClientHandshake::Result r = handshake_->feed(in_);
    using Status = core::ClientHandshake::Status;
    if (r.status == Status::need_more) return;
    if (r.status == Status::failed) return fail("handshake failed: " + r.error);
    if (r.status == Status::redirect) return follow(r.location, r.http_status);
    if (std::string error = set_up_deflate(r.extensions); !error.empty()) {
      return fail("handshake failed: " + error);
    }
    handshake_.reset();
    protocol_ = r.protocol;
    extensions_ = r.extensions;
    phase_ = Phase::open;
    close_.open();
    reconnects_ = 0;
    last_activity_ms_ = loop_.now_ms();
    arm_timer();
    std::string rest = in_.substr(r.consumed);
    std::string().swap(in_);
    auto self = shared_from_this();
    emit_open();
    if (!rest.empty() && phase_ == Phase::open && !receiver_.halted()) {
      receiver_.feed(rest.data(), rest.size(), *this);
    }
  }

  // --- permessage-deflate ---------------------------------------------------------------------

  /// Sets up the codecs if the server agreed to permessage-deflate; returns why its answer is
  /// unacceptable, or nothing.
  std::string set_up_deflate(const std::string& extensions) {
    if (extensions.empty()) return {};
    const auto answer = core::parse_extensions(extensions);  // checked by the handshake already
    if (!answer) return "malformed Sec-WebSocket-Extensions";
    for (const core::Extension& e : *answer) {
      if (e.name != core::kPerMessageDeflate) continue;
      auto checked = core::check_deflate_answer(e, options_.per_message_deflate);
      if (auto* why = std::get_if<std::string>(&checked)) return *why;
      deflate_params_ = std::get<core::DeflateParams>(checked);
      const core::DeflateOptions& o = options_.per_message_deflate;
      if (deflate_params_.client_max_window_bits > 8) {  // zlib cannot compress with 8 bits
        deflater_ = std::make_unique<core::Deflater>(deflate_params_.client_max_window_bits,
                                                     deflate_params_.client_no_context_takeover,
                                                     o.level, o.mem_level);
      }
      inflater_ = std::make_unique<core::Inflater>(deflate_params_.server_max_window_bits,
                                                   deflate_params_.server_no_context_takeover);
      receiver_.set_inflater(inflater_.get());
    }
    return {};
  }

  /// The compressed payload of `data`, or null to send it plain.
  const std::string* compress(std::string_view data) {
    if (!deflater_ || data.size() < options_.per_message_deflate.threshold) return nullptr;
    scratch_.clear();
    if (!deflater_->compress(data, scratch_)) return nullptr;
    if (deflater_->no_context_takeover() && scratch_.size() >= data.size()) return nullptr;
    return &scratch_;
  }

  void follow(const std::string& location, int status) {
    if (redirects_ >= options_.max_redirects) {
      return fail("handshake failed: server redirected (" + std::to_string(status) + ") to " +
                  location + ", and redirects are not followed (max_redirects)");
    }
    auto next = core::resolve_location(url_, location);
    if (auto* message = std::get_if<std::string>(&next)) {
      return fail("handshake failed: bad redirect to '" + location + "': " + *message);
    }
    ++redirects_;
    url_ = std::get<core::WebSocketUrl>(next);
    url_text_ = url_.to_string();
    drop_socket();
    start();
  }

  // --- IO -------------------------------------------------------------------------------------

  void on_io(uint32_t events) override {
    auto self = shared_from_this();
    if (fd_ < 0) return;
    if (phase_ == Phase::connecting && step_ == Step::tcp) {
      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return;
      if (const int error = io::connect_error(fd_)) {
        if (next_address_ < addresses_.size()) return connect_next();
        return fail(describe_connect_error(error));
      }
      return on_connected();
    }
    if (step_ == Step::tls && !tls_->established()) {
      on_tls_handshake();
      if (fd_ < 0 || !tls_->established()) return;
      events |= EPOLLIN;  // records that came with the handshake's last flight
    }
    if (events & EPOLLOUT) {
      flush();
      if (fd_ < 0) return;
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
      do {
        on_readable();
      } while (fd_ >= 0 && io::transport_pending(tls_.get()));
    }
  }

  void on_readable() {
    char* buffer = loop_.receive_buffer();
    const ssize_t n =
        io::transport_read(fd_, tls_.get(), buffer, io::EventLoop::kReceiveBufferSize);
    if (n > 0) {
      last_activity_ms_ = loop_.now_ms();
      if (phase_ == Phase::connecting) {
        in_.append(buffer, static_cast<size_t>(n));
        return step_ == Step::proxy ? on_proxy_bytes() : on_handshake_bytes();
      }
      if (!receiver_.halted()) receiver_.feed(buffer, static_cast<size_t>(n), *this);
      return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    const std::string why = n == 0 ? "" : io::transport_error(tls_.get(), errno);
    if (phase_ == Phase::connecting) {
      return fail(n == 0 ? "connection closed during the handshake" : "connection lost: " + why);
    }
    transport_closed(why);
  }

  void flush() {
    if (fd_ < 0) return;
    if (out_offset_ < out_.size()) {
      const ssize_t n = io::transport_write(fd_, tls_.get(), out_.data() + out_offset_,
                                            out_.size() - out_offset_);
      if (n < 0 && errno != EAGAIN && errno != EINTR) {
        const std::string why = io::transport_error(tls_.get(), errno);
        return phase_ == Phase::connecting ? fail("connection lost: " + why)
                                           : transport_closed(why);
      }
      out_offset_ += n > 0 ? static_cast<size_t>(n) : 0;
      if (out_offset_ < out_.size()) {
        if (!waiting_writable_) {
          waiting_writable_ = true;
          loop_.modify(fd_, this, kReadEvents | EPOLLOUT);
        }
        return;
      }
      out_.clear();
      out_offset_ = 0;
      if (out_.capacity() > 64 * 1024) std::string().swap(out_);
      if (waiting_writable_) {
        waiting_writable_ = false;
        loop_.modify(fd_, this, kReadEvents);
      }
    }
    if (close_after_flush_ && !write_shut_) {
      // Our close frame is out: send close_notify and FIN, then read until the server's EOF (or
      // the close timer).
      io::transport_shutdown_write(fd_, tls_.get());
      write_shut_ = true;
    }
  }

  void queue_control(core::Opcode op, std::string_view payload) {
    core::append_masked_frame(out_, op, payload, core::random_mask_key());
    loop_.queue_flush(*this);
  }

  // --- receiver events ------------------------------------------------------------------------

  void on_message(MessageType type, std::string_view payload) override {
    // Delivered until the server's close frame (after which the receiver halts), also after our
    // own close went out: the server sent these before it saw it, so nothing is lost.
    emit_message({payload, type});
  }
  void on_ping(std::string_view payload) override {
    if (close_.state() == ReadyState::open) queue_control(core::Opcode::pong, payload);
  }
  void on_pong(std::string_view) override {}
  void on_close(uint16_t code, std::string_view reason) override {
    peer_code_ = code;
    peer_reason_ = reason;
    apply(close_.peer_closed(code), {});
  }
  void on_protocol_error(uint16_t code, std::string_view reason) override {
    failed_ = true;
    apply(close_.fail(code), reason);
    emit_error("server broke the protocol: " + std::string(reason) + " (closed with " +
               std::to_string(code) + ")");
  }

  void apply(const core::CloseStep& step, std::string_view reason) {
    if (step.send_close) {
      char payload[core::kMaxControlPayload];
      queue_control(core::Opcode::close,
                    {payload, core::write_close_payload(payload, step.code, reason)});
    }
    if (step.close_transport) {
      close_after_flush_ = true;
      loop_.queue_flush(*this);
    }
    if (step.send_close || step.close_transport || step.await_peer) {
      closing_since_ms_ = loop_.now_ms();
      arm_timer();
    }
  }

  // --- endings --------------------------------------------------------------------------------

  /// The connection attempt or the connection failed: error event, then close event 1006.
  void fail(const std::string& message) {
    auto self = shared_from_this();
    failed_ = true;
    emit_error(message);
    finish(core::close_code::kAbnormal, {}, false);
  }

  /// TCP is gone (EOF, error, or we close it after the close timer).
  void transport_closed(const std::string& why) {
    if (close_.close_received() && !failed_) {
      finish(peer_code_, peer_reason_, close_.clean());
    } else {
      if (!failed_ && !why.empty()) emit_error("connection lost: " + why);
      finish(core::close_code::kAbnormal, {}, false);
    }
  }

  void finish(uint16_t code, std::string reason, bool clean) {
    auto self = shared_from_this();
    if (phase_ == Phase::closed || phase_ == Phase::waiting_reconnect) return;
    drop_socket();
    close_.transport_closed();
    phase_ = Phase::closed;
    loop_.cancel(*this);
    failed_ = false;
    emit_close({code, reason, clean});
    maybe_reconnect();
  }

  void maybe_reconnect() {
    const ReconnectPolicy& policy = options_.reconnect;
    if (!policy.enabled || user_closed_ || !owner_ || phase_ != Phase::closed) return;
    if (policy.max_attempts > 0 && reconnects_ >= policy.max_attempts) return;
    // Exponential backoff, shortened by a random fraction so that many clients dropped at once
    // do not all come back in the same millisecond.
    const double base = std::min(
        static_cast<double>(ms(policy.max_delay)),
        static_cast<double>(ms(policy.initial_delay)) * std::pow(policy.factor, reconnects_));
    thread_local std::mt19937_64 rng{std::random_device{}()};
    const double cut =
        std::uniform_real_distribution<double>(0, std::clamp(policy.jitter, 0.0, 1.0))(rng);
    ++reconnects_;
    phase_ = Phase::waiting_reconnect;
    reconnect_at_ms_ = loop_.now_ms() + static_cast<uint64_t>(base * (1 - cut));
    arm_timer();
  }

  void drop_socket() {
    if (fd_ < 0) return;
    loop_.remove(fd_);
    loop_.cancel_flush(*this);
    tls_.reset();
    ::close(fd_);
    fd_ = -1;
    waiting_writable_ = false;
  }

  // --- timers ---------------------------------------------------------------------------------

  uint64_t deadline() const {
    switch (phase_) {
      case Phase::connecting:
        return attempt_started_ms_ + ms(options_.handshake_timeout);
      case Phase::waiting_reconnect:
        return reconnect_at_ms_;
      case Phase::open:
        if (close_.state() != ReadyState::open)
          return closing_since_ms_ + ms(options_.close_timeout);
        if (options_.ping_interval.count() > 0) {
          return std::max(last_activity_ms_, pinged_at_ms_) + ms(options_.ping_interval);
        }
        return kNever;
      case Phase::closed:
        return kNever;
    }
    return kNever;
  }

  void arm_timer() {
    const uint64_t at = deadline();
    if (at == kNever) return loop_.cancel(*this);
    const uint64_t now = loop_.now_ms();
    loop_.schedule(*this, at > now ? at - now : 0);
  }

  void on_timer() override {
    auto self = shared_from_this();
    const uint64_t now = loop_.now_ms();
    if (now < deadline()) return arm_timer();
    switch (phase_) {
      case Phase::connecting:
        return fail("handshake timed out after " + std::to_string(ms(options_.handshake_timeout)) +
                    " ms");
      case Phase::waiting_reconnect:
        return start();
      case Phase::open:
        if (close_.state() != ReadyState::open) return transport_closed({});
        pinged_at_ms_ = now;  // pings repeat every interval while the line stays silent
        queue_control(core::Opcode::ping, {});
        return arm_timer();
      case Phase::closed:
        return;
    }
  }

  // --- events ---------------------------------------------------------------------------------
  // The owner may be destroyed by any handler: owner_ is re-checked after every call.

  void emit_open() {
    if (owner_ && owner_->onopen) owner_->onopen();
    for (size_t i = 0; owner_ && i < open_listeners.size(); ++i) open_listeners[i]();
  }
  void emit_message(const MessageEvent& e) {
    if (owner_ && owner_->onmessage) owner_->onmessage(e);
    for (size_t i = 0; owner_ && i < message_listeners.size(); ++i) message_listeners[i](e);
  }
  void emit_error(std::string_view message) {
    if (owner_ && owner_->onerror) owner_->onerror(message);
    for (size_t i = 0; owner_ && i < error_listeners.size(); ++i) error_listeners[i](message);
  }
  void emit_close(const CloseEvent& e) {
    if (owner_ && owner_->onclose) owner_->onclose(e);
    for (size_t i = 0; owner_ && i < close_listeners.size(); ++i) close_listeners[i](e);
  }

  io::EventLoop& loop_;
  WebSocketClient* owner_;
  core::WebSocketUrl url_;
  std::string url_text_;
  ClientOptions options_;
  core::Receiver receiver_;
  core::CloseHandshake close_{core::Role::client};
  std::unique_ptr<core::ClientHandshake> handshake_;
  core::DeflateParams deflate_params_;
  std::unique_ptr<core::Deflater> deflater_;  // permessage-deflate agreed (and usable)
  std::unique_ptr<core::Inflater> inflater_;
  std::string scratch_;  // a compressed message before it is framed
  std::shared_ptr<const io::TlsClientContext> tls_context_;
  std::unique_ptr<io::TlsSession> tls_;  // null for ws://
  std::optional<core::ProxyConfig> proxy_;
  std::string proxy_error_;  // an unusable proxy setting fails every attempt
  std::vector<io::SocketAddress> addresses_;
  size_t next_address_ = 0;
  std::string connecting_to_;
  std::string in_;   // HTTP response bytes until the upgrade completes
  std::string out_;  // queued output; out_offset_ bytes of it are written
  size_t out_offset_ = 0;
  std::string protocol_;
  std::string extensions_;
  std::string peer_reason_;
  uint16_t peer_code_ = core::close_code::kAbnormal;
  uint64_t attempt_id_ = 0;
  uint64_t attempt_started_ms_ = 0;
  uint64_t closing_since_ms_ = 0;
  uint64_t last_activity_ms_ = 0;
  uint64_t pinged_at_ms_ = 0;
  uint64_t reconnect_at_ms_ = 0;
  int redirects_ = 0;
  int reconnects_ = 0;
  int fd_ = -1;
  Phase phase_ = Phase::connecting;
  Step step_ = Step::tcp;
  bool waiting_writable_ = false;
  bool flush_queued_ = false;  // in the loop's flush queue (io::Flushable)
  bool close_after_flush_ = false;
  bool write_shut_ = false;
  bool user_closed_ = false;
  bool failed_ = false;  // the error event for this attempt has fired

  friend class io::EventLoop;
  bool flush_queued() const { return flush_queued_; }
  void set_flush_queued(bool queued) { flush_queued_ = queued; }
};

WebSocketClient::WebSocketClient(io::EventLoop& loop, std::string url, ClientOptions options) {
  auto parsed = core::parse_websocket_url(url);
  if (auto* message = std::get_if<std::string>(&parsed)) {
    throw std::invalid_argument("invalid WebSocket URL '" + url + "': " + *message);
  }
  auto& target = std::get<core::WebSocketUrl>(parsed);
  // Validates protocols, headers and deflate options now, so mistakes surface as exceptions, not
  // later events.
  core::validate_deflate_options(options.per_message_deflate);
  core::ClientHandshake check(target, handshake_options(options), {});
  std::shared_ptr<const io::TlsClientContext> tls;
  if (target.secure) {
    try {
      tls = io::TlsClientContext::get(tls_settings(options));
    } catch (const std::runtime_error& e) {
      throw std::invalid_argument(e.what());
    }
  }
  impl_ = std::make_shared<Impl>(loop, this, std::move(target), std::move(options));
  impl_->use_tls(std::move(tls));
  impl_->init();
  // Connecting starts on the loop, after the caller has attached its handlers.
  loop.post([weak = std::weak_ptr<Impl>(impl_)] {
    if (auto impl = weak.lock()) impl->begin();
  });
}

WebSocketClient::~WebSocketClient() { impl_->detach(); }

void WebSocketClient::add_open_listener(std::function<void()> l) {
  impl_->open_listeners.push_back(std::move(l));
}
void WebSocketClient::add_message_listener(std::function<void(const MessageEvent&)> l) {
  impl_->message_listeners.push_back(std::move(l));
}
void WebSocketClient::add_error_listener(std::function<void(std::string_view)> l) {
  impl_->error_listeners.push_back(std::move(l));
}
void WebSocketClient::add_close_listener(std::function<void(const CloseEvent&)> l) {
  impl_->close_listeners.push_back(std::move(l));
}
bool WebSocketClient::send(std::string_view data, MessageType type) {
  return impl_->send(data, type);
}
bool WebSocketClient::ping(std::string_view payload) { return impl_->ping(payload); }
void WebSocketClient::close(std::optional<uint16_t> code, std::string_view reason) {
  impl_->close(code, reason);
}
ReadyState WebSocketClient::ready_state() const { return impl_->ready_state(); }
size_t WebSocketClient::buffered_amount() const { return impl_->buffered(); }
const std::string& WebSocketClient::protocol() const { return impl_->protocol(); }
const std::string& WebSocketClient::extensions() const { return impl_->extensions(); }
const std::string& WebSocketClient::url() const { return impl_->url(); }

}  // namespace duplex
