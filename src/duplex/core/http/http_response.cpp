#include "duplex/core/http/http_response.hpp"

#include "duplex/core/http/header_values.hpp"

namespace duplex::core {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 101:
      return "Switching Protocols";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 406:
      return "Not Acceptable";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 411:
      return "Length Required";
    case 412:
      return "Precondition Failed";
    case 413:
      return "Content Too Large";  // RFC 9110 15.5.14 (formerly Payload Too Large)
    case 414:
      return "URI Too Long";
    case 415:
      return "Unsupported Media Type";
    case 416:
      return "Range Not Satisfiable";
    case 417:
      return "Expectation Failed";
    case 421:
      return "Misdirected Request";
    case 422:
      return "Unprocessable Content";
    case 426:
      return "Upgrade Required";
    case 428:
      return "Precondition Required";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

namespace {

// RFC 9110 6.4.1 and 15.3.5: these responses never carry content.
bool has_no_content(int status) {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

std::string sanitize_value(std::string_view value) {
  std::string out(value);
  for (char& c : out) {
    if (c == '\r' || c == '\n' || c == '\0') c = ' ';
  }
  return out;
}

}  // namespace

HttpResponse::HttpResponse(int status) : status_(status) {}

HttpResponse& HttpResponse::header(std::string_view name, std::string_view value) {
  if (is_token(name)) headers_.emplace_back(std::string(name), sanitize_value(value));
  return *this;
}

HttpResponse& HttpResponse::body(std::string_view content, std::string_view content_type) {
  body_.assign(content);
  if (content_type.empty()) return *this;
  if (content_type_index_ == kNoContentType) {
    content_type_index_ = headers_.size();
    headers_.emplace_back("Content-Type", sanitize_value(content_type));
  } else {
    headers_[content_type_index_].second = sanitize_value(content_type);
  }
  return *this;
}

void HttpResponse::serialize_status_and_headers(std::string& out) const {
  out += "HTTP/1.1 ";
  out += std::to_string(status_);
  out += ' ';
  out += reason_phrase(status_);
  out += "\r\n";
  for (const auto& [name, value] : headers_) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
}

void HttpResponse::serialize_stream_head(std::string& out, bool chunked) const {
  serialize_status_and_headers(out);
  if (chunked) out += "Transfer-Encoding: chunked\r\n";
  out += "\r\n";
}

void HttpResponse::serialize(std::string& out, bool head_only) const {
  serialize_status_and_headers(out);
  const bool no_content = has_no_content(status_);
  if (!no_content) {
    out += "Content-Length: ";
    out += std::to_string(body_.size());
    out += "\r\n";
  }
  out += "\r\n";
  if (!no_content && !head_only) out += body_;
}

}  // namespace duplex::core
