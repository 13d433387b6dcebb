// The callback parameter of the jsonp and htmlfile transports: the name of the function the
// page calls with each frame, read from the request's query as the reference server (Node's
// sockjs 0.3.24) reads it: "c", or "callback" when there is no "c", decoded as Node's
// querystring decodes a query (form_body.hpp; "c=%63allback" is "callback").
#pragma once

#include <string>
#include <string_view>

#include "duplex/core/sockjs/route.hpp"

namespace duplex::core::sockjs {

/// The reference's answers (status 500, this text as the body) when the callback is missing or
/// is not a name it takes.
namespace callback_error {
inline constexpr std::string_view kRequired = "\"callback\" parameter required";
inline constexpr std::string_view kInvalid = "invalid \"callback\" parameter";
}  // namespace callback_error

struct Callback {
  std::string name;        // when ok
  std::string_view error;  // empty, or one of callback_error
  bool ok() const { return error.empty(); }
};

/// Whether the reference takes `name` as the callback of `transport` (jsonp or htmlfile): only
/// ASCII letters, digits, '-', '_' and '.' (the empty name too), and for jsonp at most 32 of
/// them (htmlfile has no limit).
bool is_valid_callback(std::string_view name, Transport transport);

/// The callback of a jsonp or htmlfile request from its query (the part of the target after
/// '?', without it). reference: neither "c" nor "callback" there (a field without '=' counts,
/// with the empty value): kRequired; a name is_valid_callback refuses, or the field given more
/// than once ("c=a&c=b", which the reference reads as "a,b"): kInvalid.
Callback read_callback(std::string_view query, Transport transport);

}  // namespace duplex::core::sockjs
