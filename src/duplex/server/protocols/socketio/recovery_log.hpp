// Internal: connection state recovery for one namespace (socket.io 4.6+'s
// connectionStateRecovery, as the reference's in-memory adapter keeps it): every emit that may be
// replayed (to the namespace, a room or one socket, without an ack, not volatile) is logged with
// its offset, which travels as the event's last argument; a socket that goes away for a reason
// that may be recovered is saved (id, pid, rooms, data); a client that reconnects within the
// window with its pid and the last offset it saw gets them back and the logged packets it
// missed. Entries older than the window are dropped. Used from any loop: a mutex guards it.
#pragma once

#include <any>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace duplex::socketio::detail {

class RecoveryLog {
 public:
  using Clock = std::chrono::steady_clock;

  struct Packet {
    std::string offset;
    std::string text;  // the Socket.IO packet, offset included
    std::vector<std::string> attachments;
    std::vector<std::string> rooms;   // reached (empty: the whole namespace); socket ids too
    std::vector<std::string> except;  // skipped (rooms and socket ids)
    Clock::time_point at;
  };
  struct Saved {
    std::string id;
    std::string pid;
    std::vector<std::string> rooms;  // the socket's own id first
    std::any data;
    Clock::time_point at;
  };
  struct RestoredCopy {
    Saved session;
    std::vector<Packet> missed;
  };

  /// Keeps what is younger than `window`, and at most `max_packets` packets (the newest).
  RecoveryLog(std::chrono::milliseconds window, size_t max_packets = 100'000)
      : window_(window), max_packets_(max_packets) {}

  /// A fresh offset ("<n>", unique in this namespace for the server's life).
  std::string next_offset();
  void log(Packet packet);
  void save(Saved session);
  /// The session `pid` saved within the window, if `offset` is still in the log (else nothing
  /// is recovered: the client starts afresh), with the packets after `offset` that reach it.
  /// The saved session is taken out.
  std::optional<RestoredCopy> restore(const std::string& pid, const std::string& offset);

 private:
  void prune(Clock::time_point now);

  std::chrono::milliseconds window_;
  size_t max_packets_;
  std::mutex mutex_;
  uint64_t next_ = 1;
  std::deque<Packet> packets_;
  std::unordered_map<std::string, Saved> sessions_;  // by pid
};

}  // namespace duplex::socketio::detail
