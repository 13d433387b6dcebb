// What SockJS clients send (core/sockjs/messages.hpp, form_body.hpp). "reference:" notes give
// what Node's sockjs 0.3.24 answers to the same body (its status and text) and which messages
// its echo service then sends back, from requests against it running under Node 20.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/sockjs/form_body.hpp"
#include "duplex/core/sockjs/messages.hpp"

namespace duplex::core::sockjs {
namespace {

using Messages = std::vector<std::string>;

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

// Decodes with `decode` and expects it to be accepted.
template <class Decode>
Messages accepted(Decode decode, std::string_view input) {
  Messages out = {"kept"};
  const MessagesResult result = decode(input, out);
  EXPECT_TRUE(result.ok) << input << ": " << result.error;
  EXPECT_EQ(result.error, "");
  EXPECT_FALSE(out.empty());
  if (!out.empty()) {
    EXPECT_EQ(out.front(), "kept");  // appended after what was there
    out.erase(out.begin());
  }
  return out;
}

// Decodes with `decode`, expects it to be refused, and that nothing was appended.
template <class Decode>
std::string_view refused(Decode decode, std::string_view input) {
  Messages out = {"kept"};
  const MessagesResult result = decode(input, out);
  EXPECT_FALSE(result.ok) << input;
  EXPECT_EQ(out, Messages{"kept"}) << input;
  return result.error;
}

const auto kXhr = [](std::string_view body, Messages& out) { return decode_messages(body, out); };
const auto kWs = [](std::string_view text, Messages& out) { return decode_ws_message(text, out); };
const auto kWsBinary = [](std::string_view bytes, Messages& out) {
  return decode_ws_binary_message(bytes, out);
};
const auto kForm = [](std::string_view body, Messages& out) {
  return decode_jsonp_send("application/x-www-form-urlencoded", body, out);
};
const auto kJsonpText = [](std::string_view body, Messages& out) {
  return decode_jsonp_send("text/plain", body, out);
};

TEST(SockJsMessages, XhrSendBodies) {
  // sockjs-protocol: ["x"] is 204 and echoed; `["x` and "" are 500 with these texts.
  EXPECT_EQ(accepted(kXhr, R"(["x"])"), Messages{"x"});
  EXPECT_EQ(refused(kXhr, R"(["x)"), error_text::kBrokenJson);
  EXPECT_EQ(refused(kXhr, ""), error_text::kPayloadExpected);
  // reference: [] is a 204 that sends nothing.
  EXPECT_EQ(accepted(kXhr, "[]"), Messages{});
  EXPECT_EQ(accepted(kXhr, R"( [ "a" , "b" ] )"), (Messages{"a", "b"}));
  EXPECT_EQ(accepted(kXhr, "\t\r\n[\"a\"]\n"), Messages{"a"});
  // reference: JSON that is not an array is "Payload expected.", whatever it is.
  for (const char* body : {"{}", R"({"a":["x"]})", R"("x")", R"("")", "0", "1", "-1.5", "null",
                           "true", "false", R"( "[\"x\"]" )"}) {
    EXPECT_EQ(refused(kXhr, body), error_text::kPayloadExpected) << body;
  }
  // reference: what JSON.parse refuses is "Broken JSON encoding.".
  for (const char* body : {" ", "\n", "[", "]", "[1,]", "[\"a\",]", "['a']", "[\"a\"]x", "[] []",
                           "\xEF\xBB\xBF[]", "[NaN]", "[\"\t\"]", "{\"__proto__\":[]", "x"}) {
    EXPECT_EQ(refused(kXhr, body), error_text::kBrokenJson) << body;
  }
}

TEST(SockJsMessages, ElementsThatAreNotStrings) {
  // reference: each element goes to the application as the value it is; its echo writes back
  // String(value).
  EXPECT_EQ(accepted(kXhr, "[1, 1.50, -0, 1e400, -1e400, 1e-400, 12345678901234567890]"),
            (Messages{"1", "1.5", "0", "Infinity", "-Infinity", "0", "12345678901234567000"}));
  EXPECT_EQ(accepted(kXhr,
                     "[1E+2, -0.0, 0.1e-6, 1e21, 123456789012345678901234567890, 5e-324, "
                     "2e-324, 1.7976931348623159e308, 0.000001]"),
            (Messages{"100", "0", "1e-7", "1e+21", "1.2345678901234568e+29", "5e-324", "0",
                      "Infinity", "0.000001"}));
  EXPECT_EQ(accepted(kXhr, "[null,true,false]"), (Messages{"null", "true", "false"}));
  EXPECT_EQ(accepted(kXhr, R"([{},{"a":1},[1,[2,3],null,[]],[[]]])"),
            (Messages{"[object Object]", "[object Object]", "1,2,3,,", ""}));
  EXPECT_EQ(accepted(kXhr, R"([[["x"]], [[], [null]], [{"a":[1,2]}, "y"]])"),
            (Messages{"x", ",", "[object Object],y"}));
  EXPECT_EQ(accepted(kXhr, R"([["a,b", "c\"]"], {"}":"]"}, "z"])"),
            (Messages{"a,b,c\"]", "[object Object]", "z"}));
}

TEST(SockJsMessages, WhereTheReferenceTakesAnObjectForAnArray) {
  // reference: {"__proto__":[]} passes its array check (204, no message), and
  // {"__proto__":null} makes it throw (500 "500 - Internal Server Error"). Not here.
  EXPECT_EQ(refused(kXhr, R"({"__proto__":[]})"), error_text::kPayloadExpected);
  EXPECT_EQ(refused(kXhr, R"({"__proto__":[],"length":2,"0":"a"})"), error_text::kPayloadExpected);
  EXPECT_EQ(refused(kXhr, R"({"__proto__":null})"), error_text::kPayloadExpected);
  // reference: any depth (130 levels is a 204 and the message ""); here 128 levels at most.
  const std::string deep = std::string(128, '[') + std::string(128, ']');
  EXPECT_EQ(accepted(kXhr, deep), Messages{""});
  EXPECT_EQ(refused(kXhr, "[" + deep + "]"), error_text::kBrokenJson);
}

TEST(SockJsMessages, UnescapesExactly) {
  EXPECT_EQ(accepted(kXhr, R"(["a\"b", "\\", "\/", "\b\f\n\r\t", "\u0000"])"),
            (Messages{"a\"b", "\\", "/", "\b\f\n\r\t", std::string(1, '\0')}));
  // reference:
  // ["\u2028\u200c\ud83d\ude00\ud800x\udc00\u0000\n\u007f\ufff0\uffff\u206f\u2060\u205f"] is echoed
  // as the same escapes (U+205F and U+007F as themselves): the pair one character, the lone
  // surrogates kept.
  EXPECT_EQ(accepted(kXhr, R"(["\u2028\u200c\ud83d\ude00\ud800x\udc00\u0000\n\u007f\ufff0)"
                           R"(\uffff\u206f\u2060\u205f"])"),
            Messages{std::string("\xE2\x80\xA8\xE2\x80\x8C\xF0\x9F\x98\x80\xED\xA0\x80x\xED\xB0"
                                 "\x80\0\n\x7F\xEF\xBF\xB0\xEF\xBF\xBF\xE2\x81\xAF\xE2\x81\xA0"
                                 "\xE2\x81\x9F",
                                 35)});
  EXPECT_EQ(
      accepted(kXhr, R"(["\uD83D\uDE00", "\ud83d\ude00\ud83d", "\ude00\ud83d"])"),
      (Messages{"\xF0\x9F\x98\x80", "\xF0\x9F\x98\x80\xED\xA0\xBD", "\xED\xB8\x80\xED\xA0\xBD"}));
  EXPECT_EQ(accepted(kXhr, "[\"caf\xC3\xA9 \xF0\x9F\x98\x80\"]"),
            Messages{"caf\xC3\xA9 \xF0\x9F\x98\x80"});
}

TEST(SockJsMessages, BodiesThatAreNotUtf8) {
  // reference: the body is read as UTF-8, each invalid sequence one U+FFFD.
  std::string five;
  for (int i = 0; i < 5; ++i) five += kReplacement;
  EXPECT_EQ(accepted(kXhr, "[\"\xFF\x80\xED\xA0\x80\xC3\xA9\"]"), Messages{five + "\xC3\xA9"});
  EXPECT_EQ(accepted(kXhr, "[\"\xF0\x9F\x98\"]"), Messages{std::string(kReplacement)});
  EXPECT_EQ(refused(kXhr, "[\"a\"]\xFF"), error_text::kBrokenJson);
}

TEST(SockJsMessages, XhrSendContentTypes) {
  // sockjs-protocol: these content types are all read.
  for (const char* type :
       {"text/plain", "T", "application/json", "application/xml", "",
        "application/json; charset=utf-8", "text/xml; charset=utf-8", "text/xml", "text/plain;"}) {
    Messages out;
    EXPECT_TRUE(decode_xhr_send(type, R"(["a"])", out).ok) << type;
    EXPECT_EQ(out, Messages{"a"}) << type;
  }
  // reference: any other is "Payload expected." (the type is compared up to ';', exactly).
  for (const char* type : {"application/x-www-form-urlencoded", "Text/Plain", "TEXT/PLAIN",
                           "application/json ;charset=utf-8", " text/plain", "text/html", "t"}) {
    Messages out;
    const MessagesResult result = decode_xhr_send(type, R"(["a"])", out);
    EXPECT_FALSE(result.ok) << type;
    EXPECT_EQ(result.error, error_text::kPayloadExpected) << type;
    EXPECT_TRUE(out.empty());
  }
  Messages out;
  EXPECT_EQ(decode_xhr_send("text/plain", R"(["a)", out).error, error_text::kBrokenJson);
}

TEST(SockJsMessages, WebSocketMessages) {
  // sockjs-protocol: an empty message is ignored, ["a"] is echoed, `["a` closes the WebSocket.
  EXPECT_EQ(accepted(kWs, R"(["a"])"), Messages{"a"});
  {
    Messages out;
    EXPECT_TRUE(decode_ws_message("", out).ok);
    EXPECT_TRUE(out.empty());
  }
  // reference: closed with 3000 "Broken framing." for all of these.
  EXPECT_EQ(kBrokenFramingCode, 3000);
  EXPECT_EQ(kBrokenFramingReason, "Broken framing.");
  for (const char* text : {R"(["a)", "x", " ", "[1,]", "\xEF\xBB\xBF\"a\""}) {
    EXPECT_EQ(refused(kWs, text), error_text::kBrokenJson) << text;
  }
  // reference: one message for any JSON that does not start with '['.
  EXPECT_EQ(accepted(kWs, R"("x")"), Messages{"x"});
  EXPECT_EQ(accepted(kWs, R"("")"), Messages{""});
  EXPECT_EQ(accepted(kWs, "1"), Messages{"1"});
  EXPECT_EQ(accepted(kWs, "null"), Messages{"null"});
  EXPECT_EQ(accepted(kWs, "{}"), Messages{"[object Object]"});
  EXPECT_EQ(accepted(kWs, R"( ["a","b"])"), Messages{"a,b"});
  EXPECT_EQ(accepted(kWs, R"( "x" )"), Messages{"x"});
  // reference: an array's elements, each a message.
  EXPECT_EQ(accepted(kWs, R"(["a","b"])"), (Messages{"a", "b"}));
  EXPECT_EQ(accepted(kWs, "[1,[2]]"), (Messages{"1", "2"}));
  EXPECT_EQ(accepted(kWs, R"([""])"), Messages{""});
  EXPECT_EQ(accepted(kWs, "[ ]"), Messages{});
}

TEST(SockJsMessages, WebSocketBinaryMessages) {
  // reference: never split (its '[' test reads a byte's number).
  EXPECT_EQ(accepted(kWsBinary, R"(["a","b"])"), Messages{"a,b"});
  EXPECT_EQ(accepted(kWsBinary, R"("x")"), Messages{"x"});
  EXPECT_EQ(accepted(kWsBinary, "\"\xFF\""), Messages{std::string(kReplacement)});
  Messages out;
  EXPECT_TRUE(decode_ws_binary_message("", out).ok);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(refused(kWsBinary, "[\"a"), error_text::kBrokenJson);
}

TEST(SockJsMessages, JsonpSendForms) {
  // sockjs-protocol: d=%5B%22x%22%5D is "ok" and echoed; d=%5B%22x is broken; "", "d=" and
  // "p=p" are "Payload expected.".
  EXPECT_EQ(accepted(kForm, "d=%5B%22x%22%5D"), Messages{"x"});
  EXPECT_EQ(accepted(kForm, "d=%5B%22abc%22%5D"), Messages{"abc"});
  EXPECT_EQ(refused(kForm, "d=%5B%22x"), error_text::kBrokenJson);
  for (const char* body : {"", "d=", "p=p", "d", "&", "d+=[\"sp\"]", "D=[\"x\"]", "d=\"\"",
                           "d=\"[\\\"x\\\"]\"", "d=1", "d={}"}) {
    EXPECT_EQ(refused(kForm, body), error_text::kPayloadExpected) << body;
  }
  // reference: the field decoded ('+' a space, %XX, its name too), then read as JSON.
  EXPECT_EQ(accepted(kForm, R"(d=["a+b%2Bc"])"), Messages{"a b+c"});
  EXPECT_EQ(accepted(kForm, R"(%64=["k"])"), Messages{"k"});
  EXPECT_EQ(accepted(kForm, R"(x=1&d=["y"]&z)"), Messages{"y"});
  EXPECT_EQ(accepted(kForm, "d=[1]"), Messages{"1"});
  // reference: given twice or more, the field is an array of strings: each one a message, as
  // it is (not read as JSON), an empty one too.
  EXPECT_EQ(accepted(kForm, R"(d=["a"]&d=["b"])"), (Messages{R"(["a"])", R"(["b"])"}));
  EXPECT_EQ(accepted(kForm, "d=a&d=b"), (Messages{"a", "b"}));
  EXPECT_EQ(accepted(kForm, R"(d=["1"]&d=)"), (Messages{R"(["1"])", ""}));
  EXPECT_EQ(accepted(kForm, R"(d=["a"]&d)"), (Messages{R"(["a"])", ""}));
  // The content type is compared up to ';', exactly.
  Messages out;
  EXPECT_TRUE(
      decode_jsonp_send("application/x-www-form-urlencoded;charset=utf-8", "d=[\"x\"]", out).ok);
  EXPECT_EQ(out, Messages{"x"});
  out.clear();
  EXPECT_EQ(
      decode_jsonp_send("application/x-www-form-urlencoded ;charset=utf-8", "d=[\"x\"]", out).error,
      error_text::kPayloadExpected);
  EXPECT_EQ(decode_jsonp_send("application/json", "[\"x\"]", out).error,
            error_text::kPayloadExpected);
  EXPECT_TRUE(out.empty());
}

TEST(SockJsMessages, JsonpSendPlainBodies) {
  // sockjs-protocol: a text/plain body ["%61bc"] is the message "%61bc" (no form decoding).
  EXPECT_EQ(accepted(kJsonpText, R"(["%61bc"])"), Messages{"%61bc"});
  EXPECT_EQ(accepted(kJsonpText, R"(["x"])"), Messages{"x"});
  // reference: a JSON string is read again as the JSON it holds, once.
  EXPECT_EQ(accepted(kJsonpText, R"("[\"x\"]")"), Messages{"x"});
  EXPECT_EQ(accepted(kJsonpText, R"( "[\"x\"]" )"), Messages{"x"});
  EXPECT_EQ(refused(kJsonpText, R"("x")"), error_text::kBrokenJson);
  EXPECT_EQ(refused(kJsonpText, R"("[\"x\"")"), error_text::kBrokenJson);
  EXPECT_EQ(refused(kJsonpText, R"("")"), error_text::kPayloadExpected);
  EXPECT_EQ(refused(kJsonpText, R"("\"[\\\"x\\\"]\"")"), error_text::kPayloadExpected);
  EXPECT_EQ(refused(kJsonpText, "d=%5B%22x%22%5D"), error_text::kBrokenJson);
  EXPECT_EQ(refused(kJsonpText, ""), error_text::kPayloadExpected);
  EXPECT_EQ(refused(kJsonpText, " "), error_text::kBrokenJson);
  EXPECT_EQ(refused(kJsonpText, "{}"), error_text::kPayloadExpected);
  // reference: a lone surrogate escape read out of the outer string and an escaped one in the
  // text it holds are one pair, echoed as \ud83d\ude00; apart they stay two.
  EXPECT_EQ(accepted(kJsonpText, R"("[\"\ud83d\\ude00\"]")"), Messages{"\xF0\x9F\x98\x80"});
  EXPECT_EQ(accepted(kJsonpText, R"("[\"\ud83d\", \"\\ude00\"]")"),
            (Messages{"\xED\xA0\xBD", "\xED\xB8\x80"}));
  // No Content-Type is text/plain.
  Messages out;
  EXPECT_TRUE(decode_jsonp_send("", R"(["x"])", out).ok);
  EXPECT_EQ(out, Messages{"x"});
}

TEST(SockJsForm, Payload) {
  EXPECT_EQ(form_payload("d=%5B%22x%22%5D"), "[\"x\"]");
  EXPECT_EQ(form_payload("d="), "");
  EXPECT_EQ(form_payload("d"), "");
  EXPECT_EQ(form_payload(""), std::nullopt);
  EXPECT_EQ(form_payload("p=p"), std::nullopt);
  EXPECT_EQ(form_payload("dd=1&d1=2"), std::nullopt);
  EXPECT_EQ(form_payload("d=1&d=2"), "1");  // the first (decode_jsonp_send takes both)
  EXPECT_EQ(form_payload("a=1&d=x=y&b"), "x=y");
}

// What Node's querystring.parse(body).d gives (reference: the same bodies through jsonp_send).
TEST(SockJsForm, DecodesAsTheReference) {
  const auto d = [](std::string_view body) {
    const auto payload = form_payload(body);
    EXPECT_TRUE(payload) << body;
    return payload.value_or("(none)");
  };
  // '+' and %XX.
  EXPECT_EQ(d("d=a+b%2Bc"), "a b+c");
  EXPECT_EQ(d("d=%41%42%43"), "ABC");
  EXPECT_EQ(d("d=%c3%a9%C3%A9"), "\xC3\xA9\xC3\xA9");
  EXPECT_EQ(d("d=%F0%9F%98%80"), "\xF0\x9F\x98\x80");
  EXPECT_EQ(d("d=%26%3D%25%2B"), "&=%+");
  EXPECT_EQ(d("d=a=b"), "a=b");
  EXPECT_EQ(d("d=+%20+"), "   ");
  // Bad % sequences: kept as they are, the good escapes beside them decoded as bytes.
  EXPECT_EQ(d("d=%zz"), "%zz");
  EXPECT_EQ(d("d=%"), "%");
  EXPECT_EQ(d("d=%4"), "%4");
  EXPECT_EQ(d("d=%41%"), "A%");
  EXPECT_EQ(d("d=%41%4"), "A%4");
  EXPECT_EQ(d("d=%4g%41"), "%4gA");
  EXPECT_EQ(d("d=%%41"), "%A");
  EXPECT_EQ(d("d=%C3%A9%zz"), "\xC3\xA9%zz");
  // Escapes that are not UTF-8: each bad sequence one U+FFFD.
  const std::string r(kReplacement);
  EXPECT_EQ(d("d=%E9"), r);
  EXPECT_EQ(d("d=%ED%A0%80"), r + r + r);
  EXPECT_EQ(d("d=%C0%80"), r + r);
  EXPECT_EQ(d("d=%F0%9F%98"), r);
  EXPECT_EQ(d("d=a%FFb%41"), "a" + r + "bA");
  // Without a valid %XX nothing is decoded, non-ASCII characters included.
  EXPECT_EQ(d("d=\xC3\xA9%zz"), "\xC3\xA9%zz");
  EXPECT_EQ(d("d=\xC3\xA9%"), "\xC3\xA9%");
  EXPECT_EQ(d("d=\xC3\xA9%41"),
            "\xC3\xA9"
            "A");  // decodeURIComponent takes it
  // With one, and a bad one beside it, every character becomes its UTF-16 unit's low byte:
  // reference: "\u00e9%4+1" gives "\ufffd%4 1" (a '+' between the hex digits still counts
  // as an escape for the check), "\u0161%41%" gives "aA%", "\u{1F600}%41%" gives "=\0A%".
  EXPECT_EQ(d("d=\xC3\xA9%4+1"), r + "%4 1");
  EXPECT_EQ(d("d=%4+1\xC3\xA9"), "%4 1" + r);
  EXPECT_EQ(d("d=\xC5\xA1%41%"), "aA%");
  EXPECT_EQ(d("d=\xF0\x9F\x98\x80%41%"), std::string("=\0A%", 4));
  // A body that is not UTF-8: U+FFFD first, then the decoding.
  EXPECT_EQ(d("d=[\"\xFF\"]"), "[\"" + r + "\"]");
  EXPECT_EQ(d("d=[%22%ff%22]"), "[\"" + r + "\"]");
  // Names are decoded too, with '+' a space; a name's escape check stops at a '+'.
  EXPECT_EQ(form_values("%64=1&d%2B=2&d+=3&%64%=4", "d", FormText::body), (Messages{"1"}));
  EXPECT_EQ(form_values("%64=1&d%2B=2&d+=3", "d+", FormText::body), (Messages{"2"}));
  EXPECT_EQ(form_values("%64=1&d%2B=2&d+=3", "d ", FormText::body), (Messages{"3"}));
  EXPECT_EQ(form_values("%64%=4&%6=5&%%64=6", "d%", FormText::body), (Messages{"4"}));
  EXPECT_EQ(form_values("%64%=4&%6=5&%%64=6", "%6", FormText::body), (Messages{"5"}));
  EXPECT_EQ(form_values("%64%=4&%6=5&%%64=6", "%d", FormText::body), (Messages{"6"}));
}

TEST(SockJsForm, PiecesAsTheReferenceSplitsThem) {
  const auto values = [](std::string_view text) { return form_values(text, "d", FormText::body); };
  EXPECT_EQ(values("d=1&&d=2&"), (Messages{"1", "2"}));
  EXPECT_EQ(values("&d"), Messages{""});
  EXPECT_EQ(values("d&d="), (Messages{"", ""}));
  EXPECT_EQ(values("=&d=="), Messages{"="});
  // reference: only the first 1,000 pieces count, empty ones included.
  std::string body;
  for (int i = 0; i < 999; ++i) body += "a=1&";
  EXPECT_EQ(values(body + "d=x"), Messages{"x"});
  EXPECT_EQ(values("a&" + body + "d=x"), Messages{});
  body.clear();
  for (int i = 0; i < 999; ++i) body += "&";
  EXPECT_EQ(values(body + "d=x"), Messages{"x"});
  EXPECT_EQ(values(body + "&d=x"), Messages{});
  // A query's bytes are characters of their own: no UTF-8 replacement, and their low byte is
  // themselves.
  EXPECT_EQ(form_values("d=\xC5\xA1%41%", "d", FormText::query), Messages{"\xC5\xA1"
                                                                          "A%"});
  EXPECT_EQ(form_values("d=\xFF", "d", FormText::query), Messages{"\xC3\xBF"});
}

}  // namespace
}  // namespace duplex::core::sockjs
