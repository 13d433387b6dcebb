// A STOMP connection's state (STOMP 1.2, with 1.0 and 1.1 clients as the specification allows):
// what the server does with each client frame, whatever carries the bytes (a WebSocket, a SockJS
// session) and whatever broker delivers the messages. Sans-IO, in the manner of
// ws/close_handshake.hpp: each event returns a SessionStep saying what the caller does; the
// caller owns the transport, the timers, the authentication and the broker.
//
// The conversation:
// - The first frame must be CONNECT or STOMP (else ERROR "Expected CONNECT or STOMP"). Its
//   accept-version picks the version (none: 1.0; no common version: ERROR with a version header
//   listing ours); its heart-beat is negotiated against SessionOptions (1.1 on; 1.0 has none).
//   `host` is never required: the specification requires it from 1.1 on, but @stomp/stompjs 7
//   sends it only when its user sets it, so it is handed to the caller as it came, or none.
//   The step is `authenticate`: the caller checks login and passcode (its own hook) and answers
//   with accept(session id), which gives the `connected` step, or reject(reason). It answers
//   before it hands in the next frame (a caller whose check is asynchronous holds frames until
//   then; a frame handed in meanwhile is an error, "Not connected"). A `receipt` on CONNECT is
//   not answered (the specification allows receipts on every other frame). A second CONNECT or
//   STOMP is an error, and so is a frame only servers send (CONNECTED, MESSAGE, ...).
// - SUBSCRIBE needs `destination`, and `id` from 1.1 on (1.0: the id is the destination, so two
//   subscriptions of a 1.0 client without ids to one destination are a duplicate); `ack` is auto
//   (the default), client or client-individual (taken from 1.0 clients too); `prefetch-count`,
//   when present, a positive integer: at most that many deliveries wait for an acknowledgement.
//   UNSUBSCRIBE names a subscription by `id` (1.0: by id or else by destination) and hands back
//   the deliveries still waiting for an acknowledgement, for the broker to redeliver.
// - Deliveries: the caller reports each MESSAGE that needs an acknowledgement (a subscription in
//   client or client-individual mode) with delivered(subscription, ack id). Ack ids are the
//   caller's numbers, increasing across the session (a counter below 2^64 - 1); it writes one in
//   decimal as the MESSAGE's `ack` header (1.2) and as its `message-id` header (1.0, 1.1: those
//   versions acknowledge by message-id). ACK and NACK name a delivery: 1.2 by `id`, 1.1 by
//   `message-id` and `subscription`, 1.0 by `message-id` (1.0 has no NACK). In client mode an
//   acknowledgement (ACK or NACK) covers that delivery and every earlier one of its subscription,
//   in client-individual mode that one. An ack id that is not waiting is an error. A 1.1 ACK or
//   NACK naming an auto subscription is ignored (such deliveries need none).
// - SEND needs `destination`; the step's publish carries the headers to pass on to the MESSAGE:
//   every header but those the broker writes itself or that only concern the SEND (destination,
//   content-type and content-length, which the step gives apart or the encoder writes; receipt,
//   transaction; message-id, subscription, ack), in their order, repeats kept.
// - Transactions: BEGIN opens one (`transaction` required, not already open), COMMIT and ABORT
//   end an open one. A SEND, ACK or NACK with a `transaction` header is checked at once (an
//   unknown transaction, a missing destination, an ack id not waiting are errors then) and kept
//   (copied); COMMIT gives what they do, in order, as the operations the same frames outside a
//   transaction give; ABORT drops them. An acknowledgement whose delivery is no longer waiting by
//   the commit (acknowledged or handed back since) is left out of the commit. DISCONNECT, an
//   error and end() drop every open transaction.
// - `receipt` on a frame (but CONNECT): the step says to send RECEIPT with that receipt-id after
//   doing the frame's effect (a frame kept in a transaction is answered when it is kept).
// - DISCONNECT: RECEIPT if asked, then the caller closes. Frames after it are ignored.
// - Errors: the step carries the ERROR frame's `message` header, its body (a sentence naming the
//   frame and saying why), the receipt-id if the bad frame had `receipt`, and says to close after
//   sending it; every later event is ignored. Frames the decoder could not read are reported
//   through decode_error(reason) (frame_decoder.hpp's decode_error_reason), so every ERROR
//   comes from here. A failed version negotiation's message is "Supported protocol versions
//   are 1.0,1.1,1.2", with that list in a version header too.
// - Heart-beats: the connected step gives the two intervals (0: none). The caller keeps the time
//   of its last send and of the last bytes it received (heart-beat EOLs too), arms a timer for
//   each nonzero interval (`send_interval_ms`, `receive_timeout_ms`), and when one fires reports
//   how long that side has been quiet: send_timer_elapsed(quiet_ms) says to send an EOL once
//   `send_interval_ms` passed without a send; receive_timer_elapsed(quiet_ms) ends the
//   connection once `receive_timeout_ms` passed without a byte (ERROR "Heart-beat timeout",
//   body "No heart-beat from the client within N ms."). Either step says when to fire next
//   (`timer_ms`), so traffic only stores a time and a busy connection touches its timers once
//   per interval.
//
// The receive timeout is the negotiated interval plus SessionOptions::heart_beat_grace_ms. The
// specification asks the receiver to allow an error margin without giving one; the default, five
// seconds, covers a client's timer jitter and a slow network (@stomp/stompjs checks the server
// against twice its interval).
//
// A step's views point into the frame handed in (valid as long as it) or into the state (valid
// until the next non-const call on it). When the connection ends (a step that closes, or end()),
// the caller releases every subscription in subscription(i) and hands their waiting deliveries
// back to the broker.
//
// Size: an idle connected session is 64 bytes and its subscriptions; the scratch a SEND, an ACK,
// a transaction or an error needs is made on first use and kept, so at steady state no frame
// outside a transaction allocates, save a SUBSCRIBE.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/stomp/frame.hpp"
#include "duplex/core/stomp/heart_beat.hpp"
#include "duplex/core/stomp/version.hpp"

namespace duplex::core::stomp {

enum class AckMode : uint8_t { automatic, client, client_individual };

struct SessionOptions {
  std::string_view server = "Duplex";   // the CONNECTED frame's server header (empty: none)
  uint32_t heart_beat_send_ms = 10000;  // the server's wishes (heart-beat: sx,sy): 0 never
  uint32_t heart_beat_receive_ms = 10000;
  uint32_t heart_beat_grace_ms = 5000;      // added to the receive interval before dropping
  size_t max_subscriptions = 1024;          // per connection
  size_t max_transactions = 16;             // open at once per connection
  size_t max_transaction_bytes = 1u << 20;  // kept by the open transactions of a connection
};

enum class SessionPhase : uint8_t {
  connecting,      // waiting for CONNECT or STOMP
  authenticating,  // waiting for the caller's accept() or reject()
  connected,
  closed,  // after DISCONNECT, an error or end(): every event is ignored
};

enum class SessionAction : uint8_t {
  none,            // nothing to do (but a receipt, if the step has one)
  authenticate,    // check `credentials`, then call accept() or reject()
  connected,       // the decoder takes `version` (FrameDecoder::set_version), CONNECTED goes
                   // out (ConnectedHeaders), the heart-beat timers are armed
  subscribe,       // `subscription`
  unsubscribe,     // `subscription` (id, destination) and `deliveries` to redeliver
  acknowledge,     // `deliveries` were processed
  nack,            // `deliveries` were not: redeliver them
  publish,         // `publish`
  commit,          // `operations`, in order
  send_heart_beat  // an EOL to the client
};

struct Credentials {
  std::optional<std::string_view> host;
  std::optional<std::string_view> login;
  std::optional<std::string_view> passcode;
};

struct Subscription {
  std::string_view id;
  std::string_view destination;
  AckMode ack = AckMode::automatic;
  uint32_t prefetch = 0;  // deliveries waiting at most (0: no limit)
};

/// Deliveries of one subscription, in the order they were delivered.
struct Deliveries {
  std::string_view subscription;
  std::span<const uint64_t> ack_ids;
};

struct Publish {
  std::string_view destination;
  std::span<const Header> headers;  // to pass on to the MESSAGE frames
  std::string_view body;
  std::string_view content_type;  // empty: none
};

/// One effect of a committed transaction: publish, acknowledge or nack.
struct Operation {
  SessionAction action = SessionAction::none;
  Publish publish;
  Deliveries deliveries;
};

/// The caller's part after an event, done in this order: the action's effect (authenticate,
/// CONNECTED and timers, broker calls, the commit's operations in order, a heart-beat); then
/// RECEIPT if `send_receipt`; then ERROR if `send_error` (message, version when nonempty,
/// receipt-id when the bad frame had a receipt, content-type text/plain, the body); then, if
/// `close`, the caller ends the connection once that output is written (and releases the
/// subscriptions). `timer_ms` re-arms the timer whose elapsed call gave the step (0: leave it
/// unarmed).
struct SessionStep {
  SessionAction action = SessionAction::none;
  Credentials credentials;                // authenticate
  Subscription subscription;              // subscribe, unsubscribe
  Deliveries deliveries;                  // unsubscribe, acknowledge, nack
  Publish publish;                        // publish
  std::span<const Operation> operations;  // commit
  // connected: the negotiated version and the heart-beat intervals (0: none)
  Version version = Version::v1_2;
  std::string_view session;
  std::string_view server;             // SessionOptions::server
  uint32_t send_interval_ms = 0;       // send an EOL after this long without sending anything
  uint32_t receive_timeout_ms = 0;     // drop the client after this long without receiving a byte
  uint32_t heart_beat_receive_ms = 0;  // the negotiated receive interval (the grace not added)

  bool send_receipt = false;
  std::string_view receipt_id;

  bool send_error = false;
  std::string_view error_message;  // the ERROR frame's message header
  std::string_view error_body;     // its body (text/plain)
  std::string_view error_version;  // nonempty: a version header (failed version negotiation)
  std::optional<std::string_view> error_receipt_id;  // the bad frame's receipt, if it had one

  bool close = false;
  uint32_t timer_ms = 0;
};

/// The CONNECTED frame's headers for a connected step: version, heart-beat (from 1.1),
/// session, server (when set). Made in place: it holds the heart-beat value it points to.
class ConnectedHeaders {
 public:
  explicit ConnectedHeaders(const SessionStep& connected);
  ConnectedHeaders(const ConnectedHeaders&) = delete;
  ConnectedHeaders& operator=(const ConnectedHeaders&) = delete;
  std::span<const Header> headers() const { return {headers_.data(), count_}; }

 private:
  std::array<Header, 4> headers_;
  size_t count_ = 0;
  char heart_beat_[24];
};

class SessionState {
 public:
  /// `options` outlives the state (an endpoint's, shared by its sessions).
  explicit SessionState(const SessionOptions& options);
  ~SessionState();
  SessionState(SessionState&&) noexcept;
  SessionState& operator=(SessionState&&) noexcept;

  SessionPhase phase() const { return phase_; }
  /// The negotiated version (meaningful once authenticating).
  Version version() const { return version_; }

  /// A frame from the client.
  SessionStep on_frame(const Frame& frame);
  /// The decoder could not read a frame: `reason` is decode_error_reason()'s sentence (the
  /// ERROR's message, alive as long as the step), `unknown_command` the line an unknown command
  /// came as (DecodeEvent::unknown_command).
  SessionStep decode_error(std::string_view reason, std::string_view unknown_command = {});
  /// The caller's authentication let the CONNECT in; `session_id` is the CONNECTED frame's
  /// session header (the caller's, alive until the caller sent CONNECTED).
  SessionStep accept(std::string_view session_id);
  /// The caller's authentication refused the CONNECT; `reason` (may be empty) ends the body.
  SessionStep reject(std::string_view reason);
  /// The send timer fired; nothing was sent for `quiet_ms`.
  SessionStep send_timer_elapsed(uint32_t quiet_ms);
  /// The receive timer fired; nothing was received for `quiet_ms`.
  SessionStep receive_timer_elapsed(uint32_t quiet_ms);
  /// The connection ended (the transport closed): open transactions are dropped.
  void end();

  /// A MESSAGE of subscription `subscription` that needs an acknowledgement went out with
  /// `ack_id`. False (and nothing kept) if the subscription is unknown or in auto mode, or the
  /// ack id is not above every earlier one.
  bool delivered(std::string_view subscription, uint64_t ack_id);
  /// Whether another delivery to `subscription` stays within its prefetch count (false for an
  /// unknown subscription).
  bool can_deliver(std::string_view subscription) const;
  /// Deliveries to `subscription` not yet acknowledged (0 for an unknown one, or in auto mode).
  size_t unacknowledged(std::string_view subscription) const;

  size_t subscription_count() const;
  Subscription subscription(size_t i) const;
  /// The deliveries of subscription `i` waiting for an acknowledgement, oldest first.
  Deliveries waiting(size_t i) const;

 private:
  struct Sub;
  struct Scratch;
  struct HeldOp;
  struct Transaction;

  SessionStep connect(const Frame& frame);
  SessionStep subscribe(const Frame& frame);
  SessionStep unsubscribe(const Frame& frame);
  SessionStep acknowledge(const Frame& frame);
  SessionStep send(const Frame& frame);
  SessionStep begin(const Frame& frame);
  SessionStep finish_transaction(const Frame& frame);
  SessionStep disconnect(const Frame& frame);
  SessionStep fail(const Frame* frame, std::string_view message,
                   std::initializer_list<std::string_view> body);
  SessionStep missing(const Frame& frame, std::string_view message, std::string_view header);
  SessionStep no_subscription(const Frame& frame, std::string_view header, std::string_view value);
  SessionStep over_limit(const Frame& frame, std::string_view message, size_t limit,
                         std::string_view what);
  /// The open transaction the frame's transaction header names in `transaction` (null: it has
  /// no such header), or the error step if it names none open.
  std::optional<SessionStep> held_in(const Frame& frame, Transaction*& transaction);
  Scratch& scratch();
  Sub* find(std::string_view id);
  const Sub* find(std::string_view id) const;
  Transaction* find_transaction(std::string_view name);
  bool find_delivery(uint64_t ack_id, size_t& sub, size_t& position) const;
  Deliveries take(size_t sub, size_t position);

  const SessionOptions* options_;
  std::vector<Sub> subscriptions_;
  std::unique_ptr<Scratch> scratch_;
  uint64_t next_ack_id_ = 0;  // delivered() takes ack ids from this one on
  uint32_t send_interval_ms_ = 0;
  uint32_t receive_interval_ms_ = 0;
  uint32_t receive_timeout_ms_ = 0;  // the interval and the grace
  SessionPhase phase_ = SessionPhase::connecting;
  Version version_ = Version::v1_2;
  Command connect_command_ = Command::connect;  // CONNECT or STOMP, for reject()'s body
};

}  // namespace duplex::core::stomp
