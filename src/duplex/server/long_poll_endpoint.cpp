#include "duplex/server/long_poll_endpoint.hpp"

#include <memory>

#include "duplex/core/http/query_string.hpp"
#include "duplex/server/http/exchange_state.hpp"
#include "duplex/server/protocols/long_poll.hpp"
#include "duplex/server/protocols/topic_request.hpp"
#include "duplex/server/pubsub/loop_pubsub.hpp"

namespace duplex {

HttpHandler long_poll_handler(Server&, LongPollOptions options) {
  return [options = std::move(options)](HttpExchange& ex) {
    auto request =
        detail::read_topic_request(ex, "GET", "poll with GET", options.topic_prefix,
                                   options.max_topics, core::query_parameter(ex.query(), "cursor"));
    if (!request) return;
    auto poll = std::make_shared<detail::LongPoll>(ex, *detail::LoopPubSub::current(),
                                                   request->topics, request->shown);
    ex.on_close([p = poll.get()](bool) { p->stop(); });
    detail::state_of(ex).attachment = poll;  // freed with the exchange
    poll->start(request->from(), options.timeout);
  };
}

}  // namespace duplex
