#include "duplex/server/connection.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "duplex/core/http/body_reader.hpp"
#include "duplex/core/http/chunked_writer.hpp"
#include "duplex/core/http/cors.hpp"
#include "duplex/core/http/http1_parser.hpp"
#include "duplex/core/http/http_response.hpp"
#include "duplex/core/text/utf8.hpp"
#include "duplex/core/ws/close_codes.hpp"
#include "duplex/core/ws/handshake.hpp"
#include "duplex/core/ws/sender.hpp"
#include "duplex/io/transport.hpp"
#include "duplex/server/deflate_session.hpp"
#include "duplex/server/endpoint.hpp"
#include "duplex/server/endpoint_local.hpp"
#include "duplex/server/http/exchange_state.hpp"
#include "duplex/server/pubsub/outgoing_message.hpp"
#include "duplex/server/server_core.hpp"

namespace duplex::detail {

namespace {
constexpr uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP;
constexpr uint64_t kNever = ~uint64_t{0};
// Shared frames at least this big are queued by reference; smaller ones cost less to copy than
// to reference-count and gather. Over TLS every frame is copied: each connection encrypts its
// own records anyway.
constexpr size_t kShareFramesFrom = 512;
constexpr std::string_view kSlowReader = "send queue over max_backpressure";
}  // namespace

// A request head split across reads, kept until it is complete. A head that arrives in one read
// (the usual case) is parsed where it lies, in the loop's receive buffer, and needs none.
struct Connection::HttpState {
  explicit HttpState(core::Http1RequestParser p) : parser(std::move(p)) {}
  std::string buffer;  // the request head so far
  core::Http1RequestParser parser;
};

// An idle WebSocket costs its Connection plus a few bytes of bookkeeping: 216 bytes fit a
// 224-byte malloc chunk, which keeps an idle connection under µWebSockets' ~256 B.
static_assert(sizeof(Connection) <= 216, "Connection outgrew its 224-byte malloc chunk");

Connection::Connection(ServerCore& server, int fd, const io::PeerAddress& peer)
    : server_(server), receiver_(core::Role::server, 0), peer_(peer), fd_(fd) {
  if (server_.tls()) tls_ = io::TlsSession::accept(server_.tls(), fd_);
  last_activity_ms_ = mark(server_.loop().now_ms());
  if (receiving()) {
    server_.loop().start_receiving(fd_, *this);
  } else {
    server_.loop().add(fd_, this, kReadEvents);
  }
  arm_timer();
}

Connection::~Connection() {
  if (!dead_) close_transport();
}

Connection::Extras::Extras() = default;

Session& Connection::Extras::own_session(Connection& owner) {
  if (!session) session = std::make_unique<Session>(SessionKind::websocket, &owner);
  return *session;
}
Connection::Extras::~Extras() = default;

Connection::Extras& Connection::extras() {
  if (!extras_) extras_ = std::make_unique<Extras>();
  return *extras_;
}

uint64_t Connection::since(uint32_t mark_ms) const {
  return static_cast<uint32_t>(mark(server_.loop().now_ms()) - mark_ms);
}

// --- reading ------------------------------------------------------------------------------

void Connection::on_io(uint32_t events) {
  if (dead_) return;  // closed earlier in this iteration; freed at its end
  if (receiving()) {
    // Only writability is watched (while the kernel pushes back); bytes come to on_received,
    // and an error or hang-up shows there too, or in the write.
    flush();
    return;
  }
  if (tls_ && !tls_->established()) {
    if (!continue_tls_handshake()) return;
    events |= EPOLLIN;  // records that came with the handshake's last flight
  }
  if (events & EPOLLOUT) {
    flush();
    if (dead_) return;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    do {
      on_readable();
    } while (io::transport_pending(tls_.get()) && !dead_);
  }
}

bool Connection::continue_tls_handshake() {
  switch (tls_->handshake(server_.loop(), this, kReadEvents)) {
    case io::TlsSession::Progress::done:
      return true;
    case io::TlsSession::Progress::pending:
      return false;
    case io::TlsSession::Progress::failed:
      break;
  }
  server_.tls_handshake_failed(peer_, tls_->error());
  close_transport();
  return false;
}

bool Connection::receiving() const { return !tls_ && server_.loop().delivers_receives(); }

void Connection::on_readable() {
  char* buffer = server_.loop().receive_buffer();
  const ssize_t n = io::transport_read(fd_, tls_.get(), buffer, io::EventLoop::kReceiveBufferSize);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
  on_received(buffer, n < 0 ? -errno : n);
}

void Connection::on_received(char* data, ssize_t result) {
  if (dead_) return;
  if (result > 0) {
    last_activity_ms_ = mark(server_.loop().now_ms());
    if (write_shut_) return;  // closing: only waiting for the peer's EOF
    if (!endpoint_) {
      on_http_bytes(data, static_cast<size_t>(result));
    } else if (!receiver_.halted()) {
      receiver_.feed(data, static_cast<size_t>(result), *this);
    }
    return;
  }
  // EOF or a reset: without a close frame this is an abnormal closure (1006).
  report_close(core::close_code::kAbnormal,
               result == 0 ? "" : io::transport_error(tls_.get(), static_cast<int>(-result)));
  close_transport();
}

void Connection::on_http_bytes(char* data, size_t len) {
  if (close_after_flush_) return;  // an error was answered; the rest is ignored
  if (ExchangeState* ex = exchange()) {
    if (ex->phase != ExchangeState::Phase::body) {
      // Pipelined requests wait for the answer, within the head limit.
      if (ex->waiting.size() + len > server_.options().max_header_bytes) {
        close_after_flush_ = true;  // the answer under way goes out first
        schedule_flush();
        return;
      }
      ex->waiting.append(data, len);
      return;
    }
    const size_t used = feed_exchange_body(*ex, {data, len});
    if (exchange() || close_after_flush_ || dead_ || used == len) {
      if (ExchangeState* still = exchange(); still && used < len) {
        still->waiting.append(data + used, len - used);
      }
      return;
    }
    data += used;  // the exchange was answered at once; the next request follows
    len -= used;
  }
  if (HttpState* http = this->http()) {
    http->buffer.append(data, len);
    data = http->buffer.data();
    len = http->buffer.size();
  }
  size_t pos = 0;  // requests before it were answered (keep-alive)
  while (true) {
    std::optional<core::Http1RequestParser> fresh;
    HttpState* http = this->http();
    core::Http1RequestParser& parser =
        http ? http->parser
             : fresh.emplace(core::HttpParseLimits{server_.options().max_header_bytes, 100});
    core::HttpRequest request;
    const core::HttpParseResult result = parser.parse({data + pos, len - pos}, request);
    if (result.status == core::HttpParseStatus::need_more) {
      if (!http) {
        extras().http = std::make_unique<HttpState>(std::move(*fresh));
        extras_->http->buffer.assign(data + pos, len - pos);
      } else if (pos > 0) {
        http->buffer.erase(0, pos);
      }
      return;
    }
    if (result.status == core::HttpParseStatus::error) {
      std::string response;
      core::write_error_response(response, result.error_status, result.error_reason);
      queue_bytes(response);
      close_after_flush_ = true;
      return;
    }
    std::string response;
    const HttpRoute* route = nullptr;
    const AfterRequest after = server_.handle_request(*this, request, response, route);
    if (!response.empty()) queue_bytes(response);
    if (after == AfterRequest::route) {
      // The exchange keeps a copy of its head; bytes after its body (pipelined requests) stay
      // ours. The head parser's state goes: what follows is parsed afresh.
      std::string head(data + pos, result.consumed);
      pos += result.consumed;
      std::string rest_copy;
      std::string_view rest(data + pos, len - pos);
      if (http) {
        rest_copy.assign(rest);  // `data` is the HttpState's buffer
        rest = rest_copy;
        extras_->http.reset();
      }
      const size_t used = start_exchange(*route, std::move(head), rest);
      if (ExchangeState* ex = exchange()) {
        ex->waiting.assign(rest.substr(used));
        return;
      }
      if (close_after_flush_ || dead_) return;
      // Answered at once: go on with what follows, parsed afresh.
      std::string remaining(rest.substr(used));
      if (!remaining.empty()) on_http_bytes(remaining.data(), remaining.size());
      return;
    }
    pos += result.consumed;
    if (after == AfterRequest::upgraded) {
      // Frames may have come in the same read as the request head.
      // Keeps `data` alive to the end of this call.
      const std::unique_ptr<HttpState> state = extras_ ? std::move(extras_->http) : nullptr;
      if (pos < len && !receiver_.halted()) receiver_.feed(data + pos, len - pos, *this);
      return;
    }
    if (after == AfterRequest::close) {
      close_after_flush_ = true;
      return;
    }
    if (http) http->parser.reset();
    if (pos == len) {
      if (http) extras_->http.reset();  // an idle keep-alive connection holds no buffer
      return;
    }
  }
}

// --- HTTP route exchanges -------------------------------------------------------------------

size_t Connection::start_exchange(const HttpRoute& route, std::string head, std::string_view rest) {
  auto state = std::make_unique<ExchangeState>(*this, route, std::move(head));
  ExchangeState& ex = *state;
  core::Http1RequestParser reparse(core::HttpParseLimits{ex.head.size(), 100});
  reparse.parse(ex.head, ex.request);  // the head parsed before, now viewed where it is kept
  const core::HttpRequest& request = ex.request;
  const core::RequestFraming framing = core::request_framing(request);
  if (!framing.ok()) {
    std::string response;
    core::write_error_response(response, framing.error_status, framing.error_reason);
    queue_bytes(response);
    close_after_flush_ = true;
    return 0;
  }
  ex.keep_alive = request.version_minor >= 1 && !request.has_token("Connection", "close");
  ex.head_only = request.method == "HEAD";
  ex.chunked = request.version_minor >= 1;
  if (framing.body.kind != core::BodyFraming::Kind::none) {
    ex.reader = std::make_unique<core::BodyReader>(
        framing.body, core::BodyLimits{.max_body = route.options.max_body});
    if (ex.reader->status() == core::BodyStatus::error) {
      std::string response;
      core::write_error_response(response, ex.reader->error_status(), ex.reader->error_reason());
      queue_bytes(response);
      close_after_flush_ = true;
      return 0;
    }
  }
  if (!route.options.handler_answers_preflights && core::is_preflight(ex.request)) {
    // Answered for the route, by its CORS policy; the handler never sees it.
    const core::PreflightAnswer answer = core::answer_preflight(route.options.cors, ex.request);
    core::HttpResponse response(answer.status);
    for (const auto& [name, value] : answer.headers) response.header(name, value);
    if (!answer.reason.empty()) response.body(answer.reason, "text/plain; charset=utf-8");
    std::string out;
    response.serialize(out);
    queue_bytes(out);
    if (!ex.keep_alive || framing.body.kind != core::BodyFraming::Kind::none) {
      close_after_flush_ = true;
    }
    return 0;
  }
  // Requests behind it wait in the exchange and are parsed afresh once it is done.
  extras().exchange = std::move(state);
  if (framing.expect_continue) queue_bytes("HTTP/1.1 100 Continue\r\n\r\n");
  timer_mark_ms_ = mark(server_.loop().now_ms());  // the body's deadline counts from here
  arm_timer();
  return feed_exchange_body(ex, rest);
}

size_t Connection::feed_exchange_body(ExchangeState& ex, std::string_view data) {
  if (!ex.reader) {  // no body
    ex.phase = ExchangeState::Phase::handler;
    arm_timer();
    run_exchange_handler(ex);
    return 0;
  }
  const core::BodyResult result =
      core::read_body(*ex.reader, data, [&](std::string_view piece) { ex.body.append(piece); });
  if (result.status == core::BodyStatus::error) {
    std::string response;
    core::write_error_response(response, result.error_status, result.error_reason);
    queue_bytes(response);
    close_after_flush_ = true;
    finish_exchange(ex, false);
    return data.size();
  }
  if (result.status == core::BodyStatus::need_more) return data.size();
  ex.reader.reset();
  ex.phase = ExchangeState::Phase::handler;
  arm_timer();  // no deadline while the handler answers
  run_exchange_handler(ex);
  return result.consumed;
}

void Connection::run_exchange_handler(ExchangeState& ex) {
  ex.route.handler(ex);
  if (ex.phase == ExchangeState::Phase::handler) {
    // The handler neither answered nor held it: that is a bug in the handler, answered 500
    // rather than left hanging.
    exchange_respond(ex, 500, "the handler did not answer", "text/plain; charset=utf-8", {});
  }
}

void Connection::queue_exchange_response(ExchangeState& ex, core::HttpResponse& response) {
  HttpHeaders cors;
  core::append_cors_headers(ex.route.options.cors, ex.request, cors);
  for (const auto& [name, value] : cors) response.header(name, value);
  if (!ex.keep_alive || server_.shutting_down()) response.header("Connection", "close");
}

void Connection::exchange_respond(ExchangeState& ex, int status, std::string_view body,
                                  std::string_view content_type, const HttpHeaders& headers) {
  if (ex.phase != ExchangeState::Phase::handler && ex.phase != ExchangeState::Phase::held) {
    throw std::logic_error("respond: the exchange was answered already or is streaming");
  }
  if (status < 100 || status > 999) throw std::invalid_argument("respond: bad status code");
  core::HttpResponse response(status);
  response.body(body, body.empty() ? std::string_view() : content_type);
  for (const auto& [name, value] : headers) response.header(name, value);
  queue_exchange_response(ex, response);
  std::string out;
  response.serialize(out, ex.head_only);
  queue_bytes(out);
  finish_exchange(ex, true);
}

void Connection::exchange_start_stream(ExchangeState& ex, int status, std::string_view content_type,
                                       const HttpHeaders& headers) {
  if (ex.phase != ExchangeState::Phase::handler && ex.phase != ExchangeState::Phase::held) {
    throw std::logic_error("start_stream: the exchange was answered already or is streaming");
  }
  core::HttpResponse response(status);
  if (!content_type.empty()) response.header("Content-Type", content_type);
  for (const auto& [name, value] : headers) response.header(name, value);
  if (!ex.chunked) ex.keep_alive = false;  // the body ends with the connection
  queue_exchange_response(ex, response);
  std::string out;
  response.serialize_stream_head(out, ex.chunked);
  queue_bytes(out);
  if (ex.held) ex.held->finish();
  ex.phase = ExchangeState::Phase::streaming;
  arm_timer();
}

bool Connection::admit_stream_bytes(ExchangeState& ex, size_t bytes, size_t limit) {
  if (ex.phase != ExchangeState::Phase::streaming || dead_ || close_after_flush_) return false;
  // As for a WebSocket: one write always fits an empty queue; beyond that the queue is bounded,
  // and a reader that does not keep up is dropped, never buffered without bound.
  const size_t queued = buffered();
  if (queued > 0 && queued + bytes > limit) {
    finish_exchange(ex, false);
    close_transport();
    return false;
  }
  return true;
}

bool Connection::exchange_write_chunk(ExchangeState& ex, const io::SharedBytes& chunk,
                                      size_t limit) {
  if (!admit_stream_bytes(ex, chunk->size(), limit)) return false;
  if (ex.head_only) return true;
  // Over TLS every connection encrypts its own copy anyway; small chunks cost less to copy.
  if (tls_ || chunk->size() < kShareFramesFrom) {
    output().append(*chunk);
  } else {
    output().append_shared(chunk);
  }
  return true;
}

bool Connection::exchange_write(ExchangeState& ex, std::string_view data, size_t limit) {
  if (data.empty()) return ex.phase == ExchangeState::Phase::streaming && !dead_;
  if (!admit_stream_bytes(ex, data.size() + core::kMaxChunkHeader + 2, limit)) return false;
  if (ex.head_only) return true;
  io::OutputBuffer& out = output();
  if (ex.chunked) {
    char header[core::kMaxChunkHeader];
    out.append({header, core::write_chunk_header(header, data.size())});
    out.append(data);
    out.append(core::kChunkEnd);
  } else {
    out.append(data);
  }
  return true;
}

void Connection::exchange_end(ExchangeState& ex) {
  if (ex.phase != ExchangeState::Phase::streaming) return;
  if (ex.chunked && !ex.head_only) queue_bytes(core::kLastChunk);
  finish_exchange(ex, true);
}

void Connection::exchange_hold(ExchangeState& ex, uint32_t timeout_ms) {
  if (ex.phase != ExchangeState::Phase::handler) {
    throw std::logic_error("hold: only an exchange not yet answered can be held");
  }
  ex.phase = ExchangeState::Phase::held;
  ex.hold_timeout_ms = timeout_ms;
  timer_mark_ms_ = mark(server_.loop().now_ms());
  arm_timer();
}

void Connection::finish_exchange(ExchangeState& ex, bool completed) {
  if (ex.phase == ExchangeState::Phase::done) return;
  ex.phase = ExchangeState::Phase::done;
  if (ex.held) ex.held->finish();
  const bool keep_alive = ex.keep_alive && completed && !server_.shutting_down();
  if (ex.on_close) {
    auto handler = std::move(ex.on_close);
    handler(completed);
  }
  // The exchange may be in the middle of one of its own calls: freed at the iteration's end.
  std::string waiting = std::move(ex.waiting);
  server_.retire_exchange(std::move(extras_->exchange));
  if (dead_) return;
  if (!keep_alive) {
    close_after_flush_ = true;
    schedule_flush();
    return;
  }
  last_activity_ms_ = mark(server_.loop().now_ms());
  arm_timer();
  // Requests that came in behind this one are answered now (when the handler answered at once,
  // the read that is under way goes on with them itself, and none wait here).
  if (!waiting.empty()) on_http_bytes(waiting.data(), waiting.size());
}

// --- receiver events ----------------------------------------------------------------------

void Connection::on_message(MessageType type, std::string_view payload) {
  if (close_.state() != ReadyState::open) return;  // we sent a close; data is discarded
  if (const auto& handler = endpoint_->config().on_message) handler(*this, payload, type);
}

void Connection::on_ping(std::string_view payload) {
  if (close_.state() != ReadyState::open) return;
  queue_control(core::Opcode::pong, payload);
  if (const auto& handler = endpoint_->config().on_ping) handler(*this, payload);
}

void Connection::on_pong(std::string_view payload) {
  if (close_.state() != ReadyState::open) return;
  if (const auto& handler = endpoint_->config().on_pong) handler(*this, payload);
}

void Connection::on_close(uint16_t code, std::string_view reason) {
  apply(close_.peer_closed(code), {});
  report_close(code, reason);
}

void Connection::on_protocol_error(uint16_t code, std::string_view reason) {
  apply(close_.fail(code), reason);
  report_close(code, reason);
}

// --- sending ------------------------------------------------------------------------------

void Connection::schedule_flush() { server_.loop().queue_flush(*this); }

io::OutputBuffer& Connection::output() {
  if (!out_) out_ = server_.output_pool().acquire();
  schedule_flush();
  return *out_;
}

bool Connection::admit(size_t frame_bytes, std::string_view payload, MessageType type) {
  if (dead_ || close_.state() != ReadyState::open) return false;
  // One message always fits an empty queue; beyond that the queue is bounded.
  const size_t queued = buffered();
  const EndpointConfig& config = endpoint_->config();
  if (queued == 0 || queued + frame_bytes <= config.max_backpressure) return true;
  if (config.slow_consumer == SlowConsumerPolicy::drop) {
    // A send from on_dropped (telling the reader it lags, say) that does not fit either is
    // dropped without another report, which would recurse.
    if (config.on_dropped && !reporting_drop_) {
      reporting_drop_ = true;
      config.on_dropped(*this, payload, type);
      reporting_drop_ = false;
    }
    return false;
  }
  // The close frame waits behind the backlog, which may take a while: reported at once, once
  // the close has begun (a handler sees it closing).
  apply(close_.close(core::close_code::kPolicyViolation), kSlowReader);
  report_close(core::close_code::kPolicyViolation, kSlowReader);
  return false;
}

bool Connection::send_message(std::string_view message, MessageType type) {
  if (deflate_ && deflate_->wants(message.size())) return send_compressed(message, type);
  return queue_message(message, type, false);
}

bool Connection::queue_message(std::string_view payload, MessageType type, bool compressed) {
  const size_t frame_size = payload.size() + core::frame_header_size(payload.size(), false);
  if (!admit(frame_size, payload, type)) return false;
  io::OutputBuffer& out = output();
  out.commit(core::write_frame(out.prepare(frame_size), static_cast<core::Opcode>(type), payload,
                               true, compressed));
  return true;
}

bool Connection::send_shared(const FrameSlice& frame, const MessageEncodings& frames) {
  if (!admit(frame.size(), frames.message(), frames.type())) return false;
  // A slice of a topic's batch is referenced whatever its size: it usually extends the piece
  // queued before it.
  if (tls_ || (!frame.batched && frame.size() < kShareFramesFrom)) {
    output().append(frame.view());
  } else {
    output().append_slice(frame.bytes, frame.begin, frame.end);
  }
  return true;
}

// --- permessage-deflate -------------------------------------------------------------------

bool Connection::send_compressed(std::string_view message, MessageType type) {
  if (dead_ || close_.state() != ReadyState::open) return false;
  const std::string* payload = deflate_->compress(message);
  return payload ? queue_message(*payload, type, true) : queue_message(message, type, false);
}

bool Connection::send_broadcast(MessageEncodings& frames) {
  if (deflate_ && deflate_->wants(frames.message().size())) {
    if (!deflate_->shares_frames()) return send_compressed(frames.message(), frames.type());
    return send_shared(
        FrameSlice::whole(frames.compressed(deflate_->params().server_max_window_bits,
                                            deflate_->endpoint_deflate())),
        frames);
  }
  return send_shared(frames.plain(), frames);
}

bool Connection::send_prepared(const io::SharedBytes& frame, const MessageEncodings& frames) {
  return send_shared(FrameSlice::whole(frame), frames);
}

bool Connection::send_ping(std::string_view payload) {
  if (payload.size() > core::kMaxControlPayload) {
    throw std::invalid_argument("ping payload over 125 bytes");
  }
  if (dead_ || close_.state() != ReadyState::open) return false;
  queue_control(core::Opcode::ping, payload);
  return true;
}

void Connection::queue_control(core::Opcode op, std::string_view payload) {
  io::OutputBuffer& out = output();
  out.commit(core::write_frame(out.prepare(core::kMaxFrameHeader + payload.size()), op, payload));
}

void Connection::flush() {
  if (dead_) return;
  if (out_ && !out_->empty()) {
    ssize_t n;
    if (out_->contiguous()) {
      n = io::transport_write(fd_, tls_.get(), out_->data(), out_->size());
    } else {
      // Shared frames queued by reference: one gathered write (never on TLS, see send_shared).
      iovec pieces[64];
      msghdr message{};
      message.msg_iov = pieces;
      message.msg_iovlen = static_cast<size_t>(out_->gather(pieces, 64));
      n = ::sendmsg(fd_, &message, MSG_NOSIGNAL);
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR) {
      report_close(core::close_code::kAbnormal, io::transport_error(tls_.get(), errno));
      close_transport();
      return;
    }
    out_->consume(n > 0 ? static_cast<size_t>(n) : 0);
    if (!out_->empty()) {
      // The kernel pushed back: keep the rest and wait until the socket is writable.
      if (!waiting_writable_) {
        waiting_writable_ = true;
        watch_writable(true);
      }
      return;
    }
    server_.output_pool().release(out_);
    out_ = nullptr;
    if (waiting_writable_) {
      waiting_writable_ = false;
      watch_writable(false);
      if (endpoint_ && close_.state() == ReadyState::open) {
        if (const auto& handler = endpoint_->config().on_drain) handler(*this);
      } else if (ExchangeState* ex = exchange();
                 ex && ex->phase == ExchangeState::Phase::streaming && ex->on_drain) {
        ex->on_drain();
      }
    }
  }
  if (close_after_flush_ && !write_shut_ && !out_) {
    // Everything is out: send our FIN, then read until the peer's EOF (bounded by the close
    // timer) so that unread data never turns the close into a reset that loses our last frame.
    io::transport_shutdown_write(fd_, tls_.get());
    write_shut_ = true;
    timer_mark_ms_ = mark(server_.loop().now_ms());
    arm_timer();
  }
}

void Connection::watch_writable(bool on) {
  io::EventLoop& loop = server_.loop();
  if (!receiving()) {
    loop.modify(fd_, this, on ? kReadEvents | EPOLLOUT : kReadEvents);
  } else if (on) {
    loop.add(fd_, this, EPOLLOUT);
  } else {
    loop.remove(fd_);
  }
}

// --- closing ------------------------------------------------------------------------------

void Connection::apply(const core::CloseStep& step, std::string_view reason) {
  if (step.send_close) {
    char payload[core::kMaxControlPayload];
    const size_t n = core::write_close_payload(payload, step.code, reason);
    queue_control(core::Opcode::close, {payload, n});
  }
  if (step.close_transport) {
    close_after_flush_ = true;
    schedule_flush();
  }
  if (step.await_peer) {
    timer_mark_ms_ = mark(server_.loop().now_ms());
    arm_timer();
  }
}

void Connection::start_close(uint16_t code, std::string_view reason) {
  if (!core::close_code::is_valid_on_wire(code)) {
    throw std::invalid_argument("close code " + std::to_string(code) + " cannot be sent");
  }
  if (reason.size() > core::kMaxControlPayload - 2) {
    throw std::invalid_argument("close reason over 123 bytes");
  }
  if (!core::is_valid_utf8(reason)) throw std::invalid_argument("close reason is not UTF-8");
  if (dead_) return;
  apply(close_.close(code), reason);
}

void Connection::abort(std::string_view reason) {
  report_close(core::close_code::kAbnormal, reason);
  close_transport();
}

void Connection::shut_down() {
  if (dead_) return;
  if (is_websocket()) {
    if (close_.state() == ReadyState::open)
      start_close(core::close_code::kGoingAway, "server shutting down");
  } else {
    close_transport();
  }
}

void Connection::report_close(uint16_t code, std::string_view reason) {
  if (close_reported_ || !endpoint_) return;
  close_reported_ = true;
  leave_endpoint();
  if (const auto& handler = endpoint_->config().on_close) handler(*this, code, reason);
}

void Connection::leave_endpoint() {
  if (!listed_) return;
  listed_ = false;
  EndpointLocal& local = endpoint_->local(server_.index());
  unlink(local.head, this);
  local.count.fetch_sub(1, std::memory_order_relaxed);
  server_.adopt(this);
  leave_pubsub();
}

void Connection::leave_pubsub() {
  if (Session* s = session()) server_.pubsub().leave(*s);
}

bool Connection::subscribe(std::string_view topic) {
  // Open only: a connection whose close has begun is still listed until the close completes.
  if (!listed_ || close_.state() != ReadyState::open || topic.empty()) return false;
  return server_.pubsub().subscribe(extras().own_session(*this), topic);
}

bool Connection::unsubscribe(std::string_view topic) {
  Session* s = session();
  return s && server_.pubsub().unsubscribe(*s, topic);
}

bool Connection::is_subscribed(std::string_view topic) const {
  Session* s = session();
  return s && server_.pubsub().is_subscribed(*s, topic);
}

Skip Connection::skip_session(const WebSocket* ws) {
  if (!ws) return {};
  const Connection& c = *static_cast<const Connection*>(ws);
  return {c.session(), c.server_.index()};
}

Skip Connection::skip_connection(const WebSocket* ws) {
  if (!ws) return {};
  const Connection& c = *static_cast<const Connection*>(ws);
  return {&c, c.server_.index()};
}

std::vector<std::string> Connection::topic_names() const {
  std::vector<std::string> names;
  if (const Session* s = session()) {
    for (const Session::Slot& slot : s->slots()) names.push_back(slot.topic->name);
  }
  return names;
}

void Connection::close_transport() {
  if (dead_) return;
  report_close(core::close_code::kAbnormal, {});
  dead_ = true;
  if (ExchangeState* ex = exchange()) finish_exchange(*ex, false);  // the client went away
  receiver_.halt();  // frames left in the current read are not delivered
  if (receiving()) {
    // Nothing names the connection in the loop after this (the receive is cancelled), so it
    // can be freed at the end of the iteration whatever is still in flight.
    server_.loop().stop_receiving(fd_);
    if (waiting_writable_) server_.loop().remove(fd_);
  } else {
    server_.loop().remove(fd_);
  }
  server_.loop().cancel_flush(*this);
  ::close(fd_);
  server_.loop().cancel(*this);
  if (out_) {
    server_.output_pool().release(out_);
    out_ = nullptr;
  }
  close_.transport_closed();
  server_.retire(this);
}

// --- upgrade and timers -------------------------------------------------------------------

void Connection::become_websocket(Endpoint& endpoint, std::string protocol, std::any user_data,
                                  std::string user_id,
                                  const std::optional<core::DeflateParams>& deflate) {
  endpoint_ = &endpoint;
  if (!protocol.empty()) extras().protocol = std::move(protocol);
  if (user_data.has_value()) extras().user_data = std::move(user_data);
  receiver_.set_max_payload(endpoint.config().max_payload);
  EndpointLocal& local = endpoint.local(server_.index());
  if (deflate && local.deflate) {
    deflate_ = std::make_unique<DeflateSession>(*deflate, *local.deflate);
    receiver_.set_inflater(deflate_->inflater(), deflate_->inflater_shared());
  }
  close_.open();
  listed_ = true;
  server_.release(this);
  link(local.head, this);
  local.count.fetch_add(1, std::memory_order_relaxed);
  if (!user_id.empty()) {
    server_.pubsub().bind_user(extras().own_session(*this), std::move(user_id));
  }
  last_activity_ms_ = mark(server_.loop().now_ms());
  arm_timer();
  if (const auto& handler = endpoint.config().on_open) handler(*this);
}

void Connection::arm_timer() {
  // Delays from now: each timeout minus the time already spent since its mark.
  const auto left = [&](uint32_t mark_ms, std::chrono::milliseconds timeout) {
    const uint64_t spent = since(mark_ms);
    const auto total = static_cast<uint64_t>(timeout.count());
    return total > spent ? total - spent : 0;
  };
  uint64_t delay = kNever;
  if (write_shut_ || close_.state() == ReadyState::closing) {
    delay = left(timer_mark_ms_, server_.options().close_timeout);
  } else if (endpoint_) {
    const auto& config = endpoint_->config();
    if (config.idle_timeout.count() > 0) delay = left(last_activity_ms_, config.idle_timeout);
    if (config.ping_interval.count() > 0) {
      // From the later of the last activity and the last ping.
      const uint32_t latest =
          since(last_activity_ms_) < since(timer_mark_ms_) ? last_activity_ms_ : timer_mark_ms_;
      delay = std::min(delay, left(latest, config.ping_interval));
    }
  } else if (const ExchangeState* ex = exchange()) {
    // A route's exchange: the body has its deadline, a hold may have one; an answer under way
    // has none (a stream lasts as long as it is read).
    if (ex->phase == ExchangeState::Phase::body) {
      delay = left(timer_mark_ms_, ex->route.options.body_timeout);
    } else if (ex->phase == ExchangeState::Phase::held && ex->hold_timeout_ms > 0) {
      delay = left(timer_mark_ms_, std::chrono::milliseconds(ex->hold_timeout_ms));
    }
  } else {
    delay = left(last_activity_ms_, server_.options().handshake_timeout);
  }
  if (delay == kNever) {
    server_.loop().cancel(*this);
  } else {
    server_.loop().schedule(*this, delay);
  }
}

void Connection::on_timer() {
  if (dead_) return;
  if (write_shut_ || close_.state() == ReadyState::closing) {
    const auto timeout = static_cast<uint64_t>(server_.options().close_timeout.count());
    if (since(timer_mark_ms_) >= timeout) return abort("close handshake timed out");
  } else if (endpoint_) {
    // Activity only moves last_activity_ms_; the timer catches up here, so the hot path never
    // touches the timer heap.
    const auto& config = endpoint_->config();
    const uint64_t silent = since(last_activity_ms_);
    if (config.idle_timeout.count() > 0 &&
        silent >= static_cast<uint64_t>(config.idle_timeout.count())) {
      return start_close(core::close_code::kGoingAway, "idle timeout");
    }
    const auto interval = static_cast<uint64_t>(config.ping_interval.count());
    if (interval > 0 && silent >= interval && since(timer_mark_ms_) >= interval) {
      // Pings repeat every interval while the line stays silent.
      timer_mark_ms_ = mark(server_.loop().now_ms());
      queue_control(core::Opcode::ping, {});
    }
  } else if (ExchangeState* ex = exchange()) {
    if (ex->phase == ExchangeState::Phase::body &&
        since(timer_mark_ms_) >= static_cast<uint64_t>(ex->route.options.body_timeout.count())) {
      std::string response;
      core::write_error_response(response, 408, "the request body did not arrive in time");
      queue_bytes(response);
      close_after_flush_ = true;
      return finish_exchange(*ex, false);
    }
    if (ex->phase == ExchangeState::Phase::held && ex->hold_timeout_ms > 0 &&
        since(timer_mark_ms_) >= ex->hold_timeout_ms) {
      if (ex->on_timeout) {
        auto handler = std::move(ex->on_timeout);
        handler();
        if (exchange() != ex || ex->phase != ExchangeState::Phase::held) return;
      }
      return exchange_respond(*ex, ex->hold_timeout_status, {}, {}, {});
    }
  } else {
    const auto timeout = static_cast<uint64_t>(server_.options().handshake_timeout.count());
    if (since(last_activity_ms_) >= timeout) return close_transport();
  }
  arm_timer();
}

}  // namespace duplex::detail

// --- the public WebSocket facade ------------------------------------------------------------

namespace duplex {

namespace {
detail::Connection& self(WebSocket* ws) { return *static_cast<detail::Connection*>(ws); }
const detail::Connection& self(const WebSocket* ws) {
  return *static_cast<const detail::Connection*>(ws);
}
}  // namespace

bool WebSocket::send(std::string_view message, MessageType type) {
  return self(this).send_message(message, type);
}
bool WebSocket::ping(std::string_view payload) { return self(this).send_ping(payload); }
void WebSocket::close(uint16_t code, std::string_view reason) {
  self(this).start_close(code, reason);
}
void WebSocket::terminate() { self(this).abort("terminated"); }
size_t WebSocket::buffered_amount() const { return self(this).buffered(); }
ReadyState WebSocket::ready_state() const { return self(this).state(); }
std::string_view WebSocket::protocol() const { return self(this).protocol_name(); }
const io::PeerAddress& WebSocket::remote_address() const { return self(this).peer(); }
Endpoint& WebSocket::endpoint() const { return self(this).owner(); }
std::any& WebSocket::user_data() { return self(this).data(); }
bool WebSocket::subscribe(std::string_view topic) { return self(this).subscribe(topic); }
bool WebSocket::unsubscribe(std::string_view topic) { return self(this).unsubscribe(topic); }
bool WebSocket::is_subscribed(std::string_view topic) const {
  return self(this).is_subscribed(topic);
}
std::vector<std::string> WebSocket::topics() const { return self(this).topic_names(); }
size_t WebSocket::topic_count() const {
  const detail::Session* s = self(this).session();
  return s ? s->slots().size() : 0;
}
void WebSocket::publish(std::string_view topic, std::string_view message, MessageType type) {
  self(this).server_core().hub().publish(topic, message, type,
                                         detail::Connection::skip_session(this));
}
std::string_view WebSocket::user_id() const { return self(this).user(); }

}  // namespace duplex
