// Internal: an endpoint's state on one loop, touched by that loop only (the count is read from
// any thread).
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

#include "duplex/server/deflate_session.hpp"

namespace duplex::detail {

class Connection;

struct EndpointLocal {
  Connection* head = nullptr;  // intrusive list of open connections
  std::atomic<size_t> count{0};
  std::unique_ptr<EndpointDeflate> deflate;  // when per_message_deflate is enabled

  /// Appends the open connections to `out`: a snapshot to walk while handlers may close or
  /// drop any of them (they leave the list; they are freed only at the end of the iteration).
  void snapshot(std::vector<Connection*>& out) const;
};

}  // namespace duplex::detail
