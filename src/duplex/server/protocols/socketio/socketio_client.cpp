#include "duplex/server/protocols/socketio/socketio_client.hpp"

#include <utility>

#include "duplex/core/json/json_value.hpp"
#include "duplex/core/socketio/json_writer.hpp"
#include "duplex/core/socketio/packet_decoder.hpp"
#include "duplex/core/socketio/packet_encoder.hpp"
#include "duplex/io/event_loop.hpp"
#include "duplex/server/protocols/random_id.hpp"
#include "duplex/server/protocols/socketio/socketio_socket.hpp"

namespace duplex::socketio::detail {

using core::MessageType;
using core::socketio::PacketType;

ClientImpl::ClientImpl(ServerState& server, engineio::Socket& engine)
    : server_(server), engine_(engine) {
  connect_timer_.self = this;
}

ClientImpl::~ClientImpl() {
  if (connect_timer_.armed()) engine_.loop().cancel(connect_timer_);
}

void ClientImpl::start() {
  // The session keeps the client alive; its handlers hold it weakly.
  std::weak_ptr<ClientImpl> weak = weak_from_this();
  engine_.on_message([weak](std::string_view data, MessageType type) {
    if (auto self = weak.lock()) self->on_message(data, type == MessageType::binary);
  });
  engine_.on_close([weak](std::string_view reason, std::string_view) {
    if (auto self = weak.lock()) self->on_close(reason);
  });
  const auto timeout = server_.options.connect_timeout.count();
  if (timeout > 0) engine_.loop().schedule(connect_timer_, static_cast<uint64_t>(timeout));
}

bool ClientImpl::send(std::string_view text, std::span<const std::string> attachments) {
  if (closed_ || !engine_.send(text)) return false;
  for (const std::string& attachment : attachments) engine_.send(attachment, MessageType::binary);
  return true;
}

void ClientImpl::forget(const std::string& nsp) { sockets_.erase(nsp); }

void ClientImpl::disconnect_all() {
  auto self = shared_from_this();
  auto sockets = std::move(sockets_);
  sockets_.clear();
  for (auto& [nsp, socket] : sockets) socket->disconnect(false);
  engine_.close();
}

void ClientImpl::on_message(std::string_view data, bool binary) {
  if (closed_) return;
  if (binary) {
    if (pending_attachments_ == 0) {
      fail();  // a binary message no packet announced
      return;
    }
    attachments_.emplace_back(data);
    if (attachments_.size() < pending_attachments_) return;
    attachment_views_.assign(attachments_.begin(), attachments_.end());
    const std::string text = std::move(pending_);
    pending_attachments_ = 0;
    on_packet(text, attachment_views_);
    attachments_.clear();
    attachment_views_.clear();
    return;
  }
  if (pending_attachments_ != 0) {
    fail();  // text while a packet waits for its attachments
    return;
  }
  on_packet(data, {});
}

void ClientImpl::on_packet(std::string_view text, std::span<const std::string_view> attachments) {
  core::socketio::PacketArgs args;
  core::socketio::DecodeOptions options;
  options.max_attachments = server_.options.max_attachments;
  const core::socketio::Decoded decoded = core::socketio::decode(text, args, options);
  if (!decoded.ok()) {
    fail();
    return;
  }
  const core::socketio::Packet& packet = decoded.packet;
  if (core::socketio::is_binary(packet.type) && attachments.empty()) {
    // Wait for the attachments, then decode the packet again with them.
    pending_.assign(text);
    pending_attachments_ = packet.attachments;
    attachments_.reserve(packet.attachments);
    return;
  }
  auto self = shared_from_this();  // handlers may close the session
  auto it = sockets_.find(packet.nsp);
  if (it == sockets_.end()) {
    if (packet.type == PacketType::connect) {
      connect(packet.nsp, packet.data);
    } else {
      fail();  // a packet for a namespace not connected
    }
    return;
  }
  std::shared_ptr<SocketImpl> socket = it->second;
  switch (packet.type) {
    case PacketType::event:
    case PacketType::binary_event:
      socket->on_event(args.name_is_string ? std::string_view(args.name) : args.name_json,
                       std::move(args.args), packet.id, attachments);
      break;
    case PacketType::ack:
    case PacketType::binary_ack:
      if (packet.id) socket->on_ack(*packet.id, std::move(args.args), attachments);
      break;
    case PacketType::disconnect:
      socket->close("client namespace disconnect");
      break;
    case PacketType::connect:
    case PacketType::connect_error:
      fail();  // a second CONNECT to a namespace, or an error sent by a client
      break;
  }
}

void ClientImpl::connect(std::string_view nsp_name, std::string_view auth_json) {
  Json auth = Json::object();
  if (!auth_json.empty()) {
    if (auto parsed = core::json::parse_json(auth_json)) auth = std::move(*parsed);
  }
  std::shared_ptr<NamespaceImpl> nsp = server_.lookup(nsp_name, auth);
  std::string out;
  if (!nsp) {
    core::socketio::encode_connect_error(out, nsp_name, "Invalid namespace");
    send(out);
    return;
  }
  // A client coming back with its pid and the last offset it saw (connection state recovery).
  std::optional<RecoveryLog::RestoredCopy> restored;
  if (server_.options.connection_state_recovery && auth.is_object()) {
    const auto pid = auth.find("pid");
    const auto offset = auth.find("offset");
    if (pid != auth.end() && pid->is_string() && offset != auth.end() && offset->is_string()) {
      restored = nsp->recovery.restore(pid->get<std::string>(), offset->get<std::string>());
    }
  }
  auto socket = std::make_shared<SocketImpl>(nsp, shared_from_this(), ::duplex::detail::random_id(),
                                             std::move(auth));
  const bool skip_middlewares = restored && server_.options.recovery_skips_middlewares;
  if (restored) socket->restore(std::move(*restored));
  static const std::vector<Middleware> kNone;
  for (const Middleware& middleware : skip_middlewares ? kNone : nsp->middlewares) {
    std::optional<ConnectError> refused = middleware(*socket);
    if (closed_) return;
    if (refused) {
      std::string data;
      if (!refused->data.is_null()) core::socketio::write_json(data, refused->data);
      core::socketio::encode_connect_error(out, nsp_name, refused->message, data);
      send(out);
      return;
    }
  }
  sockets_.emplace(nsp->name(), socket);
  if (connect_timer_.armed()) engine_.loop().cancel(connect_timer_);
  socket->connect();
}

void ClientImpl::on_close(std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  auto self = shared_from_this();
  if (connect_timer_.armed()) engine_.loop().cancel(connect_timer_);
  auto sockets = std::move(sockets_);
  sockets_.clear();
  for (auto& [nsp, socket] : sockets) socket->close(reason);
}

void ClientImpl::connect_timed_out() {
  if (sockets_.empty()) engine_.close();
}

void ClientImpl::fail() {
  // As the reference: the whole session goes, and its sockets see it close.
  pending_attachments_ = 0;
  pending_.clear();
  attachments_.clear();
  engine_.close();
}

}  // namespace duplex::socketio::detail
