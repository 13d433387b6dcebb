#include "duplex/core/stomp/session_state.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <limits>
#include <utility>

namespace duplex::core::stomp {

namespace {

// A decimal as a number is written (digits only, no leading zero), at most `max`.
std::optional<uint64_t> parse_decimal(std::string_view text, uint64_t max) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value > max) return std::nullopt;
  return value;
}

// The headers a SEND does not pass on to its MESSAGE frames: the broker writes them, the step
// carries them apart, or they only concern the SEND.
bool passed_on(std::string_view name) {
  static constexpr std::string_view kKept[] = {
      "destination", "content-type", "content-length", "receipt",
      "transaction", "message-id",   "subscription",   "ack",
  };
  return std::find(std::begin(kKept), std::end(kKept), name) == std::end(kKept);
}

std::string_view decimal(char (&buf)[24], uint64_t value) {
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value);
  (void)ec;
  return {buf, static_cast<size_t>(ptr - buf)};
}

void set_receipt(SessionStep& step, const Frame& frame) {
  if (auto receipt = frame.header("receipt")) {
    step.send_receipt = true;
    step.receipt_id = *receipt;
  }
}

}  // namespace

struct SessionState::Sub {
  std::string id;
  std::string destination;
  std::vector<uint64_t> waiting;  // ack ids delivered and not acknowledged, ascending
  uint32_t prefetch = 0;
  AckMode ack = AckMode::automatic;
};

// A SEND, ACK or NACK kept by a transaction. A SEND's copy is one block its views point into
// (moving the op keeps the block where it is).
struct SessionState::HeldOp {
  SessionAction action = SessionAction::none;
  uint64_t ack_id = 0;
  std::unique_ptr<char[]> bytes;
  std::vector<Header> headers;
  Publish publish;
};

struct SessionState::Transaction {
  std::string name;
  std::vector<HeldOp> ops;
  size_t bytes = 0;
};

struct SessionState::Scratch {
  std::vector<Header> headers;        // a SEND's headers to pass on
  std::vector<uint64_t> ack_ids;      // the deliveries the last step handed out
  std::vector<Operation> operations;  // the last commit's
  std::vector<Transaction> open;
  Transaction committed;  // the last commit's, which its operations point into
  Sub removed;            // the last unsubscribed, which its step points into
  std::string text;       // the last error's body
  size_t held_bytes = 0;  // kept by the open transactions
};

ConnectedHeaders::ConnectedHeaders(const SessionStep& step) {
  headers_[count_++] = {"version", version_name(step.version)};
  if (step.version != Version::v1_0) {
    auto [p1, e1] = std::to_chars(heart_beat_, heart_beat_ + 10, step.send_interval_ms);
    *p1++ = ',';
    auto [p2, e2] = std::to_chars(p1, heart_beat_ + sizeof heart_beat_, step.heart_beat_receive_ms);
    (void)e1;
    (void)e2;
    headers_[count_++] = {"heart-beat", {heart_beat_, static_cast<size_t>(p2 - heart_beat_)}};
  }
  headers_[count_++] = {"session", step.session};
  if (!step.server.empty()) headers_[count_++] = {"server", step.server};
}

SessionState::SessionState(const SessionOptions& options) : options_(&options) {}
SessionState::~SessionState() = default;
SessionState::SessionState(SessionState&&) noexcept = default;
SessionState& SessionState::operator=(SessionState&&) noexcept = default;

SessionState::Scratch& SessionState::scratch() {
  if (!scratch_) scratch_ = std::make_unique<Scratch>();
  return *scratch_;
}

SessionStep SessionState::fail(const Frame* frame, std::string_view message,
                               std::initializer_list<std::string_view> body) {
  SessionStep step;
  if (phase_ == SessionPhase::closed) return step;
  end();
  Scratch& s = scratch();
  s.text.clear();
  for (std::string_view part : body) s.text += part;
  step.send_error = true;
  step.error_message = message;
  step.error_body = s.text;
  if (frame) step.error_receipt_id = frame->header("receipt");
  step.close = true;
  return step;
}

SessionStep SessionState::missing(const Frame& frame, std::string_view message,
                                  std::string_view header) {
  return fail(&frame, message,
              {"The ", command_name(frame.command), " frame has no ", header, " header."});
}

SessionStep SessionState::no_subscription(const Frame& frame, std::string_view header,
                                          std::string_view value) {
  return fail(&frame, "Unknown subscription",
              {"The ", command_name(frame.command), " frame's ", header, " ", value,
               " names no subscription of this connection."});
}

SessionStep SessionState::over_limit(const Frame& frame, std::string_view message, size_t limit,
                                     std::string_view what) {
  char buf[24];
  return fail(&frame, message,
              {"The ", command_name(frame.command), " frame would pass this connection's limit of ",
               decimal(buf, limit), " ", what, "."});
}

std::optional<SessionStep> SessionState::held_in(const Frame& frame, Transaction*& transaction) {
  transaction = nullptr;
  auto name = frame.header("transaction");
  if (!name) return std::nullopt;
  transaction = find_transaction(*name);
  if (transaction) return std::nullopt;
  return fail(
      &frame, "Unknown transaction",
      {"The ", command_name(frame.command), " frame's transaction ", *name, " is not open."});
}

SessionStep SessionState::on_frame(const Frame& frame) {
  if (phase_ == SessionPhase::closed) return {};
  if (scratch_) {
    // What the previous step pointed into is no longer needed.
    if (!scratch_->committed.ops.empty()) scratch_->committed = Transaction();
    if (!scratch_->removed.id.empty()) scratch_->removed = Sub();
  }
  const std::string_view name = command_name(frame.command);
  if (frame.command == Command::connect || frame.command == Command::stomp) {
    if (phase_ != SessionPhase::connecting) {
      return fail(&frame, "Already connected",
                  {"A ", name, " frame came on a connection that is already connected."});
    }
    return connect(frame);
  }
  if (phase_ == SessionPhase::connecting) {
    return fail(&frame, "Expected CONNECT or STOMP",
                {"The first frame must be CONNECT or STOMP, not ", name, "."});
  }
  if (phase_ == SessionPhase::authenticating) {
    return fail(&frame, "Not connected",
                {"The ", name, " frame came before the connection was accepted."});
  }
  switch (frame.command) {
    case Command::send:
      return send(frame);
    case Command::subscribe:
      return subscribe(frame);
    case Command::unsubscribe:
      return unsubscribe(frame);
    case Command::ack:
    case Command::nack:
      return acknowledge(frame);
    case Command::begin:
      return begin(frame);
    case Command::commit:
    case Command::abort:
      return finish_transaction(frame);
    case Command::disconnect:
      return disconnect(frame);
    default:
      break;
  }
  return fail(&frame, "Unexpected frame",
              {"The ", name, " frame is one a server sends, not a client."});
}

SessionStep SessionState::decode_error(std::string_view reason, std::string_view unknown_command) {
  if (!unknown_command.empty()) {
    return fail(nullptr, reason,
                {"The frame's command line (", unknown_command, ") is no STOMP command."});
  }
  return fail(nullptr, reason, {"The frame could not be read (", reason, ")."});
}

SessionStep SessionState::connect(const Frame& frame) {
  const std::string_view name = command_name(frame.command);
  const auto accept = frame.header("accept-version");
  const std::optional<Version> version = negotiate_version(accept);
  if (!version) {
    SessionStep step = fail(&frame, "Supported protocol versions are 1.0,1.1,1.2",
                            {"The ", name, " frame's accept-version header (", *accept,
                             ") names no version this server supports."});
    step.error_version = kSupportedVersions;
    return step;
  }
  HeartBeat agreed;  // 1.0 has no heart-beats
  if (*version != Version::v1_0) {
    const auto value = frame.header("heart-beat");
    const auto negotiated = negotiate_heart_beat(
        value, {options_->heart_beat_send_ms, options_->heart_beat_receive_ms});
    if (!negotiated) {
      return fail(&frame, "Invalid heart-beat header",
                  {"The ", name, " frame's heart-beat header (", *value,
                   ") is not two numbers of milliseconds."});
    }
    agreed = *negotiated;
  }
  version_ = *version;
  connect_command_ = frame.command;
  send_interval_ms_ = agreed.send_ms;
  receive_interval_ms_ = agreed.receive_ms;
  receive_timeout_ms_ = agreed.receive_ms == 0
                            ? 0
                            : static_cast<uint32_t>(std::min<uint64_t>(
                                  uint64_t{agreed.receive_ms} + options_->heart_beat_grace_ms,
                                  std::numeric_limits<uint32_t>::max()));
  phase_ = SessionPhase::authenticating;
  SessionStep step;
  step.action = SessionAction::authenticate;
  step.version = *version;
  step.credentials = {frame.header("host"), frame.header("login"), frame.header("passcode")};
  return step;
}

SessionStep SessionState::accept(std::string_view session_id) {
  SessionStep step;
  if (phase_ != SessionPhase::authenticating) return step;
  phase_ = SessionPhase::connected;
  step.action = SessionAction::connected;
  step.version = version_;
  step.session = session_id;
  step.server = options_->server;
  step.send_interval_ms = send_interval_ms_;
  step.receive_timeout_ms = receive_timeout_ms_;
  step.heart_beat_receive_ms = receive_interval_ms_;
  return step;
}

SessionStep SessionState::reject(std::string_view reason) {
  if (phase_ != SessionPhase::authenticating) return {};
  const std::string_view name = command_name(connect_command_);
  if (reason.empty()) {
    return fail(nullptr, "Authentication failed",
                {"The ", name, " frame's credentials were refused."});
  }
  return fail(nullptr, "Authentication failed",
              {"The ", name, " frame's credentials were refused: ", reason});
}

SessionStep SessionState::send_timer_elapsed(uint32_t quiet_ms) {
  SessionStep step;
  if (phase_ != SessionPhase::connected || send_interval_ms_ == 0) return step;
  if (quiet_ms >= send_interval_ms_) {
    step.action = SessionAction::send_heart_beat;
    step.timer_ms = send_interval_ms_;
  } else {
    step.timer_ms = send_interval_ms_ - quiet_ms;
  }
  return step;
}

SessionStep SessionState::receive_timer_elapsed(uint32_t quiet_ms) {
  if (phase_ != SessionPhase::connected || receive_timeout_ms_ == 0) return {};
  if (quiet_ms < receive_timeout_ms_) {
    SessionStep step;
    step.timer_ms = receive_timeout_ms_ - quiet_ms;
    return step;
  }
  char buf[24];
  return fail(nullptr, "Heart-beat timeout",
              {"No heart-beat from the client within ", decimal(buf, receive_timeout_ms_), " ms."});
}

void SessionState::end() {
  phase_ = SessionPhase::closed;
  if (scratch_) {
    scratch_->open.clear();
    scratch_->held_bytes = 0;
  }
}

SessionState::Sub* SessionState::find(std::string_view id) {
  for (Sub& sub : subscriptions_) {
    if (sub.id == id) return &sub;
  }
  return nullptr;
}

const SessionState::Sub* SessionState::find(std::string_view id) const {
  return const_cast<SessionState*>(this)->find(id);
}

bool SessionState::delivered(std::string_view subscription, uint64_t ack_id) {
  Sub* sub = find(subscription);
  if (!sub || sub->ack == AckMode::automatic || ack_id < next_ack_id_ ||
      ack_id == std::numeric_limits<uint64_t>::max()) {
    return false;
  }
  sub->waiting.push_back(ack_id);
  next_ack_id_ = ack_id + 1;
  return true;
}

bool SessionState::can_deliver(std::string_view subscription) const {
  const Sub* sub = find(subscription);
  if (!sub) return false;
  return sub->ack == AckMode::automatic || sub->prefetch == 0 ||
         sub->waiting.size() < sub->prefetch;
}

size_t SessionState::unacknowledged(std::string_view subscription) const {
  const Sub* sub = find(subscription);
  return sub ? sub->waiting.size() : 0;
}

size_t SessionState::subscription_count() const { return subscriptions_.size(); }

Subscription SessionState::subscription(size_t i) const {
  const Sub& sub = subscriptions_[i];
  return {sub.id, sub.destination, sub.ack, sub.prefetch};
}

Deliveries SessionState::waiting(size_t i) const {
  const Sub& sub = subscriptions_[i];
  return {sub.id, sub.waiting};
}

SessionStep SessionState::subscribe(const Frame& frame) {
  auto destination = frame.header("destination");
  if (!destination) return missing(frame, "Missing destination header", "destination");
  auto id = frame.header("id");
  if (!id) {
    if (version_ != Version::v1_0) return missing(frame, "Missing id header", "id");
    id = destination;
  }
  if (find(*id)) {
    return fail(&frame, "Duplicate subscription id",
                {"The SUBSCRIBE frame's id ", *id,
                 " is already used by a subscription of this connection."});
  }
  AckMode ack = AckMode::automatic;
  if (auto mode = frame.header("ack")) {
    if (*mode == "client") {
      ack = AckMode::client;
    } else if (*mode == "client-individual") {
      ack = AckMode::client_individual;
    } else if (*mode != "auto") {
      return fail(&frame, "Invalid ack header",
                  {"The SUBSCRIBE frame's ack header (", *mode,
                   ") is not auto, client or client-individual."});
    }
  }
  uint32_t prefetch = 0;
  if (auto count = frame.header("prefetch-count")) {
    auto value = parse_decimal(*count, std::numeric_limits<uint32_t>::max());
    if (!value || *value == 0) {
      return fail(&frame, "Invalid prefetch-count header",
                  {"The SUBSCRIBE frame's prefetch-count header (", *count,
                   ") is not a positive integer."});
    }
    prefetch = static_cast<uint32_t>(*value);
  }
  if (subscriptions_.size() >= options_->max_subscriptions) {
    return over_limit(frame, "Too many subscriptions", options_->max_subscriptions,
                      "subscriptions");
  }
  Sub& sub = subscriptions_.emplace_back();
  sub.id = *id;
  sub.destination = *destination;
  sub.ack = ack;
  sub.prefetch = prefetch;
  SessionStep step;
  step.action = SessionAction::subscribe;
  step.subscription = {sub.id, sub.destination, ack, prefetch};
  set_receipt(step, frame);
  return step;
}

SessionStep SessionState::unsubscribe(const Frame& frame) {
  Sub* sub = nullptr;
  if (auto id = frame.header("id")) {
    sub = find(*id);
    if (!sub) return no_subscription(frame, "id", *id);
  } else if (version_ != Version::v1_0) {
    return missing(frame, "Missing id header", "id");
  } else if (auto destination = frame.header("destination")) {
    // 1.0: by destination (the first subscription to it).
    for (Sub& s : subscriptions_) {
      if (s.destination == *destination) {
        sub = &s;
        break;
      }
    }
    if (!sub) return no_subscription(frame, "destination", *destination);
  } else {
    return fail(&frame, "Missing id header",
                {"The UNSUBSCRIBE frame has neither an id nor a destination header."});
  }
  Scratch& s = scratch();
  s.removed = std::move(*sub);
  subscriptions_.erase(subscriptions_.begin() + (sub - subscriptions_.data()));
  SessionStep step;
  step.action = SessionAction::unsubscribe;
  step.subscription = {s.removed.id, s.removed.destination, s.removed.ack, s.removed.prefetch};
  step.deliveries = {s.removed.id, s.removed.waiting};
  set_receipt(step, frame);
  return step;
}

bool SessionState::find_delivery(uint64_t ack_id, size_t& sub, size_t& position) const {
  for (size_t i = 0; i < subscriptions_.size(); ++i) {
    const std::vector<uint64_t>& waiting = subscriptions_[i].waiting;
    auto it = std::lower_bound(waiting.begin(), waiting.end(), ack_id);
    if (it != waiting.end() && *it == ack_id) {
      sub = i;
      position = static_cast<size_t>(it - waiting.begin());
      return true;
    }
  }
  return false;
}

Deliveries SessionState::take(size_t sub, size_t position) {
  Sub& s = subscriptions_[sub];
  std::vector<uint64_t>& out = scratch().ack_ids;
  const size_t first = s.ack == AckMode::client ? 0 : position;
  const size_t start = out.size();
  out.insert(out.end(), s.waiting.begin() + first, s.waiting.begin() + position + 1);
  s.waiting.erase(s.waiting.begin() + first, s.waiting.begin() + position + 1);
  return {s.id, std::span<const uint64_t>(out).subspan(start)};
}

SessionStep SessionState::acknowledge(const Frame& frame) {
  const bool nack = frame.command == Command::nack;
  if (nack && version_ == Version::v1_0) {
    return fail(&frame, "Unsupported frame", {"The NACK frame is not part of STOMP 1.0."});
  }
  const std::string_view id_header = version_ == Version::v1_2 ? "id" : "message-id";
  auto id = frame.header(id_header);
  if (!id) {
    return missing(frame,
                   version_ == Version::v1_2 ? "Missing id header" : "Missing message-id header",
                   id_header);
  }
  Transaction* transaction = nullptr;
  if (auto error = held_in(frame, transaction)) return *error;
  const Sub* named = nullptr;  // 1.1 names the subscription too
  if (version_ == Version::v1_1) {
    auto subscription = frame.header("subscription");
    if (!subscription) return missing(frame, "Missing subscription header", "subscription");
    named = find(*subscription);
    if (!named) return no_subscription(frame, "subscription", *subscription);
    if (named->ack == AckMode::automatic) {
      SessionStep step;  // its deliveries need no acknowledgement
      set_receipt(step, frame);
      return step;
    }
  }
  size_t sub = 0;
  size_t position = 0;
  auto ack_id = parse_decimal(*id, std::numeric_limits<uint64_t>::max());
  if (!ack_id || !find_delivery(*ack_id, sub, position) ||
      (named && &subscriptions_[sub] != named)) {
    const std::string_view name = command_name(frame.command);
    if (named) {
      return fail(
          &frame, "Unknown ack id",
          {"The ", name, " frame's ", id_header, " ", *id, " names no message of subscription ",
           named->id, " waiting for an acknowledgement."});
    }
    return fail(&frame, "Unknown ack id",
                {"The ", name, " frame's ", id_header, " ", *id,
                 " names no message waiting for an acknowledgement."});
  }
  SessionStep step;
  const SessionAction action = nack ? SessionAction::nack : SessionAction::acknowledge;
  if (transaction) {
    HeldOp& op = transaction->ops.emplace_back();
    op.action = action;
    op.ack_id = *ack_id;
  } else {
    scratch().ack_ids.clear();
    step.action = action;
    step.deliveries = take(sub, position);
  }
  set_receipt(step, frame);
  return step;
}

SessionState::Transaction* SessionState::find_transaction(std::string_view name) {
  if (!scratch_) return nullptr;
  for (Transaction& t : scratch_->open) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

SessionStep SessionState::send(const Frame& frame) {
  auto destination = frame.header("destination");
  if (!destination) return missing(frame, "Missing destination header", "destination");
  Transaction* transaction = nullptr;
  if (auto error = held_in(frame, transaction)) return *error;
  Scratch& s = scratch();
  s.headers.clear();
  for (const Header& h : frame.headers) {
    if (passed_on(h.name)) s.headers.push_back(h);
  }
  Publish publish{*destination, s.headers, frame.body, frame.header("content-type").value_or("")};
  SessionStep step;
  set_receipt(step, frame);
  if (!transaction) {
    step.action = SessionAction::publish;
    step.publish = publish;
    return step;
  }
  size_t size = publish.destination.size() + publish.body.size() + publish.content_type.size();
  for (const Header& h : s.headers) size += h.name.size() + h.value.size();
  if (s.held_bytes + size > options_->max_transaction_bytes) {
    return over_limit(frame, "Transaction too large", options_->max_transaction_bytes,
                      "bytes held in transactions");
  }
  HeldOp& op = transaction->ops.emplace_back();
  op.action = SessionAction::publish;
  op.bytes = std::make_unique<char[]>(size == 0 ? 1 : size);
  char* at = op.bytes.get();
  auto copy = [&at](std::string_view text) {
    if (!text.empty()) std::memcpy(at, text.data(), text.size());
    std::string_view kept(at, text.size());
    at += text.size();
    return kept;
  };
  op.headers.reserve(s.headers.size());
  for (const Header& h : s.headers) {
    std::string_view name = copy(h.name);
    op.headers.push_back({name, copy(h.value)});
  }
  op.publish = {copy(publish.destination), op.headers, copy(publish.body),
                copy(publish.content_type)};
  transaction->bytes += size;
  s.held_bytes += size;
  return step;
}

SessionStep SessionState::begin(const Frame& frame) {
  auto name = frame.header("transaction");
  if (!name) return missing(frame, "Missing transaction header", "transaction");
  if (find_transaction(*name)) {
    return fail(&frame, "Duplicate transaction",
                {"The BEGIN frame's transaction ", *name, " is already open."});
  }
  Scratch& s = scratch();
  if (s.open.size() >= options_->max_transactions) {
    return over_limit(frame, "Too many transactions", options_->max_transactions,
                      "open transactions");
  }
  s.open.emplace_back().name = *name;
  SessionStep step;
  set_receipt(step, frame);
  return step;
}

SessionStep SessionState::finish_transaction(const Frame& frame) {
  if (!frame.header("transaction")) {
    return missing(frame, "Missing transaction header", "transaction");
  }
  Transaction* transaction = nullptr;
  if (auto error = held_in(frame, transaction)) return *error;
  Scratch& s = scratch();
  s.held_bytes -= transaction->bytes;
  SessionStep step;
  set_receipt(step, frame);
  if (frame.command == Command::abort) {
    s.open.erase(s.open.begin() + (transaction - s.open.data()));
    return step;
  }
  s.committed = std::move(*transaction);
  s.open.erase(s.open.begin() + (transaction - s.open.data()));
  s.operations.clear();
  s.ack_ids.clear();
  // Room for every waiting delivery, so the spans into ack_ids stay where they are.
  size_t waiting = 0;
  for (const Sub& sub : subscriptions_) waiting += sub.waiting.size();
  s.ack_ids.reserve(waiting);
  for (const HeldOp& op : s.committed.ops) {
    size_t sub = 0;
    size_t position = 0;
    if (op.action == SessionAction::publish) {
      s.operations.push_back({op.action, op.publish, {}});
    } else if (find_delivery(op.ack_id, sub, position)) {
      s.operations.push_back({op.action, {}, take(sub, position)});
    }  // else acknowledged or handed back since
  }
  step.action = SessionAction::commit;
  step.operations = s.operations;
  return step;
}

SessionStep SessionState::disconnect(const Frame& frame) {
  end();
  SessionStep step;
  set_receipt(step, frame);
  step.close = true;
  return step;
}

}  // namespace duplex::core::stomp
