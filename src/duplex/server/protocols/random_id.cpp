#include "duplex/server/protocols/random_id.hpp"

#include <sys/random.h>

#include <stdexcept>
#include <string_view>

#include "duplex/core/text/base64.hpp"

namespace duplex::detail {

std::string random_id() {
  unsigned char bytes[15];
  size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) throw std::runtime_error("getrandom failed");
    got += static_cast<size_t>(n);
  }
  std::string id =
      core::base64_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  for (char& c : id) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return id;
}

}  // namespace duplex::detail
