#include "duplex/cluster/redis_backplane.hpp"

#include <stdexcept>

#include "duplex/cluster/redis_broker.hpp"
#include "duplex/cluster/redis_url.hpp"
#include "duplex/server/server_access.hpp"

namespace duplex::cluster {

RedisBackplane::RedisBackplane(Server& server, RedisOptions options) : server_(server) {
  std::string error;
  std::optional<detail::RedisAddress> address = detail::parse_redis_url(options.url, error);
  if (!address) throw std::invalid_argument("bad Redis URL '" + options.url + "': " + error);
  broker_ = std::make_unique<detail::RedisBroker>(server.loop(),
                                                  ::duplex::detail::ServerAccess::hub(server),
                                                  std::move(*address), std::move(options));
  ::duplex::detail::ServerAccess::hub(server).set_broker(broker_.get());
  broker_->start();
}

RedisBackplane::~RedisBackplane() {
  ::duplex::detail::ServerAccess::hub(server_).set_broker(nullptr);
}

RedisStats RedisBackplane::stats() const { return broker_->stats(); }

uint64_t RedisBackplane::node_id() const { return broker_->node_id(); }

}  // namespace duplex::cluster
