#include "duplex/core/ws/sender.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "../support/bytes.hpp"
#include "duplex/core/text/utf8.hpp"
#include "duplex/core/ws/close_codes.hpp"

namespace duplex::core {

namespace {

using test::bytes;

std::string header(Opcode op, uint64_t len, bool fin = true, bool rsv1 = false,
                   const MaskKey* mask = nullptr) {
  char out[kMaxFrameHeader + 8];
  std::memset(out, 0x5A, sizeof(out));
  const size_t n = write_frame_header(out, op, len, fin, rsv1, mask);
  EXPECT_LE(n, kMaxFrameHeader);
  EXPECT_EQ(n, frame_header_size(len, mask != nullptr));
  for (size_t i = n; i < sizeof(out); ++i) EXPECT_EQ(out[i], 0x5A) << "wrote past the header";
  return std::string(out, n);
}

TEST(SenderTest, HeaderLengthsUseMinimalEncoding) {
  EXPECT_EQ(header(Opcode::text, 0), bytes({0x81, 0x00}));
  EXPECT_EQ(header(Opcode::text, 1), bytes({0x81, 0x01}));
  EXPECT_EQ(header(Opcode::text, 125), bytes({0x81, 0x7D}));
  EXPECT_EQ(header(Opcode::text, 126), bytes({0x81, 0x7E, 0x00, 0x7E}));
  EXPECT_EQ(header(Opcode::text, 127), bytes({0x81, 0x7E, 0x00, 0x7F}));
  EXPECT_EQ(header(Opcode::text, 256), bytes({0x81, 0x7E, 0x01, 0x00}));
  EXPECT_EQ(header(Opcode::text, 65535), bytes({0x81, 0x7E, 0xFF, 0xFF}));
  EXPECT_EQ(header(Opcode::text, 65536),
            bytes({0x81, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00}));
  EXPECT_EQ(header(Opcode::binary, uint64_t{1} << 32),
            bytes({0x82, 0x7F, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00}));
  EXPECT_EQ(header(Opcode::binary, 0x0102030405060708ULL),
            bytes({0x82, 0x7F, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}));
  EXPECT_EQ(header(Opcode::binary, (uint64_t{1} << 63) - 1),
            bytes({0x82, 0x7F, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}));
}

TEST(SenderTest, FrameHeaderSize) {
  EXPECT_EQ(frame_header_size(0, false), 2u);
  EXPECT_EQ(frame_header_size(125, false), 2u);
  EXPECT_EQ(frame_header_size(126, false), 4u);
  EXPECT_EQ(frame_header_size(65535, false), 4u);
  EXPECT_EQ(frame_header_size(65536, false), 10u);
  EXPECT_EQ(frame_header_size(uint64_t{1} << 32, false), 10u);
  EXPECT_EQ(frame_header_size(0, true), 6u);
  EXPECT_EQ(frame_header_size(126, true), 8u);
  EXPECT_EQ(frame_header_size(65536, true), 14u);
  EXPECT_EQ(frame_header_size(65536, true), kMaxFrameHeader);
}

TEST(SenderTest, FlagsAndOpcodes) {
  EXPECT_EQ(header(Opcode::continuation, 3, false), bytes({0x00, 0x03}));
  EXPECT_EQ(header(Opcode::continuation, 3, true), bytes({0x80, 0x03}));
  EXPECT_EQ(header(Opcode::text, 3, false), bytes({0x01, 0x03}));
  EXPECT_EQ(header(Opcode::binary, 3, false), bytes({0x02, 0x03}));
  EXPECT_EQ(header(Opcode::binary, 3, true, true), bytes({0xC2, 0x03}));
  EXPECT_EQ(header(Opcode::text, 3, false, true), bytes({0x41, 0x03}));
  EXPECT_EQ(header(Opcode::close, 2), bytes({0x88, 0x02}));
  EXPECT_EQ(header(Opcode::ping, 0), bytes({0x89, 0x00}));
  EXPECT_EQ(header(Opcode::pong, 5), bytes({0x8A, 0x05}));
}

TEST(SenderTest, MaskedHeaders) {
  const MaskKey key{0x37, 0xFA, 0x21, 0x3D};
  EXPECT_EQ(header(Opcode::text, 5, true, false, &key),
            bytes({0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(header(Opcode::text, 0, true, false, &key),
            bytes({0x81, 0x80, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(header(Opcode::binary, 125, true, false, &key),
            bytes({0x82, 0xFD, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(header(Opcode::binary, 126, true, false, &key),
            bytes({0x82, 0xFE, 0x00, 0x7E, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(header(Opcode::binary, 65535, false, true, &key),
            bytes({0x42, 0xFE, 0xFF, 0xFF, 0x37, 0xFA, 0x21, 0x3D}));
  EXPECT_EQ(
      header(Opcode::binary, 65536, true, false, &key),
      bytes({0x82, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x37, 0xFA, 0x21, 0x3D}));
}

TEST(SenderTest, AppendFrame) {
  std::string out = "prefix";
  append_frame(out, Opcode::text, "Hello");
  EXPECT_EQ(out, "prefix" + bytes({0x81, 0x05}) + "Hello");

  out.clear();
  append_frame(out, Opcode::binary, "", false, true);
  EXPECT_EQ(out, bytes({0x42, 0x00}));

  out.clear();
  const std::string big(300, 'b');
  append_frame(out, Opcode::binary, big);
  EXPECT_EQ(out, bytes({0x82, 0x7E, 0x01, 0x2C}) + big);
}

TEST(SenderTest, AppendMaskedFrameRfcExample) {
  // RFC 6455 section 5.7: a single-frame masked text message "Hello".
  std::string out;
  append_masked_frame(out, Opcode::text, "Hello", MaskKey{0x37, 0xFA, 0x21, 0x3D});
  EXPECT_EQ(out, bytes({0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58}));
}

TEST(SenderTest, AppendMaskedFrameRoundTrips) {
  const MaskKey key{0xDE, 0xAD, 0xBE, 0xEF};
  for (size_t len : {0u, 1u, 3u, 4u, 5u, 8u, 33u, 125u, 126u, 1000u, 65535u, 65536u, 70000u}) {
    std::string payload(len, '\0');
    for (size_t i = 0; i < len; ++i) payload[i] = static_cast<char>(i * 7 + 3);
    std::string out = "xy";
    append_masked_frame(out, Opcode::binary, payload, key, false, true);
    const size_t hsize = frame_header_size(len, true);
    ASSERT_EQ(out.size(), 2 + hsize + len);
    EXPECT_EQ(out.substr(2, hsize), header(Opcode::binary, len, false, true, &key));
    std::string body = out.substr(2 + hsize);
    if (len >= 4) {
      EXPECT_NE(body, payload);
    }
    apply_mask(body.data(), body.size(), key);
    EXPECT_EQ(body, payload) << len;
  }
}

std::string close_payload(uint16_t code, std::string_view reason) {
  char out[kMaxControlPayload + 16];
  std::memset(out, 0x5A, sizeof(out));
  const size_t n = write_close_payload(out, code, reason);
  EXPECT_LE(n, kMaxControlPayload);
  for (size_t i = n; i < sizeof(out); ++i) EXPECT_EQ(out[i], 0x5A) << "wrote past the payload";
  return std::string(out, n);
}

TEST(SenderTest, ClosePayload) {
  EXPECT_EQ(close_payload(close_code::kNoStatus, ""), "");
  EXPECT_EQ(close_payload(close_code::kNoStatus, "ignored"), "");
  EXPECT_EQ(close_payload(1000, ""), bytes({0x03, 0xE8}));
  EXPECT_EQ(close_payload(1001, "bye"), bytes({0x03, 0xE9}) + "bye");
  EXPECT_EQ(close_payload(4999, ""), bytes({0x13, 0x87}));
  EXPECT_EQ(close_payload(0xABCD, "x"), bytes({0xAB, 0xCD}) + "x");
}

TEST(SenderTest, ClosePayloadReasonCutAt123Bytes) {
  const std::string exact(123, 'r');
  EXPECT_EQ(close_payload(1000, exact), bytes({0x03, 0xE8}) + exact);
  const std::string longer(124, 'r');
  EXPECT_EQ(close_payload(1000, longer), bytes({0x03, 0xE8}) + exact);
  const std::string huge(5000, 'h');
  EXPECT_EQ(close_payload(1000, huge).size(), 125u);
}

TEST(SenderTest, ClosePayloadCutOnUtf8Boundary) {
  // A multi-byte character straddling byte 123 at every alignment is dropped whole.
  for (const std::string& ch :
       {std::string("\xC3\xA9"), std::string("\xE2\x82\xAC"), std::string("\xF0\x9F\x98\x80")}) {
    for (size_t prefix = 115; prefix <= 123; ++prefix) {
      std::string reason(prefix, 'a');
      while (reason.size() < 200) reason += ch;
      const std::string p = close_payload(1000, reason);
      SCOPED_TRACE(testing::Message() << "char len " << ch.size() << " prefix " << prefix);
      ASSERT_GE(p.size(), 2u);
      const std::string_view cut = std::string_view(p).substr(2);
      EXPECT_LE(cut.size(), 123u);
      EXPECT_GT(cut.size(), 123u - ch.size());
      EXPECT_TRUE(is_valid_utf8(cut));
      EXPECT_EQ(cut, std::string_view(reason).substr(0, cut.size()));
    }
  }
  // Exactly 123 bytes ending in a complete character is kept whole.
  std::string reason(120, 'a');
  reason += "\xE2\x82\xAC";
  EXPECT_EQ(close_payload(1000, reason).substr(2), reason);
}

TEST(SenderTest, FrameInPlace) {
  for (size_t len : {0u, 5u, 125u, 126u, 65535u, 65536u}) {
    SCOPED_TRACE(len);
    const size_t need = frame_header_size(len, false);
    std::string buf(16 + len, 'p');
    char* payload = buf.data() + 16;
    // Enough headroom: exactly the header size, and more.
    for (size_t headroom : {need, size_t{16}}) {
      std::fill(buf.begin(), buf.begin() + 16, 'z');
      char* start = frame_in_place(payload, len, headroom, Opcode::binary);
      ASSERT_NE(start, nullptr);
      EXPECT_EQ(start, payload - need);
      EXPECT_EQ(std::string(start, need), header(Opcode::binary, len));
      EXPECT_EQ(std::string(payload, len), std::string(len, 'p'));
      // Nothing before the frame was touched.
      EXPECT_EQ(std::string(buf.data(), 16 - need), std::string(16 - need, 'z'));
    }
    // Too little headroom.
    std::fill(buf.begin(), buf.begin() + 16, 'z');
    EXPECT_EQ(frame_in_place(payload, len, need - 1, Opcode::binary), nullptr);
    EXPECT_EQ(frame_in_place(payload, len, 0, Opcode::binary), nullptr);
    EXPECT_EQ(std::string(buf.data(), 16), std::string(16, 'z'));
  }
  std::string buf = "..Hi";
  char* start = frame_in_place(buf.data() + 2, 2, 2, Opcode::text);
  ASSERT_EQ(start, buf.data());
  EXPECT_EQ(buf, bytes({0x81, 0x02}) + "Hi");
}

}  // namespace

}  // namespace duplex::core
