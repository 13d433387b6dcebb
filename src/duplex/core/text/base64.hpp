// Base64 (RFC 4648) encoding for handshake keys and proxy credentials, through OpenSSL.
#pragma once

#include <string>
#include <string_view>

namespace duplex::core {

std::string base64_encode(std::string_view data);

}  // namespace duplex::core
