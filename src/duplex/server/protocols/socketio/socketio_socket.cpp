#include "duplex/server/protocols/socketio/socketio_socket.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "duplex/core/socketio/json_writer.hpp"
#include "duplex/core/socketio/packet_encoder.hpp"
#include "duplex/io/event_loop.hpp"
#include "duplex/server/protocols/engineio/engineio_session.hpp"
#include "duplex/server/protocols/random_id.hpp"
#include "duplex/server/protocols/socketio/socketio_client.hpp"
#include "duplex/server/protocols/socketio/socketio_values.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"
#include "duplex/server/pubsub/outgoing_message.hpp"
#include "duplex/server/pubsub/pubsub_hub.hpp"

namespace duplex::socketio::detail {

using ::duplex::detail::LoopPubSub;

SocketImpl::SocketImpl(std::shared_ptr<NamespaceImpl> nsp, std::shared_ptr<ClientImpl> client,
                       std::string id, Json auth)
    : nsp_(std::move(nsp)),
      client_(client),
      engine_(&client->engine()),
      pubsub_(*LoopPubSub::current()),
      loop_index_(pubsub_.index()),
      id_(std::move(id)),
      auth_(std::move(auth)) {
  if (nsp_->server().options.connection_state_recovery) pid_ = ::duplex::detail::random_id();
}

void SocketImpl::restore(RecoveryLog::RestoredCopy restored) {
  id_ = std::move(restored.session.id);
  pid_ = std::move(restored.session.pid);
  data = std::move(restored.session.data);
  missed_ = std::move(restored.missed);
  recovered_ = true;
  std::lock_guard lock(rooms_mutex_);
  rooms_.assign(restored.session.rooms.begin(), restored.session.rooms.end());
  std::erase(rooms_, id_);
}

SocketImpl::~SocketImpl() {
  // Only at teardown (the server gone before its sockets closed) is it still subscribed.
  if (connected_) pubsub_.leave(session_);
  for (auto& [id, ack] : acks_) {
    if (ack->armed()) pubsub_.loop().cancel(*ack);
  }
}

engineio::Socket& SocketImpl::engine() const { return *engine_; }
io::EventLoop& SocketImpl::loop() const { return pubsub_.loop(); }

void SocketImpl::run_on_loop(std::function<void(SocketImpl&)> work) {
  if (LoopPubSub::current() == &pubsub_) {
    if (connected_) work(*this);
    return;
  }
  pubsub_.loop().post([self = shared_from_this(), work = std::move(work)] {
    if (self->connected_) work(*self);
  });
}

void SocketImpl::connect() {
  connected_ = true;
  pubsub_.subscribe(session_, namespace_topic(nsp_->name()));
  // Every socket is in the room of its id. Here an emit to it finds the socket itself; from
  // other servers sharing the hub's topics it comes as the room's topic.
  if (pubsub_.hub().has_broker()) {
    pubsub_.subscribe(session_, room_topic(nsp_->server(), nsp_->name(), id_));
  }
  std::vector<std::string> rooms;
  {
    std::lock_guard lock(rooms_mutex_);
    rooms = rooms_;  // a recovered socket's
  }
  for (const std::string& room : rooms) {
    pubsub_.subscribe(session_, room_topic(nsp_->server(), nsp_->name(), room));
  }
  nsp_->add(shared_from_this());
  std::string out;
  if (pid_.empty()) {
    core::socketio::encode_connect(out, nsp_->name(), id_);
  } else {
    core::socketio::encode_connect(out, nsp_->name(), id_, std::string_view(pid_));
  }
  send_text(out);
  for (const RecoveryLog::Packet& packet : missed_) send_text(packet.text, packet.attachments);
  missed_.clear();
  auto self = shared_from_this();
  for (const auto& handler : nsp_->connection_handlers) {
    handler(*this);
    if (!connected_) return;
  }
}

void SocketImpl::on_event(std::string_view name, std::vector<std::string_view> args,
                          std::optional<uint64_t> ack_id,
                          std::span<const std::string_view> attachments) {
  if (!connected_) return;
  auto self = shared_from_this();
  const Args arguments(std::move(args), attachments);
  const Ack ack = ack_id ? Ack(weak_from_this(), *ack_id, std::make_shared<bool>(false)) : Ack();
  for (const AnyHandler& handler : any_handlers) {
    handler(*this, name, arguments, ack);
    if (!connected_) return;
  }
  auto it = handlers.find(std::string(name));
  if (it == handlers.end()) return;
  // A handler may add handlers: walk a copy.
  const std::vector<EventHandler> list = it->second;
  for (const EventHandler& handler : list) {
    handler(*this, arguments, ack);
    if (!connected_) return;
  }
}

void SocketImpl::on_ack(uint64_t id, std::vector<std::string_view> args,
                        std::span<const std::string_view> attachments) {
  auto it = acks_.find(id);
  if (it == acks_.end()) return;  // unknown or already answered: ignored, as the reference
  std::unique_ptr<PendingAck> pending = std::move(it->second);
  acks_.erase(it);
  if (pending->armed()) pubsub_.loop().cancel(*pending);
  AckReply reply;
  reply.args = Args(std::move(args), attachments);
  auto self = shared_from_this();
  pending->callback(reply);
}

void SocketImpl::ack_timed_out(uint64_t id) {
  auto it = acks_.find(id);
  if (it == acks_.end()) return;
  std::unique_ptr<PendingAck> pending = std::move(it->second);
  acks_.erase(it);
  AckReply reply;
  reply.timed_out = true;
  auto self = shared_from_this();
  pending->callback(reply);
}

void SocketImpl::close(std::string_view reason) {
  if (!connected_) return;
  connected_ = false;
  auto self = shared_from_this();
  if (!pid_.empty() && recoverable(reason)) {
    RecoveryLog::Saved saved;
    saved.id = id_;
    saved.pid = pid_;
    saved.rooms = room_names();
    saved.data = data;
    nsp_->recovery.save(std::move(saved));
  }
  pubsub_.leave(session_);
  {
    std::lock_guard lock(rooms_mutex_);
    rooms_.clear();
  }
  nsp_->remove(id_);
  if (auto client = client_.lock()) client->forget(nsp_->name());
  // Emits waiting for an answer that had a timeout learn now that none will come.
  auto acks = std::move(acks_);
  acks_.clear();
  for (auto& [id, pending] : acks) {
    if (!pending->armed()) continue;
    pubsub_.loop().cancel(*pending);
    AckReply reply;
    reply.timed_out = true;
    pending->callback(reply);
  }
  const std::string why(reason);
  auto handlers_now = std::move(disconnect_handlers);
  disconnect_handlers.clear();
  for (const auto& handler : handlers_now) handler(*this, why);
  handlers.clear();
  any_handlers.clear();
}

bool SocketImpl::recoverable(std::string_view reason) {
  for (std::string_view r : {"transport error", "transport close", "forced close", "ping timeout",
                             "server shutting down", "forced server close"}) {
    if (reason == r) return true;
  }
  return false;
}

bool SocketImpl::seen(uint64_t packet_id) {
  for (uint64_t id : recent_packets_) {
    if (id == packet_id) return true;
  }
  recent_packets_[recent_next_] = packet_id;
  recent_next_ = (recent_next_ + 1) % recent_packets_.size();
  return false;
}

bool SocketImpl::deliver(::duplex::detail::MessageEncodings& message) {
  if (!connected_) return false;
  const ::duplex::detail::SocketIoPacket* packet = message.outgoing().socketio();
  if (packet && !takes(*packet)) return false;
  auto* engine = static_cast<engineio::detail::Session*>(engine_);
  if (packet && packet->payload_is_engine_message) return engine->queue_shared_message(message);
  if (packet && !packet->attachments.empty()) {
    send_text(packet->text, packet->attachments);
    return true;
  }
  // One Engine.IO packet for every socket of this loop that takes the message.
  return engine->queue_encoded_message(message.engineio_message(nsp_->name()));
}

bool SocketImpl::takes(const ::duplex::detail::SocketIoPacket& packet) {
  if (seen(packet.id)) return false;
  if (packet.is_volatile && !engine_->writable()) return false;
  for (const std::string& topic : packet.except) {
    if (pubsub_.is_subscribed(session_, topic)) return false;
  }
  return true;
}

bool SocketImpl::deliver_packet(const ::duplex::detail::SocketIoPacket& packet) {
  if (!connected_ || !takes(packet)) return false;
  send_text(packet.text, packet.attachments);
  return true;
}

void SocketImpl::send_text(std::string_view text, std::span<const std::string> attachments) {
  if (auto client = client_.lock()) client->send(text, attachments);
}

bool SocketImpl::send_event(std::string_view event, const std::vector<Value>& args,
                            std::optional<uint64_t> ack_id) {
  check_event_name(event);
  if (!connected_) return false;
  std::string text;
  std::vector<std::string> attachments;
  if (pid_.empty() || ack_id) {
    encode_event_values(text, attachments, nsp_->name(), event, args, ack_id);
    send_text(text, attachments);
    return true;
  }
  // With recovery, as the reference: logged for this socket, its offset the last argument.
  std::vector<Value> with_offset = args;
  RecoveryLog::Packet entry;
  entry.offset = nsp_->recovery.next_offset();
  with_offset.emplace_back(entry.offset);
  encode_event_values(text, attachments, nsp_->name(), event, with_offset, std::nullopt);
  send_text(text, attachments);
  entry.text = std::move(text);
  entry.attachments = std::move(attachments);
  entry.rooms = {id_};
  nsp_->recovery.log(std::move(entry));
  return true;
}

bool SocketImpl::send_with_ack(std::string_view event, const std::vector<Value>& args,
                               std::function<void(const AckReply&)> callback,
                               std::chrono::milliseconds timeout) {
  check_event_name(event);
  if (!connected_) return false;
  const uint64_t id = nsp_->next_ack_id();
  auto pending = std::make_unique<PendingAck>();
  pending->self = this;
  pending->id = id;
  pending->callback = std::move(callback);
  if (timeout.count() > 0)
    pubsub_.loop().schedule(*pending, static_cast<uint64_t>(timeout.count()));
  acks_.emplace(id, std::move(pending));
  return send_event(event, args, id);
}

void SocketImpl::send_ack(uint64_t id, const std::vector<Value>& args) {
  if (!connected_) return;
  std::string text;
  std::vector<std::string> attachments;
  encode_ack_values(text, attachments, nsp_->name(), id, args);
  send_text(text, attachments);
}

bool SocketImpl::join_room(std::string_view room) {
  if (!connected_ || room == id_) return false;
  if (!pubsub_.subscribe(session_, room_topic(nsp_->server(), nsp_->name(), room))) return false;
  std::lock_guard lock(rooms_mutex_);
  rooms_.emplace_back(room);
  return true;
}

bool SocketImpl::leave_room(std::string_view room) {
  if (!connected_ || room == id_) return false;  // always in the room of its id, as in_room says
  if (!pubsub_.unsubscribe(session_, room_topic(nsp_->server(), nsp_->name(), room))) return false;
  std::lock_guard lock(rooms_mutex_);
  std::erase(rooms_, room);
  return true;
}

std::vector<std::string> SocketImpl::room_names() const {
  std::vector<std::string> out;
  std::lock_guard lock(rooms_mutex_);
  out.reserve(rooms_.size() + 1);
  out.push_back(id_);
  out.insert(out.end(), rooms_.begin(), rooms_.end());
  return out;
}

bool SocketImpl::in_room(std::string_view room) const {
  if (room == id_) return true;
  std::lock_guard lock(rooms_mutex_);
  return std::find(rooms_.begin(), rooms_.end(), room) != rooms_.end();
}

void SocketImpl::disconnect(bool close_client) {
  if (!connected_) return;
  if (close_client) {
    if (auto client = client_.lock()) client->disconnect_all();
    return;
  }
  std::string out;
  core::socketio::encode_disconnect(out, nsp_->name());
  send_text(out);
  close("server namespace disconnect");
}

}  // namespace duplex::socketio::detail
