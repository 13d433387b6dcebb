#include "duplex/server/socketio_server.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "duplex/core/json/json_unescape.hpp"
#include "duplex/core/pubsub/pubsub_protocol.hpp"
#include "duplex/core/socketio/placeholders.hpp"
#include "duplex/server/protocols/socketio/socketio_client.hpp"
#include "duplex/server/protocols/socketio/socketio_socket.hpp"
#include "duplex/server/protocols/socketio/socketio_state.hpp"
#include "duplex/server/protocols/socketio/socketio_values.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"
#include "duplex/server/pubsub/outgoing_message.hpp"
#include "duplex/server/pubsub/pubsub_hub.hpp"
#include "duplex/server/server_access.hpp"

namespace duplex::socketio {

using detail::NamespaceImpl;
using detail::ServerState;
using detail::SocketImpl;

// --- topics, namespaces, the server's state --------------------------------------------------

namespace detail {

std::string room_topic(const ServerState& server, std::string_view nsp, std::string_view room) {
  std::string topic;
  if (nsp == "/") {
    topic = server.options.pubsub_prefix;
  } else {
    topic = "socket.io:";
    topic += nsp;
    topic += '#';
  }
  topic += room;
  return topic;
}

std::string namespace_topic(std::string_view nsp) {
  std::string topic = "socket.io:";
  topic += nsp;
  return topic;
}

NamespaceImpl::NamespaceImpl(ServerState& server, std::string name)
    : recovery(server.options.max_disconnection_duration, server.options.recovery_max_packets),
      server_(server),
      name_(std::move(name)) {}

void NamespaceImpl::add(const std::shared_ptr<SocketImpl>& socket) {
  std::lock_guard lock(mutex_);
  sockets_[socket->socket_id()] = socket;
}

void NamespaceImpl::remove(const std::string& id) {
  std::lock_guard lock(mutex_);
  sockets_.erase(id);
}

std::shared_ptr<SocketImpl> NamespaceImpl::find(std::string_view id) const {
  std::lock_guard lock(mutex_);
  auto it = sockets_.find(std::string(id));
  return it == sockets_.end() ? nullptr : it->second.lock();
}

std::vector<std::shared_ptr<SocketImpl>> NamespaceImpl::sockets() const {
  std::vector<std::shared_ptr<SocketImpl>> out;
  std::lock_guard lock(mutex_);
  out.reserve(sockets_.size());
  for (const auto& [id, weak] : sockets_) {
    if (auto socket = weak.lock()) out.push_back(std::move(socket));
  }
  return out;
}

size_t NamespaceImpl::socket_count() const {
  std::lock_guard lock(mutex_);
  return sockets_.size();
}

std::shared_ptr<NamespaceImpl> ServerState::of(std::string_view name) {
  std::lock_guard lock(mutex);
  auto& nsp = namespaces[std::string(name)];
  if (!nsp) nsp = std::make_shared<NamespaceImpl>(*this, std::string(name));
  return nsp;
}

std::shared_ptr<NamespaceImpl> ServerState::lookup(std::string_view name, const Json& auth) {
  std::optional<Dynamic> matched;
  {
    std::lock_guard lock(mutex);
    auto it = namespaces.find(std::string(name));
    if (it != namespaces.end()) return it->second;
    for (const Dynamic& d : dynamic) {
      if (d.match(name, auth)) {
        matched = d;
        break;
      }
    }
  }
  if (!matched) return nullptr;
  // Set up before anyone can connect to it; two clients racing for one name keep the first.
  auto nsp = std::make_shared<NamespaceImpl>(*this, std::string(name));
  matched->setup(Namespace(nsp));
  std::lock_guard lock(mutex);
  auto [it, inserted] = namespaces.emplace(std::string(name), nsp);
  return it->second;
}

}  // namespace detail

// --- Args, Ack --------------------------------------------------------------------------------

Json Args::json(size_t i) const {
  auto parsed = core::json::parse_json(raw_.at(i));
  if (!parsed) return Json();
  // One argument uses some of the packet's attachments, not necessarily all.
  if (!attachments_.empty()) core::socketio::fill_placeholders(*parsed, attachments_);
  return std::move(*parsed);
}

Value Args::value(size_t i) const {
  if (!attachments_.empty()) return Value(json(i));
  return Value::raw(std::string(raw_.at(i)));
}

Json Args::array() const {
  Json out = Json::array();
  for (size_t i = 0; i < raw_.size(); ++i) out.push_back(json(i));
  return out;
}

std::optional<std::string> Args::string(size_t i) const {
  if (i >= raw_.size()) return std::nullopt;
  const std::string_view text = raw_[i];
  if (text.empty() || text.front() != '"') return std::nullopt;
  std::string out;
  core::json::append_unescaped(out, text);
  return out;
}

void Ack::operator()(std::vector<Value> args) const {
  if (!id_ || !sent_ || *sent_) return;
  std::shared_ptr<SocketImpl> socket = socket_.lock();
  if (!socket) return;
  *sent_ = true;
  socket->send_ack(*id_, args);
}

// --- Broadcast ---------------------------------------------------------------------------------

void Broadcast::emit_values(std::string_view event, const std::vector<Value>& args) {
  detail::check_event_name(event);
  ServerState& server = nsp_->server();
  auto packet = std::make_shared<::duplex::detail::SocketIoPacket>();
  packet->id = server.packet_ids.fetch_add(1, std::memory_order_relaxed);
  // With recovery, the emit is logged and its offset travels as its last argument.
  const bool logged = server.options.connection_state_recovery && !volatile_flag_;
  std::vector<Value> with_offset;
  if (logged) {
    with_offset = args;
    with_offset.emplace_back(nsp_->recovery.next_offset());
  }
  detail::encode_event_values(packet->text, packet->attachments, nsp_->name(), event,
                              logged ? with_offset : args, {});
  if (logged) {
    detail::RecoveryLog::Packet entry;
    entry.offset = with_offset.back().json().get<std::string>();
    entry.text = packet->text;
    entry.attachments = packet->attachments;
    entry.rooms = rooms_;
    entry.except = except_;
    if (skip_) entry.except.push_back(skip_->socket_id());
    nsp_->recovery.log(std::move(entry));
  }
  for (const std::string& room : except_) {
    packet->except.push_back(detail::room_topic(server, nsp_->name(), room));
  }
  packet->is_volatile = volatile_flag_;
  // Other kinds of subscribers take only rooms' "message" events of the default namespace.
  const std::optional<std::string> data = nsp_->name() == "/" && !rooms_.empty()
                                              ? detail::payload_for_others(event, args)
                                              : std::nullopt;
  packet->socketio_only = !data.has_value();
  // Only Socket.IO sockets take it: its payload is then their Engine.IO message, so the hub's
  // shared frame (laid in each topic's batch) is the very WebSocket frame they send.
  packet->payload_is_engine_message = packet->socketio_only && packet->attachments.empty();
  std::string engine_message;
  if (packet->payload_is_engine_message) {
    engine_message.reserve(packet->text.size() + 1);
    engine_message = '4';
    engine_message += packet->text;
  }
  std::shared_ptr<const ::duplex::detail::SocketIoPacket> shared = packet;

  ::duplex::detail::Skip skip;
  if (skip_) {
    skip.recipient = &const_cast<SocketImpl*>(skip_)->session();
    skip.loop = skip_->loop_index();
  }
  struct Target {
    std::string topic;
    std::string payload;  // for subscribers of other kinds
  };
  std::vector<Target> targets;
  std::vector<std::shared_ptr<SocketImpl>> direct;  // rooms that are socket ids
  if (rooms_.empty()) {
    targets.push_back({detail::namespace_topic(nsp_->name()), {}});
  } else {
    for (const std::string& room : rooms_) {
      if (auto socket = nsp_->find(room)) {
        direct.push_back(std::move(socket));
        continue;
      }
      Target target{detail::room_topic(server, nsp_->name(), room), {}};
      if (data) {
        // As /pubsub publishes: its envelope when the room is a /pubsub topic, else the data.
        target.payload = server.options.pubsub_prefix.empty()
                             ? *data
                             : core::pubsub::delivery(room, ::duplex::detail::json_value_of(*data));
      }
      targets.push_back(std::move(target));
    }
  }
  for (Target& target : targets) {
    auto message = ::duplex::detail::OutgoingMessage::make(
        shared->payload_is_engine_message ? std::string_view(engine_message)
                                          : std::string_view(target.payload),
        core::MessageType::text, data ? target.topic : std::string(), shared);
    server.hub->publish(target.topic, std::move(message), skip);
  }
  for (auto& socket : direct) {
    if (socket.get() == skip_) continue;
    socket->run_on_loop([shared](SocketImpl& s) { s.deliver_packet(*shared); });
  }
}

namespace {

// The namespace's sockets a broadcast reaches (its rooms, minus its except rooms and sender),
// as their membership stands now.
std::vector<std::shared_ptr<SocketImpl>> matching(const NamespaceImpl& nsp,
                                                  const std::vector<std::string>& rooms,
                                                  const std::vector<std::string>& except,
                                                  const SocketImpl* skip) {
  std::vector<std::shared_ptr<SocketImpl>> out;
  for (auto& socket : nsp.sockets()) {
    if (socket.get() == skip) continue;
    const bool in = rooms.empty() || std::any_of(rooms.begin(), rooms.end(),
                                                 [&](const auto& r) { return socket->in_room(r); });
    const bool out_of = std::any_of(except.begin(), except.end(),
                                    [&](const auto& r) { return socket->in_room(r); });
    if (in && !out_of) out.push_back(std::move(socket));
  }
  return out;
}

}  // namespace

void Broadcast::sockets_join(std::string_view room) {
  for (auto& socket : matching(*nsp_, rooms_, except_, skip_)) {
    socket->run_on_loop([room = std::string(room)](SocketImpl& s) { s.join_room(room); });
  }
}

void Broadcast::sockets_leave(std::string_view room) {
  for (auto& socket : matching(*nsp_, rooms_, except_, skip_)) {
    socket->run_on_loop([room = std::string(room)](SocketImpl& s) { s.leave_room(room); });
  }
}

void Broadcast::disconnect_sockets(bool close) {
  for (auto& socket : matching(*nsp_, rooms_, except_, skip_)) {
    socket->run_on_loop([close](SocketImpl& s) { s.disconnect(close); });
  }
}

std::vector<std::string> Broadcast::fetch_socket_ids() const {
  std::vector<std::string> ids;
  for (auto& socket : matching(*nsp_, rooms_, except_, skip_)) ids.push_back(socket->socket_id());
  std::sort(ids.begin(), ids.end());
  return ids;
}

// --- Socket ------------------------------------------------------------------------------------

namespace {
SocketImpl& impl(Socket& s) { return static_cast<SocketImpl&>(s); }
const SocketImpl& impl(const Socket& s) { return static_cast<const SocketImpl&>(s); }
}  // namespace

const std::string& Socket::id() const { return impl(*this).socket_id(); }
const std::string& Socket::nsp() const { return impl(*this).nsp_impl().name(); }
const Json& Socket::auth() const { return impl(*this).auth_payload(); }
engineio::Socket& Socket::conn() const { return impl(*this).engine(); }
bool Socket::connected() const { return impl(*this).is_connected(); }
bool Socket::recovered() const { return impl(*this).was_recovered(); }
void Socket::on(std::string event, EventHandler handler) {
  impl(*this).handlers[std::move(event)].push_back(std::move(handler));
}
void Socket::on_any(AnyHandler handler) { impl(*this).any_handlers.push_back(std::move(handler)); }
void Socket::on_disconnect(std::function<void(Socket&, std::string_view)> handler) {
  impl(*this).disconnect_handlers.push_back(std::move(handler));
}
bool Socket::emit_values(std::string_view event, const std::vector<Value>& args) {
  return impl(*this).send_event(event, args, std::nullopt);
}
bool Socket::emit_with_ack(std::string_view event, const std::vector<Value>& args,
                           std::function<void(const AckReply&)> callback,
                           std::chrono::milliseconds timeout) {
  return impl(*this).send_with_ack(event, args, std::move(callback), timeout);
}
bool Socket::join(std::string_view room) { return impl(*this).join_room(room); }
bool Socket::leave(std::string_view room) { return impl(*this).leave_room(room); }
std::vector<std::string> Socket::rooms() const { return impl(*this).room_names(); }
Broadcast Socket::broadcast() const { return Broadcast(impl(*this).nsp_ptr(), &impl(*this)); }
Broadcast Socket::to(std::string_view room) const { return broadcast().to(room); }
Broadcast Socket::except(std::string_view room) const { return broadcast().except(room); }
void Socket::disconnect(bool close) { impl(*this).disconnect(close); }
std::any& Socket::data() { return impl(*this).data; }

// --- Namespace ---------------------------------------------------------------------------------

const std::string& Namespace::name() const { return impl_->name(); }
void Namespace::use(Middleware middleware) { impl_->middlewares.push_back(std::move(middleware)); }
void Namespace::on_connection(std::function<void(Socket&)> handler) {
  impl_->connection_handlers.push_back(std::move(handler));
}
Broadcast Namespace::to(std::string_view room) const { return all().to(room); }
Broadcast Namespace::except(std::string_view room) const { return all().except(room); }
Broadcast Namespace::all() const { return Broadcast(impl_, nullptr); }
size_t Namespace::socket_count() const { return impl_->socket_count(); }

// --- Server ------------------------------------------------------------------------------------

Server::Server(duplex::Server& server, Options options) : state_(std::make_shared<ServerState>()) {
  state_->options = std::move(options);
  state_->hub = &::duplex::detail::ServerAccess::hub(server);
  state_->of("/");
  std::weak_ptr<ServerState> weak = state_;
  state_->engine = std::make_unique<engineio::Server>(
      server, state_->options.engine, [weak](engineio::Socket& conn) {
        std::shared_ptr<ServerState> state = weak.lock();
        if (!state) {
          conn.close();
          return;
        }
        auto client = std::make_shared<detail::ClientImpl>(*state, conn);
        conn.user_data() = client;  // lives as long as the session
        client->start();
      });
}

Server::~Server() = default;

Namespace Server::of(std::string_view name) {
  if (name.empty() || name.front() != '/') {
    throw std::invalid_argument("socketio: a namespace name starts with '/'");
  }
  return Namespace(state_->of(name));
}

void Server::of(std::function<bool(std::string_view, const Json&)> match,
                std::function<void(Namespace)> setup) {
  std::lock_guard lock(state_->mutex);
  state_->dynamic.push_back({std::move(match), std::move(setup)});
}

engineio::Server& Server::engine() { return *state_->engine; }

}  // namespace duplex::socketio
