// Form-encoded text ("d=%5B%22x%22%5D&x=1") read the way the reference server reads it: with
// Node's querystring.parse, which it uses for a jsonp_send body of Content-Type
// application/x-www-form-urlencoded and for every request's query (the callback of jsonp and
// htmlfile). Its rules, which differ from a browser's URLSearchParams where escapes are broken:
// - The text is taken as JavaScript holds it: a body's bytes decoded as UTF-8 (invalid
//   sequences as U+FFFD, core/text/utf8.hpp), a query's bytes one character each (the
//   reference's HTTP parser only lets ASCII into a request target).
// - It is split at every '&'; only the first 1,000 pieces count, empty ones included, and an
//   empty piece is no field. A piece's first '=' ends its name (without one, the value is
//   empty); '+' is a space in both.
// - A name or a value is percent-decoded only when it holds a '%' with two hex digits after it
//   (as querystring checks that: in a value a '+' between them does not count as a break, in a
//   name it does). Decoding is decodeURIComponent when every '%' starts a valid escape and the
//   bytes they make are UTF-8; otherwise every valid %XX becomes its byte, every other '%' stays,
//   every other character becomes the low byte of its UTF-16 code unit ("\u00e9" becomes E9,
//   "\u0161" becomes 'a'), and those bytes are read as UTF-8 with U+FFFD.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::core::sockjs {

enum class FormText : uint8_t { body, query };

/// The values of the fields called `name` (compared once decoded), in order, as UTF-8.
std::vector<std::string> form_values(std::string_view text, std::string_view name, FormText kind);

}  // namespace duplex::core::sockjs
