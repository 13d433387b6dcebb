#include "duplex/core/http/http1_parser.hpp"

#include <algorithm>

#include "duplex/core/http/header_values.hpp"
#include "duplex/core/http/http1_lines.hpp"

namespace duplex::core {

namespace {

// Visible ASCII only: RFC 9112 request-targets are URIs, which never contain raw whitespace,
// controls or non-ASCII bytes.
bool is_target_char(char c) { return c > 0x20 && c < 0x7F; }

}  // namespace

Http1RequestParser::Http1RequestParser(HttpParseLimits limits) : limits_(limits) {}

void Http1RequestParser::reset() {
  const HttpParseLimits limits = limits_;
  std::vector<HeaderSpans> headers = std::move(headers_);
  headers.clear();  // keep the capacity for the next request
  *this = Http1RequestParser(limits);
  headers_ = std::move(headers);
}

HttpParseResult Http1RequestParser::fail(int status, std::string_view reason) {
  result_.status = HttpParseStatus::error;
  result_.consumed = 0;
  result_.error_status = status;
  result_.error_reason = reason;
  finished_ = true;
  return result_;
}

HttpParseResult Http1RequestParser::parse(std::string_view buffered, HttpRequest& out) {
  while (!finished_) {
    const Http1LineScanner::Result line = scanner_.next(buffered, limits_.max_header_bytes);
    switch (line.status) {
      case Http1LineScanner::Status::need_more:
        return result_;
      case Http1LineScanner::Status::too_large:
        fail(431, "request head too large");
        break;
      case Http1LineScanner::Status::bare_lf:
        fail(400, "bare LF in request head");
        break;
      case Http1LineScanner::Status::bare_cr:
        fail(400, "bare CR in request head");
        break;
      case Http1LineScanner::Status::line:
        on_line(buffered, line.begin, line.end, line.next);
        break;
    }
  }
  if (result_.status == HttpParseStatus::complete) fill(buffered, out);
  return result_;
}

bool Http1RequestParser::on_line(std::string_view buffered, size_t begin, size_t end, size_t next) {
  if (!have_request_line_) {
    if (begin == end) return true;  // RFC 9112 2.2: skip empty lines before the request line
    return on_request_line(buffered, begin, end);
  }
  if (begin == end) return on_head_end(next);
  return on_header_line(buffered, begin, end);
}

bool Http1RequestParser::on_request_line(std::string_view buffered, size_t begin, size_t end) {
  const std::string_view line = buffered.substr(begin, end - begin);
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) {
    fail(400, "malformed request line");
    return false;
  }
  if (!is_token(line.substr(0, sp1))) {
    fail(400, "invalid request method");
    return false;
  }
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) {
    fail(400, "malformed request line");
    return false;
  }
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!std::all_of(target.begin(), target.end(), is_target_char)) {
    fail(400, "invalid request target");
    return false;
  }
  switch (classify_http_version(line.substr(sp2 + 1))) {
    case HttpVersion::http11:
      version_minor_ = 1;
      break;
    case HttpVersion::http10:
      version_minor_ = 0;
      break;
    case HttpVersion::unsupported:
      fail(505, "unsupported HTTP version");
      return false;
    case HttpVersion::malformed:
      fail(400, "malformed HTTP version");
      return false;
  }
  method_ = {begin, sp1};
  target_ = {begin + sp1 + 1, target.size()};
  have_request_line_ = true;
  return true;
}

bool Http1RequestParser::on_header_line(std::string_view buffered, size_t begin, size_t end) {
  const std::string_view line = buffered.substr(begin, end - begin);
  const HeaderLine header = parse_header_line(line);
  if (!header.error.empty()) {
    fail(400, header.error);
    return false;
  }
  if (headers_.size() >= limits_.max_headers) {
    fail(431, "too many headers");
    return false;
  }
  const std::string_view name = header.name;
  const std::string_view value = header.value;
  const size_t value_offset = begin + static_cast<size_t>(value.data() - line.data());
  headers_.push_back({{begin, name.size()}, {value_offset, value.size()}});

  if (iequals(name, "content-length")) {
    const std::optional<uint64_t> length = parse_decimal(value);
    if (!length) {
      fail(400, "invalid Content-Length");
      return false;
    }
    if (content_length_ && *content_length_ != *length) {
      fail(400, "conflicting Content-Length values");
      return false;
    }
    content_length_ = length;
  } else if (iequals(name, "transfer-encoding")) {
    seen_transfer_encoding_ = true;
    bool ok = true;
    for_each_list_element(value, [&](std::string_view element) {
      // A transfer-coding may carry parameters; only its name matters here.
      const std::string_view coding = trim_ows(element.substr(0, element.find(';')));
      const bool is_chunked = iequals(coding, "chunked");
      ok = is_token(coding) && !(is_chunked && seen_chunked_);
      seen_chunked_ = seen_chunked_ || is_chunked;
      chunked_ = is_chunked;
      return ok;
    });
    if (!ok) {
      fail(400, "invalid Transfer-Encoding");
      return false;
    }
  } else if (iequals(name, "host")) {
    if (seen_host_) {
      fail(400, "repeated Host header");
      return false;
    }
    seen_host_ = true;
  }
  return true;
}

bool Http1RequestParser::on_head_end(size_t consumed) {
  if (seen_transfer_encoding_) {
    // RFC 9112 6.1 and 6.3: these framings cannot be trusted, so the request is refused.
    if (version_minor_ == 0) {
      fail(400, "Transfer-Encoding in an HTTP/1.0 request");
      return false;
    }
    if (content_length_) {
      fail(400, "both Content-Length and Transfer-Encoding");
      return false;
    }
    if (!chunked_) {
      fail(400, "Transfer-Encoding does not end in chunked");
      return false;
    }
  }
  if (version_minor_ == 1 && !seen_host_) {
    fail(400, "missing Host header");
    return false;
  }
  result_.status = HttpParseStatus::complete;
  result_.consumed = consumed;
  finished_ = true;
  return false;
}

void Http1RequestParser::fill(std::string_view buffered, HttpRequest& out) const {
  out.method = method_.in(buffered);
  out.target = target_.in(buffered);
  const size_t question = out.target.find('?');
  out.path = out.target.substr(0, question);
  out.query =
      question == std::string_view::npos ? std::string_view{} : out.target.substr(question + 1);
  out.version_minor = version_minor_;
  fill_headers(buffered, headers_, out.headers);
  out.content_length = content_length_;
  out.chunked = chunked_;
}

}  // namespace duplex::core
