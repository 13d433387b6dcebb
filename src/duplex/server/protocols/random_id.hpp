// Internal: unguessable ids for sessions and sockets, as the reference servers make them: 15
// random bytes (from the kernel) as 20 characters of base64url.
#pragma once

#include <string>

namespace duplex::detail {

std::string random_id();

}  // namespace duplex::detail
