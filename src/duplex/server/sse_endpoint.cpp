#include "duplex/server/sse_endpoint.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "duplex/core/http/query_string.hpp"
#include "duplex/core/pubsub/cursor.hpp"
#include "duplex/core/pubsub/pubsub_protocol.hpp"
#include "duplex/core/sse/event_stream.hpp"
#include "duplex/io/event_loop.hpp"
#include "duplex/io/timers.hpp"
#include "duplex/server/http/exchange_state.hpp"
#include "duplex/server/protocols/sse_stream.hpp"
#include "duplex/server/protocols/topic_request.hpp"
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

}  // namespace

HttpHandler sse_handler(Server& server, SseOptions options) {
  auto service = std::make_shared<SseService>();
  service->options = std::move(options);
  service->loops.resize(server.thread_count());
  return [service](HttpExchange& ex) {
    const SseOptions& options = service->options;
    // Browsers send Last-Event-ID when they reconnect; a first connection may give it in the
    // query (lastEventId), as polyfills without custom headers do.
    std::optional<std::string> last_id;
    if (auto header = ex.header("Last-Event-ID")) {
      last_id = std::string(*header);
    } else {
      last_id = core::query_parameter(ex.query(), "lastEventId");
    }
    auto request = detail::read_topic_request(ex, "GET", "an event stream is read with GET",
                                              options.topic_prefix, options.max_topics, last_id);
    if (!request) return;

    LoopPubSub& pubsub = *LoopPubSub::current();
    auto stream = std::make_shared<SseStream>(ex, pubsub, request->topics, request->shown);
    ex.start_stream(200, "text/event-stream; charset=utf-8",
                    {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}});
    std::string head;
    if (options.retry.count() > 0) {
      core::append_retry(head, static_cast<uint64_t>(options.retry.count()));
    } else {
      core::append_comment(head, "");
    }
    ex.write(head);
    std::unique_ptr<LoopStreams>& loop = service->loops[pubsub.index()];
    if (!loop) {
      loop = std::make_unique<LoopStreams>(pubsub.loop(),
                                           static_cast<uint64_t>(options.heartbeat.count()));
    }
    loop->add(stream.get());
    // Plain pointers (small enough for std::function to keep without allocating): the stream
    // lives as long as the exchange, the loop's list as long as the route.
    ex.on_close([s = stream.get(), l = loop.get()](bool) {
      s->stop();
      l->remove(s);
    });
    detail::ExchangeState& state = detail::state_of(ex);
    state.attachment = stream;  // freed with the exchange
    state.forget_request();     // its answer's head (and CORS grant) went out already
    stream->start(request->from());
  };
}

}  // namespace duplex
