#include "duplex/core/http/chunked_writer.hpp"

namespace duplex::core {

size_t write_chunk_header(char* out, uint64_t size) {
  constexpr char kHex[] = "0123456789abcdef";
  int digits = 1;
  while (digits < 16 && (size >> (4 * digits)) != 0) ++digits;
  for (int i = 0; i < digits; ++i) out[i] = kHex[(size >> (4 * (digits - 1 - i))) & 0xF];
  out[digits] = '\r';
  out[digits + 1] = '\n';
  return static_cast<size_t>(digits) + 2;
}

void append_chunk(std::string& out, std::string_view data) {
  if (data.empty()) return;
  char header[kMaxChunkHeader];
  out.append(header, write_chunk_header(header, data.size()));
  out.append(data);
  out.append(kChunkEnd);
}

}  // namespace duplex::core
