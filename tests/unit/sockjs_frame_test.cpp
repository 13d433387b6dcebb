// SockJS frames (core/sockjs/frame.hpp) and each HTTP transport's framing of them
// (transport_framing.hpp). "reference:" values are what Node's sockjs 0.3.24 writes (its
// utils.quote for messages, and its answers, read with curl).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/sockjs/frame.hpp"
#include "duplex/core/sockjs/messages.hpp"
#include "duplex/core/sockjs/transport_framing.hpp"
#include "duplex/core/text/utf8.hpp"

namespace duplex::core::sockjs {
namespace {

// A code point in UTF-8, and a surrogate in its three WTF-8 bytes.
std::string utf8(uint32_t cp) {
  std::string s;
  append_utf8(s, cp);
  return s;
}

std::string quote_of(std::string_view message) {
  std::string out;
  append_quoted(out, message);
  return out;
}

TEST(SockJsFrame, QuotesEveryBoundaryOfTheEscapedRanges) {
  // reference: utils.quote(String.fromCodePoint(cp)); "out" is a character copied as it is.
  struct Case {
    uint32_t cp;
    const char* quoted;  // nullptr: the character itself between quotes
  };
  const Case cases[] = {
      // JSON.stringify's own: control characters, '"', '\\'; '/' and U+007F are not escaped.
      {0x00, R"("\u0000")"},
      {0x08, R"("\b")"},
      {0x09, R"("\t")"},
      {0x0A, R"("\n")"},
      {0x0C, R"("\f")"},
      {0x0D, R"("\r")"},
      {0x1F, R"("\u001f")"},
      {0x20, nullptr},
      {0x22, R"("\"")"},
      {0x2F, nullptr},
      {0x5C, R"("\\")"},
      {0x7F, nullptr},
      {0x80, nullptr},
      {0xAD, nullptr},
      {0x7FF, nullptr},
      {0x800, nullptr},
      // U+200C-U+200F
      {0x200B, nullptr},
      {0x200C, R"("\u200c")"},
      {0x200F, R"("\u200f")"},
      {0x2010, nullptr},
      // U+2028-U+202F
      {0x2027, nullptr},
      {0x2028, R"("\u2028")"},
      {0x2029, R"("\u2029")"},
      {0x202F, R"("\u202f")"},
      {0x2030, nullptr},
      // U+2060-U+206F
      {0x205F, nullptr},
      {0x2060, R"("\u2060")"},
      {0x206F, R"("\u206f")"},
      {0x2070, nullptr},
      // the surrogates, lone (WTF-8)
      {0xD7FF, nullptr},
      {0xD800, R"("\ud800")"},
      {0xDBFF, R"("\udbff")"},
      {0xDC00, R"("\udc00")"},
      {0xDFFF, R"("\udfff")"},
      {0xE000, nullptr},
      // U+FFF0-U+FFFF
      {0xFEFF, nullptr},
      {0xFFEF, nullptr},
      {0xFFF0, R"("\ufff0")"},
      {0xFFFD, R"("\ufffd")"},
      {0xFFFF, R"("\uffff")"},
      // beyond U+FFFF, as the two surrogates of the pair
      {0x10000, R"("\ud800\udc00")"},
      {0x1F600, R"("\ud83d\ude00")"},
      {0x10FFFF, R"("\udbff\udfff")"},
  };
  for (const Case& c : cases) {
    const std::string message = utf8(c.cp);
    const std::string expected = c.quoted ? std::string(c.quoted) : "\"" + message + "\"";
    EXPECT_EQ(quote_of(message), expected) << std::hex << c.cp;
    // The same within text, at the start, in the middle and at the end.
    const std::string inner = expected.substr(1, expected.size() - 2);
    EXPECT_EQ(quote_of("ab" + message + "cd"), "\"ab" + inner + "cd\"") << std::hex << c.cp;
    EXPECT_EQ(quote_of(message + "0123456789"), "\"" + inner + "0123456789\"") << std::hex << c.cp;
    EXPECT_EQ(quote_of("0123456789" + message), "\"0123456789" + inner + "\"") << std::hex << c.cp;
  }
}

TEST(SockJsFrame, QuotesMessagesWhole) {
  EXPECT_EQ(quote_of(""), R"("")");
  EXPECT_EQ(quote_of("hello"), R"("hello")");
  // reference: utils.quote('"\\/\b\f\n\r\t\u0000')
  EXPECT_EQ(quote_of(std::string("\"\\/\b\f\n\r\t\0", 9)), R"("\"\\/\b\f\n\r\t\u0000")");
  // Several escaped characters, and plain ones between them, after a long plain run.
  EXPECT_EQ(quote_of(std::string(40, 'x') + "caf\xC3\xA9\xE2\x80\xA8-\xF0\x9F\x98\x80\xEF\xBF\xBF" +
                     "\xE2\x80\x8B"),
            "\"" + std::string(40, 'x') + "caf\xC3\xA9\\u2028-\\ud83d\\ude00\\uffff\xE2\x80\x8B\"");
  // reference: utils.quote('\ude00\ud83d') (lone surrogates, the low one first).
  EXPECT_EQ(quote_of("\xED\xB8\x80\xED\xA0\xBD"), R"("\ude00\ud83d")");
  // A pair held as two WTF-8 halves is written as the character would be.
  EXPECT_EQ(quote_of("\xED\xA0\xBD\xED\xB8\x80"), R"("\ud83d\ude00")");
  // Bytes that are not UTF-8 are copied, a cut escaped character too.
  EXPECT_EQ(quote_of("\xFF\xE2\x80"), "\"\xFF\xE2\x80\"");
  EXPECT_EQ(quote_of("\xF0\x9F\x98"), "\"\xF0\x9F\x98\"");
  EXPECT_EQ(quote_of("\xF4\x90\x80\x80"), "\"\xF4\x90\x80\x80\"");  // beyond U+10FFFF
  // Appends.
  std::string out = "a[";
  append_quoted(out, "\xE2\x80\xA8");
  EXPECT_EQ(out, "a[\"\\u2028\"");
}

TEST(SockJsFrame, Frames) {
  EXPECT_EQ(kOpenFrame, "o");
  EXPECT_EQ(kHeartbeatFrame, "h");
  std::string out;
  append_message_frame(out, "x");
  EXPECT_EQ(out, R"(a["x"])");
  out.clear();
  append_message_frame(out, "\xE2\x80\xA8\"");
  EXPECT_EQ(out, R"(a["\u2028\""])");

  const std::string a = quote_of("a");
  const std::string b = quote_of("b\n");
  const std::vector<std::string_view> two = {a, b};
  out.clear();
  append_array_frame(out, two);
  EXPECT_EQ(out, R"(a["a","b\n"])");
  out.clear();
  append_array_frame(out, std::span<const std::string_view>());
  EXPECT_EQ(out, "a[]");

  // reference: 'c' + JSON.stringify([3000, 'Go away!']), and the reason's escapes are
  // JSON.stringify's only: U+2028 stays, a lone surrogate is \ud800.
  out.clear();
  append_close_frame(out, 3000, "Go away!");
  EXPECT_EQ(out, R"(c[3000,"Go away!"])");
  out.clear();
  append_close_frame(out, 3000, "Go \xE2\x80\xA8 \xED\xA0\x80 \x01 \"away\"");
  EXPECT_EQ(out, "c[3000,\"Go \xE2\x80\xA8 \\ud800 \\u0001 \\\"away\\\"\"]");
  out.clear();
  append_close_frame(out, kAnotherConnectionCode, kAnotherConnectionReason);
  EXPECT_EQ(out, R"(c[2010,"Another connection still open"])");
  out.clear();
  append_close_frame(out, kNormalClosureCode, kNormalClosureReason);
  EXPECT_EQ(out, R"(c[1000,"Normal closure"])");
  out.clear();
  append_close_frame(out, 0, "");
  EXPECT_EQ(out, R"(c[0,""])");
  out.clear();
  append_close_frame(out, 65535, "x");
  EXPECT_EQ(out, R"(c[65535,"x"])");
}

// Quoting what was decoded and decoding it again gives it back, whatever the characters.
TEST(SockJsFrame, QuotedMessagesDecodeToThemselves) {
  std::vector<std::string> messages = {"", "plain", std::string("\0\x1F\"\\/", 5)};
  for (uint32_t cp = 0x80; cp <= 0x10FFFF; cp += cp < 0x10000 ? 1 : 97) {
    messages.back() += utf8(cp);
    // Surrogates as lone WTF-8 halves: a '.' keeps each from the next (a high half right before
    // a low one is a pair, which reads back as its four-byte character).
    if (cp >= 0xD800 && cp <= 0xDFFF) messages.back() += '.';
    if (messages.back().size() > 4000) messages.emplace_back();
  }
  std::vector<std::string> quotes;
  for (const std::string& m : messages) quotes.push_back(quote_of(m));
  const std::vector<std::string_view> views(quotes.begin(), quotes.end());
  std::string frame;
  append_array_frame(frame, views);
  ASSERT_EQ(frame.substr(0, 1), "a");
  std::vector<std::string> decoded;
  ASSERT_TRUE(decode_messages(std::string_view(frame).substr(1), decoded).ok);
  EXPECT_EQ(decoded, messages);
}

TEST(SockJsTransportFraming, Xhr) {
  std::string out;
  append_xhr_frame(out, "o");
  append_xhr_frame(out, R"(a["x"])");
  EXPECT_EQ(out, "o\na[\"x\"]\n");
  out.clear();
  append_xhr_streaming_prelude(out);
  // reference: Array(2049).join('h') + '\n'
  EXPECT_EQ(out.size(), kXhrStreamingPreludeSize);
  EXPECT_EQ(out, std::string(2048, 'h') + "\n");
}

TEST(SockJsTransportFraming, EventSource) {
  EXPECT_EQ(kEventSourcePrelude, "\r\n");
  std::string out;
  append_eventsource_frame(out, "o");
  EXPECT_EQ(out, "data: o\r\n\r\n");
  // reference: a message "100% \u2028 %25" comes as data: a["100%25 \u2028 %2525"]
  out.clear();
  std::string frame;
  append_message_frame(frame, "100% \xE2\x80\xA8 %25");
  append_eventsource_frame(out, frame);
  EXPECT_EQ(out, "data: a[\"100%25 \\u2028 %2525\"]\r\n\r\n");
  out.clear();
  append_eventsource_frame(out, std::string("%\r\n\0x%", 6));
  EXPECT_EQ(out, "data: %25%0D%0A%00x%25\r\n\r\n");
}

TEST(SockJsTransportFraming, Htmlfile) {
  // reference: GET .../htmlfile?c=callback, the first chunk (sockjs-protocol's HtmlFile test
  // holds the page without its padding).
  const std::string head =
      "<!doctype html>\n"
      "<html><head>\n"
      "  <meta http-equiv=\"X-UA-Compatible\" content=\"IE=edge\" />\n"
      "  <meta http-equiv=\"Content-Type\" content=\"text/html; charset=UTF-8\" />\n"
      "</head><body><h2>Don't panic!</h2>\n"
      "  <script>\n"
      "    document.domain = document.domain;\n"
      "    var c = parent.callback;\n"
      "    c.start();\n"
      "    function p(d) {c.message(d);};\n"
      "    window.onload = function() {c.stop();};\n"
      "  </script>";
  std::string out;
  append_htmlfile_prelude(out, "callback");
  ASSERT_EQ(out.size(), 1035u);  // reference: 1,035 bytes for "callback", 1,028 for "x"
  EXPECT_EQ(out, head + std::string(1035 - 4 - head.size(), ' ') + "\r\n\r\n");
  out.clear();
  append_htmlfile_prelude(out, "x");
  EXPECT_EQ(out.size(), 1028u);
  EXPECT_NE(out.find("var c = parent.x;\n"), std::string::npos);
  out.clear();
  append_htmlfile_prelude(out, "");
  EXPECT_EQ(out.size(), 1027u);

  out.clear();
  append_htmlfile_frame(out, "o");
  EXPECT_EQ(out, "<script>\np(\"o\");\n</script>\r\n");
  out.clear();
  append_htmlfile_frame(out, R"(a["x"])");
  EXPECT_EQ(out, "<script>\np(\"a[\\\"x\\\"]\");\n</script>\r\n");
  // "</script>" in a message does not end the block (the reference loses such a message).
  out.clear();
  append_htmlfile_frame(out, R"(a["</script><!--"])");
  EXPECT_EQ(out, "<script>\np(\"a[\\\"\\u003c/script>\\u003c!--\\\"]\");\n</script>\r\n");
}

TEST(SockJsTransportFraming, Jsonp) {
  std::string out;
  append_jsonp_frame(out, "callback", "o");
  EXPECT_EQ(out, "/**/callback(\"o\");\r\n");
  // reference: the message "100% \u2028 \r\n é" through jsonp_send, then GET jsonp?c=cb
  out.clear();
  std::string frame;
  append_message_frame(frame, "100% \xE2\x80\xA8 \r\n \xC3\xA9");
  append_jsonp_frame(out, "cb", frame);
  EXPECT_EQ(out, "/**/cb(\"a[\\\"100% \\\\u2028 \\\\r\\\\n \xC3\xA9\\\"]\");\r\n");
  out.clear();
  append_jsonp_frame(out, "x", R"(c[3000,"Go away!"])");
  EXPECT_EQ(out, "/**/x(\"c[3000,\\\"Go away!\\\"]\");\r\n");
}

}  // namespace
}  // namespace duplex::core::sockjs
