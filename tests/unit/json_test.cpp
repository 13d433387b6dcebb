// core/json: the strict scanner and splitter (JSON.parse's grammar), string unescaping (and
// the way back through core/text/json_string.hpp, JSON.stringify's escapes), numbers as
// JavaScript writes them (what `node -e 'console.log(JSON.stringify(x))'` prints, Node 20) and
// the lazy parse into a value.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "duplex/core/json/js_number.hpp"
#include "duplex/core/json/js_string.hpp"
#include "duplex/core/json/json_scanner.hpp"
#include "duplex/core/json/json_unescape.hpp"
#include "duplex/core/json/json_value.hpp"
#include "duplex/core/text/json_string.hpp"

namespace duplex::core::json {
namespace {

bool valid(std::string_view text) { return scan_json(text).error.empty(); }

std::vector<std::string> split(std::string_view text, size_t skip = 0) {
  std::vector<std::string_view> views;
  const JsonScan scan = scan_json(text, &views, skip);
  EXPECT_EQ(scan.error, "") << text;
  EXPECT_EQ(scan.type, JsonType::array) << text;
  std::vector<std::string> out;
  for (const auto view : views) {
    // Every element is a view of the text itself.
    EXPECT_GE(view.data(), text.data());
    EXPECT_LE(view.data() + view.size(), text.data() + text.size());
    out.emplace_back(view);
  }
  return out;
}

std::string unescaped(std::string_view quoted) {
  std::string out;
  append_unescaped(out, quoted);
  return out;
}

std::string number(double value) {
  std::string out;
  append_js_number(out, value);
  return out;
}

std::string nested(size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }

TEST(JsonScan, AcceptsEveryKindOfValue) {
  for (const char* text : {"null",
                           "true",
                           "false",
                           "0",
                           "-0",
                           "1e5",
                           "1.5E-3",
                           "-12.25e+10",
                           "1E+2",
                           "0.5",
                           "\"\"",
                           "\"a\"",
                           "[]",
                           "{}",
                           "[1,[2,[3]],{\"a\":{\"b\":[]}}]",
                           "{\"a\":1,\"a\":2}",
                           R"("\"\\\/\b\f\n\r\t\u00e9\uD83D\ude00")",
                           "\"caf\xC3\xA9 \xE2\x80\xA8 \xF0\x9F\x98\x80\"",
                           "\"\x7F\"",
                           " \t\r\n[ 1 , { \"k\" : [ ] } ]\n",
                           "123456789012345678901234567890"}) {
    EXPECT_TRUE(valid(text)) << text;
  }
  EXPECT_EQ(scan_json("null").type, JsonType::null);
  EXPECT_EQ(scan_json("false").type, JsonType::boolean);
  EXPECT_EQ(scan_json("-0").type, JsonType::number);
  EXPECT_EQ(scan_json("\"x\"").type, JsonType::string);
  EXPECT_EQ(scan_json(" [ ] ").type, JsonType::array);
  EXPECT_EQ(scan_json("{}").type, JsonType::object);
}

TEST(JsonScan, TakesWhatJsonParseTakesBeyondNlohmann) {
  // JSON.parse('"\ud800"') is a one-unit string and JSON.parse('[1e400]') is [Infinity];
  // nlohmann refuses both.
  EXPECT_TRUE(valid(R"("\ud800")"));
  EXPECT_TRUE(valid(R"(["\udc00x","\uDBFF"])"));
  EXPECT_TRUE(valid("[1e400,-1e400]"));
  EXPECT_FALSE(nlohmann::json::accept(R"("\ud800")"));
  EXPECT_FALSE(nlohmann::json::accept("[1e400]"));
  // And refuses a byte order mark, which JSON.parse refuses too (nlohmann skips it).
  EXPECT_FALSE(valid("\xEF\xBB\xBF[]"));
  EXPECT_TRUE(nlohmann::json::accept("\xEF\xBB\xBF[]"));
}

TEST(JsonScan, RefusesWhatJsonParseRefuses) {
  for (const char* text :
       {"",        " ",        "\n",         "nul",         "nulll",      "tru",        "True",
        "NaN",     "Infinity", "-",          "+1",          "01",         "-01",        "1.",
        ".5",      "1.e3",     "1e",         "1e+",         "0x10",       "1 2",        "[1,]",
        "[,1]",    "[1 2]",    "[",          "]",           "[[]",        "[]]",        "{",
        "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{a:1}",       "{'a':1}",    "{\"a\" 1}",  "{1:2}",
        "\"abc",   "\"a\\\"",  "\"\\x\"",    "\"\\u12G4\"", "\"\\u123\"", "\"\\",       "'a'",
        "[1]x",    "[] []",    "\"a\tb\"",   "\"a\nb\"",    "\x01",       "[\"\x1F\"]", "\v1",
        "\f1",     "[1]\v"}) {
    EXPECT_EQ(scan_json(text).error, json_reason::kNotJson) << text;
  }
  EXPECT_EQ(scan_json(std::string_view("\"a\0b\"", 5)).error, json_reason::kNotJson);
}

TEST(JsonScan, NestsAtMost128Levels) {
  EXPECT_TRUE(valid(nested(kMaxJsonDepth)));
  EXPECT_EQ(scan_json(nested(kMaxJsonDepth + 1)).error, json_reason::kTooDeep);
  std::string objects;
  for (size_t i = 0; i < kMaxJsonDepth; ++i) objects += "{\"a\":";
  EXPECT_TRUE(valid(objects + "1" + std::string(kMaxJsonDepth, '}')));
  EXPECT_EQ(scan_json("{\"a\":" + objects + "1" + std::string(kMaxJsonDepth + 1, '}')).error,
            json_reason::kTooDeep);
  // Mixed levels pop back to the right kind across the 64-level words of the stack.
  std::string mixed;
  for (size_t i = 0; i < 100; ++i) mixed += i % 3 ? "[" : "{\"k\":";
  std::string closing;
  for (size_t i = 100; i-- > 0;) closing += i % 3 ? "]" : "}";
  EXPECT_TRUE(valid(mixed + "0" + closing));
  EXPECT_FALSE(valid(mixed + "0" + closing.substr(1) + "]"));
}

TEST(JsonScan, SplitsTheTopLevelArray) {
  EXPECT_EQ(split("[]"), std::vector<std::string>{});
  EXPECT_EQ(split("[1]"), std::vector<std::string>{"1"});
  EXPECT_EQ(
      split(R"(["a",{"b":[1,2,{"c":"]"}]},[[],[[]]],"x\"],[y",-0,1e5,1.5E-3,true,false,null])"),
      (std::vector<std::string>{"\"a\"", R"({"b":[1,2,{"c":"]"}]})", "[[],[[]]]", R"("x\"],[y")",
                                "-0", "1e5", "1.5E-3", "true", "false", "null"}));
  // Whitespace around elements is not part of them; inside them it is kept.
  EXPECT_EQ(split(" [ \"a\" ,\n{ \"b\" : [ 1 ] }\t, 2 ] "),
            (std::vector<std::string>{"\"a\"", "{ \"b\" : [ 1 ] }", "2"}));
  // `skip` leaves out the first elements (the event name).
  EXPECT_EQ(split(R"(["name",1,"two"])", 1), (std::vector<std::string>{"1", "\"two\""}));
  EXPECT_EQ(split(R"(["name"])", 1), std::vector<std::string>{});
  EXPECT_EQ(split(R"([1,2,3])", 5), std::vector<std::string>{});

  const JsonScan scan = scan_json(R"( [ "na\"me" , 2 ] )");
  EXPECT_EQ(scan.size, 2u);
  EXPECT_EQ(scan.first, R"("na\"me")");
  EXPECT_EQ(scan.first_type, JsonType::string);
  EXPECT_EQ(scan_json("[[1],2]").first_type, JsonType::array);
  EXPECT_EQ(scan_json("[{}]").first_type, JsonType::object);
  EXPECT_EQ(scan_json("[-5]").first, "-5");
  EXPECT_EQ(scan_json("[]").size, 0u);
  EXPECT_EQ(scan_json("[]").first, "");
  // An object's members are not elements.
  std::vector<std::string_view> none;
  EXPECT_EQ(scan_json(R"({"a":[1,2]})", &none).error, "");
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(scan_json(R"({"a":[1,2]})").size, 0u);
}

// Strings of every length up to 40 with one special byte at every place, so that the eight-byte
// steps and the byte loop after them meet every boundary; nlohmann agrees on all of these.
TEST(JsonScan, StringsAtEveryLengthAndOffset) {
  for (size_t length = 0; length <= 40; ++length) {
    const std::string plain(length, 'a');
    EXPECT_TRUE(valid("\"" + plain + "\"")) << length;
    EXPECT_FALSE(valid("\"" + plain)) << length;
    for (size_t at = 0; at < length; ++at) {
      for (const std::string special : {"\\\"", "\\\\", "\\n", "\\u00e9", "\x01", "\"", "\\q",
                                        "\xC3\xA9", "\x7F", "\x1F", " "}) {
        std::string text = "[\"" + plain.substr(0, at) + special + plain.substr(at) + "\"]";
        EXPECT_EQ(valid(text), nlohmann::json::accept(text)) << text;
      }
    }
  }
}

TEST(JsonScan, TruncationsNeverPass) {
  const std::string text =
      R"([ "name\u00e9" , {"a":[1,-2.5e+3,true,false,null,{"b":"c\"d"}]}, [], {}, 0 ])";
  ASSERT_TRUE(valid(text));
  for (size_t n = 0; n < text.size(); ++n) {
    // Every proper prefix lacks the closing bracket, so none is valid.
    EXPECT_FALSE(valid(std::string_view(text).substr(0, n))) << n;
  }
}

TEST(JsonString, Unescapes) {
  EXPECT_EQ(unescaped(R"("")"), "");
  EXPECT_EQ(unescaped(R"("plain")"), "plain");
  EXPECT_EQ(unescaped(R"("\"\\\/\b\f\n\r\t")"), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(unescaped(R"("\u0041\u00e9\u20AC\u2028")"), "A\xC3\xA9\xE2\x82\xAC\xE2\x80\xA8");
  EXPECT_EQ(unescaped(R"("\u0000")"), std::string(1, '\0'));
  EXPECT_EQ(unescaped(R"("\ud83d\ude00!")"), "\xF0\x9F\x98\x80!");  // a pair: one character
  // Lone surrogates keep their code unit in three bytes (WTF-8).
  EXPECT_EQ(unescaped(R"("\ud800")"), "\xED\xA0\x80");
  EXPECT_EQ(unescaped(R"("\udc00\ud800x")"), "\xED\xB0\x80\xED\xA0\x80x");
  EXPECT_EQ(unescaped(R"("\udbff\u0041")"),
            "\xED\xAF\xBF"
            "A");
  EXPECT_EQ(unescaped("\"caf\xC3\xA9\""), "caf\xC3\xA9");
  // Surrogate halves written as WTF-8 in the text make a pair with an escaped half next to them,
  // or with each other, as in JavaScript: JSON.parse('"\ud83d' + '\\ude00"') is one character.
  EXPECT_EQ(unescaped("\"\xED\xA0\xBD\\ude00\""), "\xF0\x9F\x98\x80");
  EXPECT_EQ(unescaped("\"\\ud83d\xED\xB8\x80!\""), "\xF0\x9F\x98\x80!");
  EXPECT_EQ(unescaped("\"a\xED\xA0\xBD\xED\xB8\x80\xED\xA0\x80\""),
            "a\xF0\x9F\x98\x80\xED\xA0\x80");
  // A low half before a high one, or halves apart, stay as they are.
  EXPECT_EQ(unescaped("\"\xED\xB8\x80\\ud83d\""), "\xED\xB8\x80\xED\xA0\xBD");
  EXPECT_EQ(unescaped("\"\\ud83d \xED\xB8\x80\""), "\xED\xA0\xBD \xED\xB8\x80");
  // Only what this literal adds is joined: a half already in `out` stays.
  std::string out = "\xED\xA0\xBD";
  append_unescaped(out, R"("\ude00")");
  EXPECT_EQ(out, "\xED\xA0\xBD\xED\xB8\x80");
}

TEST(JsonString, WritesAsJsonStringify) {
  // node: JSON.stringify("\u0000\u0001\b\f\n\r\t\u001f\u007f\"\\/\u2028\u2029é😀")
  static constexpr char kAll[] =
      "\0\x01\b\f\n\r\t\x1F\x7F\"\\/\xE2\x80\xA8\xE2\x80\xA9\xC3\xA9\xF0\x9F\x98\x80";
  std::string out;
  append_json_string(out, std::string_view(kAll, sizeof kAll - 1));
  EXPECT_EQ(out,
            "\"\\u0000\\u0001\\b\\f\\n\\r\\t\\u001f\x7F\\\"\\\\/\xE2\x80\xA8\xE2\x80\xA9"
            "\xC3\xA9\xF0\x9F\x98\x80\"");
  // node: JSON.stringify("\ud800x\udbff") is "\ud800x\udbff" (escaped, lowercase).
  out.clear();
  append_json_string(out, "\xED\xA0\x80x\xED\xAF\xBF");
  EXPECT_EQ(out, R"("\ud800x\udbff")");
  // U+D7FF (ED 9F BF) is an ordinary character; a cut or broken surrogate form is copied.
  out.clear();
  append_json_string(out, "\xED\x9F\xBF|\xED\xA0|\xED");
  EXPECT_EQ(out, "\"\xED\x9F\xBF|\xED\xA0|\xED\"");
  // Unescaping then writing gives JSON.stringify(JSON.parse(text)).
  out.clear();
  append_json_string(out, unescaped(R"("\u0041\/\ud83d\ude00\udc00\u001F\u2028")"));
  EXPECT_EQ(out, "\"A/\xF0\x9F\x98\x80\\udc00\\u001f\xE2\x80\xA8\"");
}

// node: for (const x of [...]) console.log(String(JSON.parse(x)))
TEST(JsString, AsJavaScriptsString) {
  const auto js = [](std::string_view json) {
    EXPECT_TRUE(valid(json)) << json;
    std::string out = "<";
    append_js_string(out, json);
    return out.substr(1);
  };
  EXPECT_EQ(js(R"("a\u00e9\n")"), "a\xC3\xA9\n");
  EXPECT_EQ(js(R"( "x" )"), "x");
  EXPECT_EQ(js(R"("\ud800")"), "\xED\xA0\x80");
  EXPECT_EQ(js("true"), "true");
  EXPECT_EQ(js("false"), "false");
  EXPECT_EQ(js("null"), "null");
  EXPECT_EQ(js("0"), "0");
  EXPECT_EQ(js("-0"), "0");
  EXPECT_EQ(js("1.50"), "1.5");
  EXPECT_EQ(js("1E+2"), "100");
  EXPECT_EQ(js("-12.5e-1"), "-1.25");
  EXPECT_EQ(js("12345678901234567890"), "12345678901234567000");
  EXPECT_EQ(js("0.1e-6"), "1e-7");
  EXPECT_EQ(js("1e21"), "1e+21");
  // Beyond a double: JSON.parse gives an infinity or zero.
  EXPECT_EQ(js("1e400"), "Infinity");
  EXPECT_EQ(js("-1e400"), "-Infinity");
  EXPECT_EQ(js("1.7976931348623159e308"), "Infinity");
  EXPECT_EQ(js("1e-400"), "0");
  EXPECT_EQ(js("-1e-400"), "0");
  EXPECT_EQ(js("2e-324"), "0");
  EXPECT_EQ(js("3e-324"), "5e-324");
  EXPECT_EQ(js("0.000000000000000000001e-400"), "0");
  EXPECT_EQ(js("100000000000000000000e300"), "Infinity");
  EXPECT_EQ(js("0.00001e310"), "1e+305");
  EXPECT_EQ(js("1e99999999999999999999"), "Infinity");
  EXPECT_EQ(js("1e-99999999999999999999"), "0");
  EXPECT_EQ(js("0e99999"), "0");
  // Objects, whatever they hold.
  EXPECT_EQ(js("{}"), "[object Object]");
  EXPECT_EQ(js(R"({"a":[1,{"b":"}"}],"c":"]"})"), "[object Object]");
  // Arrays: join(","), null as "".
  EXPECT_EQ(js("[]"), "");
  EXPECT_EQ(js("[[]]"), "");
  EXPECT_EQ(js("[[],[]]"), ",");
  EXPECT_EQ(js("[null]"), "");
  EXPECT_EQ(js("[null,null]"), ",");
  EXPECT_EQ(js(R"([1,[2,[]],null,"a"])"), "1,2,,,a");
  EXPECT_EQ(js(R"( [ "a,b" , [ "c" , { "d" : [ ] } ] , true , -0 , 1e400 ] )"),
            "a,b,c,[object Object],true,0,Infinity");
  EXPECT_EQ(js(R"(["[\"]\"",{}])"), "[\"]\",[object Object]");
}

TEST(JsString, OfEachElement) {
  std::vector<std::string> out = {"kept"};
  append_js_strings_of_elements(out, R"( [ "a" , 1 , null , [ null , "b" ] , {} , [] ] )");
  EXPECT_EQ(out, (std::vector<std::string>{"kept", "a", "1", "null", ",b", "[object Object]", ""}));
  out.clear();
  append_js_strings_of_elements(out, "[]");
  EXPECT_TRUE(out.empty());
  append_js_strings_of_elements(out, " [ ] ");
  EXPECT_TRUE(out.empty());
  append_js_strings_of_elements(out, R"([""])");
  EXPECT_EQ(out, std::vector<std::string>{""});
}

TEST(JsNumber, NumbersAsJavaScriptWritesThem) {
  // node: for (const x of [...]) console.log(JSON.stringify(x))
  EXPECT_EQ(number(1e21), "1e+21");
  EXPECT_EQ(number(999999999999999900000.0), "999999999999999900000");
  EXPECT_EQ(number(1e20), "100000000000000000000");
  EXPECT_EQ(number(123456789012345680000.0), "123456789012345680000");
  EXPECT_EQ(number(1e-7), "1e-7");
  EXPECT_EQ(number(1.5e-7), "1.5e-7");
  EXPECT_EQ(number(0.000001), "0.000001");
  EXPECT_EQ(number(0.0000015), "0.0000015");
  EXPECT_EQ(number(-0.0), "0");
  EXPECT_EQ(number(0.0), "0");
  EXPECT_EQ(number(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(number(5e-324), "5e-324");
  EXPECT_EQ(number(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(number(9007199254740992.0), "9007199254740992");
  EXPECT_EQ(number(-1.5), "-1.5");
  EXPECT_EQ(number(100.0), "100");
  EXPECT_EQ(number(1.25e-5), "0.0000125");
  EXPECT_EQ(number(1.23e-18), "1.23e-18");
  EXPECT_EQ(number(123.456), "123.456");
  EXPECT_EQ(number(-1e-7), "-1e-7");
  EXPECT_EQ(number(1e301), "1e+301");
  EXPECT_EQ(number(0.1), "0.1");
  EXPECT_EQ(number(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(number(2.5e-6), "0.0000025");
  EXPECT_EQ(number(1.5e21), "1.5e+21");
  EXPECT_EQ(number(-2e22), "-2e+22");
  EXPECT_EQ(number(4.35), "4.35");
  EXPECT_EQ(number(1e100), "1e+100");
  EXPECT_EQ(number(12345.678e10), "123456780000000");
  // JSON.stringify(NaN), JSON.stringify(-Infinity)
  EXPECT_EQ(number(std::nan("")), "null");
  EXPECT_EQ(number(-std::numeric_limits<double>::infinity()), "null");
}

TEST(JsonValue, ParsesOnDemand) {
  const auto value = parse_json(R"({"text":"hi","n":[1,2.5,-3,18446744073709551615]})");
  ASSERT_TRUE(value);
  EXPECT_EQ((*value)["text"], "hi");
  EXPECT_TRUE((*value)["n"][0].is_number_integer());
  EXPECT_TRUE((*value)["n"][3].is_number_unsigned());
  EXPECT_EQ(parse_json(" 7 "), Json(7));
  EXPECT_FALSE(parse_json("[1,"));
  EXPECT_FALSE(parse_json(""));
  // Valid to JSON.parse (and to scan_json) but beyond what nlohmann holds.
  EXPECT_FALSE(parse_json(R"("\ud800")"));
  EXPECT_FALSE(parse_json("1e400"));
}

}  // namespace
}  // namespace duplex::core::json
