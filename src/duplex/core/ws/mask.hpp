// Client-to-server masking (RFC 6455 section 5.3).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace duplex::core {

using MaskKey = std::array<uint8_t, 4>;

/// XORs `len` bytes in place with the key, starting at key position `offset` (the count of
/// payload bytes of this frame already unmasked), a machine word at a time.
void apply_mask(char* data, size_t len, MaskKey key, size_t offset = 0);

/// apply_mask that also tells, from the same pass, whether every unmasked byte is ASCII
/// (< 0x80): such text needs no further UTF-8 validation.
bool unmask_is_ascii(char* data, size_t len, MaskKey key, size_t offset = 0);

/// A fresh mask key from OpenSSL's CSPRNG (drawn in batches to keep the per-frame cost low).
MaskKey random_mask_key();

}  // namespace duplex::core
