#include "duplex/server/protocols/random_id.hpp"

#include <sys/random.h>

#include <stdexcept>
#include <string_view>

#include "duplex/core/text/base64.hpp"

namespace duplex::detail {

namespace {
void fill_random(void* out, size_t size) {
  auto* bytes = static_cast<unsigned char*>(out);
  size_t got = 0;
  while (got < size) {
    const ssize_t n = getrandom(bytes + got, size - got, 0);
    if (n < 0) throw std::runtime_error("getrandom failed");
    got += static_cast<size_t>(n);
  }
}
}  // namespace

std::string random_id() {
  unsigned char bytes[15];
  fill_random(bytes, sizeof bytes);
  std::string id =
      core::base64_encode(std::string_view(reinterpret_cast<const char*>(bytes), sizeof bytes));
  for (char& c : id) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return id;
}

uint64_t random_number() {
  uint64_t n;
  fill_random(&n, sizeof n);
  return n;
}

}  // namespace duplex::detail
