// Internal: an endpoint's state on one loop, touched by that loop only (the count is read from
// any thread).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

#include "duplex/server/deflate_session.hpp"

namespace duplex::detail {

class Connection;

struct EndpointLocal {
  Connection* head = nullptr;  // intrusive list of open connections
  std::atomic<size_t> count{0};
  std::unique_ptr<EndpointDeflate> deflate;  // when per_message_deflate is enabled
};

}  // namespace duplex::detail
