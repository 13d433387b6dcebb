// Line-level pieces shared by the HTTP/1 request and response head parsers (RFC 9112): finding
// CRLF-terminated lines in a growing buffer within the head size limit, checking one header field
// line, and looking headers up. Keeping them in one place keeps both parsers equally strict.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "duplex/core/http/header_values.hpp"

namespace duplex::core {

struct HttpHeader {
  std::string_view name;
  std::string_view value;  // without surrounding OWS
  bool operator==(const HttpHeader&) const = default;
};

// Finds the lines of a head in a buffer that grows between calls, looking at each byte once.
// It never searches past `limit` bytes, so whether a head is "too large" does not depend on how
// the input was split.
class Http1LineScanner {
 public:
  enum class Status {
    line,       // a complete line: [begin, end) is its content, without CRLF
    need_more,  // no complete line yet and the buffer is still within the limit
    too_large,  // no line ends within `limit` bytes
    bare_lf,    // the line ends in LF without CR (RFC 9112 2.2 lets us reject it)
    bare_cr,    // a CR inside the line, not followed by LF
  };
  struct Result {
    Status status = Status::need_more;
    size_t begin = 0;
    size_t end = 0;   // exclusive, before the CRLF
    size_t next = 0;  // first byte after the LF: the next line starts here
  };

  // `buffered` holds every byte since the start of the head; bytes already passed must not change.
  Result next(std::string_view buffered, size_t limit);

 private:
  size_t line_start_ = 0;  // first byte of the line being scanned
  size_t scan_pos_ = 0;    // bytes in [line_start_, scan_pos_) contain no LF
};

// One header field line (without its CRLF), checked as RFC 9112 5 asks of a recipient that
// rejects rather than repairs: no obs-fold, no whitespace before the colon, a token name, and no
// control characters (other than HTAB) in the value. On success `error` is empty and `value` is
// trimmed of OWS; both views point into the line.
struct HeaderLine {
  std::string_view name;
  std::string_view value;
  std::string_view error;  // short static text, e.g. "malformed header line"
};
HeaderLine parse_header_line(std::string_view line);

// True for a control character that may not appear in a field value or reason phrase.
bool is_field_value_control(char c);

enum class HttpVersion { http10, http11, unsupported, malformed };
// "HTTP/1.1" and "HTTP/1.0"; another well-formed "HTTP/d.d" is unsupported (505 for a server).
HttpVersion classify_http_version(std::string_view s);

// Offsets into the caller's buffer rather than views: the buffer may move between parse calls.
struct BufferSpan {
  size_t offset = 0;
  size_t size = 0;
  std::string_view in(std::string_view buffer) const { return buffer.substr(offset, size); }
};
struct HeaderSpans {
  BufferSpan name;
  BufferSpan value;
};
// Replaces `out` with views of `spans` into `buffered`.
void fill_headers(std::string_view buffered, const std::vector<HeaderSpans>& spans,
                  std::vector<HttpHeader>& out);

// The header list of a request or response head, with case-insensitive lookups.
struct HttpHeaderFields {
  std::vector<HttpHeader> headers;  // views into the parsed buffer, in order

  // Value of the first header called `name`.
  std::optional<std::string_view> header(std::string_view name) const;
  size_t header_count(std::string_view name) const;
  // True if any header called `name` has `token` among its comma-separated elements (trimmed,
  // case-insensitive). Elements need not be tokens, so one odd element does not hide the others.
  bool has_token(std::string_view name, std::string_view token) const;
};

// Calls `fn` with each trimmed, non-empty element of a comma-separated list; stops early when
// `fn` returns false.
template <typename Fn>
void for_each_list_element(std::string_view value, Fn&& fn) {
  while (true) {
    const size_t comma = value.find(',');
    const std::string_view element = trim_ows(value.substr(0, comma));
    if (!element.empty() && !fn(element)) return;
    if (comma == std::string_view::npos) return;
    value.remove_prefix(comma + 1);
  }
}

}  // namespace duplex::core
