#include "duplex/core/http/http1_lines.hpp"

#include <algorithm>
#include <cstring>

namespace duplex::core {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Http1LineScanner::Result Http1LineScanner::next(std::string_view buffered, size_t limit) {
  const size_t search_end = std::min(buffered.size(), limit);
  const void* lf = nullptr;
  if (scan_pos_ < search_end) {
    lf = std::memchr(buffered.data() + scan_pos_, '\n', search_end - scan_pos_);
  }
  if (lf == nullptr) {
    scan_pos_ = std::max(scan_pos_, search_end);
    // No line end within the limit: with `limit` bytes in and none of them a line end, the head
    // cannot end within the limit, whatever comes next.
    return {buffered.size() >= limit ? Status::too_large : Status::need_more};
  }
  const auto lf_pos = static_cast<size_t>(static_cast<const char*>(lf) - buffered.data());
  Result result{Status::line, line_start_, lf_pos, lf_pos + 1};
  line_start_ = scan_pos_ = lf_pos + 1;
  if (lf_pos == result.begin || buffered[lf_pos - 1] != '\r') {
    result.status = Status::bare_lf;
    return result;
  }
  result.end = lf_pos - 1;
  if (std::memchr(buffered.data() + result.begin, '\r', result.end - result.begin) != nullptr) {
    result.status = Status::bare_cr;
  }
  return result;
}

bool is_field_value_control(char ch) {
  const auto c = static_cast<unsigned char>(ch);
  return (c < 0x20 && c != '\t') || c == 0x7F;
}

HeaderLine parse_header_line(std::string_view line) {
  if (line.empty()) return {.error = "malformed header line"};
  if (line.front() == ' ' || line.front() == '\t') {
    return {.error = "obsolete line folding is not allowed"};
  }
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) return {.error = "malformed header line"};
  const std::string_view name = line.substr(0, colon);
  if (name.empty()) return {.error = "empty header name"};
  // RFC 9112 5.1: whitespace here has been used for request smuggling, so it is refused.
  if (name.back() == ' ' || name.back() == '\t') {
    return {.error = "whitespace before colon in header"};
  }
  if (!is_token(name)) return {.error = "invalid header name"};
  const std::string_view raw_value = line.substr(colon + 1);
  if (std::any_of(raw_value.begin(), raw_value.end(), is_field_value_control)) {
    return {.error = "control character in header value"};
  }
  return {.name = name, .value = trim_ows(raw_value)};
}

HttpVersion classify_http_version(std::string_view s) {
  if (s == "HTTP/1.1") return HttpVersion::http11;
  if (s == "HTTP/1.0") return HttpVersion::http10;
  if (s.size() == 8 && s.starts_with("HTTP/") && is_digit(s[5]) && s[6] == '.' && is_digit(s[7])) {
    return HttpVersion::unsupported;
  }
  return HttpVersion::malformed;
}

void fill_headers(std::string_view buffered, const std::vector<HeaderSpans>& spans,
                  std::vector<HttpHeader>& out) {
  out.clear();
  out.reserve(spans.size());
  for (const HeaderSpans& h : spans) out.push_back({h.name.in(buffered), h.value.in(buffered)});
}

std::optional<std::string_view> HttpHeaderFields::header(std::string_view name) const {
  for (const HttpHeader& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return std::nullopt;
}

size_t HttpHeaderFields::header_count(std::string_view name) const {
  return static_cast<size_t>(std::count_if(
      headers.begin(), headers.end(), [&](const HttpHeader& h) { return iequals(h.name, name); }));
}

bool HttpHeaderFields::has_token(std::string_view name, std::string_view token) const {
  bool found = false;
  for (const HttpHeader& h : headers) {
    if (!iequals(h.name, name)) continue;
    for_each_list_element(h.value, [&](std::string_view element) {
      found = iequals(element, token);
      return !found;
    });
    if (found) return true;
  }
  return false;
}

}  // namespace duplex::core
