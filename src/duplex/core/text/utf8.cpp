#include "duplex/core/text/utf8.hpp"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace duplex::core {

namespace {
constexpr uint64_t kHighBits = 0x8080808080808080ULL;

// ASCII runs are the common case: returns the first position in [p, end) that may hold a byte
// >= 0x80, skipping 32 bytes (SSE2, part of every x86-64) or 8 bytes at a time.
const unsigned char* skip_ascii(const unsigned char* p, const unsigned char* end) {
#if defined(__SSE2__)
  while (end - p >= 32) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16));
    if (_mm_movemask_epi8(_mm_or_si128(a, b)) != 0) break;
    p += 32;
  }
#endif
  while (end - p >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    if (word & kHighBits) break;
    p += 8;
  }
  return p;
}
}  // namespace

bool Utf8Validator::feed(std::string_view chunk) {
  if (failed_) return false;
  const auto* p = reinterpret_cast<const unsigned char*>(chunk.data());
  const auto* end = p + chunk.size();
  while (p < end) {
    if (need_ == 0) {
      p = skip_ascii(p, end);
      if (p == end) break;
      const unsigned char b = *p++;
      if (b < 0x80) continue;
      lo_ = 0x80;
      hi_ = 0xBF;
      if (b >= 0xC2 && b <= 0xDF) {
        need_ = 1;
      } else if (b >= 0xE0 && b <= 0xEF) {
        need_ = 2;
        if (b == 0xE0) lo_ = 0xA0;  // overlong
        if (b == 0xED) hi_ = 0x9F;  // surrogates
      } else if (b >= 0xF0 && b <= 0xF4) {
        need_ = 3;
        if (b == 0xF0) lo_ = 0x90;  // overlong
        if (b == 0xF4) hi_ = 0x8F;  // beyond U+10FFFF
      } else {
        failed_ = true;  // 80-C1 (continuation or overlong lead) and F5-FF
        return false;
      }
    } else {
      const unsigned char b = *p++;
      if (b < lo_ || b > hi_) {
        failed_ = true;
        return false;
      }
      --need_;
      lo_ = 0x80;
      hi_ = 0xBF;
    }
  }
  return true;
}

bool is_valid_utf8(std::string_view text) {
  Utf8Validator v;
  return v.feed(text) && v.at_boundary();
}

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

void append_utf8_replacing_invalid(std::string& out, std::string_view bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  const auto* const begin = reinterpret_cast<const unsigned char*>(bytes.data());
  const auto* const end = begin + bytes.size();
  const auto* p = begin;
  const auto* copied = begin;  // start of the bytes not yet appended
  while (p < end) {
    p = skip_ascii(p, end);
    if (p == end) break;
    const unsigned char lead = *p;
    if (lead < 0x80) {
      ++p;
      continue;
    }
    // The continuation bytes the lead byte needs, and the range of the first one.
    int need = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      need = 1;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      need = 2;
      if (lead == 0xE0) lo = 0xA0;
      if (lead == 0xED) hi = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      need = 3;
      if (lead == 0xF0) lo = 0x90;
      if (lead == 0xF4) hi = 0x8F;
    }
    const auto* q = p + 1;
    int got = 0;
    while (got < need && q < end && *q >= lo && *q <= hi) {
      ++q;
      ++got;
      lo = 0x80;
      hi = 0xBF;
    }
    if (need > 0 && got == need) {
      p = q;
      continue;
    }
    out.append(reinterpret_cast<const char*>(copied), static_cast<size_t>(p - copied));
    out += kReplacement;
    p = q;  // the lead and the continuation bytes that could follow it
    copied = p;
  }
  out.append(reinterpret_cast<const char*>(copied), static_cast<size_t>(end - copied));
}

}  // namespace duplex::core
