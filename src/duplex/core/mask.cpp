#include "duplex/core/mask.hpp"

#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>

namespace duplex::core {

void apply_mask(char* data, size_t len, MaskKey key, size_t offset) {
  // Rotate the key so that byte i of `data` pairs with pattern[i % 8].
  uint8_t pattern[8];
  for (size_t i = 0; i < 8; ++i) pattern[i] = key[(offset + i) & 3];
  uint64_t word_mask;
  std::memcpy(&word_mask, pattern, 8);

  size_t i = 0;
  for (; i + 32 <= len; i += 32) {
    uint64_t w[4];
    std::memcpy(w, data + i, 32);
    w[0] ^= word_mask;
    w[1] ^= word_mask;
    w[2] ^= word_mask;
    w[3] ^= word_mask;
    std::memcpy(data + i, w, 32);
  }
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= word_mask;
    std::memcpy(data + i, &w, 8);
  }
  for (; i < len; ++i) data[i] = static_cast<char>(data[i] ^ pattern[i & 7]);
}

MaskKey random_mask_key() {
  // One RAND_bytes call per 64 keys; the pool is per thread so no locking is needed.
  thread_local uint8_t pool[256];
  thread_local size_t used = sizeof(pool);
  if (used == sizeof(pool)) {
    if (RAND_bytes(pool, sizeof(pool)) != 1) throw std::runtime_error("RAND_bytes failed");
    used = 0;
  }
  MaskKey key;
  std::memcpy(key.data(), pool + used, 4);
  used += 4;
  return key;
}

}  // namespace duplex::core
