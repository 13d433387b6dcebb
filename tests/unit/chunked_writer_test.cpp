#include "duplex/core/http/chunked_writer.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "duplex/core/http/body_reader.hpp"

namespace duplex::core {
namespace {

std::string chunk_header(uint64_t size) {
  char out[kMaxChunkHeader];
  return std::string(out, write_chunk_header(out, size));
}

TEST(ChunkedWriterTest, ChunkHeaders) {
  EXPECT_EQ(chunk_header(1), "1\r\n");
  EXPECT_EQ(chunk_header(15), "f\r\n");
  EXPECT_EQ(chunk_header(16), "10\r\n");
  EXPECT_EQ(chunk_header(255), "ff\r\n");
  EXPECT_EQ(chunk_header(4096), "1000\r\n");
  EXPECT_EQ(chunk_header(0x123456789abcdef0), "123456789abcdef0\r\n");
  EXPECT_EQ(chunk_header(UINT64_MAX), "ffffffffffffffff\r\n");
  EXPECT_EQ(chunk_header(UINT64_MAX).size(), kMaxChunkHeader);
}

TEST(ChunkedWriterTest, AppendsChunksAndTheLastChunk) {
  std::string out = "head";
  append_chunk(out, "hello");
  append_chunk(out, "");  // nothing: an empty chunk would end the body
  append_chunk(out, std::string(26, 'q'));
  append_last_chunk(out);
  EXPECT_EQ(out, "head5\r\nhello\r\n1a\r\n" + std::string(26, 'q') + "\r\n0\r\n\r\n");
}

TEST(ChunkedWriterTest, RoundTripsThroughTheBodyReader) {
  std::string wire;
  std::string body;
  for (const size_t size : {1, 15, 16, 255, 256, 4096, 70000}) {
    std::string data;
    for (size_t i = 0; i < size; ++i) data.push_back(static_cast<char>(i * 7 + size));
    append_chunk(wire, data);
    body += data;
  }
  append_last_chunk(wire);
  BodyReader reader(BodyFraming::chunked());
  std::string read;
  const BodyResult r =
      read_body(reader, wire + "NEXT", [&](std::string_view d) { read.append(d); });
  EXPECT_EQ(r.status, BodyStatus::complete);
  EXPECT_EQ(r.consumed, wire.size());
  EXPECT_EQ(read, body);

  std::string small;
  append_chunk(small, "Hello, ");
  append_chunk(small, "chunked\r\n0\r\n\r\n world");
  append_last_chunk(small);
  // Split at every byte boundary.
  for (size_t split = 0; split < small.size(); ++split) {
    BodyReader split_reader(BodyFraming::chunked());
    std::string pieces;
    const auto append = [&](std::string_view d) { pieces.append(d); };
    const std::string first = small.substr(0, split);
    const BodyResult r1 = read_body(split_reader, first, append);
    ASSERT_EQ(r1.status, BodyStatus::need_more) << split;
    const BodyResult r2 = read_body(split_reader, small.substr(split) + "NEXT", append);
    EXPECT_EQ(r2.status, BodyStatus::complete) << split;
    EXPECT_EQ(r1.consumed + r2.consumed, small.size()) << split;
    EXPECT_EQ(pieces, "Hello, chunked\r\n0\r\n\r\n world") << split;
  }
}

}  // namespace
}  // namespace duplex::core
