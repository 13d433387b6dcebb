// permessage-deflate (RFC 7692) negotiation for both sides: the options an endpoint or client
// configures, the parameters agreed for a connection, the server's choice among offers and the
// client's offer and check of the answer. Pure functions over parsed Sec-WebSocket-Extensions
// values; the codec is in deflate_codec.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "duplex/core/http/header_values.hpp"

namespace duplex::core {

inline constexpr std::string_view kPerMessageDeflate = "permessage-deflate";

/// How a server spends memory on compression (as in µWebSockets).
enum class DeflateMode : uint8_t {
  /// A compressor and a decompressor per connection that keep their context between messages:
  /// the best ratio, about 300 KiB per connection that uses it (see DEVELOPERS.md).
  dedicated,
  /// One compressor and one decompressor per endpoint, shared by all its connections; both
  /// directions negotiate no context takeover. Least memory (nothing per connection), a lower
  /// ratio on streams of similar messages.
  shared,
};

/// permessage-deflate settings of an endpoint (server) or a client.
struct DeflateOptions {
  /// Server: accept offers. Client: offer the extension.
  bool enabled = false;
  /// Server only.
  DeflateMode mode = DeflateMode::dedicated;
  /// Server: always answer server_no_context_takeover. Client: ask the server for it.
  bool server_no_context_takeover = false;
  /// Server: answer client_no_context_takeover. Client: offer it (and then reset each message).
  bool client_no_context_takeover = false;
  /// Largest window the server compresses with (8-15; 8 is negotiated but, as zlib cannot
  /// compress with a 256-byte window, messages are then sent uncompressed). A client asks for it
  /// when below 15.
  int server_max_window_bits = 15;
  /// Largest window the client may compress with (8-15). Below 15 saves decompressor memory; a
  /// server then declines offers that cannot be bounded (no client_max_window_bits in them).
  int client_max_window_bits = 15;
  /// Messages smaller than this many bytes are sent uncompressed.
  size_t threshold = 128;
  /// zlib compression level (0-9) and memory level (1-9) of the compressor.
  int level = 6;
  int mem_level = 8;
};

/// Parameters agreed for one connection.
struct DeflateParams {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  uint8_t server_max_window_bits = 15;
  uint8_t client_max_window_bits = 15;

  bool operator==(const DeflateParams&) const = default;
};

/// Throws std::invalid_argument naming the field when options are out of range.
void validate_deflate_options(const DeflateOptions& options);

struct DeflateAgreement {
  DeflateParams params;
  std::string response;  // the Sec-WebSocket-Extensions element to answer with
};

/// Server: accepts the first permessage-deflate offer (in the client's order) that is valid and
/// acceptable under `options`; offers with unknown, repeated or out-of-range parameters are
/// declined (RFC 7692 section 5), and so are offers whose client window cannot be bounded when
/// options.client_max_window_bits < 15. nullopt: the extension is not used.
std::optional<DeflateAgreement> accept_deflate(const std::vector<Extension>& offers,
                                               const DeflateOptions& options);

/// Client: the offer to send, e.g. "permessage-deflate; client_max_window_bits".
std::string deflate_offer(const DeflateOptions& options);

/// Client: checks the server's answer (an element of its Sec-WebSocket-Extensions) against the
/// offer. Returns the agreed parameters, or a one-line reason that fails the handshake.
std::variant<DeflateParams, std::string> check_deflate_answer(const Extension& answer,
                                                              const DeflateOptions& options);

}  // namespace duplex::core
