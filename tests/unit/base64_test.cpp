#include "duplex/core/text/base64.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace duplex::core {

namespace {

using namespace std::literals;

// The bytes `text` decodes to, or "<refused>" when it does not decode.
std::string decoded(std::string_view text) {
  std::string out;
  if (!append_base64_decoded(out, text)) return "<refused>";
  return out;
}

std::string all_bytes() {
  std::string s;
  for (int b = 0; b < 256; ++b) s.push_back(static_cast<char>(b));
  return s;
}

TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (const auto& [bytes, text] : vectors) {
    EXPECT_EQ(base64_encode(bytes), text);
    EXPECT_EQ(decoded(text), bytes) << text;
  }
}

TEST(Base64Test, AppendsAfterWhatIsThere) {
  std::string out = "b";
  append_base64(out, "\x01\x02\x03"sv);
  EXPECT_EQ(out, "bAQID");
  append_base64(out, "");
  EXPECT_EQ(out, "bAQID");
  std::string bytes = "x";
  ASSERT_TRUE(append_base64_decoded(bytes, "AQID"));
  EXPECT_EQ(bytes, "x\x01\x02\x03"sv);
}

TEST(Base64Test, EveryByteValueAndLengthRoundTrips) {
  const std::string bytes = all_bytes() + all_bytes();
  EXPECT_EQ(base64_encode("\xff\xfe\xfd"sv), "//79");
  EXPECT_EQ(base64_encode("\xfb\xef\xbe"sv), "++++");
  for (size_t n = 0; n <= bytes.size(); ++n) {
    const std::string_view data = std::string_view(bytes).substr(bytes.size() - n);
    const std::string text = base64_encode(data);
    ASSERT_EQ(text.size(), 4 * ((n + 2) / 3));
    ASSERT_EQ(decoded(text), data) << n;
  }
}

TEST(Base64Test, RefusesWhatIsNotCanonical) {
  for (std::string_view text : {
           "Zg"sv,          // no padding
           "Zg="sv,         // short padding
           "Zm9vY"sv,       // a length that is no multiple of 4
           "Z==="sv,        // three padding characters
           "===="sv,        // padding alone
           "Zg==Zm9v"sv,    // padding before the last group
           "Zm=v"sv,        // padding inside a group
           "Zh=="sv,        // the bits under "==" are not zero
           "Zm9="sv,        // the bits under "=" are not zero
           "Zm9v\r\nZg"sv,  // a line break
           " Zm9"sv,        // whitespace
           "Zm 9"sv,        // whitespace inside
           "Zm-v"sv,        // the URL-safe alphabet ("-" and "_")
           "Zm_v"sv,
           "Zm9v\0\0\0\0"sv,  // NUL
       }) {
    std::string out = "kept";
    EXPECT_FALSE(append_base64_decoded(out, text)) << text;
    EXPECT_EQ(out, "kept") << text;
  }
}

TEST(Base64Test, RefusesEveryByteOutsideTheAlphabetAnywhere) {
  const std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    if (alphabet.find(c) != alphabet.npos) continue;
    for (size_t at = 0; at < 8; ++at) {
      std::string text = "Zm9vYmFy";
      text[at] = c;
      // '=' last gives "Zm9vYmF=", refused for the bits under it.
      ASSERT_EQ(decoded(text), "<refused>") << b << " at " << at;
    }
  }
}

}  // namespace

}  // namespace duplex::core
