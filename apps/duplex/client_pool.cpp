#include "client_pool.hpp"

#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <utility>

#include "duplex/core/http/body_reader.hpp"
#include "duplex/core/http/header_values.hpp"
#include "duplex/core/http/http1_response_parser.hpp"
#include "duplex/core/http/query_string.hpp"
#include "duplex/core/ws/client_handshake.hpp"
#include "duplex/core/ws/frame.hpp"
#include "duplex/core/ws/mask.hpp"
#include "duplex/core/ws/sender.hpp"
#include "event_stream_walker.hpp"
#include "poll_answer_walker.hpp"

namespace duplex::app {

namespace {

constexpr size_t kReceiveBufferSize = 256 * 1024;
constexpr double kHandshakeTimeout = 10;
constexpr size_t kMaxReportedErrors = 5;
constexpr size_t kMaxHeadBytes = 1024;
constexpr uint64_t kMaxAnswerBytes = 64 << 20;  // of a long poll's answer
// Payload bytes kept of every message of a Socket.IO client, enough to know its packets.
constexpr size_t kSocketIoHeadBytes = 16;
// The largest SockJS frame, or WebSocket message of STOMP frames, a client gathers.
constexpr uint64_t kMaxGatheredMessage = 64 << 20;

double seconds_since(uint64_t start, uint64_t now) {
  return static_cast<double>(now - start) / 1e9;
}

std::string openssl_reason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "connection closed";
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  const char* reason = ERR_reason_error_string(code);
  return reason ? reason : text;
}

// An HTTP subscriber's answer must be a 200, text/event-stream whose body is chunked or runs to
// the end of the connection, or for a long poll application/json that ends where its framing
// says and leaves the connection open for the next poll. Returns why not, or "".
std::string answer_fault(const core::HttpResponseHead& head, const core::ResponseFraming& framing,
                         bool long_poll) {
  if (head.status != 200) {
    return "server answered " + std::to_string(head.status) + " " + std::string(head.reason);
  }
  const std::string_view media_type = long_poll ? "application/json" : "text/event-stream";
  const std::string_view type = head.header("Content-Type").value_or("");
  const std::string_view media = core::trim_ows(type.substr(0, type.find(';')));
  if (!core::iequals(media, media_type)) {
    return "Content-Type is '" + std::string(type) + "', not " + std::string(media_type);
  }
  if (!framing.ok()) return std::string(framing.error_reason);
  if (!long_poll) {
    if (framing.body.kind == core::BodyFraming::Kind::length) {
      return "an event stream with a Content-Length";
    }
    return "";
  }
  if (framing.until_close) return "an answer without a Content-Length, not chunked";
  if (head.has_token("Connection", "close") || head.version_minor == 0) {
    return "the server closes the connection after its answer";
  }
  return "";
}

// An answer must have a cursor; a one-topic cursor (a decimal) never goes back, and moves on
// when messages came. Returns why not, or "".
std::string cursor_fault(std::string_view before, const PollAnswer& answer) {
  if (answer.cursor.empty()) return "an answer without a cursor";
  const std::optional<uint64_t> was = core::parse_decimal(before);
  const std::optional<uint64_t> now = core::parse_decimal(answer.cursor);
  if (!was || !now || *now > *was || (*now == *was && answer.messages == 0)) return "";
  return "the cursor went from " + std::string(before) + " to " + std::string(answer.cursor) +
         " with " + std::to_string(answer.messages) + " messages";
}

}  // namespace

std::string sample(const ReceivedMessage& m) {
  std::string text;
  for (size_t i = 0; i < m.head_size && text.size() < 80; ++i) {
    const char c = static_cast<char>(m.head[i]);
    text += c >= 0x20 && c < 0x7f ? c : '?';
  }
  if (m.size > text.size()) text += "...";
  return "(" + std::to_string(m.size) + " B) " + text;
}

uint64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(ts.tv_nsec);
}

// What an HTTP subscriber reads with: an answer's head, then an event stream's events or a long
// poll's answer.
struct ClientPool::HttpSubscription {
  std::string target;  // a long poll's without its cursor
  bool long_poll = false;
  core::Http1ResponseParser head;
  std::optional<EventStreamWalker> walker;  // an event stream's, once the head is read
  std::optional<core::BodyReader> body;     // a long poll's, while an answer's body comes
  std::string body_text;                    // an answer's body gathered across reads
  std::string cursor;                       // a long poll's, from its last answer
  bool parked = false;                      // open, its next poll held back
};

struct ClientPool::Connection {
  enum class State : uint8_t { idle, connecting, tls_handshaking, handshaking, open, closed };
  // A Socket.IO client's, once upgraded: waiting for the open packet, then for the CONNECT
  // answer (both while handshaking), then connected (open).
  enum class SocketIo : uint8_t { none, awaiting_open, awaiting_connect, connected };
  // A SockJS client's, once upgraded: waiting for the open frame (while handshaking), then open.
  enum class SockJs : uint8_t { none, awaiting_open, open };
  // A STOMP client's, once upgraded: waiting for CONNECTED (while handshaking), then connected.
  enum class Stomp : uint8_t { none, awaiting_connected, connected };

  int fd = -1;
  SSL* ssl = nullptr;  // wss:// only
  State state = State::idle;
  SocketIo sio = SocketIo::none;
  SockJs sjs = SockJs::none;
  Stomp stomp = Stomp::none;
  bool want_write = false;  // EPOLLOUT armed
  uint8_t header_len = 0;   // bytes of a frame header split across reads
  uint8_t header[core::kMaxFrameHeader];
  uint8_t opcode = 0;          // of the frame being read
  uint8_t message_opcode = 0;  // of the message being read (its first frame)
  bool fin = false;
  bool compressed = false;     // the message being read has RSV1
  uint16_t head_len = 0;       // bytes of the message kept in `head`
  uint64_t payload_left = 0;   // of the frame being read
  uint64_t message_bytes = 0;  // of the message being read, all fragments
  uint64_t opened_at = 0;
  std::unique_ptr<uint8_t[]> head;  // the first head_bytes of the message being read
  std::string pending;              // bytes a short write left over
  std::unique_ptr<core::ClientHandshake> handshake;
  std::string response;
  std::unique_ptr<HttpSubscription> http;  // an HTTP subscriber's, not a WebSocket's
  std::string frame;  // a SockJS client's frame, or a STOMP client's message, being read, whole

  bool gathers() const { return sjs != SockJs::none || stomp != Stomp::none; }
};

namespace {

// A SockJS websocket URL's path: the service's, a server id of 3 digits and a random session id.
std::string sockjs_resource(std::string_view base) {
  std::array<uint8_t, 12> random{};
  if (RAND_bytes(random.data(), random.size()) != 1) throw std::runtime_error("RAND_bytes failed");
  static constexpr char kChars[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string resource(base.substr(0, base.find('?')));
  while (!resource.empty() && resource.back() == '/') resource.pop_back();
  resource += '/';
  for (int i = 0; i < 3; ++i) resource += static_cast<char>('0' + random[i] % 10);
  resource += '/';
  for (size_t i = 3; i < random.size(); ++i) resource += kChars[random[i] % 36];
  return resource + "/websocket";
}

}  // namespace

ClientPool::ClientPool(const ClientPoolOptions& options, size_t connections, Handler& handler)
    : options_(options), handler_(handler), connections_(connections) {
  options_.head_bytes = std::min(options_.head_bytes, kMaxHeadBytes);
  upgrade_url_ = options_.target.url;
  if (options_.socketio) {
    options_.head_bytes = std::max(options_.head_bytes, kSocketIoHeadBytes);
    std::string& resource = upgrade_url_.resource;
    resource += resource.find('?') == std::string::npos ? "?" : "&";
    resource += "EIO=4&transport=websocket";
    core::append_masked_frame(socketio_connect_, core::Opcode::text, "40", core::random_mask_key());
    core::append_masked_frame(socketio_pong_, core::Opcode::text, "3", core::random_mask_key());
  }
  if (options_.stomp) {
    static constexpr char kConnect[] =
        "CONNECT\naccept-version:1.2\nhost:/\nlogin:guest\npasscode:guest\nheart-beat:0,0\n\n\0";
    core::append_masked_frame(stomp_connect_, core::Opcode::text, {kConnect, sizeof kConnect - 1},
                              core::random_mask_key());
  }
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::runtime_error(std::string("epoll: ") + std::strerror(errno));
  buffer_ = std::make_unique<char[]>(kReceiveBufferSize);
  host_header_ = options_.target.url.host_header();
}

ClientPool::~ClientPool() {
  for (Connection& c : connections_) drop(c);
  ::close(epoll_fd_);
}

size_t ClientPool::size() const { return connections_.size(); }

size_t ClientPool::index_of(const Connection& c) const {
  return static_cast<size_t>(&c - connections_.data());
}

bool ClientPool::is_open(size_t index) const {
  return connections_[index].state == Connection::State::open;
}

// --- connecting ----------------------------------------------------------------------------

void ClientPool::connect(size_t first, size_t last, const std::function<void(double)>& tick) {
  const uint64_t start = now_ns();
  uint64_t next_tick = start + 1'000'000'000u;
  size_t next = first;
  while (true) {
    while (next < last && pending_ < options_.max_pending_connects) {
      start_connect(connections_[next], next);
      ++next;
    }
    if (next == last && pending_ == 0) break;
    poll(100);
    const uint64_t now = now_ns();
    expire_handshakes(now);
    if (now >= next_tick) {
      if (tick) tick(seconds_since(start, now));
      next_tick += 1'000'000'000u;
    }
  }
}

void ClientPool::start_connect(Connection& c, size_t index) {
  const std::vector<io::SocketAddress>& sources = options_.target.sources;
  const io::SocketAddress* source = sources.empty() ? nullptr : &sources[index % sources.size()];
  const io::SocketAddress* other = options_.address_of ? options_.address_of(index) : nullptr;
  c.fd = io::connect_tcp(other ? *other : options_.target.address, source);
  if (c.fd < 0) return error(c, std::string("connect: ") + std::strerror(errno));
  std::string http_target;
  if (options_.http_target) http_target = options_.http_target(index);
  if (!http_target.empty()) {
    c.http = std::make_unique<HttpSubscription>();
    c.http->target = std::move(http_target);
    c.http->long_poll = options_.http_kind == HttpSubscriber::long_poll;
  } else {
    std::array<uint8_t, 16> key{};
    if (RAND_bytes(key.data(), key.size()) != 1) throw std::runtime_error("RAND_bytes failed");
    core::ClientHandshakeOptions offer;
    if (options_.deflate) {
      offer.extensions = "permessage-deflate; client_no_context_takeover; client_max_window_bits";
    }
    if (options_.stomp) offer.protocols = {"v12.stomp"};
    if (options_.sockjs) {
      core::WebSocketUrl url = upgrade_url_;
      url.resource = sockjs_resource(url.resource);
      c.handshake = std::make_unique<core::ClientHandshake>(url, offer, key);
    } else {
      c.handshake = std::make_unique<core::ClientHandshake>(upgrade_url_, offer, key);
    }
    if (options_.head_bytes > 0) c.head = std::make_unique<uint8_t[]>(options_.head_bytes);
  }
  c.state = Connection::State::connecting;
  c.opened_at = now_ns();
  epoll_event ev{};
  ev.events = EPOLLOUT;
  ev.data.u64 = index;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, c.fd, &ev);
  c.want_write = true;
  ++pending_;
}

void ClientPool::on_connected(Connection& c) {
  const int err = io::connect_error(c.fd);
  if (err != 0) return error(c, std::string("connect: ") + std::strerror(err));
  if (const auto& tls = options_.target.tls) {
    c.ssl = SSL_new(tls->context());
    if (!c.ssl) return error(c, "TLS: " + openssl_reason());
    SSL_set_fd(c.ssl, c.fd);
    // Partial writes behave like send(); a retry may come from another buffer (pending).
    SSL_set_mode(c.ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    const std::string& host = options_.target.url.host;
    if (!io::is_numeric_host(host)) SSL_set_tlsext_host_name(c.ssl, host.c_str());
    if (!tls->insecure() && SSL_set1_host(c.ssl, host.c_str()) != 1) {
      return error(c, "TLS: cannot check the certificate against " + host);
    }
    c.state = Connection::State::tls_handshaking;
    return continue_tls_handshake(c);
  }
  start_upgrade(c);
}

void ClientPool::continue_tls_handshake(Connection& c) {
  const int result = SSL_connect(c.ssl);
  if (result == 1) return start_upgrade(c);
  const int reason = SSL_get_error(c.ssl, result);
  if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) {
    set_write_interest(c, reason == SSL_ERROR_WANT_WRITE);
    return;
  }
  error(c, "TLS handshake failed: " + openssl_reason());
}

void ClientPool::start_upgrade(Connection& c) {
  set_write_interest(c, false);
  c.state = Connection::State::handshaking;
  // A long poll's first poll has no cursor; the connection is open once it has been answered.
  if (c.http && c.http->long_poll) return send_poll(c);
  if (c.http) {
    request_ = "GET " + c.http->target + " HTTP/1.1\r\nHost: " + host_header_ +
               "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
    return write(c, request_.data(), request_.size());
  }
  write(c, c.handshake->request().data(), c.handshake->request().size());
}

void ClientPool::opened(Connection& c) {
  c.handshake.reset();
  std::string().swap(c.response);
  c.state = Connection::State::open;
  --pending_;
  ++opened_;
}

void ClientPool::on_handshake_bytes(Connection& c, const char* data, size_t len) {
  c.response.append(data, len);
  const core::ClientHandshake::Result result = c.handshake->feed(c.response);
  if (result.status == core::ClientHandshake::Status::need_more) return;
  if (result.status != core::ClientHandshake::Status::accepted) {
    return error(c, result.status == core::ClientHandshake::Status::redirect
                        ? "handshake: redirected to " + result.location
                        : "handshake: " + result.error);
  }
  if (options_.deflate && result.extensions.find("permessage-deflate") == std::string::npos) {
    return error(c, "handshake: the server declined permessage-deflate");
  }
  if (options_.socketio || options_.sockjs || options_.stomp) {
    // Open once the Socket.IO CONNECT is answered, the SockJS open frame has come, or the STOMP
    // CONNECT is answered; the open packet or frame may have come along.
    c.handshake.reset();
    if (options_.socketio) {
      c.sio = Connection::SocketIo::awaiting_open;
    } else if (options_.sockjs) {
      c.sjs = Connection::SockJs::awaiting_open;
    } else {
      c.stomp = Connection::Stomp::awaiting_connected;
      write(c, stomp_connect_.data(), stomp_connect_.size());
      if (c.fd < 0) return;
    }
    const std::string rest = c.response.substr(result.consumed);
    c.response.clear();
    if (!rest.empty()) {
      read_frames(c, index_of(c), reinterpret_cast<const uint8_t*>(rest.data()), rest.size(),
                  now_ns());
    }
    return;
  }
  if (result.consumed != c.response.size()) {
    return error(c, "handshake: server sent data before any message");
  }
  opened(c);
}

// Reads an HTTP subscriber's answer head from `in`, gathered in c.response while it comes in
// pieces, and checks it (answer_fault). Returns its size within `buffered` (`in`, or c.response
// once it gathered) and its framing, or 0 while it is incomplete or when it failed (the
// connection is then dropped).
size_t ClientPool::read_answer_head(Connection& c, std::string_view in, std::string_view& buffered,
                                    core::ResponseFraming& framing) {
  const std::string_view what = c.http->long_poll ? "long poll: " : "event stream: ";
  buffered = in;
  if (!c.response.empty()) {
    c.response.append(in);
    buffered = c.response;
  }
  core::HttpResponseHead head;
  const core::HttpParseResult result = c.http->head.parse(buffered, head);
  if (result.status == core::HttpParseStatus::need_more) {
    if (c.response.empty()) c.response.assign(in);
    return 0;
  }
  if (result.status == core::HttpParseStatus::error) {
    error(c, std::string(what) + std::string(result.error_reason));
    return 0;
  }
  framing = core::response_framing(head);
  if (const std::string fault = answer_fault(head, framing, c.http->long_poll); !fault.empty()) {
    error(c, std::string(what) + fault);
    return 0;
  }
  return result.consumed;
}

void ClientPool::on_stream_head(Connection& c, size_t index, std::string_view in) {
  std::string_view buffered;
  core::ResponseFraming framing;
  const size_t head_size = read_answer_head(c, in, buffered, framing);
  if (head_size == 0) return;
  c.http->walker.emplace(framing.body.kind == core::BodyFraming::Kind::chunked,
                         options_.head_bytes);
  // The body's first bytes may have come with the head.
  const std::string body(buffered.substr(head_size));
  opened(c);
  if (body.empty()) return;
  const uint64_t now = now_ns();
  read_events(c, index, body, now);
  if (c.fd >= 0) handler_.on_read_end(index, now);
}

void ClientPool::expire_handshakes(uint64_t now) {
  const auto limit = static_cast<uint64_t>(kHandshakeTimeout * 1e9);
  for (Connection& c : connections_) {
    if (!opening(c) || now - c.opened_at <= limit) continue;
    error(c, c.http && c.http->long_poll ? "long poll: the first poll unanswered after 10 s"
             : c.sio != Connection::SocketIo::none
                 ? "socket.io: the namespace not connected after 10 s"
             : c.sjs != Connection::SockJs::none  ? "sockjs: no open frame after 10 s"
             : c.stomp != Connection::Stomp::none ? "stomp: no CONNECTED frame after 10 s"
                                                  : "handshake timed out");
  }
}

// --- traffic -------------------------------------------------------------------------------

double ClientPool::run_for(double seconds, const std::function<void(double)>& tick,
                           const std::function<bool()>& stop) {
  const uint64_t start = now_ns();
  const uint64_t end = start + static_cast<uint64_t>(seconds * 1e9);
  uint64_t next_tick = start + 1'000'000'000u;
  while (true) {
    const uint64_t now = now_ns();
    if (now >= end) break;
    if (now >= next_tick) {
      if (tick) tick(seconds_since(start, now));
      next_tick += 1'000'000'000u;
    }
    const uint64_t wait_ns = std::min(end, next_tick) - now;
    poll(static_cast<int>(std::min<uint64_t>(wait_ns / 1'000'000u + 1, 100)));
    if (stop && stop()) break;
  }
  return seconds_since(start, now_ns());
}

void ClientPool::poll(int timeout_ms) {
  epoll_event events[256];
  const int n = epoll_wait(epoll_fd_, events, 256, timeout_ms);
  for (int i = 0; i < n; ++i) {
    const size_t index = events[i].data.u64;
    Connection& c = connections_[index];
    if (c.fd < 0) continue;
    if (events[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
      if (c.state == Connection::State::connecting) {
        on_connected(c);
        continue;
      }
      if (c.state == Connection::State::tls_handshaking) {
        continue_tls_handshake(c);
        continue;
      }
      if (c.want_write && !c.pending.empty()) flush_pending(c);
    }
    if (c.fd < 0 || !(events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP))) continue;
    if (c.state == Connection::State::tls_handshaking) {
      continue_tls_handshake(c);
      continue;
    }
    // TLS may hold decrypted bytes the socket no longer shows: read until it has none.
    do {
      on_readable(c, index);
    } while (c.fd >= 0 && c.ssl && SSL_pending(c.ssl) > 0);
  }
  handler_.on_poll_end(now_ns());
}

// recv() or SSL_read(): bytes, 0 at the end, or -1 with errno (EAGAIN: nothing yet).
ssize_t ClientPool::receive(Connection& c, char* buffer, size_t size) {
  if (!c.ssl) return ::recv(c.fd, buffer, size, 0);
  const int n = SSL_read(c.ssl, buffer, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
  if (n > 0) return n;
  const int reason = SSL_get_error(c.ssl, n);
  if (reason == SSL_ERROR_ZERO_RETURN) return 0;
  errno = reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE ? EAGAIN : EPROTO;
  return -1;
}

// send() or SSL_write(), with the same conventions.
ssize_t ClientPool::transmit(Connection& c, const char* data, size_t len) {
  if (!c.ssl) return ::send(c.fd, data, len, MSG_NOSIGNAL);
  const int n = SSL_write(c.ssl, data, static_cast<int>(std::min<size_t>(len, INT32_MAX)));
  if (n > 0) return n;
  const int reason = SSL_get_error(c.ssl, n);
  errno = reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE ? EAGAIN : EPROTO;
  return -1;
}

void ClientPool::on_readable(Connection& c, size_t index) {
  const ssize_t n = receive(c, buffer_.get(), kReceiveBufferSize);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    return error(c, n == 0 ? "connection closed by the server"
                           : std::string("recv: ") + std::strerror(errno));
  }
  const uint64_t now = now_ns();
  if (c.http && c.http->long_poll) {
    read_answer(c, index, {buffer_.get(), static_cast<size_t>(n)}, now);
  } else if (c.state == Connection::State::handshaking && c.sio == Connection::SocketIo::none &&
             !c.gathers()) {
    if (c.http) return on_stream_head(c, index, {buffer_.get(), static_cast<size_t>(n)});
    return on_handshake_bytes(c, buffer_.get(), static_cast<size_t>(n));
  } else if (c.http) {
    read_events(c, index, {buffer_.get(), static_cast<size_t>(n)}, now);
  } else {
    read_frames(c, index, reinterpret_cast<const uint8_t*>(buffer_.get()), static_cast<size_t>(n),
                now);
  }
  if (c.fd >= 0) handler_.on_read_end(index, now);
}

// Hands each event of an event stream to the handler as a text message of its data.
void ClientPool::read_events(Connection& c, size_t index, std::string_view in, uint64_t now) {
  EventStreamWalker& walker = *c.http->walker;
  const bool more = walker.feed(in, [&](uint64_t size, const uint8_t* head, size_t head_size) {
    handler_.on_message(index, {.opcode = 1, .size = size, .head = head, .head_size = head_size},
                        now);
    return c.fd >= 0;  // the handler may have failed the connection
  });
  if (!more && c.fd >= 0) error(c, "event stream: " + std::string(walker.error()));
}

// A poll: the target and, after the first answer, the cursor to go on from.
void ClientPool::send_poll(Connection& c) {
  const HttpSubscription& s = *c.http;
  request_.assign("GET ").append(s.target);
  if (!s.cursor.empty()) {
    request_ += s.target.find('?') == std::string::npos ? "?cursor=" : "&cursor=";
    core::form_encode(request_, s.cursor);
  }
  request_.append(" HTTP/1.1\r\nHost: ").append(host_header_).append("\r\n\r\n");
  write(c, request_.data(), request_.size());
}

// Reads a long poll's answer: its head, then its body (a view into the bytes read when one read
// holds it, the usual case; else gathered). Once it is whole, its messages and then the answer go
// to the handler, and the next poll goes out; but the first answer opens the connection, and its
// next poll waits for resume_polls().
void ClientPool::read_answer(Connection& c, size_t index, std::string_view in, uint64_t now) {
  HttpSubscription& s = *c.http;
  if (!s.body) {
    std::string_view buffered;
    core::ResponseFraming framing;
    const size_t head_size = read_answer_head(c, in, buffered, framing);
    if (head_size == 0) return;
    s.body.emplace(framing.body, core::BodyLimits{.max_body = kMaxAnswerBytes});
    in = buffered.substr(head_size);  // may view c.response: cleared once it is read
  }
  std::string_view whole;  // the body, while one piece of this read holds all of it
  bool gathered = !s.body_text.empty();
  const core::BodyResult r = core::read_body(*s.body, in, [&](std::string_view piece) {
    if (!gathered && whole.empty()) {
      whole = piece;
      return;
    }
    if (!gathered) s.body_text.assign(whole);
    gathered = true;
    s.body_text.append(piece);
  });
  if (r.status == core::BodyStatus::error) {
    return error(c, "long poll: " + std::string(r.error_reason));
  }
  if (r.status == core::BodyStatus::need_more) {
    if (!gathered) s.body_text.assign(whole);
    c.response.clear();
    return;
  }
  if (r.consumed != in.size()) return error(c, "long poll: bytes after the answer");
  const PollAnswer answer =
      walk_poll_answer(gathered ? std::string_view(s.body_text) : whole, [&](std::string_view m) {
        handler_.on_message(index,
                            {.opcode = 1,
                             .size = m.size(),
                             .head = reinterpret_cast<const uint8_t*>(m.data()),
                             .head_size = std::min(m.size(), options_.head_bytes)},
                            now);
        return c.fd >= 0;  // the handler may have failed the connection
      });
  if (c.fd < 0) return;
  if (!answer.ok()) return error(c, "long poll: " + std::string(answer.error));
  if (const std::string fault = cursor_fault(s.cursor, answer); !fault.empty()) {
    return error(c, "long poll: " + fault);
  }
  s.cursor.assign(answer.cursor);
  handler_.on_poll_answer(index, answer, now);
  if (c.fd < 0) return;
  s.head.reset();
  s.body.reset();
  s.body_text.clear();
  c.response.clear();
  if (c.state == Connection::State::open) return send_poll(c);
  opened(c);
  s.parked = true;  // until resume_polls()
}

void ClientPool::resume_polls() {
  for (Connection& c : connections_) {
    if (c.state != Connection::State::open || !c.http || !c.http->parked) continue;
    c.http->parked = false;
    send_poll(c);
  }
}

// Walks the server's frames: headers are parsed, payloads skipped (but for the head kept).
void ClientPool::read_frames(Connection& c, size_t index, const uint8_t* p, size_t len,
                             uint64_t now) {
  const uint8_t* end = p + len;
  while (p < end) {
    if (c.payload_left > 0) {
      const size_t take =
          static_cast<size_t>(std::min<uint64_t>(c.payload_left, static_cast<uint64_t>(end - p)));
      take_payload(c, p, take);
      p += take;
      c.payload_left -= take;
      if (c.payload_left > 0) break;
      frame_done(c, index, now);
      if (c.fd < 0) return;
      continue;
    }
    // A header: whole in this read (the usual case), or gathered across reads.
    const uint8_t* h = p;
    const size_t available = static_cast<size_t>(end - p);
    if (c.header_len > 0 || available < 2 || available < core::header_size_from_second_byte(p[1])) {
      const size_t want = c.header_len < 2 ? 2 : core::header_size_from_second_byte(c.header[1]);
      const size_t take = std::min(want - c.header_len, available);
      std::memcpy(c.header + c.header_len, p, take);
      c.header_len += static_cast<uint8_t>(take);
      p += take;
      if (c.header_len < 2 || c.header_len < core::header_size_from_second_byte(c.header[1]))
        continue;
      h = c.header;
      c.header_len = 0;
    } else {
      p += core::header_size_from_second_byte(p[1]);
    }
    if (!start_frame(c, index, h)) return;
    if (c.payload_left == 0) {
      frame_done(c, index, now);
      if (c.fd < 0) return;
    }
  }
}

bool ClientPool::start_frame(Connection& c, size_t index, const uint8_t* h) {
  c.fin = (h[0] & 0x80) != 0;
  c.opcode = h[0] & 0x0f;
  if (c.opcode != 0 && c.opcode < 8) {
    c.compressed = (h[0] & 0x40) != 0;
    c.message_opcode = c.opcode;
  }
  uint64_t len = h[1] & 0x7f;
  if (len == 126) {
    len = (uint64_t{h[2]} << 8) | h[3];
  } else if (len == 127) {
    len = 0;
    for (int i = 2; i < 10; ++i) len = (len << 8) | h[i];
  }
  c.payload_left = len;
  if (c.opcode < 8) c.message_bytes += len;
  if (c.opcode == 8) {
    fail(index, "server closed the connection");
    return false;
  }
  return true;
}

void ClientPool::take_payload(Connection& c, const uint8_t* p, size_t len) {
  if (c.gathers()) {
    if (c.opcode < 8 && c.frame.size() + len <= kMaxGatheredMessage) {
      c.frame.append(reinterpret_cast<const char*>(p), len);
    }
    return;
  }
  if (c.opcode >= 8 || c.head_len >= options_.head_bytes) return;
  const size_t take = std::min(len, options_.head_bytes - c.head_len);
  std::memcpy(c.head.get() + c.head_len, p, take);
  c.head_len += static_cast<uint16_t>(take);
}

void ClientPool::frame_done(Connection& c, size_t index, uint64_t now) {
  if (c.opcode >= 8 || !c.fin) return;  // ping/pong, or a fragment of a longer message
  if (c.sjs != Connection::SockJs::none) return sockjs_frame(c, index, now);
  if (c.stomp != Connection::Stomp::none) return stomp_message(c, index, now);
  ReceivedMessage message;
  message.opcode = c.message_opcode;
  message.compressed = c.compressed;
  message.size = c.message_bytes;
  message.head = c.head.get();
  message.head_size = c.head_len;
  c.message_bytes = 0;
  c.head_len = 0;
  if (c.sio != Connection::SocketIo::none && socketio_packet(c, message)) return;
  handler_.on_message(index, message, now);
}

// A Socket.IO client's packets that are the pool's: the open packet and the CONNECT answer while
// it opens (after the open packet, the CONNECT to the default namespace goes out), and the
// server's pings at any time. True when the message was one of them (or failed the connection).
bool ClientPool::socketio_packet(Connection& c, const ReceivedMessage& m) {
  const std::string_view head(reinterpret_cast<const char*>(m.head), m.head_size);
  if (m.opcode == 1 && m.size == 1 && head == "2") {
    write(c, socketio_pong_.data(), socketio_pong_.size());
    return true;
  }
  switch (c.sio) {
    case Connection::SocketIo::awaiting_open:
      if (m.opcode != 1 || !head.starts_with("0{")) {
        error(c, "socket.io: expected the open packet 0{...}, got " + sample(m));
        return true;
      }
      c.sio = Connection::SocketIo::awaiting_connect;
      write(c, socketio_connect_.data(), socketio_connect_.size());
      return true;
    case Connection::SocketIo::awaiting_connect:
      if (m.opcode != 1 || !head.starts_with("40{")) {
        error(c, "socket.io: expected the CONNECT answer 40{...}, got " + sample(m));
        return true;
      }
      c.sio = Connection::SocketIo::connected;
      opened(c);
      return true;
    default:
      return false;
  }
}

// A SockJS client's whole frame (c.frame): the open frame while it opens, heartbeats, and the
// messages of a message frame, each handed over as the text of its JSON string.
void ClientPool::sockjs_frame(Connection& c, size_t index, uint64_t now) {
  const std::string_view f = c.frame;
  const uint64_t size = c.message_bytes;
  const uint8_t opcode = c.message_opcode;
  c.message_bytes = 0;
  const auto bad = [&](std::string what) {
    const ReceivedMessage m{.opcode = opcode,
                            .size = size,
                            .head = reinterpret_cast<const uint8_t*>(f.data()),
                            .head_size = f.size()};
    error(c, "sockjs: " + what + sample(m));
  };
  if (opcode != 1 || size != f.size()) {
    bad("a frame that is not text, or too large: ");
  } else if (f == "h") {
    // A heartbeat.
  } else if (c.sjs == Connection::SockJs::awaiting_open) {
    if (f != "o") {
      bad("expected the open frame o, got ");
    } else {
      c.sjs = Connection::SockJs::open;
      opened(c);
    }
  } else if (f.starts_with("c[")) {
    bad("the server closed the session: ");
  } else if (!f.starts_with("a[") || f.size() < 4 || f.back() != ']') {
    bad("expected a[...], got ");
  } else {
    // a["...","..."]: each string's text, between its quotes (a backslash escapes one character).
    size_t i = 2;
    while (c.fd >= 0) {
      if (i >= f.size() || f[i] != '"') return bad("a message frame that is not strings: ");
      const size_t start = ++i;
      while (i < f.size() && f[i] != '"') i += f[i] == '\\' ? 2 : 1;
      if (i >= f.size()) return bad("an unterminated string: ");
      handler_.on_message(index,
                          {.opcode = 1,
                           .size = i - start,
                           .head = reinterpret_cast<const uint8_t*>(f.data() + start),
                           .head_size = i - start},
                          now);
      if (c.fd < 0) return;  // the handler may have failed the connection
      ++i;
      if (i < f.size() && f[i] == ']' && i + 1 == f.size()) break;
      if (i >= f.size() || f[i] != ',') return bad("a message frame that is not strings: ");
      ++i;
    }
  }
  if (c.fd >= 0) c.frame.clear();
}

// A STOMP client's whole WebSocket message (c.frame): its frames, each read by its command line
// and headers; a body runs for its content-length, or else to its NUL.
void ClientPool::stomp_message(Connection& c, size_t index, uint64_t now) {
  const std::string_view f = c.frame;
  const uint64_t size = c.message_bytes;
  c.message_bytes = 0;
  const auto bad = [&](std::string what, std::string_view shown) {
    const ReceivedMessage m{.opcode = c.message_opcode,
                            .size = shown.size(),
                            .head = reinterpret_cast<const uint8_t*>(shown.data()),
                            .head_size = shown.size()};
    error(c, "stomp: " + what + sample(m));
  };
  if (size != f.size()) return bad("a message too large: ", f);
  size_t i = 0;
  while (i < f.size() && c.fd >= 0) {
    if (f[i] == '\n' || f[i] == '\r') {  // heart-beat EOLs
      ++i;
      continue;
    }
    const size_t start = i;
    // The command line, then header lines up to an empty one (EOL: LF or CRLF).
    const auto line = [&]() -> std::optional<std::string_view> {
      const size_t eol = f.find('\n', i);
      if (eol == std::string_view::npos) return std::nullopt;
      std::string_view text = f.substr(i, eol - i);
      if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
      i = eol + 1;
      return text;
    };
    const std::optional<std::string_view> command = line();
    if (!command) return bad("a frame without its command line: ", f.substr(start));
    std::string_view receipt_id, ack, message;
    std::optional<uint64_t> length;
    bool seen_receipt = false, seen_ack = false, seen_message = false, seen_length = false;
    while (true) {
      const std::optional<std::string_view> header = line();
      if (!header) return bad("a frame without the end of its headers: ", f.substr(start));
      if (header->empty()) break;
      const size_t colon = header->find(':');
      if (colon == std::string_view::npos) return bad("a header without a colon: ", *header);
      const std::string_view name = header->substr(0, colon), value = header->substr(colon + 1);
      // Repeated headers: the first one counts.
      if (name == "receipt-id" && !std::exchange(seen_receipt, true)) receipt_id = value;
      if (name == "ack" && !std::exchange(seen_ack, true)) ack = value;
      if (name == "message" && !std::exchange(seen_message, true)) message = value;
      if (name == "content-length" && !std::exchange(seen_length, true)) {
        length = core::parse_decimal(value);
        if (!length) return bad("a bad content-length: ", *header);
      }
    }
    size_t body_end;
    if (length) {
      if (*length >= f.size() - i || f[i + *length] != '\0') {
        return bad("a body not ended by NUL after its content-length: ", f.substr(start));
      }
      body_end = i + static_cast<size_t>(*length);
    } else {
      body_end = f.find('\0', i);
      if (body_end == std::string_view::npos) {
        return bad("a frame without its NUL: ", f.substr(start));
      }
    }
    const std::string_view body = f.substr(i, body_end - i);
    i = body_end + 1;
    if (*command == "ERROR")
      return bad("the server sent ERROR " + std::string(message) + ": ", body);
    if (c.stomp == Connection::Stomp::awaiting_connected) {
      if (*command != "CONNECTED") return bad("expected CONNECTED, got ", f.substr(start));
      c.stomp = Connection::Stomp::connected;
      opened(c);
    } else if (*command == "MESSAGE") {
      handler_.on_message(index,
                          {.opcode = 1,
                           .size = body.size(),
                           .head = reinterpret_cast<const uint8_t*>(body.data()),
                           .head_size = body.size(),
                           .ack = ack},
                          now);
    } else if (*command == "RECEIPT") {
      stomp_receipt_ = "receipt:";
      stomp_receipt_ += receipt_id;
      handler_.on_message(index,
                          {.opcode = 1,
                           .size = stomp_receipt_.size(),
                           .head = reinterpret_cast<const uint8_t*>(stomp_receipt_.data()),
                           .head_size = stomp_receipt_.size()},
                          now);
    } else {
      return bad("an unexpected frame: ", f.substr(start));
    }
  }
  if (c.fd >= 0) c.frame.clear();
}

void ClientPool::send(size_t index, const char* data, size_t len) {
  Connection& c = connections_[index];
  if (c.state == Connection::State::open) write(c, data, len);
}

void ClientPool::write(Connection& c, const char* data, size_t len) {
  if (!c.pending.empty()) {
    c.pending.append(data, len);
    return;
  }
  const ssize_t n = transmit(c, data, len);
  if (n < 0 && errno != EAGAIN && errno != EINTR) {
    return error(c, std::string("send: ") + std::strerror(errno));
  }
  const size_t written = n > 0 ? static_cast<size_t>(n) : 0;
  if (written < len) {
    c.pending.assign(data + written, len - written);
    set_write_interest(c, true);
  }
}

void ClientPool::flush_pending(Connection& c) {
  const ssize_t n = transmit(c, c.pending.data(), c.pending.size());
  if (n < 0 && errno != EAGAIN && errno != EINTR) {
    return error(c, std::string("send: ") + std::strerror(errno));
  }
  c.pending.erase(0, n > 0 ? static_cast<size_t>(n) : 0);
  if (c.pending.empty()) set_write_interest(c, false);
}

void ClientPool::set_write_interest(Connection& c, bool on) {
  epoll_event ev{};
  ev.events = on ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
  ev.data.u64 = index_of(c);
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
  c.want_write = on;
}

// --- ending --------------------------------------------------------------------------------

void ClientPool::fail(size_t index, std::string what) {
  error(connections_[index], std::move(what));
}

void ClientPool::count_error(std::string what) {
  ++errors_;
  if (first_errors_.size() < kMaxReportedErrors) first_errors_.push_back(std::move(what));
}

void ClientPool::error(Connection& c, std::string what) {
  count_error(std::move(what));
  if (c.state == Connection::State::open) {
    --opened_;
  } else if (opening(c)) {
    --pending_;
  }
  drop(c);
}

bool ClientPool::opening(const Connection& c) {
  return c.state == Connection::State::connecting ||
         c.state == Connection::State::tls_handshaking || c.state == Connection::State::handshaking;
}

void ClientPool::drop(Connection& c) {
  if (c.ssl) SSL_free(c.ssl);
  c.ssl = nullptr;
  if (c.fd >= 0) ::close(c.fd);  // closing removes it from the epoll set
  c.fd = -1;
  c.state = Connection::State::closed;
  c.handshake.reset();
  c.pending.clear();
  std::string().swap(c.frame);
}

void ClientPool::tell(ConnectionOutcome& outcome) const {
  outcome.opened = opened_;
  outcome.errors = errors_;
  outcome.first_errors = first_errors_;
}

void ClientPool::close_all() {
  // A close frame (1000) so servers see a clean close; the answer is not awaited. An HTTP
  // subscriber just closes.
  std::string close_frame;
  static constexpr char kNormal[2] = {0x03, static_cast<char>(0xe8)};
  core::append_masked_frame(close_frame, core::Opcode::close, {kNormal, 2},
                            core::random_mask_key());
  for (Connection& c : connections_) {
    if (c.state == Connection::State::open && c.pending.empty() && !c.http) {
      [[maybe_unused]] ssize_t n = transmit(c, close_frame.data(), close_frame.size());
    }
    drop(c);  // opened_ keeps its count: the report says how many were open
  }
}

}  // namespace duplex::app
