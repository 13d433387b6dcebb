#include "chat_room.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <utility>
#include <vector>

#include "duplex/core/http/query_string.hpp"
#include "duplex/core/text/utf8.hpp"
#include "duplex/server/websocket_server.hpp"

namespace duplex::app {

namespace {

using Json = nlohmann::ordered_json;  // members in the order they are set

// A room's topic. The /pubsub endpoint of `duplex serve` has its own prefix, so its clients
// cannot reach these.
constexpr std::string_view kTopicPrefix = "chat:";

// Who a connection is: set at upgrade, read by the other handlers.
struct Member {
  std::string room;
  std::string nick;
  std::string topic;
};

std::string dump(const Json& json) {
  // Everything put in is valid UTF-8 already; `replace` only keeps dump() from ever throwing.
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string error_event(std::string_view reason) {
  return dump(Json{{"type", "error"}, {"reason", reason}});
}

// Why a nick or room name is refused, or empty when it is fine.
std::string name_fault(std::string_view what, const std::optional<std::string>& value,
                       size_t max_bytes) {
  const std::string name(what);
  if (!value) return "missing " + name;
  if (value->empty()) return name + " is empty";
  if (value->size() > max_bytes) {
    return name + " is longer than " + std::to_string(max_bytes) + " bytes";
  }
  if (!core::is_valid_utf8(*value)) return name + " is not valid UTF-8";
  for (const char c : *value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return name + " contains control characters";
    }
  }
  // "ann" and "ann " would look the same in a member list.
  if (value->front() == ' ' || value->back() == ' ') return name + " begins or ends with a space";
  return {};
}

// What a client sends: {"type":"say","text":"..."}. Returns the text, or sets `fault`.
std::optional<std::string> read_say(std::string_view message, std::string& fault) {
  // Only the members of the top-level object matter: anything nested deeper is skipped as it
  // is parsed, so no message can build a deep tree.
  const auto shallow = [](int depth, Json::parse_event_t, Json&) { return depth < 2; };
  Json json = Json::parse(message, shallow, false);
  if (json.is_discarded()) {
    fault = "message is not valid JSON";
  } else if (!json.is_object()) {
    fault = "message is not a JSON object";
  } else if (auto type = json.find("type"); type == json.end() || *type != "say") {
    fault = "unknown type";
  } else if (auto text = json.find("text"); text == json.end() || !text->is_string()) {
    fault = "text is not a string";
  } else if (text->get_ref<const std::string&>().empty()) {
    fault = "text is empty";
  } else if (text->get_ref<const std::string&>().size() > ChatRooms::kMaxTextBytes) {
    fault = "text is longer than " + std::to_string(ChatRooms::kMaxTextBytes) + " bytes";
  } else {
    return std::move(text->get_ref<std::string&>());
  }
  return std::nullopt;
}

}  // namespace

EndpointConfig ChatRooms::endpoint(Server& server, EndpointConfig base) {
  server_ = &server;
  base.on_upgrade = [this](UpgradeRequest& request) { upgrade(request); };
  base.on_open = [this, then = std::move(base.on_open)](WebSocket& ws) {
    open(ws);
    if (then) then(ws);
  };
  base.on_message = [this](WebSocket& ws, std::string_view text, MessageType type) {
    message(ws, text, type);
  };
  base.on_close = [this, then = std::move(base.on_close)](WebSocket& ws, uint16_t code,
                                                          std::string_view reason) {
    close(ws);
    if (then) then(ws, code, reason);
  };
  return base;
}

void ChatRooms::upgrade(UpgradeRequest& request) {
  std::optional<std::string> room = core::query_parameter(request.query(), "room");
  std::optional<std::string> nick = core::query_parameter(request.query(), "nick");
  for (std::string fault :
       {name_fault("room", room, kMaxRoomBytes), name_fault("nick", nick, kMaxNickBytes)}) {
    if (!fault.empty()) return request.reject(400, std::move(fault));
  }
  {
    // Taken here, under the lock, so two upgrades with one nick on two threads cannot both pass.
    std::lock_guard lock(mutex_);
    Room& taken = rooms_[*room];
    if (!taken.nicks.insert(*nick).second) {
      return request.reject(409, "nick is already taken in this room");
    }
  }
  request.set_user_id(*nick);
  std::string topic = std::string(kTopicPrefix) + *room;
  request.set_user_data(Member{std::move(*room), std::move(*nick), std::move(topic)});
}

void ChatRooms::open(WebSocket& ws) {
  const Member& me = ws.data<Member>();
  ws.join(me.topic);
  std::string welcome;
  std::string join;
  {
    std::lock_guard lock(mutex_);
    const Room& room = rooms_.at(me.room);
    const uint64_t seq = ++seq_;
    const std::vector<std::string> members = server_->members(me.topic);
    join = dump(Json{{"type", "join"}, {"seq", seq}, {"nick", me.nick}, {"members", members}});
    welcome = dump(Json{{"type", "welcome"},
                        {"seq", seq},
                        {"room", me.room},
                        {"nick", me.nick},
                        {"members", members}});
    // The history is kept as sent: splice it in rather than parse it again.
    welcome.pop_back();
    welcome += R"(,"history":[)";
    for (const std::string& event : room.history) {
      if (&event != &room.history.front()) welcome += ',';
      welcome += event;
    }
    welcome += "]}";
  }
  // Outside the lock: a send may close a slow reader, whose on_close takes the lock.
  ws.send(welcome);
  ws.publish(me.topic, join);
}

void ChatRooms::message(WebSocket& ws, std::string_view text, MessageType type) {
  if (type == MessageType::binary) {
    ws.send(error_event("binary messages are not accepted"));
    return;
  }
  std::string fault;
  std::optional<std::string> said = read_say(text, fault);
  if (!said) {
    ws.send(error_event(fault));
    return;
  }
  const Member& me = ws.data<Member>();
  std::string event;
  {
    std::lock_guard lock(mutex_);
    event = dump(Json{{"type", "message"}, {"seq", ++seq_}, {"nick", me.nick}, {"text", *said}});
    std::deque<std::string>& history = rooms_.at(me.room).history;
    history.push_back(event);
    if (history.size() > kHistory) history.pop_front();
  }
  server_->publish(me.topic, event);
}

void ChatRooms::close(WebSocket& ws) {
  const Member& me = ws.data<Member>();
  std::string leave;
  {
    std::lock_guard lock(mutex_);
    auto room = rooms_.find(me.room);
    room->second.nicks.erase(me.nick);
    // The connection has left the topic already: members() no longer lists it.
    leave = dump(Json{{"type", "leave"},
                      {"seq", ++seq_},
                      {"nick", me.nick},
                      {"members", server_->members(me.topic)}});
    if (room->second.nicks.empty()) rooms_.erase(room);  // its history goes with it
  }
  server_->publish(me.topic, leave);
}

}  // namespace duplex::app
