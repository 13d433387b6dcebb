// Internal: unguessable ids for sessions and sockets, as the reference servers make them: 15
// random bytes (from the kernel) as 20 characters of base64url; and random 64-bit numbers.
#pragma once

#include <cstdint>
#include <string>

namespace duplex::detail {

std::string random_id();
uint64_t random_number();

}  // namespace duplex::detail
