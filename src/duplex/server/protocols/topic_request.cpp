#include "duplex/server/protocols/topic_request.hpp"

#include "duplex/core/http/query_string.hpp"
#include "duplex/core/pubsub/cursor.hpp"
#include "duplex/core/pubsub/pubsub_protocol.hpp"

namespace duplex::detail {

namespace {
constexpr uint64_t kFromTheStart = 0;

void refuse(HttpExchange& exchange, std::string_view reason) {
  exchange.respond(400, std::string(reason) + "\n");
}
}  // namespace

std::vector<const uint64_t*> TopicRequest::from() const {
  std::vector<const uint64_t*> places(cursors.size(), nullptr);
  for (size_t i = 0; i < cursors.size(); ++i) {
    if (cursors[i]) {
      places[i] = &*cursors[i];
    } else if (unreadable_cursor) {
      places[i] = &kFromTheStart;
    }
  }
  return places;
}

std::optional<TopicRequest> read_topic_request(HttpExchange& exchange, std::string_view method,
                                               std::string_view wrong_method,
                                               const std::string& prefix, size_t max_topics,
                                               const std::optional<std::string>& cursor) {
  if (exchange.method() != method) {
    exchange.respond(405, std::string(wrong_method) + "\n", "text/plain; charset=utf-8",
                     {{"Allow", std::string(method)}});
    return std::nullopt;
  }
  TopicRequest request;
  request.shown = core::query_parameters(exchange.query(), "topic");
  if (request.shown.empty()) {
    refuse(exchange, "name at least one topic: ?topic=news");
    return std::nullopt;
  }
  if (request.shown.size() > max_topics) {
    refuse(exchange, "too many topics (at most " + std::to_string(max_topics) + ")");
    return std::nullopt;
  }
  for (const std::string& topic : request.shown) {
    if (const auto problem = core::pubsub::topic_problem(topic); !problem.empty()) {
      refuse(exchange, problem);
      return std::nullopt;
    }
    request.topics.push_back(prefix + topic);
  }
  request.cursors.resize(request.shown.size());
  if (cursor && !cursor->empty()) {
    auto read = core::parse_cursor(*cursor, request.shown);
    request.unreadable_cursor = !read;
    if (read) request.cursors = std::move(*read);
  }
  return request;
}

}  // namespace duplex::detail
