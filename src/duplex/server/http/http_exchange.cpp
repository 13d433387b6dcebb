// The public HttpExchange and HeldResponse, over the connection that drives the exchange.
#include "duplex/server/http_exchange.hpp"

#include <stdexcept>

#include "duplex/io/event_loop.hpp"
#include "duplex/server/connection.hpp"
#include "duplex/server/http/exchange_state.hpp"
#include "duplex/server/server_core.hpp"

namespace duplex {

HttpExchange::HttpExchange(std::unique_ptr<detail::ExchangeState> state)
    : state_(std::move(state)) {}

HttpExchange::~HttpExchange() = default;

std::string_view HttpExchange::method() const { return state_->request.method; }
std::string_view HttpExchange::path() const { return state_->request.path; }
std::string_view HttpExchange::query() const { return state_->request.query; }
std::optional<std::string_view> HttpExchange::header(std::string_view name) const {
  return state_->request.header(name);
}
std::string_view HttpExchange::body() const { return state_->body; }
const io::PeerAddress& HttpExchange::remote_address() const { return state_->conn.peer(); }
bool HttpExchange::secure() const { return state_->conn.tls() != nullptr; }

void HttpExchange::respond(int status, std::string_view body, std::string_view content_type,
                           const HttpHeaders& headers) {
  state_->conn.exchange_respond(*state_, status, body, content_type, headers);
}

void HttpExchange::start_stream(int status, std::string_view content_type,
                                const HttpHeaders& headers) {
  state_->conn.exchange_start_stream(*state_, status, content_type, headers);
}

bool HttpExchange::write(std::string_view data) {
  return state_->conn.exchange_write(*state_, data);
}

void HttpExchange::end() { state_->conn.exchange_end(*state_); }

HeldResponse HttpExchange::hold(std::chrono::milliseconds timeout, int timeout_status) {
  if (timeout.count() < 0) throw std::invalid_argument("hold: negative timeout");
  detail::ExchangeState& ex = *state_;
  ex.hold_timeout_status = timeout_status;
  ex.conn.exchange_hold(ex, static_cast<uint64_t>(timeout.count()));
  if (!ex.held) {
    ex.held = std::make_shared<detail::HeldState>(ex.conn.server_core().loop(), *this);
  }
  return HeldResponse(ex.held);
}

size_t HttpExchange::buffered_amount() const { return state_->conn.buffered(); }

void HttpExchange::on_timeout(std::function<void()> handler) {
  state_->on_timeout = std::move(handler);
}

void HttpExchange::on_drain(std::function<void()> handler) {
  state_->on_drain = std::move(handler);
}

void HttpExchange::on_close(std::function<void(bool)> handler) {
  state_->on_close = std::move(handler);
}

bool HttpExchange::finished() const { return state_->phase == detail::ExchangeState::Phase::done; }

std::any& HttpExchange::user_data() { return state_->user_data; }

bool HeldResponse::respond(int status, std::string body, std::string content_type,
                           HttpHeaders headers) {
  if (!state_ || !state_->pending()) return false;
  state_->loop().post([state = state_, status, body = std::move(body),
                       content_type = std::move(content_type), headers = std::move(headers)] {
    HttpExchange* exchange = state->exchange();
    if (!exchange) return;  // answered, timed out or gone meanwhile
    exchange->respond(status, body, content_type, headers);
  });
  return true;
}

bool HeldResponse::pending() const { return state_ && state_->pending(); }

}  // namespace duplex
