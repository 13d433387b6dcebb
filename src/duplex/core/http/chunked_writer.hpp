// Writing a response body in the chunked transfer coding (RFC 9112 7.1), for responses streamed
// without a Content-Length: each chunk is its size in hex, CRLF, the data and CRLF; the body ends
// with the last chunk "0" CRLF and the CRLF that closes an empty trailer section. No IO; sizes are
// lower-case hex without leading zeros and no extensions or trailers are written.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace duplex::core {

/// Room write_chunk_header needs: 16 hex digits and CRLF.
inline constexpr size_t kMaxChunkHeader = 18;
/// What follows a chunk's data.
inline constexpr std::string_view kChunkEnd = "\r\n";
/// The last chunk and the empty trailer section: the end of a chunked body.
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

/// Writes "<size in hex>\r\n" at `out` (room for kMaxChunkHeader bytes); returns its length. For
/// a caller that sends the data from where it lies: header, data, then kChunkEnd. `size` must not
/// be 0, which would end the body (write kLastChunk for that).
size_t write_chunk_header(char* out, uint64_t size);

/// Appends one chunk holding `data`. Empty data appends nothing, since an empty chunk is the last
/// chunk.
void append_chunk(std::string& out, std::string_view data);

/// Appends kLastChunk.
inline void append_last_chunk(std::string& out) { out.append(kLastChunk); }

}  // namespace duplex::core
