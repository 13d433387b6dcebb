#include "duplex/core/ws/handshake.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <utility>

#include "duplex/core/http/http_response.hpp"
#include "duplex/core/text/base64.hpp"

namespace duplex::core {

namespace {

bool is_base64_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

HandshakeError error(int status, std::string reason) { return {status, std::move(reason)}; }

}  // namespace

std::string websocket_accept_key(std::string_view client_key) {
  std::string input;
  input.reserve(client_key.size() + kWebSocketGuid.size());
  input.append(client_key).append(kWebSocketGuid);

  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &digest_size, EVP_sha1(), nullptr) !=
      1) {
    return {};
  }
  return base64_encode({reinterpret_cast<const char*>(digest.data()), digest_size});
}

bool is_valid_websocket_key(std::string_view key) {
  // 16 bytes encode to 22 significant characters and two padding characters. EVP_DecodeBlock
  // neither rejects misplaced '=' nor surrounding whitespace, so the shape is checked here.
  if (key.size() != 24 || !key.ends_with("==")) return false;
  if (!std::all_of(key.begin(), key.end() - 2, is_base64_char)) return false;
  std::array<unsigned char, 18> decoded{};
  // EVP_DecodeBlock does not subtract padding: 24 characters always give 18 bytes.
  return EVP_DecodeBlock(decoded.data(), reinterpret_cast<const unsigned char*>(key.data()),
                         static_cast<int>(key.size())) == 18;
}

bool is_websocket_upgrade(const HttpRequest& req) { return req.has_token("Upgrade", "websocket"); }

std::variant<ValidatedUpgrade, HandshakeError> validate_upgrade(const HttpRequest& req) {
  if (req.method != "GET") return error(405, "WebSocket handshake must use GET");
  if (req.version_minor < 1) return error(400, "HTTP/1.1 or later required");
  if (!req.header("Host")) return error(400, "missing Host header");
  if (!req.has_token("Connection", "upgrade")) {
    return error(400, "Connection header must include \"upgrade\"");
  }
  if (!is_websocket_upgrade(req)) return error(400, "Upgrade header must include \"websocket\"");

  const std::optional<std::string_view> version = req.header("Sec-WebSocket-Version");
  if (!version) return error(426, "missing Sec-WebSocket-Version header");
  if (req.header_count("Sec-WebSocket-Version") != 1 || *version != "13") {
    return error(426, "unsupported Sec-WebSocket-Version, only 13 is supported");
  }

  const std::optional<std::string_view> key = req.header("Sec-WebSocket-Key");
  if (!key) return error(400, "missing Sec-WebSocket-Key header");
  if (req.header_count("Sec-WebSocket-Key") != 1) {
    return error(400, "repeated Sec-WebSocket-Key header");
  }
  if (!is_valid_websocket_key(*key)) return error(400, "invalid Sec-WebSocket-Key header");

  ValidatedUpgrade result;
  result.key = *key;
  result.origin = req.header("Origin");
  for (const HttpHeader& h : req.headers) {
    if (iequals(h.name, "Sec-WebSocket-Protocol")) {
      std::optional<std::vector<std::string_view>> offers = parse_token_list(h.value);
      if (!offers) return error(400, "malformed Sec-WebSocket-Protocol header");
      result.protocols.insert(result.protocols.end(), offers->begin(), offers->end());
    }
  }
  for (const HttpHeader& h : req.headers) {
    if (iequals(h.name, "Sec-WebSocket-Extensions")) {
      std::optional<std::vector<Extension>> offers = parse_extensions(h.value);
      if (!offers) return error(400, "malformed Sec-WebSocket-Extensions header");
      std::move(offers->begin(), offers->end(), std::back_inserter(result.extensions));
    }
  }
  if ((req.content_length && *req.content_length > 0) || req.chunked) {
    return error(400, "WebSocket handshake request must not have a body");
  }
  return result;
}

void write_upgrade_response(std::string& out, std::string_view accept_key,
                            std::string_view protocol, std::string_view extensions) {
  out += "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
  out += "Sec-WebSocket-Accept: ";
  out += accept_key;
  out += "\r\n";
  if (!protocol.empty()) {
    out += "Sec-WebSocket-Protocol: ";
    out += protocol;
    out += "\r\n";
  }
  if (!extensions.empty()) {
    out += "Sec-WebSocket-Extensions: ";
    out += extensions;
    out += "\r\n";
  }
  out += "\r\n";
}

void write_error_response(std::string& out, int status, std::string_view reason, bool head_only) {
  std::string text = std::to_string(status);
  text += ' ';
  text += reason_phrase(status);
  text += ": ";
  text += reason;
  text += '\n';
  HttpResponse response(status);
  response.body(text, "text/plain; charset=utf-8").header("Connection", "close");
  if (status == 426) {
    response.header("Sec-WebSocket-Version", "13").header("Upgrade", "websocket");
  } else if (status == 405) {
    response.header("Allow", "GET");
  }
  response.serialize(out, head_only);
}

}  // namespace duplex::core
