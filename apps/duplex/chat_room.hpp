// The chat rooms of `duplex serve` (docs/chat-protocol.md): /chat/ws?room=R&nick=N joins room R
// as N, built on the library's rooms (a room is a topic, the nick the connection's user id).
// A newcomer gets the members and the room's last messages; everyone gets join and leave
// notices and every message. The loops run on several threads: room state is kept under a lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "duplex/server/endpoint.hpp"

namespace duplex {
class Server;
}

namespace duplex::app {

class ChatRooms {
 public:
  static constexpr size_t kMaxNickBytes = 32;
  static constexpr size_t kMaxRoomBytes = 64;
  static constexpr size_t kMaxTextBytes = 1000;
  static constexpr size_t kHistory = 50;

  ChatRooms() = default;
  ChatRooms(const ChatRooms&) = delete;
  ChatRooms& operator=(const ChatRooms&) = delete;

  /// The endpoint for `server`: `base` (limits, origins, deflate) with the chat's handlers;
  /// base's on_open and on_close still run after the chat's. The server calls them until it is
  /// destroyed (a connection dropped then is closed too): make this object outlive it.
  EndpointConfig endpoint(Server& server, EndpointConfig base = {});

 private:
  struct Room {
    std::set<std::string, std::less<>> nicks;  // taken at upgrade, given back at close
    std::deque<std::string> history;           // the last kHistory message events, as sent
  };

  void upgrade(UpgradeRequest& request);
  void open(WebSocket& ws);
  void message(WebSocket& ws, std::string_view text, MessageType type);
  void close(WebSocket& ws);

  Server* server_ = nullptr;
  std::mutex mutex_;
  std::map<std::string, Room, std::less<>> rooms_;  // rooms with someone in them
  // One sequence for every room: events of a room are numbered in the order they were made,
  // and a room that empties and fills again never reuses a number.
  uint64_t seq_ = 0;
};

}  // namespace duplex::app
