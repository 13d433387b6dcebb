#include "pubsub_generator.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "duplex/core/ws/mask.hpp"
#include "duplex/core/ws/sender.hpp"

namespace duplex::app {

namespace {

constexpr size_t kIdDigits = 16;
constexpr double kSubscribeTimeout = 30;
// A publish not delivered to every subscriber of its topic by then is counted as lost.
constexpr double kDeliveryTimeout = 10;
constexpr uint64_t kMaxOrderChecks = 16'000'000;  // subscribers x publishers
// The id of the priming messages, which answer polls before they are subscribed: publisher
// 0xffff, which no publisher is.
constexpr uint64_t kPrimingId = ~uint64_t{0};
constexpr uint64_t kPrimingInterval = 50'000'000;  // ns
// Unacknowledged messages a STOMP queue consumer may hold.
constexpr int kStompPrefetch = 16;

// The frames of one topic: what the generator sends and what it expects back.
struct Topic {
  std::string subscribe;       // the subscribe frame, masked
  std::string subscribed;      // the answer, exactly
  std::string prefix;          // of every delivery, up to the data string's first character
  std::string publish;         // the publish payload, its id digits zeros (masked per publish)
  std::string priming;         // a publish frame with kPrimingId, masked
  size_t id_offset = 0;        // of the id digits in `publish`
  uint64_t delivery_size = 0;  // of every delivery's payload
};

// One publish in flight: a slot of its publisher, named in the id it carries.
struct InFlight {
  uint64_t sent_at = 0;
  uint32_t seq = 0;
  uint32_t remaining = 0;  // subscribers that have not had it yet; 0: the slot is free
  uint32_t topic = 0;
  bool measured = false;  // sent in the measured window
};

struct Publisher {
  uint32_t next_seq = 1;  // 0 means "none yet" in the order checks
  uint32_t next_topic = 0;
  bool ready = false;  // in the ready list: has free slots to publish from
  std::vector<uint16_t> free_slots;
};

// The 16 hex digits of an id: publisher (16 bits), slot (16 bits), sequence number (32 bits).
uint64_t make_id(uint32_t publisher, uint32_t slot, uint32_t seq) {
  return (uint64_t{publisher} << 48) | (uint64_t{slot} << 32) | seq;
}

void write_hex(char* out, uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = static_cast<int>(kIdDigits) - 1; i >= 0; --i, value >>= 4)
    out[i] = kDigits[value & 15];
}

bool read_hex(const uint8_t* in, uint64_t& value) {
  value = 0;
  for (size_t i = 0; i < kIdDigits; ++i) {
    const uint8_t c = in[i];
    uint64_t digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else {
      return false;
    }
    value = (value << 4) | digit;
  }
  return true;
}

void validate(const PubsubOptions& options) {
  if (options.topics < 1 || options.subscribers < 1 || options.publishers < 1 ||
      options.inflight < 1) {
    throw std::invalid_argument("subscribers, publishers, topics and inflight must be positive");
  }
  if (options.subscribers % options.topics != 0) {
    throw std::invalid_argument("subscribers must be a multiple of topics (spread evenly)");
  }
  if (options.publishers > 0xffff || options.inflight > 0x10000) {
    throw std::invalid_argument("at most 65,535 publishers and 65,536 publishes in flight");
  }
  if (uint64_t{static_cast<uint32_t>(options.subscribers)} *
          static_cast<uint32_t>(options.publishers) >
      kMaxOrderChecks) {
    throw std::invalid_argument("subscribers x publishers must be at most 16,000,000");
  }
  if (options.subscriber_kind == SubscriberKind::sockjs && options.topics != 1) {
    throw std::invalid_argument("a SockJS chat is one topic: --topics 1");
  }
  if (options.data_size < kIdDigits) {
    throw std::invalid_argument("the data size must be at least 16 (its id digits)");
  }
}

class Engine final : public ClientPool::Handler {
 public:
  Engine(const PubsubOptions& options, PubsubGenerator& owner)
      : options_(options),
        owner_(owner),
        subscribers_(static_cast<size_t>(options.subscribers)),
        publishers_(static_cast<size_t>(options.publishers)),
        // A SockJS chat's publishers get every message too.
        recipients_(subscribers_ +
                    (options.subscriber_kind == SubscriberKind::sockjs ? publishers_.size() : 0)),
        inflight_(static_cast<size_t>(options.inflight)),
        // A queue's message goes to one of its consumers.
        per_topic_(options.subscriber_kind == SubscriberKind::stomp_queue
                       ? 1
                       : static_cast<uint32_t>(options.subscribers / options.topics +
                                               (recipients_ - subscribers_))),
        pool_({.target = options.target,
               .head_bytes = make_topics(),
               .address_of = node_of(),
               .http_target = http_target(),
               .http_kind = options.subscriber_kind == SubscriberKind::long_poll
                                ? HttpSubscriber::long_poll
                                : HttpSubscriber::event_stream,
               .socketio = options.subscriber_kind == SubscriberKind::socketio,
               .sockjs = options.subscriber_kind == SubscriberKind::sockjs,
               .stomp = options.subscriber_kind == SubscriberKind::stomp_topic ||
                        options.subscriber_kind == SubscriberKind::stomp_queue},
              subscribers_ + publishers_.size(), *this),
        // A stream is subscribed from the start.
        subscribed_(subscribers_, options.subscriber_kind == SubscriberKind::event_stream),
        last_seq_(recipients_ * publishers_.size(), 0),
        records_(publishers_.size() * inflight_) {
    for (size_t j = 0; j < publishers_.size(); ++j) {
      Publisher& p = publishers_[j];
      p.next_topic = static_cast<uint32_t>(j % topics_.size());
      for (size_t s = inflight_; s-- > 0;) p.free_slots.push_back(static_cast<uint16_t>(s));
    }
  }

  PubsubResult run() {
    report(Progress::Phase::connecting, 0, 0, ProgressMoment::started);
    const auto tick = [this](double elapsed) {
      report(Progress::Phase::connecting, elapsed, 0, ProgressMoment::tick);
    };
    if (polls()) {
      // The publishers first: a poll's connection opens once its first poll is answered, by the
      // priming messages.
      pool_.connect(subscribers_, pool_.size(), tick);
      priming_ = static_cast<size_t>(pool_.open_count()) == publishers_.size();
      if (priming_) pool_.connect(0, subscribers_, tick);
      priming_ = false;
    } else {
      pool_.connect(0, pool_.size(), tick);
    }
    if (all_open() && subscribe()) {
      sending_ = true;
      for (size_t j = 0; j < publishers_.size(); ++j) publish(j, now_ns());
      run_phase(Progress::Phase::warming_up, options_.warmup_seconds);
      if (all_open()) measure();
    }
    pool_.close_all();
    report(Progress::Phase::done, 0, 0, ProgressMoment::started);
    pool_.tell(result_);
    return std::move(result_);
  }

  void on_message(size_t index, const ReceivedMessage& m, uint64_t now) override {
    if (index >= recipients_) return pool_.fail(index, "a publisher received " + sample(m));
    const Topic& topic = topics_[index % topics_.size()];
    if (answers_subscriptions() && !subscribed_[index]) {
      if (m.opcode != 1 || m.size != topic.subscribed.size() ||
          std::memcmp(m.head, topic.subscribed.data(), m.size) != 0) {
        return pool_.fail(index, "expected " + topic.subscribed + ", got " + sample(m));
      }
      subscribed_[index] = 1;
      ++phase_messages_;
      return;
    }
    uint64_t id = 0;
    if (m.opcode != 1 || m.size != topic.delivery_size ||
        std::memcmp(m.head, topic.prefix.data(), topic.prefix.size()) != 0 ||
        !read_hex(m.head + topic.prefix.size(), id)) {
      return pool_.fail(index, "not a delivery of this subscriber's topic: " + sample(m));
    }
    // A SockJS message, or a STOMP body, is there whole: the rest of it too must be the data sent.
    if ((sockjs() || stomp()) &&
        std::memcmp(m.head + kIdDigits, data_.data() + kIdDigits, data_.size() - kIdDigits) != 0) {
      return pool_.fail(index, "not the data published: " + sample(m));
    }
    if (id == kPrimingId && polls()) return;  // a priming message
    if (queues()) {
      if (m.ack.empty()) return pool_.fail(index, "a queue's MESSAGE without an ack header");
      acknowledge(index, m.ack);
    }
    const auto publisher = static_cast<uint32_t>(id >> 48);
    const auto slot = static_cast<uint32_t>((id >> 32) & 0xffff);
    const auto seq = static_cast<uint32_t>(id);
    InFlight* record = publisher < publishers_.size() && slot < inflight_
                           ? &records_[publisher * inflight_ + slot]
                           : nullptr;
    if (!record || record->remaining == 0 || record->seq != seq ||
        record->topic != index % topics_.size()) {
      // A duplicate, or a delivery of a publish given up on.
      return pool_.fail(index, "a delivery of no publish in flight: " + sample(m));
    }
    uint32_t& last = last_seq_[index * publishers_.size() + publisher];
    if (last != 0 && static_cast<int32_t>(seq - last) <= 0) {
      return pool_.fail(index, "publisher " + std::to_string(publisher) + "'s message " +
                                   std::to_string(seq) + " arrived after its message " +
                                   std::to_string(last));
    }
    last = seq;
    ++phase_messages_;
    if (record->measured) {
      ++result_.deliveries;
      result_.delivered_bytes += m.size;
      result_.latency.record(now - record->sent_at);
    }
    if (--record->remaining == 0) release(publisher, slot);
  }

  // A poll is subscribed by its first answer after the connections opened: only priming
  // messages were published until then, so the topics it says it lost (when there were more of
  // them than the server keeps) are of no matter. After that, a loss is an error.
  void on_poll_answer(size_t index, const PollAnswer& answer, uint64_t) override {
    if (!polls_resumed_) return;  // the first answer, which opened the connection
    if (measuring_) ++result_.poll_answers;
    if (!subscribed_[index]) {
      subscribed_[index] = 1;
      ++phase_messages_;
    } else if (!answer.lost.empty()) {
      pool_.fail(index, "long poll: messages of " + std::string(answer.lost.front()) +
                            " lost (the server's history no longer reached the cursor)");
    }
  }

  // The ACKs of one read of a queue consumer go out in one write.
  void on_read_end(size_t, uint64_t) override { flush_acks(); }

  // Publishers whose publishes were delivered in this poll publish again, each in one write.
  void on_poll_end(uint64_t now) override {
    if (priming_ && now - primed_at_ >= kPrimingInterval) prime(now);
    if (!sending_ || ready_.empty()) return;
    for (const uint32_t j : ready_) publish(j, now);
    ready_.clear();
  }

 private:
  // Builds every topic's frames; returns how many payload bytes of each message to check.
  size_t make_topics() {
    static constexpr std::string_view kText = "abcdefghijklmnopqrstuvwxyz0123456789 ";
    std::string data(options_.data_size, '0');
    for (size_t i = kIdDigits; i < data.size(); ++i) data[i] = kText[i % kText.size()];
    size_t head = 0;
    topics_.resize(static_cast<size_t>(options_.topics));
    for (size_t t = 0; t < topics_.size(); ++t) {
      Topic& topic = topics_[t];
      const std::string name = "\"t" + std::to_string(t) + "\"";
      if (sockjs()) {
        // One chat: every session is in it, and a message is its data.
        topic.publish = "[\"";
      } else if (stomp()) {
        // A destination per topic, subscribed with a receipt; a MESSAGE's body is the data.
        const std::string id = "t" + std::to_string(t);
        const std::string destination = (queues() ? "/queue/" : "/topic/") + id;
        std::string subscribe = "SUBSCRIBE\nid:0\ndestination:" + destination;
        if (queues()) {
          subscribe += "\nack:client-individual\nprefetch-count:" + std::to_string(kStompPrefetch);
        }
        subscribe += "\nreceipt:" + id + "\n\n";
        subscribe += '\0';
        core::append_masked_frame(topic.subscribe, core::Opcode::text, subscribe,
                                  core::random_mask_key());
        topic.subscribed = "receipt:" + id;
        topic.publish = "SEND\ndestination:" + destination +
                        "\ncontent-length:" + std::to_string(data.size()) + "\n\n";
      } else if (socketio()) {
        // Rooms: joined with an ack (id 0, the client's first), emitted to by `broadcast`.
        core::append_masked_frame(topic.subscribe, core::Opcode::text, "420[\"join\"," + name + "]",
                                  core::random_mask_key());
        topic.subscribed = "430[" + name + "]";
        topic.prefix = "42[\"broadcast\",\"";
        topic.publish = "42[\"broadcast\"," + name + ",\"";
      } else {
        core::append_masked_frame(topic.subscribe, core::Opcode::text,
                                  "{\"type\":\"subscribe\",\"topic\":" + name + "}",
                                  core::random_mask_key());
        topic.subscribed = "{\"type\":\"subscribed\",\"topic\":" + name + "}";
        topic.prefix = "{\"type\":\"message\",\"topic\":" + name + ",\"data\":\"";
        topic.publish = "{\"type\":\"publish\",\"topic\":" + name + ",\"data\":\"";
      }
      topic.id_offset = topic.publish.size();
      topic.publish += data;
      topic.publish += stomp() ? std::string_view("\0", 1) : socketio() || sockjs() ? "\"]" : "\"}";
      std::string priming = topic.publish;
      write_hex(priming.data() + topic.id_offset, kPrimingId);
      core::append_masked_frame(topic.priming, core::Opcode::text, priming,
                                core::random_mask_key());
      topic.delivery_size = topic.prefix.size() + data.size() + (sockjs() || stomp() ? 0 : 2);
      head = std::max({head, topic.subscribed.size(), topic.prefix.size() + kIdDigits});
    }
    data_ = data;
    return head;
  }

  bool polls() const { return options_.subscriber_kind == SubscriberKind::long_poll; }
  bool socketio() const { return options_.subscriber_kind == SubscriberKind::socketio; }
  bool sockjs() const { return options_.subscriber_kind == SubscriberKind::sockjs; }
  bool queues() const { return options_.subscriber_kind == SubscriberKind::stomp_queue; }
  bool stomp() const { return queues() || options_.subscriber_kind == SubscriberKind::stomp_topic; }
  // Whether each subscription is answered (a WebSocket's `subscribed`, a Socket.IO join's ack,
  // a STOMP SUBSCRIBE's receipt).
  bool answers_subscriptions() const {
    return options_.subscriber_kind == SubscriberKind::websocket || socketio() || stomp();
  }

  // Queues the ACK of a consumer's message, to go out with the others of the same read.
  void acknowledge(size_t index, std::string_view ack) {
    if (acks_for_ != index) flush_acks();
    acks_for_ = index;
    ack_frame_ = "ACK\nid:";
    ack_frame_ += ack;
    ack_frame_ += std::string_view("\n\n\0", 3);
    core::append_masked_frame(acks_, core::Opcode::text, ack_frame_, core::random_mask_key());
  }

  void flush_acks() {
    if (acks_.empty()) return;
    pool_.send(acks_for_, acks_.data(), acks_.size());
    acks_.clear();
  }

  // Subscriber i's stream or poll asks for topic t<i % topics>; publishers are WebSockets.
  std::function<const io::SocketAddress*(size_t)> node_of() const {
    if (options_.other_nodes.empty()) return {};
    return [this](size_t index) -> const io::SocketAddress* {
      const size_t nodes = options_.other_nodes.size() + 1;
      if (index >= subscribers_ || index % nodes == 0) return nullptr;
      return &options_.other_nodes[index % nodes - 1];
    };
  }
  std::function<std::string(size_t)> http_target() const {
    if (answers_subscriptions() || sockjs()) return nullptr;
    return [path = options_.subscriber_path, subscribers = subscribers_,
            topics = static_cast<size_t>(options_.topics)](size_t index) {
      if (index >= subscribers) return std::string();
      return path + "?topic=t" + std::to_string(index % topics);
    };
  }

  bool all_open() const { return static_cast<size_t>(pool_.open_count()) == pool_.size(); }

  // Sends every subscription and waits for every answer; lets the polls poll again, from their
  // first answer's cursor, publishing priming messages until each has been answered again.
  // Streams are subscribed once open.
  bool subscribe() {
    if (options_.subscriber_kind == SubscriberKind::event_stream || sockjs()) return true;
    phase_messages_ = 0;
    report(Progress::Phase::subscribing, 0, 0, ProgressMoment::started);
    if (polls()) {
      polls_resumed_ = true;
      priming_ = true;
      pool_.resume_polls();
    } else {
      for (size_t i = 0; i < subscribers_; ++i) {
        const std::string& frame = topics_[i % topics_.size()].subscribe;
        pool_.send(i, frame.data(), frame.size());
      }
    }
    pool_.run_for(
        kSubscribeTimeout,
        [this](double t) { report(Progress::Phase::subscribing, t, 0, ProgressMoment::tick); },
        [this] { return phase_messages_ == subscribers_ || !all_open(); });
    priming_ = false;
    report(Progress::Phase::subscribing, 0, 0, ProgressMoment::ended);
    if (phase_messages_ == subscribers_) return true;
    if (all_open()) {
      pool_.count_error(std::to_string(subscribers_ - phase_messages_) + " of " +
                        std::to_string(subscribers_) + " subscriptions unanswered after " +
                        std::to_string(static_cast<int>(kSubscribeTimeout)) + " s");
    }
    return false;
  }

  // The window: publishes for the duration, then no more until those sent are delivered.
  void measure() {
    phase_messages_ = 0;
    measuring_ = true;
    report(Progress::Phase::measuring, 0, options_.duration_seconds, ProgressMoment::started);
    const auto tick = [this](double t) {
      report(Progress::Phase::measuring, t, options_.duration_seconds, ProgressMoment::tick);
    };
    result_.seconds =
        pool_.run_for(options_.duration_seconds, tick, [this] { return !all_open(); });
    sending_ = false;
    result_.seconds +=
        pool_.run_for(kDeliveryTimeout, tick, [this] { return !all_open() || in_flight_ == 0; });
    report(Progress::Phase::measuring, result_.seconds, options_.duration_seconds,
           ProgressMoment::ended);
    measuring_ = false;
    for (const InFlight& r : records_) {
      if (r.measured) result_.undelivered += r.remaining;
    }
    if (result_.undelivered > 0 && all_open()) {
      pool_.count_error(std::to_string(result_.undelivered) + " deliveries missing " +
                        std::to_string(static_cast<int>(kDeliveryTimeout)) +
                        " s after publishing stopped");
    }
    // Slots still in flight from the warm-up all through the window: nothing was measured.
    if (result_.publishes == 0 && all_open()) {
      pool_.count_error(
          "no publish in the measured window: those of the warm-up were not yet delivered to "
          "every subscriber");
    }
  }

  void run_phase(Progress::Phase phase, double seconds) {
    phase_messages_ = 0;
    report(phase, 0, seconds, ProgressMoment::started);
    const double elapsed = pool_.run_for(
        seconds, [&](double t) { report(phase, t, seconds, ProgressMoment::tick); },
        [this] { return !all_open(); });
    report(phase, elapsed, seconds, ProgressMoment::ended);
  }

  // Sends publisher j's publishes, one per free slot, in one write.
  void publish(size_t j, uint64_t now) {
    Publisher& p = publishers_[j];
    p.ready = false;
    batch_.clear();
    while (!p.free_slots.empty()) {
      const uint16_t slot = p.free_slots.back();
      p.free_slots.pop_back();
      const uint32_t seq = p.next_seq++;
      if (p.next_seq == 0) p.next_seq = 1;
      const uint32_t t = p.next_topic;
      p.next_topic = (t + 1) % static_cast<uint32_t>(topics_.size());
      InFlight& r = records_[j * inflight_ + slot];
      r = InFlight{now, seq, per_topic_, t, measuring_};
      ++in_flight_;
      if (measuring_) ++result_.publishes;
      const Topic& topic = topics_[t];
      payload_ = topic.publish;
      write_hex(payload_.data() + topic.id_offset, make_id(static_cast<uint32_t>(j), slot, seq));
      core::append_masked_frame(batch_, core::Opcode::text, payload_, core::random_mask_key());
    }
    pool_.send(subscribers_ + j, batch_.data(), batch_.size());
  }

  // One message to every topic, from the first publisher, to answer the polls still waiting.
  void prime(uint64_t now) {
    primed_at_ = now;
    batch_.clear();
    for (const Topic& topic : topics_) batch_ += topic.priming;
    pool_.send(subscribers_, batch_.data(), batch_.size());
  }

  void release(uint32_t publisher, uint32_t slot) {
    --in_flight_;
    Publisher& p = publishers_[publisher];
    p.free_slots.push_back(static_cast<uint16_t>(slot));
    if (!p.ready) {
      p.ready = true;
      ready_.push_back(publisher);
    }
  }

  // Publishes that some subscriber has not had for kDeliveryTimeout are given up on.
  void expire(uint64_t now) {
    const auto limit = static_cast<uint64_t>(kDeliveryTimeout * 1e9);
    for (size_t i = 0; i < records_.size(); ++i) {
      InFlight& r = records_[i];
      if (r.remaining == 0 || now - r.sent_at <= limit) continue;
      pool_.count_error("publish " + std::to_string(r.seq) + " of publisher " +
                        std::to_string(i / inflight_) + ": " + std::to_string(r.remaining) +
                        " of " + std::to_string(per_topic_) + " subscribers did not get it in " +
                        std::to_string(static_cast<int>(kDeliveryTimeout)) + " s");
      if (r.measured) result_.undelivered += r.remaining;
      r.remaining = 0;
      r.measured = false;  // its missing deliveries are counted once, here
      release(static_cast<uint32_t>(i / inflight_), static_cast<uint32_t>(i % inflight_));
    }
  }

  void report(Progress::Phase phase, double elapsed, double seconds, ProgressMoment moment) {
    if (moment == ProgressMoment::tick) expire(now_ns());
    if (!owner_.on_progress) return;
    owner_.on_progress(Progress{phase, elapsed, seconds, pool_.open_count(), phase_messages_},
                       moment);
  }

  const PubsubOptions& options_;
  PubsubGenerator& owner_;
  std::vector<Topic> topics_;
  std::string data_;  // every publish's data, its id digits zeros (made with the topics)
  const size_t subscribers_;
  std::vector<Publisher> publishers_;
  const size_t recipients_;  // connections that get deliveries: subscribers (SockJS: all)
  const size_t inflight_;
  const uint32_t per_topic_;  // subscribers per topic
  ClientPool pool_;
  std::vector<uint8_t> subscribed_;  // per subscriber: its answer came
  std::vector<uint32_t> last_seq_;   // per subscriber and publisher: the last sequence number
  std::vector<InFlight> records_;    // per publisher, `inflight_` slots
  std::vector<uint32_t> ready_;      // publishers with slots freed in this poll
  uint64_t in_flight_ = 0;           // publishes in flight, all publishers
  std::string payload_, batch_;      // scratch for building publishes
  std::string acks_, ack_frame_;     // a STOMP consumer's ACKs not yet sent, and scratch
  size_t acks_for_ = 0;              // the consumer they are for
  PubsubResult result_;
  uint64_t phase_messages_ = 0;
  bool sending_ = false;
  bool measuring_ = false;
  bool priming_ = false;  // polls wait for an answer before they can be subscribed
  bool polls_resumed_ = false;
  uint64_t primed_at_ = 0;
};

}  // namespace

PubsubResult PubsubGenerator::run() {
  validate(options_);
  Engine engine(options_, *this);
  return engine.run();
}

}  // namespace duplex::app
