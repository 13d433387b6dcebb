// Parsing helpers for HTTP header field values (RFC 9110 section 5.6 list grammar) and the
// Sec-WebSocket-Extensions syntax of RFC 6455 section 9.1. Pure functions, no allocation beyond
// the returned containers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace duplex::core {

// True for a non-empty RFC 9110 token (tchar = ALPHA / DIGIT / "!#$%&'*+-.^_`|~").
bool is_token(std::string_view s);

// True for an RFC 9110 tchar.
bool is_tchar(char c);

// ASCII case-insensitive equality.
bool iequals(std::string_view a, std::string_view b);

// Removes leading and trailing optional whitespace (SP / HTAB).
std::string_view trim_ows(std::string_view s);

// Parses 1*DIGIT (a Content-Length): nullopt if empty, if any other character is in it, or if it
// is over UINT64_MAX.
std::optional<uint64_t> parse_decimal(std::string_view s);

// Parses a "#token" list (Connection, Upgrade, Sec-WebSocket-Protocol). Elements are trimmed and
// empty elements skipped, so "" and " , " yield an empty vector. nullopt if an element is not a
// token. The views point into `value`.
std::optional<std::vector<std::string_view>> parse_token_list(std::string_view value);

struct ExtensionParam {
  std::string name;
  std::optional<std::string> value;  // quoted-string values are unquoted and unescaped

  bool operator==(const ExtensionParam&) const = default;
};

struct Extension {
  std::string name;
  std::vector<ExtensionParam> params;

  bool operator==(const Extension&) const = default;
};

// Parses a Sec-WebSocket-Extensions value:
//   extension-list = 1#( token *( ";" param ) ), param = token [ "=" (token | quoted-string) ]
// OWS is allowed around ";", "," and "=". Empty list elements are skipped, but a list without any
// extension is malformed. As RFC 6455 9.1 requires, an unescaped quoted-string value must itself
// be a token. nullopt if malformed.
std::optional<std::vector<Extension>> parse_extensions(std::string_view value);

// Canonical form "a; b=1, c". Values that are not tokens are written as quoted-strings.
std::string serialize_extensions(const std::vector<Extension>& list);

}  // namespace duplex::core
