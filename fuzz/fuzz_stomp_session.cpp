// libFuzzer target for the STOMP session state (core/stomp/session_state).
//
// Input: any bytes, read as a script of events: client frames (each command, headers drawn from
// the ones the state reads with values that mean something to it or bytes of the input, a body),
// deliveries, accept and reject, decoder errors, timer ticks and the end. Checked:
// - every delivery is handed back (acknowledged, nacked, unsubscribed, committed) at most once,
//   and only after it was delivered; what was never handed back is what the state says waits;
// - an error closes, and a closed session does nothing more;
// - every view a step holds is readable (AddressSanitizer) when the caller would read it.
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/stomp/session_state.hpp"
#include "fuzz_common.hpp"

namespace {

using namespace duplex::core::stomp;
using duplex::fuzz::check;

struct Reader {
  const uint8_t* data;
  size_t size;
  uint8_t next() {
    if (size == 0) return 0;
    --size;
    return *data++;
  }
  std::string bytes(size_t n) {
    std::string out;
    while (n-- > 0 && size > 0) out.push_back(static_cast<char>(next()));
    return out;
  }
};

size_t touch(std::string_view text) {
  size_t sum = 0;
  for (char c : text) sum += static_cast<unsigned char>(c);
  return sum;
}

size_t touch(std::span<const Header> headers) {
  size_t sum = 0;
  for (const Header& h : headers) sum += touch(h.name) + touch(h.value);
  return sum;
}

struct Model {
  std::set<uint64_t> waiting;  // delivered and not handed back

  void handed(const Deliveries& d) {
    touch(d.subscription);
    for (uint64_t id : d.ack_ids) check(waiting.erase(id) == 1);
  }
};

volatile size_t g_sink;

void read_step(const SessionStep& step, SessionState& state, Model& model) {
  size_t sum = touch(step.receipt_id) + touch(step.error_message) + touch(step.error_body) +
               touch(step.error_version) + touch(step.subscription.id) +
               touch(step.subscription.destination) + touch(step.publish.destination) +
               touch(step.publish.body) + touch(step.publish.content_type) +
               touch(step.publish.headers);
  if (step.credentials.login) sum += touch(*step.credentials.login);
  if (step.error_receipt_id) sum += touch(*step.error_receipt_id);
  if (step.action == SessionAction::connected) {
    ConnectedHeaders headers(step);
    sum += touch(headers.headers());
  }
  if (step.action == SessionAction::acknowledge || step.action == SessionAction::nack ||
      step.action == SessionAction::unsubscribe) {
    model.handed(step.deliveries);
  }
  for (const Operation& op : step.operations) {
    sum += touch(op.publish.destination) + touch(op.publish.body) + touch(op.publish.headers);
    if (op.action != SessionAction::publish) model.handed(op.deliveries);
  }
  if (step.send_error) {
    check(step.close);
    check(state.phase() == SessionPhase::closed);
  }
  g_sink = sum;
}

constexpr std::string_view kNames[] = {
    "destination",    "id",         "ack",          "prefetch-count",
    "transaction",    "receipt",    "message-id",   "subscription",
    "accept-version", "heart-beat", "content-type", "x-a",
};

std::string value_for(std::string_view name, Reader& in, uint64_t next_ack_id) {
  const uint8_t pick = in.next();
  if (pick % 8 == 7) return in.bytes(pick % 5);
  if (name == "id" || name == "message-id") {
    if (pick % 2 && next_ack_id > 0)
      return std::to_string(next_ack_id - 1 - (pick / 2) % next_ack_id);
    return std::string(1, static_cast<char>('0' + pick % 3));
  }
  if (name == "subscription") return std::string(1, static_cast<char>('0' + pick % 3));
  if (name == "destination") return pick % 2 ? "/q" : "0";
  if (name == "ack") {
    static constexpr std::string_view kModes[] = {"auto", "client", "client-individual", "x"};
    return std::string(kModes[pick % 4]);
  }
  if (name == "prefetch-count") return std::to_string(pick % 3);
  if (name == "transaction") return pick % 2 ? "t" : "u";
  if (name == "accept-version") {
    static constexpr std::string_view kVersions[] = {"1.0", "1.1", "1.2", "1.2,1.1,1.0", "2.0"};
    return std::string(kVersions[pick % 5]);
  }
  if (name == "heart-beat") return pick % 2 ? "0,0" : "10,20";
  return "v";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  SessionOptions options;
  options.max_subscriptions = 4;
  options.max_transactions = 2;
  options.max_transaction_bytes = 64;
  SessionState state(options);
  Model model;
  Reader in{data, size};
  uint64_t next_ack_id = 0;
  while (in.size > 0) {
    const uint8_t op = in.next();
    const bool closed = state.phase() == SessionPhase::closed;
    SessionStep step;
    bool read = false;
    switch (op % 8) {
      case 0: {
        const Command command = static_cast<Command>(in.next() % 15);
        std::vector<std::string> texts;  // names and values, kept while the frame is read
        texts.reserve(16);
        std::vector<Header> headers;
        const size_t count = in.next() % 6;
        for (size_t i = 0; i < count; ++i) {
          const std::string_view name = kNames[in.next() % std::size(kNames)];
          texts.push_back(value_for(name, in, next_ack_id));
          headers.push_back({name, texts.back()});
        }
        std::string body = in.bytes(in.next() % 4);
        step = state.on_frame(Frame{command, headers, body});
        read_step(step, state, model);
        read = true;
        // The frame's bytes go: what the state kept must not point into them.
        for (std::string& t : texts) t.assign(t.size(), '#');
        body.assign(body.size(), '#');
        break;
      }
      case 1: {
        const std::string subscription(1, static_cast<char>('0' + in.next() % 3));
        const uint64_t id = in.next() % 8 == 0 ? next_ack_id / 2 : next_ack_id;
        if (state.delivered(subscription, id)) {
          check(model.waiting.insert(id).second);
          next_ack_id = id + 1;
        }
        break;
      }
      case 2:
        step = state.accept("session");
        break;
      case 3:
        step = state.reject(in.next() % 2 ? "no." : "");
        break;
      case 4:
        step = state.decode_error("a bad frame.");
        break;
      case 5:
        step = state.send_timer_elapsed(in.next() * 100u);
        break;
      case 6:
        step = state.receive_timer_elapsed(in.next() * 1000u);
        break;
      default:
        state.end();
        break;
    }
    if (!read) read_step(step, state, model);
    if (closed) {
      check(step.action == SessionAction::none && !step.send_error && !step.send_receipt &&
            !step.close);
    }
  }
  // What was never handed back is what waits.
  std::set<uint64_t> waiting;
  for (size_t i = 0; i < state.subscription_count(); ++i) {
    for (uint64_t id : state.waiting(i).ack_ids) check(waiting.insert(id).second);
  }
  check(waiting == model.waiting);
  return 0;
}
