// Incremental, strict HTTP/1.x response-head parser (RFC 9112), the client-side counterpart of
// Http1RequestParser: same limits, results and growing-buffer contract, same header-line rules.
// It parses the head only; the WebSocket client never reads a response body.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>
#include <vector>

#include "duplex/core/http/http1_lines.hpp"
#include "duplex/core/http/http1_parser.hpp"

namespace duplex::core {

// Headers and their lookups come from HttpHeaderFields (http1_lines.hpp).
struct HttpResponseHead : HttpHeaderFields {
  int version_minor = 1;    // HTTP/1.<minor>; only 0 and 1 are accepted
  int status = 0;           // 100..599
  std::string_view reason;  // reason phrase, possibly empty
};

// Parses one response head. The status line is "HTTP/1.x SP 3DIGIT [SP reason]": a missing
// reason phrase and its space are tolerated because servers in the wild omit both. Errors are
// reported through error_reason only (error_status stays 0: there is nobody to answer).
//
// Results are the same however the bytes are split across calls. Once complete or failed, further
// calls return the same result until reset().
class Http1ResponseParser {
 public:
  explicit Http1ResponseParser(HttpParseLimits limits = {});

  // `buffered` is everything received since the start of this response; the caller appends and
  // calls again, and must not change bytes it has already passed. On complete, `out` holds views
  // into `buffered` and `consumed` is the head's size; otherwise `out` is left untouched.
  HttpParseResult parse(std::string_view buffered, HttpResponseHead& out);

  // Prepares for another response; its buffer starts after `consumed`.
  void reset();

 private:
  HttpParseResult fail(std::string_view reason);
  // Handles the complete line [begin, end) whose CRLF ends just before `next`.
  void on_line(std::string_view buffered, size_t begin, size_t end, size_t next);
  // `line` starts at offset `begin` of the buffer.
  void on_status_line(std::string_view line, size_t begin);

  HttpParseLimits limits_;
  HttpParseResult result_;
  bool finished_ = false;  // result_ is final
  Http1LineScanner scanner_;
  bool have_status_line_ = false;
  int version_minor_ = 1;
  int status_ = 0;
  BufferSpan reason_;
  std::vector<HeaderSpans> headers_;
};

}  // namespace duplex::core
