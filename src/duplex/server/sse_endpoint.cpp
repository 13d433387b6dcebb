#include "duplex/server/sse_endpoint.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "duplex/core/http/query_string.hpp"
#include "duplex/core/pubsub/pubsub_protocol.hpp"
#include "duplex/core/sse/event_stream.hpp"
#include "duplex/io/event_loop.hpp"
#include "duplex/io/timers.hpp"
#include "duplex/server/protocols/sse_stream.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"
#include "duplex/server/websocket_server.hpp"

namespace duplex {

namespace {

using detail::LoopPubSub;
using detail::SseStream;

// One loop's streams, and the timer that sends their heartbeats.
class LoopStreams final : public io::Timer {
 public:
  LoopStreams(io::EventLoop& loop, uint64_t heartbeat_ms)
      : loop_(loop), heartbeat_ms_(heartbeat_ms) {}
  ~LoopStreams() {
    if (armed()) loop_.cancel(*this);
  }
  void add(SseStream* stream) {
    streams_.push_back(stream);
    if (!armed() && heartbeat_ms_ > 0) loop_.schedule(*this, heartbeat_ms_);
  }
  void remove(SseStream* stream) {
    std::erase(streams_, stream);
    // Nothing armed once the last stream is gone: the loop may go before this does.
    if (streams_.empty() && armed()) loop_.cancel(*this);
  }

 private:
  void on_timer() override {
    // A heartbeat may drop a stream that does not read (which removes it): walk a copy.
    const std::vector<SseStream*> streams = streams_;
    for (SseStream* s : streams) s->heartbeat(loop_.now_ms(), heartbeat_ms_);
    if (!streams_.empty()) loop_.schedule(*this, heartbeat_ms_);
  }
  io::EventLoop& loop_;
  uint64_t heartbeat_ms_;
  std::vector<SseStream*> streams_;
};

struct SseService {
  SseOptions options;
  std::vector<std::unique_ptr<LoopStreams>> loops;  // by LoopPubSub::index(), made on first use
};

void refuse(HttpExchange& ex, int status, std::string_view reason) {
  ex.respond(status, std::string(reason) + "\n");
}

// The cursors a Last-Event-ID gives for `shown` topics: a number for one topic, "a=1&b=2" for
// several. A value that cannot be read resumes nothing and says so: every topic is "lost".
std::vector<std::optional<uint64_t>> read_cursors(std::string_view value,
                                                  const std::vector<std::string>& shown,
                                                  bool& unreadable) {
  std::vector<std::optional<uint64_t>> cursors(shown.size());
  if (shown.size() == 1) {
    cursors[0] = core::parse_last_event_id(value);
    unreadable = !cursors[0];
    return cursors;
  }
  unreadable = false;
  for (const auto& [name, number] : core::query_pairs(value)) {
    const auto seq = core::parse_last_event_id(number);
    if (!seq) {
      unreadable = true;
      continue;
    }
    for (size_t i = 0; i < shown.size(); ++i) {
      if (shown[i] == name) cursors[i] = seq;
    }
  }
  return cursors;
}

}  // namespace

HttpHandler sse_handler(Server& server, SseOptions options) {
  auto service = std::make_shared<SseService>();
  service->options = std::move(options);
  service->loops.resize(server.thread_count());
  return [service](HttpExchange& ex) {
    const SseOptions& options = service->options;
    if (ex.method() != "GET") {
      return ex.respond(405, "an event stream is read with GET\n", "text/plain; charset=utf-8",
                        {{"Allow", "GET"}});
    }
    std::vector<std::string> shown = core::query_parameters(ex.query(), "topic");
    if (shown.empty()) return refuse(ex, 400, "name at least one topic: ?topic=news");
    if (shown.size() > options.max_topics) {
      return refuse(ex, 400,
                    "too many topics (at most " + std::to_string(options.max_topics) + ")");
    }
    for (const std::string& topic : shown) {
      if (topic.empty()) return refuse(ex, 400, core::pubsub::reason::kTopicEmpty);
      if (topic.size() > core::pubsub::kMaxTopicBytes) {
        return refuse(ex, 400, core::pubsub::reason::kTopicTooLong);
      }
    }
    // Browsers send Last-Event-ID when they reconnect; a first connection may give it in the
    // query (lastEventId), as polyfills without custom headers do.
    std::optional<std::string> last_id;
    if (auto header = ex.header("Last-Event-ID")) {
      last_id = std::string(*header);
    } else {
      last_id = core::query_parameter(ex.query(), "lastEventId");
    }
    std::vector<std::optional<uint64_t>> cursors(shown.size());
    bool unreadable = false;
    if (last_id && !last_id->empty()) cursors = read_cursors(*last_id, shown, unreadable);

    LoopPubSub& pubsub = *LoopPubSub::current();
    std::vector<std::string> topics;
    for (const std::string& topic : shown) topics.push_back(options.topic_prefix + topic);
    auto stream = std::make_shared<SseStream>(ex, pubsub, std::move(topics), shown);

    ex.start_stream(200, "text/event-stream; charset=utf-8",
                    {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}});
    std::string head;
    if (options.retry.count() > 0) {
      core::append_retry(head, static_cast<uint64_t>(options.retry.count()));
    } else {
      core::append_comment(head, "");
    }
    ex.write(head);

    // An unreadable id resumes from the start of what is kept, reported as lost.
    static constexpr uint64_t kFromTheStart = 0;
    std::vector<const uint64_t*> from(shown.size(), nullptr);
    for (size_t i = 0; i < shown.size(); ++i) {
      if (cursors[i]) {
        from[i] = &*cursors[i];
      } else if (unreadable) {
        from[i] = &kFromTheStart;
      }
    }
    std::unique_ptr<LoopStreams>& loop = service->loops[pubsub.index()];
    if (!loop) {
      loop = std::make_unique<LoopStreams>(pubsub.loop(),
                                           static_cast<uint64_t>(options.heartbeat.count()));
    }
    loop->add(stream.get());
    ex.on_close([stream, loops = &service->loops, index = pubsub.index(), service](bool) {
      stream->stop();
      (*loops)[index]->remove(stream.get());
    });
    ex.user_data() = stream;  // freed with the exchange
    stream->start(from);
  };
}

}  // namespace duplex
