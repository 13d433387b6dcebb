// Reading an HTTP/1.1 request body as it arrives in pieces (RFC 9112 sections 6 and 7), sans-IO:
// the caller feeds whatever bytes it has; the reader tells which of them are body data and where
// the body ends, so bytes of a pipelined next request are left to the caller. A client reads a
// response body the same way.
//
// - Framing comes from the request head (request_framing): Content-Length, the chunked transfer
//   coding, or no body. Nothing else is understood; any error there means: answer with the
//   status and close the connection, since the next request cannot be found. A response head's
//   framing (response_framing) may also be a body that runs to the end of the connection,
//   which the reader does not delimit.
// - Data is never copied: each piece is a view into the bytes just fed, valid as long as they are.
// - The decoded body is bounded by BodyLimits::max_body, found as early as the bytes allow: a
//   Content-Length over it fails before any byte is read, a chunk size as soon as its digits
//   pass what is left (so a huge or overflowing hex size is a 413, never an overflow).
// - Chunked framing is read strictly, as the head parser reads lines: every line ends in CRLF; a
//   bare LF or a bare CR is a 400 (RFC 9112 2.2 allows rejecting them, and reading them the way
//   some other hop does not is how requests get smuggled). Chunk extensions are checked against
//   the grammar of 7.1.1 and ignored, and the chunk line is bounded; trailer fields are checked as
//   field lines (token, colon, no controls) and skipped, and the trailer section is bounded.
// - It never allocates, never blocks and keeps no pointer into the caller's bytes between calls;
//   results are the same however the input is split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "duplex/core/http/http1_parser.hpp"
#include "duplex/core/http/http1_response_parser.hpp"

namespace duplex::core {

/// How a message body is delimited.
struct BodyFraming {
  enum class Kind : uint8_t { none, length, chunked };
  Kind kind = Kind::none;
  uint64_t length = 0;  // Kind::length: the Content-Length

  static constexpr BodyFraming no_body() { return {}; }
  static constexpr BodyFraming content_length(uint64_t n) { return {Kind::length, n}; }
  static constexpr BodyFraming chunked() { return {Kind::chunked, 0}; }
  bool operator==(const BodyFraming&) const = default;
};

/// What a request head says about its body.
struct RequestFraming {
  BodyFraming body;
  /// The client waits for "100 Continue" before sending its body: an HTTP/1.1 request asked for
  /// it (RFC 9110 10.1.1; an HTTP/1.0 one is ignored, as required) and has a body to send
  /// (chunked, or a Content-Length above 0). A server that refuses the body answers with the
  /// final status instead, and then closes.
  bool expect_continue = false;
  int error_status = 0;           // 0 when the framing is usable, else 400, 417 or 501
  std::string_view error_reason;  // short static text, e.g. "invalid Content-Length"

  bool ok() const { return error_status == 0; }
};

/// Decides the framing of `request`'s body from its headers (RFC 9112 6.1-6.3):
/// - Content-Length: one or more fields with the same value, each 1*DIGIT within 64 bits.
///   A list ("5, 5"), another character or an overflow is 400 "invalid Content-Length"; fields
///   that disagree are 400 "conflicting Content-Length values".
/// - Transfer-Encoding (every field, in order, as one list): the last coding must be chunked
///   (else 400 "Transfer-Encoding does not end in chunked"), chunked only once and without
///   parameters (400), each coding a token (400 "invalid Transfer-Encoding"); any other coding
///   before it is 501 "unsupported transfer coding". In an HTTP/1.0 request it is 400.
/// - Both Transfer-Encoding and Content-Length: 400 "both Content-Length and Transfer-Encoding".
///   6.3 lets a server either reject this or let Transfer-Encoding win; it is the signature of
///   request smuggling, so it is rejected (as Http1RequestParser already does).
/// - Neither: no body (a request never reads to the end of the connection).
/// - Expect: "100-continue" (any case) sets expect_continue; any other expectation is 417
///   "unsupported expectation" (10.1.1 allows it), checked after the framing.
/// The first error found wins; its reason is one of the texts above.
RequestFraming request_framing(const HttpRequest& request);

/// What a response head says about its body, for a client.
struct ResponseFraming {
  BodyFraming body;               // none, a Content-Length or chunked
  bool until_close = false;       // the body is every byte up to the end of the connection
  std::string_view error_reason;  // not empty: the body cannot be delimited; close the connection

  bool ok() const { return error_reason.empty(); }
};

/// Decides the framing of `response`'s body (RFC 9112 6.3), `to_head` when it answers a HEAD:
/// - No body for a 1xx, 204 or 304 status or an answer to HEAD, whatever the fields say.
/// - Content-Length and Transfer-Encoding are checked as request_framing checks them, with the
///   same reasons. Transfer-Encoding must be chunked alone: any other coding is "unsupported
///   transfer coding" (a client that cannot undo it cannot read the body). Both fields are
///   "both Content-Length and Transfer-Encoding" (6.3 calls it a sign of response splitting).
/// - Neither: until_close.
ResponseFraming response_framing(const HttpResponseHead& response, bool to_head = false);

struct BodyLimits {
  uint64_t max_body = 1 << 20;   // decoded body bytes; more is 413
  size_t max_chunk_line = 1024;  // chunk-size and extensions, without the CRLF; more is 400
  size_t max_trailers = 8192;    // the trailer section after the last chunk, CRLFs included;
                                 // more is 431
};

enum class BodyStatus : uint8_t {
  need_more,  // the body goes on: feed the rest of the input (after `consumed`), or wait for more
  complete,   // the body ended `consumed` bytes into this call's input
  error,      // answer error_status and close; the reader stays failed
};

struct BodyResult {
  BodyStatus status = BodyStatus::need_more;
  /// Bytes of this call's input used (0 on error). With need_more it is the whole input, unless
  /// `data` is not empty and more input follows it.
  size_t consumed = 0;
  /// Body bytes found by this call (at most one piece): a view into the input. It may come with
  /// need_more or complete (the last piece of a Content-Length body), never with error.
  std::string_view data;
  int error_status = 0;           // on error: 400, 413 or 431
  std::string_view error_reason;  // on error: short static text, e.g. "invalid chunk size"
};

class BodyReader {
 public:
  /// A Content-Length over limits.max_body fails at once (status() is error, 413); no body and a
  /// zero length are complete at once.
  explicit BodyReader(BodyFraming framing, BodyLimits limits = {});

  /// Reads `in`, which starts at the first byte earlier calls did not consume. Returns at the
  /// first body piece, at the body's end, at an error, or when `in` is used up. Once complete or
  /// failed, further calls return the same status, error and no data, with consumed 0.
  BodyResult feed(std::string_view in);

  BodyStatus status() const { return status_; }
  int error_status() const { return error_status_; }
  std::string_view error_reason() const { return error_reason_; }
  /// Decoded body bytes handed out so far.
  uint64_t body_bytes() const { return decoded_; }

 private:
  enum class Stage : uint8_t;

  // Records the error; returns false.
  bool fail(int status, std::string_view reason);
  bool go(Stage stage) {
    stage_ = stage;
    return true;
  }
  BodyResult result(size_t consumed, std::string_view data = {}) const;
  BodyResult feed_chunked(std::string_view in);
  // One byte of a chunk line, or of the CRLF after chunk data; then one of the extensions in a
  // chunk line (true if the grammar allows it there); then one of the trailer section. They
  // return false once the reader has failed.
  bool chunk_line_byte(char c);
  bool chunk_ext_byte(char c);
  bool trailer_byte(char c);

  BodyLimits limits_;
  uint64_t remaining_ = 0;  // Content-Length bytes, or chunk data bytes, still to come
  uint64_t decoded_ = 0;
  uint64_t chunk_size_ = 0;  // the chunk size being read
  size_t line_bytes_ = 0;    // of the chunk line, or of the trailer section
  int error_status_ = 0;
  std::string_view error_reason_;
  BodyStatus status_ = BodyStatus::need_more;
  BodyFraming::Kind kind_;
  Stage stage_;
};

/// Feeds `in` to `reader` until it is used up or the body ends, calling `on_data(piece)` for each
/// piece of body data. Returns the last status and error, with `consumed` the bytes of `in` used
/// in all (0 on error) and no data.
template <typename OnData>
BodyResult read_body(BodyReader& reader, std::string_view in, OnData&& on_data) {
  size_t used = 0;
  while (true) {
    BodyResult r = reader.feed(in.substr(used));
    used += r.consumed;
    if (!r.data.empty()) on_data(r.data);
    if (r.status != BodyStatus::need_more || used == in.size()) {
      r.consumed = r.status == BodyStatus::error ? 0 : used;
      r.data = {};
      return r;
    }
  }
}

}  // namespace duplex::core
