// Internal: the seam between the pub/sub hub and other processes (several servers sharing topics
// and users, through Redis say: src/duplex/cluster/). The hub tells its broker what this process
// publishes and which topics and users it has recipients for; the broker hands in what other
// processes publish with PubSubHub::publish_from_broker() and send_to_users_from_broker(), which
// deliver here and are never forwarded again. Nothing else in the server knows a broker exists.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::detail {

class OutgoingMessage;

class Broker {
 public:
  /// What the hub tracks recipients of.
  enum class Interest { topic, user };

  /// A message published in this process (to its topic(), message.payload() of its type()),
  /// for the other processes' subscribers of `topic`. Called from any thread under the hub's
  /// lock, in the order the hub gave the messages their sequences, and never for a message the
  /// broker handed in: it must be quick and must not call back into the hub.
  virtual void forward_publish(std::string_view topic,
                               const std::shared_ptr<const OutgoingMessage>& message) = 0;
  /// A message sent to these users (sorted, each once) in this process, for their sessions
  /// elsewhere. Called from any thread (not under the hub's lock), in each caller's order.
  virtual void forward_to_users(const std::vector<std::string>& users,
                                const std::shared_ptr<const OutgoingMessage>& message) = 0;
  /// This process now has (`wanted`) or no longer has a recipient of the topic or user `name`:
  /// its first subscriber came or its last one left. Called under the hub's lock, in the order
  /// of the changes (so a topic's calls alternate, starting with wanted); must not call back
  /// into the hub.
  virtual void interest_changed(Interest kind, std::string_view name, bool wanted) = 0;

 protected:
  ~Broker() = default;
};

}  // namespace duplex::detail
