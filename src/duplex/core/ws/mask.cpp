#include "duplex/core/ws/mask.hpp"

#include <openssl/rand.h>

#include <cstring>
#include <stdexcept>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace duplex::core {

namespace {

// XORs in place and, when kTrackHighBits, ORs every unmasked byte together so the caller learns
// in the same pass whether any byte is >= 0x80. Returns that OR's high bits (0 when untracked).
template <bool kTrackHighBits>
uint64_t unmask(char* data, size_t len, MaskKey key, size_t offset) {
  // Rotate the key so that byte i of `data` pairs with pattern[i % 8].
  const MaskKey rotated{key[offset & 3], key[(offset + 1) & 3], key[(offset + 2) & 3],
                        key[(offset + 3) & 3]};
  uint8_t pattern[8];
  std::memcpy(pattern, rotated.data(), 4);
  std::memcpy(pattern + 4, rotated.data(), 4);
  uint64_t word_mask;
  std::memcpy(&word_mask, pattern, 8);

  uint64_t seen = 0;
  size_t i = 0;
#if defined(__SSE2__)
  // 32 bytes per step in two 16-byte registers (SSE2 is part of every x86-64).
  const __m128i vector_mask = _mm_set1_epi64x(static_cast<long long>(word_mask));
  __m128i vector_seen = _mm_setzero_si128();
  for (; i + 32 <= len; i += 32) {
    auto* at = reinterpret_cast<__m128i*>(data + i);
    const __m128i a = _mm_xor_si128(_mm_loadu_si128(at), vector_mask);
    const __m128i b = _mm_xor_si128(_mm_loadu_si128(at + 1), vector_mask);
    _mm_storeu_si128(at, a);
    _mm_storeu_si128(at + 1, b);
    if constexpr (kTrackHighBits) vector_seen = _mm_or_si128(vector_seen, _mm_or_si128(a, b));
  }
  if constexpr (kTrackHighBits) seen = _mm_movemask_epi8(vector_seen) != 0 ? 0x80 : 0;
#endif
  for (; i + 8 <= len; i += 8) {
    uint64_t w;
    std::memcpy(&w, data + i, 8);
    w ^= word_mask;
    std::memcpy(data + i, &w, 8);
    if constexpr (kTrackHighBits) seen |= w;
  }
  for (; i < len; ++i) {
    data[i] = static_cast<char>(data[i] ^ pattern[i & 7]);
    if constexpr (kTrackHighBits) seen |= static_cast<uint8_t>(data[i]);
  }
  return seen & 0x8080808080808080ULL;
}

}  // namespace

void apply_mask(char* data, size_t len, MaskKey key, size_t offset) {
  unmask<false>(data, len, key, offset);
}

bool unmask_is_ascii(char* data, size_t len, MaskKey key, size_t offset) {
  return unmask<true>(data, len, key, offset) == 0;
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
