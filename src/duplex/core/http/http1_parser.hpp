// Incremental, strict HTTP/1.x request-head parser (RFC 9112), sans-IO: the caller owns the
// buffer and feeds it as it grows; the parser only scans bytes it has not seen yet.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "duplex/core/http/http1_lines.hpp"

namespace duplex::core {

// Headers and their lookups come from HttpHeaderFields (http1_lines.hpp).
struct HttpRequest : HttpHeaderFields {
  std::string_view method;
  std::string_view target;                 // as sent
  std::string_view path;                   // target up to '?'
  std::string_view query;                  // after '?', without it; empty if none
  int version_minor = 1;                   // HTTP/1.<minor>; only 0 and 1 are accepted
  std::optional<uint64_t> content_length;  // parsed Content-Length, if present
  bool chunked = false;                    // Transfer-Encoding ends in chunked
};

struct HttpParseLimits {
  size_t max_header_bytes = 8192;  // whole head incl. request line and final CRLFCRLF
  size_t max_headers = 100;
};

enum class HttpParseStatus { need_more, complete, error };

struct HttpParseResult {
  HttpParseStatus status = HttpParseStatus::need_more;
  // On complete: bytes of the request head (incl. final CRLFCRLF and any skipped leading empty
  // lines); what follows belongs to the next layer (body, pipelining, WebSocket frames).
  size_t consumed = 0;
  int error_status = 0;           // on error: 400, 431 (head too large / too many headers), 505
  std::string_view error_reason;  // short static text, e.g. "malformed header line"
};

// Parses one request head. Beyond the syntax, it rejects with 400: a Content-Length that is not
// all digits or disagrees with a repeated one, Content-Length together with Transfer-Encoding,
// a Transfer-Encoding that does not end in chunked (or on HTTP/1.0), an HTTP/1.1 request without
// Host, and a repeated Host (RFC 9112 3.2, 6.1, 6.3).
//
// Results are the same however the bytes are split across calls. Once complete or failed, further
// calls return the same result until reset().
class Http1RequestParser {
 public:
  explicit Http1RequestParser(HttpParseLimits limits = {});

  // `buffered` is everything received since the start of this request; the caller appends and
  // calls again, and must not change bytes it has already passed. On complete, `out` holds views
  // into `buffered`; otherwise `out` is left untouched.
  HttpParseResult parse(std::string_view buffered, HttpRequest& out);

  // Prepares for the next request on the same connection; its buffer starts after `consumed`.
  void reset();

 private:
  HttpParseResult fail(int status, std::string_view reason);
  // Handles the complete line [begin, end) whose CRLF ends just before `next`. Returns false once
  // the result is final (error or complete).
  bool on_line(std::string_view buffered, size_t begin, size_t end, size_t next);
  bool on_request_line(std::string_view buffered, size_t begin, size_t end);
  bool on_header_line(std::string_view buffered, size_t begin, size_t end);
  bool on_head_end(size_t consumed);
  void fill(std::string_view buffered, HttpRequest& out) const;

  HttpParseLimits limits_;
  HttpParseResult result_;
  bool finished_ = false;  // result_ is final
  Http1LineScanner scanner_;
  bool have_request_line_ = false;
  BufferSpan method_;
  BufferSpan target_;
  int version_minor_ = 1;
  std::vector<HeaderSpans> headers_;
  std::optional<uint64_t> content_length_;
  bool seen_host_ = false;
  bool seen_transfer_encoding_ = false;
  bool seen_chunked_ = false;  // some Transfer-Encoding element so far is chunked
  bool chunked_ = false;       // the last Transfer-Encoding element so far is chunked
};

}  // namespace duplex::core
