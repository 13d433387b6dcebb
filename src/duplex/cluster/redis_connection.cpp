#include "duplex/cluster/redis_connection.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <hiredis/sds.h>
#include <sys/epoll.h>

#include "duplex/cluster/resp_command.hpp"

namespace duplex::cluster::detail {

namespace {

RedisConnection& self_of(void* data) { return *static_cast<RedisConnection*>(data); }

std::string_view text_of(const redisReply* reply) {
  return reply->str ? std::string_view(reply->str, reply->len) : std::string_view{};
}

}  // namespace

RedisConnection::RedisConnection(io::EventLoop& loop, Handlers handlers)
    : loop_(loop), handlers_(std::move(handlers)) {}

RedisConnection::~RedisConnection() { close(); }

bool RedisConnection::connect(const std::string& ip, uint16_t port, std::string& error) {
  close();
  if (ac_) {  // hiredis has yet to free the lost one
    error = "the last connection is still being freed";
    return false;
  }
  redisAsyncContext* ac = redisAsyncConnect(ip.c_str(), port);
  if (!ac) {
    error = "out of memory";
    return false;
  }
  if (ac->err) {
    error = ac->errstr;
    redisAsyncFree(ac);
    return false;
  }
  ac_ = ac;
  fd_ = ac->c.fd;
  connected_ = false;
  dying_ = false;
  ac->data = this;
  ac->ev.data = this;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  // Sent by the kernel after two minutes of silence: a Redis that vanished without a word (its
  // host gone) is found out even when nothing is published.
  redisEnableKeepAlive(&ac->c);
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  redisAsyncSetConnectCallback(ac, on_connect);  // asks to write: the connect's completion
  return true;
}

void RedisConnection::close() {
  if (!open()) return;
  closing_ = true;
  redisAsyncFree(ac_);  // pending answers fail, then cleanup() detaches
  closing_ = false;
}

bool RedisConnection::command(std::string_view resp, uintptr_t tag) {
  if (!open()) return false;
  return redisAsyncFormattedCommand(ac_, on_command_reply, reinterpret_cast<void*>(tag),
                                    resp.data(), resp.size()) == REDIS_OK;
}

bool RedisConnection::channels_command(std::string_view name,
                                       const std::vector<std::string>& channels,
                                       bool with_callback) {
  if (!open()) return false;
  if (channels.empty()) return true;
  scratch_.clear();
  append_command_header(scratch_, channels.size() + 1);
  append_argument(scratch_, name);
  for (const std::string& channel : channels) append_argument(scratch_, channel);
  return redisAsyncFormattedCommand(ac_, with_callback ? on_subscribe_reply : nullptr, nullptr,
                                    scratch_.data(), scratch_.size()) == REDIS_OK;
}

bool RedisConnection::subscribe(const std::vector<std::string>& channels) {
  return channels_command("SUBSCRIBE", channels, true);
}

bool RedisConnection::unsubscribe(const std::vector<std::string>& channels) {
  // hiredis keeps no callback for UNSUBSCRIBE: each channel's answer goes to its SUBSCRIBE's.
  return channels_command("UNSUBSCRIBE", channels, false);
}

size_t RedisConnection::pending_bytes() const { return ac_ ? sdslen(ac_->c.obuf) : 0; }

void RedisConnection::on_io(uint32_t events) {
  if (!ac_) return;  // an event taken before the context went
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) redisAsyncHandleRead(ac_);
  if (ac_ && (events & EPOLLOUT)) {
    writing_ = true;
    redisAsyncHandleWrite(ac_);
    writing_ = false;
  }
}

void RedisConnection::flush() {
  if (!ac_ || !connected_) return;
  writing_ = true;
  redisAsyncHandleWrite(ac_);
  writing_ = false;
}

void RedisConnection::set_events(uint32_t events) {
  if (fd_ < 0) return;
  if (!registered_) {
    loop_.add(fd_, this, events);
    registered_ = true;
  } else if (events != events_) {
    loop_.modify(fd_, this, events);
  }
  events_ = events;
}

void RedisConnection::want_write() {
  // Until connected, the first writable event is how the connect's completion is known; after
  // that, queued commands wait for the end of the iteration, and only a write the kernel did
  // not take whole waits for EPOLLOUT.
  if (!connected_ || writing_) {
    set_events(events_ | EPOLLOUT);
  } else {
    loop_.queue_flush(*this);
  }
}

void RedisConnection::detach() {
  loop_.cancel_flush(*this);
  if (registered_) loop_.remove(fd_);
  registered_ = false;
  events_ = 0;
  fd_ = -1;
  ac_ = nullptr;
  connected_ = false;
  dying_ = false;
}

void RedisConnection::add_read(void* self) {
  RedisConnection& c = self_of(self);
  c.set_events(c.events_ | EPOLLIN);
}

void RedisConnection::del_read(void* self) {
  RedisConnection& c = self_of(self);
  c.set_events(c.events_ & ~uint32_t{EPOLLIN});
}

void RedisConnection::add_write(void* self) { self_of(self).want_write(); }

void RedisConnection::del_write(void* self) {
  RedisConnection& c = self_of(self);
  c.set_events(c.events_ & ~uint32_t{EPOLLOUT});
}

void RedisConnection::cleanup(void* self) { self_of(self).detach(); }

void RedisConnection::on_connect(const redisAsyncContext* ac, int status) {
  RedisConnection& c = self_of(ac->data);
  if (status == REDIS_OK) {
    c.connected_ = true;
    return;
  }
  c.lost(ac->errstr ? ac->errstr : "cannot connect");
}

void RedisConnection::on_disconnect(const redisAsyncContext* ac, int status) {
  RedisConnection& c = self_of(ac->data);
  if (c.closing_) return;
  c.lost(ac->err && ac->errstr ? ac->errstr : "disconnected");
}

void RedisConnection::lost(std::string reason) {
  // hiredis frees the context once its callback returns (cleanup() detaches it, if it has not
  // yet): until then it is neither used nor freed here.
  if (ac_) dying_ = true;
  if (handlers_.on_lost) handlers_.on_lost(reason);
}

void RedisConnection::on_command_reply(redisAsyncContext* ac, void* reply, void* tag) {
  RedisConnection& c = self_of(ac->data);
  const auto* r = static_cast<const redisReply*>(reply);
  if (!c.handlers_.on_reply) return;
  const uintptr_t t = reinterpret_cast<uintptr_t>(tag);
  if (!r) {
    c.handlers_.on_reply(t, false, {});
  } else if (r->type == REDIS_REPLY_ERROR) {
    c.handlers_.on_reply(t, false, text_of(r));
  } else {
    c.handlers_.on_reply(t, true, {});
  }
}

void RedisConnection::on_subscribe_reply(redisAsyncContext* ac, void* reply, void*) {
  RedisConnection& c = self_of(ac->data);
  const auto* r = static_cast<const redisReply*>(reply);
  // Null while the context is freed; pushes are arrays of kind, channel and more.
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;
  const redisReply* kind = r->element[0];
  const redisReply* channel = r->element[1];
  if (kind->type != REDIS_REPLY_STRING || channel->type != REDIS_REPLY_STRING) return;
  const std::string_view k = text_of(kind);
  if (k == "message" && r->element[2]->type == REDIS_REPLY_STRING) {
    if (c.handlers_.on_message) c.handlers_.on_message(text_of(channel), text_of(r->element[2]));
  } else if (k == "subscribe") {
    if (c.handlers_.on_subscribed) c.handlers_.on_subscribed(text_of(channel));
  }
}

}  // namespace duplex::cluster::detail
