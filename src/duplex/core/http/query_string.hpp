// Reading parameters from a request's query ("room=lobby&nick=al%C3%AF"), the way browsers'
// URLSearchParams does: pairs split on '&', '+' is a space, %XX escapes decoded.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace duplex::core {

/// The decoded value of the first parameter called `name` (compared after decoding), or nullopt
/// when there is none. "name" without '=' has the empty value. A '%' not followed by two hex
/// digits is kept as it is. The value may be any bytes: check it before use.
std::optional<std::string> query_parameter(std::string_view query, std::string_view name);

/// Every value of the parameters called `name`, in order.
std::vector<std::string> query_parameters(std::string_view query, std::string_view name);
/// Every decoded (name, value) pair, in order.
std::vector<std::pair<std::string, std::string>> query_pairs(std::string_view query);

/// Decodes one form-encoded component as query_parameter does.
std::string form_decode(std::string_view component);
/// Appends `component` form-encoded as URLSearchParams writes it (letters, digits and "-._*"
/// kept, space as '+', every other byte %XX), so form_decode gives it back.
void form_encode(std::string& out, std::string_view component);

}  // namespace duplex::core
