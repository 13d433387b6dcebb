#include "duplex/core/text/base64.hpp"

#include <openssl/evp.h>

#include <vector>

namespace duplex::core {

std::string base64_encode(std::string_view data) {
  // EVP_EncodeBlock writes 4 characters per 3 input bytes and a NUL terminator.
  std::vector<unsigned char> out(4 * ((data.size() + 2) / 3) + 1);
  const int n = EVP_EncodeBlock(out.data(), reinterpret_cast<const unsigned char*>(data.data()),
                                static_cast<int>(data.size()));
  return std::string(reinterpret_cast<const char*>(out.data()), n > 0 ? static_cast<size_t>(n) : 0);
}

}  // namespace duplex::core
