#include "duplex/core/ws/mask.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

namespace duplex::core {

namespace {

std::string reference_mask(std::string data, MaskKey key, size_t offset) {
  for (size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>(static_cast<uint8_t>(data[i]) ^ key[(offset + i) % 4]);
  }
  return data;
}

std::string random_bytes(std::mt19937& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

TEST(MaskTest, MatchesReferenceForAllLengthsAndOffsets) {
  std::mt19937 rng(1234);
  const std::vector<MaskKey> keys = {
      MaskKey{0x00, 0x00, 0x00, 0x00}, MaskKey{0xFF, 0xFF, 0xFF, 0xFF},
      MaskKey{0x37, 0xFA, 0x21, 0x3D}, MaskKey{0x01, 0x02, 0x04, 0x80}};
  for (const MaskKey& key : keys) {
    for (size_t len = 0; len <= 100; ++len) {
      for (size_t offset = 0; offset < 4; ++offset) {
        const std::string input = random_bytes(rng, len);
        std::string data = input;
        apply_mask(data.data(), data.size(), key, offset);
        ASSERT_EQ(data, reference_mask(input, key, offset))
            << "len " << len << " offset " << offset;
        // Masking is an involution.
        apply_mask(data.data(), data.size(), key, offset);
        ASSERT_EQ(data, input) << "len " << len << " offset " << offset;
      }
    }
  }
}

TEST(MaskTest, UnmaskIsAsciiSeesEveryHighByte) {
  const MaskKey key{0x37, 0xFA, 0x21, 0x3D};
  for (size_t len = 0; len <= 100; ++len) {
    for (size_t offset = 0; offset < 4; ++offset) {
      std::string plain(len, '\0');
      for (size_t i = 0; i < len; ++i) plain[i] = static_cast<char>('!' + (i * 7) % 90);
      std::string masked = reference_mask(plain, key, offset);
      ASSERT_TRUE(unmask_is_ascii(masked.data(), masked.size(), key, offset)) << len;
      ASSERT_EQ(masked, plain);
      // One byte >= 0x80 anywhere (each SIMD lane, word and tail position) is reported.
      for (size_t at = 0; at < len; ++at) {
        for (uint8_t high : {uint8_t{0x80}, uint8_t{0xC3}, uint8_t{0xFF}}) {
          std::string with_high = plain;
          with_high[at] = static_cast<char>(high);
          std::string data = reference_mask(with_high, key, offset);
          ASSERT_FALSE(unmask_is_ascii(data.data(), data.size(), key, offset))
              << "len " << len << " at " << at;
          ASSERT_EQ(data, with_high);
        }
      }
    }
  }
}

TEST(MaskTest, OffsetsAboveThreeWrap) {
  std::mt19937 rng(99);
  const MaskKey key{0x11, 0x22, 0x33, 0x44};
  for (size_t offset : {4u, 5u, 7u, 1001u}) {
    const std::string input = random_bytes(rng, 37);
    std::string data = input;
    apply_mask(data.data(), data.size(), key, offset);
    EXPECT_EQ(data, reference_mask(input, key, offset % 4)) << offset;
  }
}

TEST(MaskTest, UnalignedBuffers) {
  std::mt19937 rng(7);
  const MaskKey key{0xA1, 0xB2, 0xC3, 0xD4};
  std::string storage = random_bytes(rng, 200);
  for (size_t start = 0; start < 8; ++start) {
    for (size_t len : {0u, 1u, 7u, 8u, 9u, 31u, 32u, 33u, 64u, 150u}) {
      std::string copy = storage;
      apply_mask(copy.data() + start, len, key, 1);
      const std::string expected = reference_mask(storage.substr(start, len), key, 1);
      ASSERT_EQ(copy.substr(start, len), expected) << start << "/" << len;
      // Bytes outside the range are untouched.
      ASSERT_EQ(copy.substr(0, start), storage.substr(0, start));
      ASSERT_EQ(copy.substr(start + len), storage.substr(start + len));
    }
  }
}

TEST(MaskTest, ChunkedWithRunningOffsetEqualsOnePass) {
  std::mt19937 rng(42);
  const MaskKey key{0x9C, 0x05, 0xE7, 0x6B};
  for (int round = 0; round < 500; ++round) {
    const size_t len = rng() % 300;
    const std::string input = random_bytes(rng, len);
    std::string whole = input;
    apply_mask(whole.data(), whole.size(), key, 0);

    std::string chunked = input;
    size_t pos = 0;
    size_t offset = 0;  // as a receiver keeps it: mod 4
    while (pos < len) {
      const size_t n = std::min<size_t>(len - pos, rng() % 40);
      apply_mask(chunked.data() + pos, n, key, offset);
      pos += n;
      offset = (offset + n) & 3;
    }
    ASSERT_EQ(chunked, whole) << "round " << round;
  }
}

TEST(MaskTest, RandomKeysDiffer) {
  std::set<MaskKey> keys;
  for (int i = 0; i < 1000; ++i) keys.insert(random_mask_key());
  EXPECT_GT(keys.size(), 1u);
  // 1000 draws of 32 random bits: a collision is possible but many would mean no randomness.
  EXPECT_GT(keys.size(), 990u);
}

}  // namespace

}  // namespace duplex::core
