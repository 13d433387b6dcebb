// Pieces shared by the HTTP fuzz targets.
#pragma once

#include <cstdlib>

#include "duplex/core/http/http1_parser.hpp"

namespace duplex::fuzz {

/// Aborts (a crash libFuzzer reports) when an invariant does not hold.
inline void check(bool condition) {
  if (!condition) std::abort();
}

/// Small limits so that inputs of libFuzzer's default size can reach the limit paths.
inline constexpr core::HttpParseLimits kLimits{.max_header_bytes = 1024, .max_headers = 16};

inline bool same_result(const core::HttpParseResult& a, const core::HttpParseResult& b) {
  return a.status == b.status && a.consumed == b.consumed && a.error_status == b.error_status &&
         a.error_reason == b.error_reason;
}

}  // namespace duplex::fuzz
