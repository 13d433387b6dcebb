#include "duplex/core/http/http1_response_parser.hpp"

#include <algorithm>
#include <utility>

namespace duplex::core {

Http1ResponseParser::Http1ResponseParser(HttpParseLimits limits) : limits_(limits) {}

void Http1ResponseParser::reset() {
  const HttpParseLimits limits = limits_;
  std::vector<HeaderSpans> headers = std::move(headers_);
  headers.clear();  // keep the capacity for the next response
  *this = Http1ResponseParser(limits);
  headers_ = std::move(headers);
}

HttpParseResult Http1ResponseParser::fail(std::string_view reason) {
  result_.status = HttpParseStatus::error;
  result_.consumed = 0;
  result_.error_reason = reason;
  finished_ = true;
  return result_;
}

HttpParseResult Http1ResponseParser::parse(std::string_view buffered, HttpResponseHead& out) {
  while (!finished_) {
    const Http1LineScanner::Result line = scanner_.next(buffered, limits_.max_header_bytes);
    switch (line.status) {
      case Http1LineScanner::Status::need_more:
        return result_;
      case Http1LineScanner::Status::too_large:
        fail("response head too large");
        break;
      case Http1LineScanner::Status::bare_lf:
        fail("bare LF in response head");
        break;
      case Http1LineScanner::Status::bare_cr:
        fail("bare CR in response head");
        break;
      case Http1LineScanner::Status::line:
        on_line(buffered, line.begin, line.end, line.next);
        break;
    }
  }
  if (result_.status == HttpParseStatus::complete) {
    out.version_minor = version_minor_;
    out.status = status_;
    out.reason = reason_.in(buffered);
    fill_headers(buffered, headers_, out.headers);
  }
  return result_;
}

void Http1ResponseParser::on_line(std::string_view buffered, size_t begin, size_t end,
                                  size_t next) {
  if (!have_status_line_) {
    on_status_line(buffered.substr(begin, end - begin), begin);
    return;
  }
  if (begin == end) {
    result_.status = HttpParseStatus::complete;
    result_.consumed = next;
    finished_ = true;
    return;
  }
  const std::string_view text = buffered.substr(begin, end - begin);
  const HeaderLine header = parse_header_line(text);
  if (!header.error.empty()) {
    fail(header.error);
    return;
  }
  if (headers_.size() >= limits_.max_headers) {
    fail("too many headers");
    return;
  }
  const auto offset_of = [&](std::string_view part) {
    return begin + static_cast<size_t>(part.data() - text.data());
  };
  headers_.push_back({{offset_of(header.name), header.name.size()},
                      {offset_of(header.value), header.value.size()}});
}

void Http1ResponseParser::on_status_line(std::string_view line, size_t begin) {
  // Unlike a server reading requests (RFC 9112 2.2), a client has no reason to skip empty lines:
  // the response must start right away, so an empty first line is simply malformed.
  if (line.size() < 12 || line[8] != ' ' || (line.size() > 12 && line[12] != ' ')) {
    fail("malformed status line");
    return;
  }
  switch (classify_http_version(line.substr(0, 8))) {
    case HttpVersion::http11:
      version_minor_ = 1;
      break;
    case HttpVersion::http10:
      version_minor_ = 0;
      break;
    case HttpVersion::unsupported:
      fail("unsupported HTTP version");
      return;
    case HttpVersion::malformed:
      fail("malformed status line");
      return;
  }
  const std::string_view code = line.substr(9, 3);
  if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    fail("malformed status line");
    return;
  }
  status_ = (code[0] - '0') * 100 + (code[1] - '0') * 10 + (code[2] - '0');
  if (status_ < 100 || status_ > 599) {
    fail("invalid status code");
    return;
  }
  const std::string_view reason = line.size() > 12 ? line.substr(13) : std::string_view{};
  if (std::any_of(reason.begin(), reason.end(), is_field_value_control)) {
    fail("control character in reason phrase");
    return;
  }
  reason_ = {begin + std::min<size_t>(line.size(), 13), reason.size()};
  have_status_line_ = true;
}

}  // namespace duplex::core
