#include "duplex/core/text/base64.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdint>

namespace duplex::core {

namespace {

constexpr int8_t kNotBase64 = -1;

// The 6-bit value of each alphabet character, kNotBase64 for every other byte ('=' included).
constexpr std::array<int8_t, 256> kValues = [] {
  std::array<int8_t, 256> values{};
  values.fill(kNotBase64);
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (size_t i = 0; i < kAlphabet.size(); ++i) {
    values[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int8_t>(i);
  }
  return values;
}();

int value_of(char c) { return kValues[static_cast<unsigned char>(c)]; }

}  // namespace

std::string base64_encode(std::string_view data) {
  std::string out;
  append_base64(out, data);
  return out;
}

void append_base64(std::string& out, std::string_view data) {
  if (data.empty()) return;
  const size_t start = out.size();
  const size_t length = 4 * ((data.size() + 2) / 3);
  // EVP_EncodeBlock writes 4 characters per 3 input bytes and a NUL terminator.
  out.resize(start + length + 1);
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data() + start),
                  reinterpret_cast<const unsigned char*>(data.data()),
                  static_cast<int>(data.size()));
  out.resize(start + length);
}

bool append_base64_decoded(std::string& out, std::string_view text) {
  if (text.size() % 4 != 0) return false;
  const size_t start = out.size();
  out.reserve(start + text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    // Padding: "xx==" carries one byte, "xxx=" two, and only the last group may have it.
    size_t padding = 0;
    if (last && text[i + 3] == '=') padding = text[i + 2] == '=' ? 2 : 1;
    uint32_t group = 0;
    for (size_t j = 0; j < 4 - padding; ++j) {
      const int v = value_of(text[i + j]);
      if (v == kNotBase64) {
        out.resize(start);
        return false;
      }
      group = group << 6 | static_cast<uint32_t>(v);
    }
    group <<= 6 * padding;
    // The bits under the padding must be zero: otherwise two texts would give the same bytes.
    const uint32_t unused = padding == 2 ? 0xFFFF : padding == 1 ? 0xFF : 0;
    if ((group & unused) != 0) {
      out.resize(start);
      return false;
    }
    out.push_back(static_cast<char>(group >> 16));
    if (padding < 2) out.push_back(static_cast<char>(group >> 8 & 0xFF));
    if (padding < 1) out.push_back(static_cast<char>(group & 0xFF));
  }
  return true;
}

}  // namespace duplex::core
