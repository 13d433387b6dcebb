// Internal: one connection to a Redis server through hiredis's async API, driven by our event
// loop: no thread of its own, a non-blocking connect, and hiredis's readiness hooks mapped onto
// the loop (io::IoHandler for the socket). Commands are queued into hiredis's output buffer as
// they come and written once per loop iteration, at its end (write corking, as connections
// flush), so the publishes of one iteration go out pipelined in one write; only a write the
// kernel does not take whole arms EPOLLOUT. hiredis stays inside the .cpp.
//
// Rules hiredis sets, kept here: a context is freed by hiredis itself when its connection fails
// (its callbacks say so through on_lost), and never by us from inside one of its callbacks:
// close() is called from timers, posted work or another connection's callbacks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/io/event_loop.hpp"

struct redisAsyncContext;

namespace duplex::cluster::detail {

class RedisConnection final : public io::IoHandler {
 public:
  struct Handlers {
    /// A command's answer (`tag` as given to command()): ok, or not with Redis's error reply
    /// or, when the connection went before the answer came, an empty error.
    std::function<void(uintptr_t tag, bool ok, std::string_view error)> on_reply;
    /// Subscribed mode: Redis confirmed a SUBSCRIBE of `channel`.
    std::function<void(std::string_view channel)> on_subscribed;
    /// Subscribed mode: a message published on `channel`, valid during the call.
    std::function<void(std::string_view channel, std::string_view message)> on_message;
    /// The connection failed or went (hiredis's reason), not after close(); hiredis frees the
    /// context after this returns, and connect() may be called again once it has.
    std::function<void(std::string_view reason)> on_lost;
  };

  RedisConnection(io::EventLoop& loop, Handlers handlers);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  /// Starts a non-blocking connect to a numeric address. False, with the reason in `error`,
  /// when it failed at once; else the outcome comes later (commands may be queued meanwhile).
  bool connect(const std::string& ip, uint16_t port, std::string& error);
  /// Whether a context exists (connecting or connected, not yet lost or closed).
  bool open() const { return ac_ != nullptr && !closing_ && !dying_; }
  /// Frees the context, if any: its pending answers come as failures, on_lost does not.
  void close();

  /// Queues one command, already in RESP (resp_command.hpp); its answer goes to on_reply with
  /// `tag`. False when no connection is open.
  bool command(std::string_view resp, uintptr_t tag);
  /// Queues SUBSCRIBE or UNSUBSCRIBE of `channels` (subscribed mode: only these and their
  /// messages may then be sent on this connection). False when no connection is open.
  bool subscribe(const std::vector<std::string>& channels);
  bool unsubscribe(const std::vector<std::string>& channels);
  /// Bytes queued for Redis and not yet written to the socket.
  size_t pending_bytes() const;

  void on_io(uint32_t events) override;

  // io::Flushable: the queued commands are written at the end of the loop iteration.
  void flush();
  bool flush_queued() const { return flush_queued_; }
  void set_flush_queued(bool queued) { flush_queued_ = queued; }

 private:
  static void add_read(void* self);
  static void del_read(void* self);
  static void add_write(void* self);
  static void del_write(void* self);
  static void cleanup(void* self);
  static void on_connect(const redisAsyncContext* ac, int status);
  static void on_disconnect(const redisAsyncContext* ac, int status);
  static void on_command_reply(redisAsyncContext* ac, void* reply, void* tag);
  static void on_subscribe_reply(redisAsyncContext* ac, void* reply, void* unused);
  void set_events(uint32_t events);
  void want_write();
  void detach();
  void lost(std::string reason);
  bool channels_command(std::string_view name, const std::vector<std::string>& channels,
                        bool with_callback);

  io::EventLoop& loop_;
  Handlers handlers_;
  redisAsyncContext* ac_ = nullptr;
  int fd_ = -1;
  uint32_t events_ = 0;
  bool registered_ = false;
  bool connected_ = false;
  bool closing_ = false;
  bool dying_ = false;  // lost: hiredis frees the context when its callback returns
  bool writing_ =
      false;  // inside a write: hiredis asking to write again means the kernel pushed back
  bool flush_queued_ = false;
  std::string scratch_;
};

}  // namespace duplex::cluster::detail
