// The public HttpExchange and HeldResponse, over the connection that drives the exchange.
#include "duplex/server/http_exchange.hpp"

#include <stdexcept>

#include "duplex/io/event_loop.hpp"
#include "duplex/server/connection.hpp"
#include "duplex/server/http/exchange_state.hpp"
#include "duplex/server/server_core.hpp"

namespace duplex {

using detail::state_of;

std::string_view HttpExchange::method() const { return state_of(*this).request.method; }
std::string_view HttpExchange::path() const { return state_of(*this).request.path; }
std::string_view HttpExchange::query() const { return state_of(*this).request.query; }
std::optional<std::string_view> HttpExchange::header(std::string_view name) const {
  return state_of(*this).request.header(name);
}
std::string_view HttpExchange::body() const { return state_of(*this).body; }
const io::PeerAddress& HttpExchange::remote_address() const { return state_of(*this).conn.peer(); }
bool HttpExchange::secure() const { return state_of(*this).conn.tls() != nullptr; }
bool HttpExchange::origin_may_act() const {
  const detail::ExchangeState& ex = state_of(*this);
  return core::origin_may_act(ex.route.options.cors, ex.request, secure());
}

void HttpExchange::respond(int status, std::string_view body, std::string_view content_type,
                           const HttpHeaders& headers) {
  state_of(*this).conn.exchange_respond(state_of(*this), status, body, content_type, headers);
}

void HttpExchange::start_stream(int status, std::string_view content_type,
                                const HttpHeaders& headers) {
  state_of(*this).conn.exchange_start_stream(state_of(*this), status, content_type, headers);
}

bool HttpExchange::write(std::string_view data) {
  detail::ExchangeState& ex = state_of(*this);
  return ex.conn.exchange_write(ex, data, ex.route.options.max_buffered);
}

void HttpExchange::end() { state_of(*this).conn.exchange_end(state_of(*this)); }

HeldResponse HttpExchange::hold(std::chrono::milliseconds timeout, int timeout_status) {
  if (timeout.count() < 0 || timeout.count() > UINT32_MAX) {
    throw std::invalid_argument("hold: timeout out of range (0 to 49 days)");
  }
  if (timeout_status < 100 || timeout_status > 999) {
    throw std::invalid_argument("hold: bad timeout status code");
  }
  detail::ExchangeState& ex = state_of(*this);
  ex.hold_timeout_status = static_cast<uint16_t>(timeout_status);
  ex.conn.exchange_hold(ex, static_cast<uint32_t>(timeout.count()));
  if (!ex.held) {
    ex.held = std::make_shared<detail::HeldState>(ex.conn.server_core().loop(), *this);
  }
  return HeldResponse(ex.held);
}

size_t HttpExchange::buffered_amount() const { return state_of(*this).conn.buffered(); }

void HttpExchange::on_timeout(std::function<void()> handler) {
  state_of(*this).on_timeout = std::move(handler);
}

void HttpExchange::on_drain(std::function<void()> handler) {
  state_of(*this).on_drain = std::move(handler);
}

void HttpExchange::on_close(std::function<void(bool)> handler) {
  state_of(*this).on_close = std::move(handler);
}

bool HttpExchange::finished() const {
  return state_of(*this).phase == detail::ExchangeState::Phase::done;
}

std::any& HttpExchange::user_data() { return state_of(*this).user_data; }

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
