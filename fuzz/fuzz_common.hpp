// Pieces shared by the fuzz targets.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/http/http1_parser.hpp"

namespace duplex::fuzz {

/// Aborts (a crash libFuzzer reports) when an invariant does not hold, naming the check's line.
/// (clang 14 has no std::source_location; its builtins give the caller's place all the same.)
inline void check(bool condition, const char* file = __builtin_FILE(),
                  int line = __builtin_LINE()) {
  if (condition) return;
  std::fprintf(stderr, "fuzz check failed at %s:%d\n", file, line);
  std::abort();
}

/// Small limits so that inputs of libFuzzer's default size can reach the limit paths.
inline constexpr core::HttpParseLimits kLimits{.max_header_bytes = 1024, .max_headers = 16};

inline bool same_result(const core::HttpParseResult& a, const core::HttpParseResult& b) {
  return a.status == b.status && a.consumed == b.consumed && a.error_status == b.error_status &&
         a.error_reason == b.error_reason;
}

/// The pieces of `input` between each `separator` (n separators give n + 1 pieces, some may be
/// empty), as views into it.
inline std::vector<std::string_view> split(std::string_view input, char separator) {
  std::vector<std::string_view> pieces;
  while (true) {
    const size_t end = input.find(separator);
    pieces.push_back(input.substr(0, end));
    if (end == std::string_view::npos) return pieces;
    input.remove_prefix(end + 1);
  }
}

/// Cuts `input` into up to eight pieces at places drawn from `seed`, each piece a string of its
/// own (as separate reads would be); some may be empty.
inline std::vector<std::string> cut(std::string_view input, uint32_t seed) {
  std::vector<std::string> pieces;
  uint32_t x = seed * 2654435761u + 1;
  while (pieces.size() < 7 && !input.empty()) {
    x ^= x << 13;  // xorshift32
    x ^= x >> 17;
    x ^= x << 5;
    const size_t n = x % (input.size() + 1);
    pieces.emplace_back(input.substr(0, n));
    input.remove_prefix(n);
  }
  pieces.emplace_back(input);
  return pieces;
}

}  // namespace duplex::fuzz
