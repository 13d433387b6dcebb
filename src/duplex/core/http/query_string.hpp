// Reading parameters from a request's query ("room=lobby&nick=al%C3%AF"), the way browsers'
// URLSearchParams does: pairs split on '&', '+' is a space, %XX escapes decoded.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace duplex::core {

/// The decoded value of the first parameter called `name` (compared after decoding), or nullopt
/// when there is none. "name" without '=' has the empty value. A '%' not followed by two hex
/// digits is kept as it is. The value may be any bytes: check it before use.
std::optional<std::string> query_parameter(std::string_view query, std::string_view name);

/// Decodes one form-encoded component as query_parameter does.
std::string form_decode(std::string_view component);

}  // namespace duplex::core
