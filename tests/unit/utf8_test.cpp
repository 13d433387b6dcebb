#include "duplex/core/text/utf8.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "../support/bytes.hpp"

namespace duplex::core {

namespace {

using test::bytes;

// Encodes a code point without any validity checks (surrogates included).
std::string encode(uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
  return s;
}

std::string hex(std::string_view s) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  for (char c : s) {
    const auto b = static_cast<uint8_t>(c);
    if (!out.empty()) out.push_back(' ');
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

std::vector<std::string> valid_cases() {
  std::vector<std::string> v = {
      "",
      "hello, world",
      std::string("\0", 1),
      std::string("a\0b", 3),
      "\x7F",
      bytes({0xC2, 0x80}),                             // U+0080
      bytes({0xC3, 0xA9}),                             // é
      bytes({0xDF, 0xBF}),                             // U+07FF
      bytes({0xE0, 0xA0, 0x80}),                       // U+0800
      bytes({0xE2, 0x82, 0xAC}),                       // €
      bytes({0xED, 0x9F, 0xBF}),                       // U+D7FF, just below the surrogates
      bytes({0xEE, 0x80, 0x80}),                       // U+E000, just above the surrogates
      bytes({0xEF, 0xBF, 0xBE}),                       // U+FFFE
      bytes({0xEF, 0xBF, 0xBF}),                       // U+FFFF
      bytes({0xEF, 0xB7, 0x90}),                       // U+FDD0 (non-character)
      bytes({0xEF, 0xBB, 0xBF}),                       // BOM
      bytes({0xF0, 0x90, 0x80, 0x80}),                 // U+10000
      bytes({0xF0, 0x9F, 0x98, 0x80}),                 // 😀
      bytes({0xF0, 0x9F, 0xBF, 0xBF}),                 // U+1FFFF (non-character)
      bytes({0xF3, 0xBF, 0xBF, 0xBF}),                 // U+FFFFF
      bytes({0xF4, 0x8F, 0xBF, 0xBF}),                 // U+10FFFF
      "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5",  // κόσμε
      "Hello-\xC2\xB5@\xC3\x9F\xC3\xB6\xC3\xA4\xC3\xBC\xC3\xA0\xC3\xA1-UTF-8!!",
      std::string(100, 'x') + "\xE2\x82\xAC" + std::string(17, 'y'),
  };
  return v;
}

struct InvalidCase {
  std::string text;
  size_t first_bad;  // index of the first byte at which a validator must fail
};

std::vector<InvalidCase> invalid_cases() {
  return {
      {bytes({0x80}), 0},  // lone continuation bytes
      {bytes({0xBF}), 0},
      {"ab" + bytes({0x80, 0x80}), 2},
      {bytes({0xC3, 0xA9, 0xA9}), 2},                    // one continuation too many
      {bytes({0xC0, 0x80}), 0},                          // overlong NUL
      {bytes({0xC0, 0xAF}), 0},                          // overlong '/'
      {bytes({0xC1, 0xBF}), 0},                          // overlong U+007F
      {bytes({0xE0, 0x80, 0xAF}), 1},                    // overlong '/'
      {bytes({0xE0, 0x9F, 0xBF}), 1},                    // overlong U+07FF
      {bytes({0xF0, 0x80, 0x80, 0xAF}), 1},              // overlong '/'
      {bytes({0xF0, 0x8F, 0xBF, 0xBF}), 1},              // overlong U+FFFF
      {bytes({0xED, 0xA0, 0x80}), 1},                    // U+D800
      {bytes({0xED, 0xAD, 0xBF}), 1},                    // U+DB7F
      {bytes({0xED, 0xB0, 0x80}), 1},                    // U+DC00
      {bytes({0xED, 0xBF, 0xBF}), 1},                    // U+DFFF
      {bytes({0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80}), 1},  // surrogate pair
      {bytes({0xF4, 0x90, 0x80, 0x80}), 1},              // U+110000
      {bytes({0xF4, 0xBF, 0xBF, 0xBF}), 1},
      {bytes({0xF5, 0x80, 0x80, 0x80}), 0},
      {bytes({0xF7, 0xBF, 0xBF, 0xBF}), 0},
      {bytes({0xF8, 0x88, 0x80, 0x80, 0x80}), 0},  // 5-byte form
      {bytes({0xFC, 0x84, 0x80, 0x80, 0x80, 0x80}), 0},
      {bytes({0xFE}), 0},
      {bytes({0xFF}), 0},
      {bytes({0xC3, 0x41}), 1},  // lead byte followed by ASCII
      {bytes({0xE2, 0x82, 0x41}), 2},
      {bytes({0xF0, 0x9F, 0x98, 0x41}), 3},
      {bytes({0xE2, 0xC3, 0xA9}), 1},  // lead byte where a continuation is due
      {"\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xED\xA0\x80"
       "edited",
       12},
  };
}

// Truncated sequences: invalid as a complete text but not invalid yet as a prefix.
std::vector<std::string> truncated_cases() {
  return {
      bytes({0xC3}),
      bytes({0xE2}),
      bytes({0xE2, 0x82}),
      bytes({0xF0}),
      bytes({0xF0, 0x9F}),
      bytes({0xF0, 0x9F, 0x98}),
      bytes({0xF4, 0x8F, 0xBF}),
      "abc" + bytes({0xE0, 0xA0}),
      std::string(20, 'a') + bytes({0xF0, 0x90, 0x80}),
      bytes({0xED, 0x9F}),
  };
}

// Feeds `text` split at `cuts` (sorted positions) and returns the verdict of a full text.
bool valid_in_pieces(std::string_view text, const std::vector<size_t>& cuts) {
  Utf8Validator v;
  size_t start = 0;
  for (size_t cut : cuts) {
    if (!v.feed(text.substr(start, cut - start))) return false;
    start = cut;
  }
  return v.feed(text.substr(start)) && v.at_boundary();
}

TEST(Utf8Test, ValidTexts) {
  for (const std::string& s : valid_cases()) {
    SCOPED_TRACE(hex(s));
    EXPECT_TRUE(is_valid_utf8(s));
    Utf8Validator v;
    EXPECT_TRUE(v.feed(s));
    EXPECT_TRUE(v.at_boundary());
  }
}

TEST(Utf8Test, InvalidTexts) {
  for (const InvalidCase& c : invalid_cases()) {
    SCOPED_TRACE(hex(c.text));
    EXPECT_FALSE(is_valid_utf8(c.text));
    Utf8Validator v;
    EXPECT_FALSE(v.feed(c.text));
    EXPECT_FALSE(v.at_boundary());
  }
}

TEST(Utf8Test, TruncatedAtEnd) {
  for (const std::string& s : truncated_cases()) {
    SCOPED_TRACE(hex(s));
    EXPECT_FALSE(is_valid_utf8(s));
    Utf8Validator v;
    EXPECT_TRUE(v.feed(s));
    EXPECT_FALSE(v.at_boundary());
  }
}

TEST(Utf8Test, EveryCodePoint) {
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const std::string s = encode(cp);
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    ASSERT_EQ(is_valid_utf8(s), !surrogate) << "U+" << std::hex << cp;
  }
}

TEST(Utf8Test, EveryTwoByteSequence) {
  // Exhaustive over all 2-byte strings: valid exactly when ASCII+ASCII or C2..DF followed by a
  // continuation byte.
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const std::string s = bytes({a, b});
      const bool expected =
          (a < 0x80 && b < 0x80) || (a >= 0xC2 && a <= 0xDF && b >= 0x80 && b <= 0xBF);
      ASSERT_EQ(is_valid_utf8(s), expected) << hex(s);
    }
  }
}

TEST(Utf8Test, SplitAtEveryBoundaryGivesSameVerdict) {
  std::vector<std::pair<std::string, bool>> all;
  for (const auto& s : valid_cases()) all.emplace_back(s, true);
  for (const auto& c : invalid_cases()) all.emplace_back(c.text, false);
  for (const auto& s : truncated_cases()) all.emplace_back(s, false);
  for (const auto& [text, expected] : all) {
    SCOPED_TRACE(hex(text));
    for (size_t cut = 0; cut <= text.size(); ++cut) {
      EXPECT_EQ(valid_in_pieces(text, {cut}), expected) << "cut at " << cut;
    }
    for (size_t a = 0; a <= text.size() && text.size() <= 24; ++a) {
      for (size_t b = a; b <= text.size(); ++b) {
        EXPECT_EQ(valid_in_pieces(text, {a, b}), expected) << "cuts at " << a << ", " << b;
      }
    }
    std::vector<size_t> every;
    for (size_t i = 1; i < text.size(); ++i) every.push_back(i);
    EXPECT_EQ(valid_in_pieces(text, every), expected) << "byte at a time";
  }
}

TEST(Utf8Test, FailsOnTheChunkWithTheFirstBadByte) {
  for (const InvalidCase& c : invalid_cases()) {
    SCOPED_TRACE(hex(c.text));
    // Byte at a time: every feed before the bad byte succeeds, the bad byte's feed fails.
    Utf8Validator v;
    for (size_t i = 0; i < c.text.size(); ++i) {
      const bool ok = v.feed(c.text.substr(i, 1));
      if (i < c.first_bad) {
        ASSERT_TRUE(ok) << "byte " << i;
      } else if (i == c.first_bad) {
        ASSERT_FALSE(ok) << "byte " << i;
      } else {
        ASSERT_FALSE(ok) << "stays failed at byte " << i;
      }
    }
    // Two chunks at every cut: the chunk holding the first bad byte is the one that fails.
    for (size_t cut = 0; cut <= c.text.size(); ++cut) {
      Utf8Validator w;
      const bool first = w.feed(std::string_view(c.text).substr(0, cut));
      EXPECT_EQ(first, cut <= c.first_bad) << "cut at " << cut;
      EXPECT_FALSE(w.feed(std::string_view(c.text).substr(cut))) << "cut at " << cut;
    }
  }
}

TEST(Utf8Test, StaysFailedUntilReset) {
  Utf8Validator v;
  EXPECT_FALSE(v.feed("\xFF"));
  EXPECT_FALSE(v.feed("abc"));
  EXPECT_FALSE(v.feed(""));
  EXPECT_FALSE(v.at_boundary());
  v.reset();
  EXPECT_TRUE(v.at_boundary());
  EXPECT_TRUE(v.feed("abc"));
  EXPECT_TRUE(v.at_boundary());
  // reset() also forgets a pending partial character.
  EXPECT_TRUE(v.feed("\xE2\x82"));
  EXPECT_FALSE(v.at_boundary());
  v.reset();
  EXPECT_TRUE(v.at_boundary());
  EXPECT_FALSE(v.feed("\xAC"));
}

TEST(Utf8Test, EmptyFeedKeepsState) {
  Utf8Validator v;
  EXPECT_TRUE(v.feed(""));
  EXPECT_TRUE(v.at_boundary());
  EXPECT_TRUE(v.feed("\xF0\x9F"));
  EXPECT_TRUE(v.feed(""));
  EXPECT_FALSE(v.at_boundary());
  EXPECT_TRUE(v.feed("\x98\x80"));
  EXPECT_TRUE(v.at_boundary());
}

TEST(Utf8Test, LongAsciiWithBadByteAtEveryOffset) {
  const std::vector<std::string> bad = {bytes({0x80}), bytes({0xFF}), bytes({0xC0, 0x80}),
                                        bytes({0xED, 0xA0, 0x80}), bytes({0xF4, 0x90, 0x80, 0x80})};
  for (const std::string& b : bad) {
    for (size_t offset = 0; offset <= 40; ++offset) {
      for (size_t tail : {size_t{0}, size_t{1}, size_t{7}, size_t{8}, size_t{33}}) {
        std::string text = std::string(offset, 'a') + b + std::string(tail, 'z');
        SCOPED_TRACE(testing::Message() << hex(b) << " at " << offset << " tail " << tail);
        EXPECT_FALSE(is_valid_utf8(text));
        // The same text with the bad sequence replaced by a valid one is accepted.
        std::string good = std::string(offset, 'a') + "\xE2\x82\xAC" + std::string(tail, 'z');
        EXPECT_TRUE(is_valid_utf8(good));
        // Fed as prefix + rest, the prefix of pure ASCII passes.
        Utf8Validator v;
        EXPECT_TRUE(v.feed(std::string_view(text).substr(0, offset)));
        EXPECT_FALSE(v.feed(std::string_view(text).substr(offset)));
      }
    }
  }
  // A high byte in every position of a long run, and valid characters between ASCII words.
  for (size_t offset = 0; offset <= 40; ++offset) {
    std::string text(48, 'q');
    text[offset] = static_cast<char>(0x80);
    EXPECT_FALSE(is_valid_utf8(text)) << offset;
    text[offset] = static_cast<char>(0x7F);
    EXPECT_TRUE(is_valid_utf8(text)) << offset;
  }
  std::string mixed;
  for (int i = 0; i < 20; ++i) mixed += std::string(static_cast<size_t>(i), 'm') + "\xC3\xA9";
  EXPECT_TRUE(is_valid_utf8(mixed));
}

TEST(Utf8Test, TruncatedCharacterInsideLongAscii) {
  // A lead byte whose continuation is an ASCII byte in the following fast-path word.
  for (size_t offset = 0; offset <= 40; ++offset) {
    std::string text = std::string(offset, 'a') + "\xE2\x82" + std::string(16, 'b');
    EXPECT_FALSE(is_valid_utf8(text)) << offset;
  }
}

// Node 20: Buffer.from(hex, 'hex').toString('utf8') for each input, the replacements counted
// as WHATWG's decoder counts them (one U+FFFD per maximal subpart).
TEST(Utf8Test, ReplacingInvalidAsWhatwgDecodes) {
  const std::string r = "\xEF\xBF\xBD";
  const auto replaced = [](std::string_view in) {
    std::string out = "<";
    append_utf8_replacing_invalid(out, in);
    return out;
  };
  EXPECT_EQ(replaced(""), "<");
  EXPECT_EQ(replaced("plain ascii, long enough for a word step"),
            "<plain ascii, long enough for a word step");
  EXPECT_EQ(replaced("\xE2\x82\xAC\xF0\x9F\x98\x80\xC3\xA9\xE0\xA0\x80\xEF\xBF\xBD"),
            "<\xE2\x82\xAC\xF0\x9F\x98\x80\xC3\xA9\xE0\xA0\x80\xEF\xBF\xBD");
  EXPECT_EQ(replaced("\xF0\x9F\x98"), "<" + r);  // cut short at the end
  EXPECT_EQ(replaced("\xF0\x9F\x98"
                     "A"),
            "<" + r + "A");  // cut short by a non-continuation
  EXPECT_EQ(replaced("\xE2\x82"), "<" + r);
  EXPECT_EQ(replaced("\xC3"), "<" + r);
  EXPECT_EQ(replaced("\xC3"
                     "A"),
            "<" + r + "A");
  EXPECT_EQ(replaced("\xED\xA0\x80"), "<" + r + r + r);  // a surrogate: ED takes only 80..9F
  EXPECT_EQ(replaced("\xED\xBF\xBF"), "<" + r + r + r);
  EXPECT_EQ(replaced("\xC0\x80"), "<" + r + r);  // overlong
  EXPECT_EQ(replaced("\xE0\x80"), "<" + r + r);
  EXPECT_EQ(replaced("\xF0\x80\x80\x80"), "<" + r + r + r + r);
  EXPECT_EQ(replaced("\xF4\x90\x80\x80"), "<" + r + r + r + r);  // beyond U+10FFFF
  EXPECT_EQ(replaced("\xFF"), "<" + r);
  EXPECT_EQ(replaced("\xF5"), "<" + r);
  EXPECT_EQ(replaced("\x80"), "<" + r);
  EXPECT_EQ(replaced("a\x80\x80"
                     "b"),
            "<a" + r + r + "b");
  // Every valid text comes out as it went in, and every output is valid.
  for (uint32_t cp = 0; cp <= 0x10FFFF; cp += 7) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    const std::string s = encode(cp);
    ASSERT_EQ(replaced(s), "<" + s) << std::hex << cp;
  }
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const std::string s = bytes({a, b, 'x'});
      std::string out;
      append_utf8_replacing_invalid(out, s);
      ASSERT_TRUE(is_valid_utf8(out)) << hex(s);
      if (is_valid_utf8(s)) {
        ASSERT_EQ(out, s);
      }
    }
  }
}

}  // namespace

}  // namespace duplex::core
