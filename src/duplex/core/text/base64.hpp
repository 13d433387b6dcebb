// Base64 (RFC 4648, the standard alphabet with '=' padding) for handshake keys, proxy
// credentials and Engine.IO's binary packets. Encoding goes through OpenSSL; decoding is strict
// and done here, since OpenSSL's EVP_DecodeBlock skips whitespace and does not place padding.
#pragma once

#include <string>
#include <string_view>

namespace duplex::core {

std::string base64_encode(std::string_view data);

/// Appends the base64 of `data` to `out`: 4 characters per 3 bytes (the last group padded with
/// '='), nothing for empty data.
void append_base64(std::string& out, std::string_view data);

/// Appends the bytes that `text` encodes to `out` and returns true when `text` is canonical
/// base64: a multiple of 4 characters of A-Z a-z 0-9 + /, '=' only as the last one or two, and
/// the bits that padding leaves over zero (as every encoder writes them). Anything else (no
/// padding, whitespace, line breaks, the URL-safe alphabet) returns false and leaves `out` as it
/// was. "" decodes to nothing.
[[nodiscard]] bool append_base64_decoded(std::string& out, std::string_view text);

}  // namespace duplex::core
