#include "duplex/core/ws/client_handshake.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <stdexcept>

#include "duplex/core/http/header_values.hpp"
#include "duplex/core/text/base64.hpp"
#include "duplex/core/ws/handshake.hpp"

namespace duplex::core {

namespace {

// Headers the handshake writes or whose meaning it fixes; letting the caller add them would send
// conflicting copies.
constexpr std::array<std::string_view, 9> kReservedHeaders = {
    "Host",
    "Upgrade",
    "Connection",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
    "Content-Length",
    "Transfer-Encoding",
};

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

bool is_redirect(int status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

ClientHandshake::Result failure(ClientHandshake::Result result, std::string error) {
  result.status = ClientHandshake::Status::failed;
  result.error = std::move(error);
  return result;
}

}  // namespace

ClientHandshake::ClientHandshake(const WebSocketUrl& url, const ClientHandshakeOptions& options,
                                 const std::array<uint8_t, 16>& key_bytes)
    : protocols_(options.protocols),
      parser_(HttpParseLimits{.max_header_bytes = options.max_response_head}) {
  // A hand-built URL could otherwise smuggle bytes into the request line or the Host header.
  const auto is_visible = [](char c) {
    return static_cast<unsigned char>(c) > 0x20 && static_cast<unsigned char>(c) < 0x7F;
  };
  if (url.host.empty() || !std::all_of(url.host.begin(), url.host.end(), is_visible) ||
      !url.resource.starts_with('/') ||
      !std::all_of(url.resource.begin(), url.resource.end(), is_visible) ||
      url.resource.find('#') != std::string::npos) {
    throw std::invalid_argument("invalid WebSocket URL " + quoted(url.to_string()));
  }
  for (size_t i = 0; i < protocols_.size(); ++i) {
    if (!is_token(protocols_[i])) {
      throw std::invalid_argument("invalid subprotocol " + quoted(protocols_[i]) +
                                  " (must be a token)");
    }
    if (std::find(protocols_.begin(), protocols_.begin() + i, protocols_[i]) !=
        protocols_.begin() + i) {
      throw std::invalid_argument("duplicate subprotocol " + quoted(protocols_[i]));
    }
  }
  if (!options.extensions.empty()) {
    const auto offer = parse_extensions(options.extensions);
    if (!offer || options.extensions.find_first_of("\r\n") != std::string::npos) {
      throw std::invalid_argument("malformed extension offer " + quoted(options.extensions));
    }
    for (const Extension& e : *offer) offered_extensions_.push_back(e.name);
  }
  for (const auto& [name, value] : options.headers) {
    if (!is_token(name)) throw std::invalid_argument("invalid header name " + quoted(name));
    if (value.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      throw std::invalid_argument("value of header " + quoted(name) + " contains CR, LF or NUL");
    }
    for (std::string_view reserved : kReservedHeaders) {
      if (iequals(name, reserved)) {
        throw std::invalid_argument("header " + quoted(name) +
                                    " is set by the WebSocket handshake and cannot be overridden");
      }
    }
  }

  key_ = base64_encode({reinterpret_cast<const char*>(key_bytes.data()), key_bytes.size()});
  expected_accept_ = websocket_accept_key(key_);

  request_ = "GET " + url.resource + " HTTP/1.1\r\n";
  append_header(request_, "Host", url.host_header());
  append_header(request_, "Upgrade", "websocket");
  append_header(request_, "Connection", "Upgrade");
  append_header(request_, "Sec-WebSocket-Key", key_);
  append_header(request_, "Sec-WebSocket-Version", "13");
  if (!protocols_.empty()) {
    std::string list;
    for (const std::string& p : protocols_) list.append(list.empty() ? "" : ", ").append(p);
    append_header(request_, "Sec-WebSocket-Protocol", list);
  }
  if (!options.extensions.empty()) {
    append_header(request_, "Sec-WebSocket-Extensions", options.extensions);
  }
  for (const auto& [name, value] : options.headers) append_header(request_, name, value);
  request_ += "\r\n";
}

ClientHandshake::Result ClientHandshake::feed(std::string_view buffered) {
  if (result_.status != Status::need_more) return result_;
  HttpResponseHead head;
  const HttpParseResult parsed = parser_.parse(buffered, head);
  switch (parsed.status) {
    case HttpParseStatus::need_more:
      break;
    case HttpParseStatus::error:
      result_ = failure({}, "malformed HTTP response: " + std::string(parsed.error_reason));
      break;
    case HttpParseStatus::complete:
      result_ = check(head, parsed.consumed);
      break;
  }
  return result_;
}

ClientHandshake::Result ClientHandshake::check(const HttpResponseHead& head,
                                               size_t consumed) const {
  Result result;
  result.consumed = consumed;
  result.http_status = head.status;
  if (head.status == 101) return check_upgrade(head, std::move(result));

  std::string answer = "server answered " + std::to_string(head.status);
  if (!head.reason.empty()) answer.append(" ").append(head.reason);
  if (!is_redirect(head.status)) return failure(std::move(result), std::move(answer));
  if (head.header_count("Location") > 1) {
    return failure(std::move(result), answer + " with more than one Location header");
  }
  const std::optional<std::string_view> location = head.header("Location");
  if (!location || location->empty()) {
    return failure(std::move(result), answer + " without a Location header");
  }
  result.status = Status::redirect;
  result.location = *location;
  return result;
}

ClientHandshake::Result ClientHandshake::check_upgrade(const HttpResponseHead& head,
                                                       Result result) const {
  // 101 does not exist in HTTP/1.0, and RFC 6455 4.1 requires HTTP/1.1.
  if (head.version_minor != 1)
    return failure(std::move(result), "server answered 101 over HTTP/1.0");
  if (!head.has_token("Upgrade", "websocket")) {
    return failure(std::move(result), "missing 'Upgrade: websocket'");
  }
  if (!head.has_token("Connection", "upgrade")) {
    return failure(std::move(result), "missing 'Connection: Upgrade'");
  }
  for (std::string_view name :
       {"Sec-WebSocket-Accept", "Sec-WebSocket-Protocol", "Sec-WebSocket-Extensions"}) {
    if (head.header_count(name) > 1) {
      return failure(std::move(result), "repeated " + std::string(name) + " header");
    }
  }

  const std::optional<std::string_view> accept = head.header("Sec-WebSocket-Accept");
  if (!accept) return failure(std::move(result), "missing Sec-WebSocket-Accept");
  if (*accept != expected_accept_)
    return failure(std::move(result), "Sec-WebSocket-Accept mismatch");

  if (const std::optional<std::string_view> protocol = head.header("Sec-WebSocket-Protocol")) {
    if (!is_token(*protocol)) {
      return failure(std::move(result), "invalid Sec-WebSocket-Protocol " + quoted(*protocol) +
                                            " (expected one subprotocol)");
    }
    if (std::find(protocols_.begin(), protocols_.end(), *protocol) == protocols_.end()) {
      return failure(std::move(result),
                     "server chose subprotocol " + quoted(*protocol) + " that was not offered");
    }
    result.protocol = *protocol;
  } else if (!protocols_.empty()) {
    std::string offered;
    for (const std::string& p : protocols_) offered.append(offered.empty() ? "" : ", ").append(p);
    return failure(std::move(result), "server sent no subprotocol (offered: " + offered + ")");
  }

  if (const std::optional<std::string_view> value = head.header("Sec-WebSocket-Extensions")) {
    const std::optional<std::vector<Extension>> answer = parse_extensions(*value);
    if (!answer) {
      return failure(std::move(result), "malformed Sec-WebSocket-Extensions " + quoted(*value));
    }
    for (size_t i = 0; i < answer->size(); ++i) {
      const std::string& name = (*answer)[i].name;
      if (std::find(offered_extensions_.begin(), offered_extensions_.end(), name) ==
          offered_extensions_.end()) {
        return failure(std::move(result),
                       "server answered with extension " + quoted(name) + " that was not offered");
      }
      // Each extension is set up once; a second answer for the same one has no meaning.
      const auto earlier = answer->begin() + static_cast<std::ptrdiff_t>(i);
      if (std::any_of(answer->begin(), earlier,
                      [&](const Extension& e) { return e.name == name; })) {
        return failure(std::move(result),
                       "server answered with extension " + quoted(name) + " more than once");
      }
    }
    result.extensions = *value;
  }
  result.status = Status::accepted;
  return result;
}

}  // namespace duplex::core
