#include "duplex/core/http/body_reader.hpp"

#include <algorithm>
#include <optional>

#include "duplex/core/http/header_values.hpp"
#include "duplex/core/http/http1_lines.hpp"

namespace duplex::core {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_ws(char c) { return c == ' ' || c == '\t'; }

// qdtext and the octet after a backslash in a quoted-string (RFC 9110 5.6.4), obs-text included.
bool is_qdtext(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5B) ||
         (c >= 0x5D && c <= 0x7E) || c >= 0x80;
}
bool is_quoted_pair_char(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return c == '\t' || (c >= 0x20 && c != 0x7F);
}

RequestFraming framing_error(int status, std::string_view reason) {
  return {.error_status = status, .error_reason = reason};
}

// What the Content-Length and Transfer-Encoding fields of a head say, checked as both request
// and response framing read them.
struct FramingFields {
  std::optional<uint64_t> length;
  bool transfer_encoding = false;
  bool chunked_last = false;
  bool other_coding = false;
  int error_status = 0;  // 400 on an error
  std::string_view error_reason;
};

// Reads the framing fields of `headers`; every other field is handed to `on_other`.
template <typename OnOther>
FramingFields read_framing_fields(const std::vector<HttpHeader>& headers, OnOther&& on_other) {
  FramingFields out;
  const auto fail = [&out](std::string_view reason) {
    out.error_status = 400;
    out.error_reason = reason;
    return out;
  };
  bool chunked_seen = false;
  std::string_view coding_error;
  for (const HttpHeader& h : headers) {
    if (iequals(h.name, "content-length")) {
      const std::optional<uint64_t> n = parse_decimal(h.value);
      if (!n) return fail("invalid Content-Length");
      if (out.length && *out.length != *n) return fail("conflicting Content-Length values");
      out.length = n;
    } else if (iequals(h.name, "transfer-encoding")) {
      out.transfer_encoding = true;
      for_each_list_element(h.value, [&](std::string_view element) {
        const size_t semicolon = element.find(';');
        const std::string_view coding = trim_ows(element.substr(0, semicolon));
        const bool chunked = iequals(coding, "chunked");
        if (!is_token(coding)) {
          coding_error = "invalid Transfer-Encoding";
        } else if (chunked && chunked_seen) {
          coding_error = "chunked applied more than once";
        } else if (chunked && semicolon != std::string_view::npos) {
          coding_error = "parameters on chunked";  // 7: it has none
        }
        chunked_seen = chunked_seen || chunked;
        out.chunked_last = chunked;
        out.other_coding = out.other_coding || !chunked;
        return coding_error.empty();
      });
      if (!coding_error.empty()) return fail(coding_error);
    } else {
      on_other(h);
    }
  }
  return out;
}

}  // namespace

RequestFraming request_framing(const HttpRequest& request) {
  bool continue_asked = false;
  bool other_expectation = false;
  const FramingFields fields = read_framing_fields(request.headers, [&](const HttpHeader& h) {
    if (!iequals(h.name, "expect")) return;
    for_each_list_element(h.value, [&](std::string_view element) {
      if (iequals(element, "100-continue")) {
        continue_asked = true;
      } else {
        other_expectation = true;
      }
      return true;
    });
  });
  if (fields.error_status != 0) return framing_error(fields.error_status, fields.error_reason);

  RequestFraming out;
  if (fields.transfer_encoding) {
    if (request.version_minor == 0) {
      return framing_error(400, "Transfer-Encoding in an HTTP/1.0 request");
    }
    if (fields.length) return framing_error(400, "both Content-Length and Transfer-Encoding");
    if (!fields.chunked_last)
      return framing_error(400, "Transfer-Encoding does not end in chunked");
    if (fields.other_coding) return framing_error(501, "unsupported transfer coding");
    out.body = BodyFraming::chunked();
  } else if (fields.length) {
    out.body = BodyFraming::content_length(*fields.length);
  }
  if (other_expectation) return framing_error(417, "unsupported expectation");
  const bool has_body = out.body.kind == BodyFraming::Kind::chunked ||
                        (out.body.kind == BodyFraming::Kind::length && out.body.length > 0);
  out.expect_continue = continue_asked && request.version_minor == 1 && has_body;
  return out;
}

ResponseFraming response_framing(const HttpResponseHead& response, bool to_head) {
  if (to_head || (response.status >= 100 && response.status < 200) || response.status == 204 ||
      response.status == 304) {
    return {};
  }
  const FramingFields fields = read_framing_fields(response.headers, [](const HttpHeader&) {});
  if (fields.error_status != 0) return {.error_reason = fields.error_reason};
  if (fields.transfer_encoding) {
    if (fields.length) return {.error_reason = "both Content-Length and Transfer-Encoding"};
    // Only chunked can be undone here; a body in another coding cannot be read at all.
    if (!fields.chunked_last || fields.other_coding) {
      return {.error_reason = "unsupported transfer coding"};
    }
    return {.body = BodyFraming::chunked()};
  }
  if (fields.length) return {.body = BodyFraming::content_length(*fields.length)};
  return {.until_close = true};
}

// A chunk line is chunk-size [ chunk-ext ] CRLF, with
//   chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
// and a token or quoted-string value; the stages after `size` follow that grammar.
enum class BodyReader::Stage : uint8_t {
  length,          // Content-Length data
  size_start,      // before the first hex digit of a chunk size
  size,            // in the hex digits
  ext_semicolon,   // BWS after the size or a value: only ";" may follow
  ext_name_start,  // after ";": BWS, then a name
  ext_name,
  ext_after_name,   // BWS after a name: "=" or ";" may follow
  ext_value_start,  // after "=": BWS, then a token or a quoted-string
  ext_token,
  ext_quoted,
  ext_quoted_pair,  // after a backslash in the quoted-string
  ext_after_quoted,
  line_lf,  // the CR of the chunk line was read
  data,
  data_cr,  // chunk data ended: CRLF must follow
  data_lf,
  trailer_start,  // at the start of a trailer field line, or of the final CRLF
  trailer_name,
  trailer_value,
  trailer_lf,
  last_lf,  // the CR of the final CRLF was read
};

BodyReader::BodyReader(BodyFraming framing, BodyLimits limits)
    : limits_(limits), kind_(framing.kind), stage_(Stage::length) {
  switch (framing.kind) {
    case BodyFraming::Kind::none:
      status_ = BodyStatus::complete;
      break;
    case BodyFraming::Kind::length:
      if (framing.length > limits.max_body) {
        fail(413, "Content-Length over the body limit");
      } else if (framing.length == 0) {
        status_ = BodyStatus::complete;
      }
      remaining_ = framing.length;
      break;
    case BodyFraming::Kind::chunked:
      stage_ = Stage::size_start;
      break;
  }
}

bool BodyReader::fail(int status, std::string_view reason) {
  status_ = BodyStatus::error;
  error_status_ = status;
  error_reason_ = reason;
  return false;
}

BodyResult BodyReader::result(size_t consumed, std::string_view data) const {
  if (status_ == BodyStatus::error) {
    return {.status = status_, .error_status = error_status_, .error_reason = error_reason_};
  }
  return {.status = status_, .consumed = consumed, .data = data};
}

BodyResult BodyReader::feed(std::string_view in) {
  if (status_ != BodyStatus::need_more) return result(0);
  if (kind_ == BodyFraming::Kind::chunked) return feed_chunked(in);
  const auto take = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size()));
  remaining_ -= take;
  decoded_ += take;
  if (remaining_ == 0) status_ = BodyStatus::complete;
  return result(take, in.substr(0, take));
}

BodyResult BodyReader::feed_chunked(std::string_view in) {
  size_t pos = 0;
  while (pos < in.size()) {
    if (stage_ == Stage::data) {
      const auto take = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size() - pos));
      remaining_ -= take;
      decoded_ += take;
      if (remaining_ == 0) stage_ = Stage::data_cr;
      return result(pos + take, in.substr(pos, take));
    }
    const char c = in[pos++];
    const bool ok = stage_ >= Stage::trailer_start ? trailer_byte(c) : chunk_line_byte(c);
    if (!ok || status_ == BodyStatus::complete) return result(pos);
  }
  return result(pos);
}

bool BodyReader::chunk_line_byte(char c) {
  switch (stage_) {
    case Stage::data_cr:
      if (c != '\r') return fail(400, "chunk data not followed by CRLF");
      stage_ = Stage::data_lf;
      return true;
    case Stage::data_lf:
      if (c != '\n') return fail(400, "chunk data not followed by CRLF");
      stage_ = Stage::size_start;
      chunk_size_ = 0;
      line_bytes_ = 0;
      return true;
    case Stage::line_lf:
      if (c != '\n') return fail(400, "bare CR in chunk line");
      stage_ = chunk_size_ == 0 ? Stage::trailer_start : Stage::data;
      remaining_ = chunk_size_;
      line_bytes_ = 0;
      return true;
    default:
      break;
  }
  if (c == '\n') return fail(400, "bare LF in chunk line");
  if (c == '\r') {
    // The line may end after the size, a name or a value; anywhere else a CR is out of place.
    if (stage_ == Stage::size || stage_ == Stage::ext_name || stage_ == Stage::ext_token ||
        stage_ == Stage::ext_after_quoted) {
      stage_ = Stage::line_lf;
      return true;
    }
    return fail(400,
                stage_ == Stage::size_start ? "invalid chunk size" : "malformed chunk extension");
  }
  if (++line_bytes_ > limits_.max_chunk_line) return fail(400, "chunk line too long");
  if (stage_ == Stage::size_start || stage_ == Stage::size) {
    const int digit = hex_value(c);
    if (digit >= 0) {
      // Fails as soon as the size passes what the limit leaves, so it never overflows.
      const uint64_t left = limits_.max_body - decoded_;
      const auto d = static_cast<uint64_t>(digit);
      if (d > left || chunk_size_ > (left - d) / 16) {
        return fail(413, "chunk size over the body limit");
      }
      chunk_size_ = chunk_size_ * 16 + d;
      stage_ = Stage::size;
      return true;
    }
    if (stage_ == Stage::size_start || !(c == ';' || is_ws(c))) {
      return fail(400, "invalid chunk size");
    }
  }
  if (!chunk_ext_byte(c)) return fail(400, "malformed chunk extension");
  return true;
}

bool BodyReader::chunk_ext_byte(char c) {
  const bool ws = is_ws(c);
  switch (stage_) {
    case Stage::size:
    case Stage::ext_token:
    case Stage::ext_after_quoted:
      // The end of the size or of a value: ";" starts the next extension, BWS may come before it.
      if (c == ';') return go(Stage::ext_name_start);
      if (ws) return go(Stage::ext_semicolon);
      return stage_ == Stage::ext_token && is_tchar(c);
    case Stage::ext_semicolon:
      if (c == ';') return go(Stage::ext_name_start);
      return ws;
    case Stage::ext_name_start:
      if (is_tchar(c)) return go(Stage::ext_name);
      return ws;
    case Stage::ext_name:
    case Stage::ext_after_name:
      if (c == ';') return go(Stage::ext_name_start);
      if (c == '=') return go(Stage::ext_value_start);
      if (ws) return go(Stage::ext_after_name);
      return stage_ == Stage::ext_name && is_tchar(c);
    case Stage::ext_value_start:
      if (is_tchar(c)) return go(Stage::ext_token);
      if (c == '"') return go(Stage::ext_quoted);
      return ws;
    case Stage::ext_quoted:
      if (c == '"') return go(Stage::ext_after_quoted);
      if (c == '\\') return go(Stage::ext_quoted_pair);
      return is_qdtext(c);
    case Stage::ext_quoted_pair:
      stage_ = Stage::ext_quoted;
      return is_quoted_pair_char(c);
    default:
      return false;  // not reached: the other stages are handled by chunk_line_byte
  }
}

bool BodyReader::trailer_byte(char c) {
  if (++line_bytes_ > limits_.max_trailers) return fail(431, "trailer section too large");
  if (c == '\n' && stage_ != Stage::trailer_lf && stage_ != Stage::last_lf) {
    return fail(400, "bare LF in trailer section");
  }
  switch (stage_) {
    case Stage::trailer_start:
      if (c == '\r') {
        stage_ = Stage::last_lf;
      } else if (is_tchar(c)) {
        stage_ = Stage::trailer_name;
      } else {
        return fail(400, "malformed trailer field");
      }
      return true;
    case Stage::trailer_name:
      if (c == ':') {
        stage_ = Stage::trailer_value;
      } else if (!is_tchar(c)) {
        return fail(400, "malformed trailer field");
      }
      return true;
    case Stage::trailer_value:
      if (c == '\r') {
        stage_ = Stage::trailer_lf;
      } else if (is_field_value_control(c)) {
        return fail(400, "malformed trailer field");
      }
      return true;
    case Stage::trailer_lf:
    case Stage::last_lf:
      if (c != '\n') return fail(400, "bare CR in trailer section");
      if (stage_ == Stage::last_lf) {
        status_ = BodyStatus::complete;
      } else {
        stage_ = Stage::trailer_start;
      }
      return true;
    default:
      return fail(400, "malformed trailer field");  // not reached
  }
}

}  // namespace duplex::core
