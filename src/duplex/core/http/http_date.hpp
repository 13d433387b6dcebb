// HTTP dates (RFC 9110 IMF-fixdate): "Sun, 06 Nov 1994 08:49:37 GMT", for Expires and Date.
#pragma once

#include <cstdint>
#include <string>

namespace duplex::core {

/// `seconds` since the Unix epoch (UTC) as an IMF-fixdate.
std::string http_date(int64_t seconds);

}  // namespace duplex::core
