// The shape of an Engine.IO session id (the "sid" of the open packet and of every later
// request's query), so that a server can refuse junk before looking one up.
#pragma once

#include <cstddef>
#include <string_view>

namespace duplex::core::engineio {

inline constexpr size_t kMaxSidBytes = 64;

/// True for 1 to kMaxSidBytes characters of A-Z a-z 0-9 '_' '-' (Node's engine.io makes 20 of
/// them: 15 random bytes in base64 with '_' for '/' and '-' for '+').
bool valid_sid(std::string_view sid);

}  // namespace duplex::core::engineio
