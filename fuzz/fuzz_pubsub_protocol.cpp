// libFuzzer target for the /pubsub protocol reader (core/pubsub_protocol).
//
// Input: one client text message (inputs that are not UTF-8 are skipped: the WebSocket layer
// never hands those over). The reader must agree with nlohmann's own validator on what is JSON
// (short of the depth limit), every command it accepts must respect the limits, and the
// compact `data` it writes must be JSON that reads back to itself.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "duplex/core/pubsub/pubsub_protocol.hpp"
#include "duplex/core/text/utf8.hpp"
#include "fuzz_common.hpp"

namespace {

using namespace duplex::core;
using duplex::fuzz::check;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (!is_valid_utf8(text)) return 0;
  const auto result = pubsub::parse_command(text);
  if (const auto* error = std::get_if<pubsub::Error>(&result)) {
    if (error->reason == pubsub::reason::kNotJson) check(!nlohmann::json::accept(text));
    if (error->reason != pubsub::reason::kNotJson && error->reason != pubsub::reason::kTooDeep) {
      check(nlohmann::json::accept(text));
    }
    return 0;
  }
  check(nlohmann::json::accept(text));
  const auto& command = std::get<pubsub::Command>(result);
  check(!command.topic.empty() && command.topic.size() <= pubsub::kMaxTopicBytes);
  check(is_valid_utf8(command.topic));
  if (command.type != pubsub::CommandType::publish) return 0;

  // The delivery is JSON, and publishing its pieces again gives the same pieces.
  const std::string delivery = pubsub::delivery(command.topic, command.data);
  check(nlohmann::json::accept(delivery));
  std::string again = R"({"type":"publish","topic":)";
  pubsub::append_json_string(again, command.topic);
  again += R"(,"data":)" + command.data + "}";
  const auto reread = pubsub::parse_command(again);
  const auto* same = std::get_if<pubsub::Command>(&reread);
  check(same && same->topic == command.topic && same->data == command.data);
  return 0;
}
