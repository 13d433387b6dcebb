#include "duplex/server/upgrade_request.hpp"

#include <algorithm>
#include <stdexcept>

#include "duplex/core/http/http1_parser.hpp"
#include "duplex/io/tls.hpp"

namespace duplex {

UpgradeRequest::UpgradeRequest(const core::HttpRequest& request, const io::PeerAddress& peer,
                               std::vector<std::string_view> offered_protocols,
                               std::string_view protocol, const io::TlsSession* tls)
    : request_(request),
      peer_(peer),
      tls_(tls),
      offered_(std::move(offered_protocols)),
      protocol_(protocol) {}

std::string UpgradeRequest::client_certificate() const {
  return tls_ ? tls_->peer_subject() : std::string();
}

std::string_view UpgradeRequest::path() const { return request_.path; }
std::string_view UpgradeRequest::query() const { return request_.query; }

std::optional<std::string_view> UpgradeRequest::header(std::string_view name) const {
  return request_.header(name);
}

void UpgradeRequest::set_protocol(std::string_view protocol) {
  if (!protocol.empty() &&
      std::find(offered_.begin(), offered_.end(), protocol) == offered_.end()) {
    throw std::invalid_argument("subprotocol '" + std::string(protocol) +
                                "' was not offered by the client");
  }
  protocol_ = protocol;
}

void UpgradeRequest::reject(int status, std::string reason) {
  if (status < 400 || status > 599) {
    throw std::invalid_argument("reject() needs an HTTP error status (400-599)");
  }
  reject_status_ = status;
  reject_reason_ = std::move(reason);
}

}  // namespace duplex
