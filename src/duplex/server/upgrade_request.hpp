// The HTTP request that asks to become a WebSocket, as seen by an endpoint's on_upgrade handler:
// inspect it, then accept (optionally choosing the subprotocol and attaching data) or reject.
#pragma once

#include <any>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/io/socket.hpp"

namespace duplex {

namespace core {
struct HttpRequest;
}
namespace io {
class TlsSession;
}

class UpgradeRequest {
 public:
  UpgradeRequest(const core::HttpRequest& request, const io::PeerAddress& peer,
                 std::vector<std::string_view> offered_protocols, std::string_view protocol,
                 const io::TlsSession* tls = nullptr);

  std::string_view path() const;
  std::string_view query() const;
  /// The first header of that name (case-insensitive).
  std::optional<std::string_view> header(std::string_view name) const;
  std::optional<std::string_view> origin() const { return header("Origin"); }
  const io::PeerAddress& remote_address() const { return peer_; }
  /// True over TLS (wss://).
  bool secure() const { return tls_ != nullptr; }
  /// With client certificates required (TlsOptions::client_ca_file): the verified
  /// certificate's subject, "CN=...,O=..." (RFC 2253). Empty otherwise.
  std::string client_certificate() const;
  /// Subprotocols the client offered, in its order.
  const std::vector<std::string_view>& offered_protocols() const { return offered_; }

  /// The subprotocol to answer with: the endpoint's pick by default (see EndpointConfig).
  std::string_view protocol() const { return protocol_; }
  /// Picks another subprotocol; it must be one the client offered (else std::invalid_argument).
  void set_protocol(std::string_view protocol);
  void set_user_data(std::any data) { user_data_ = std::move(data); }
  /// Binds the connection to a user (Server::send_to_users, Server::members). A user may have
  /// several connections; empty means none.
  void set_user_id(std::string id) { user_id_ = std::move(id); }
  const std::string& user_id() const { return user_id_; }
  /// Refuses the upgrade with an HTTP error status (400-599) and a reason sent in the body.
  void reject(int status, std::string reason);

  bool rejected() const { return reject_status_ != 0; }
  int reject_status() const { return reject_status_; }
  const std::string& reject_reason() const { return reject_reason_; }
  std::any& user_data() { return user_data_; }

 private:
  const core::HttpRequest& request_;
  const io::PeerAddress& peer_;
  const io::TlsSession* tls_;
  std::vector<std::string_view> offered_;
  std::string_view protocol_;
  std::any user_data_;
  std::string user_id_;
  int reject_status_ = 0;
  std::string reject_reason_;
};

}  // namespace duplex
