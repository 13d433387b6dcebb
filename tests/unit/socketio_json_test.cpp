// The JSON writer of core/socketio (JSON.stringify byte for byte, binary values as
// placeholders). Expected texts are what `node -e 'console.log(JSON.stringify(...))'` (Node 20)
// prints for the same values. The scanner, the numbers and the value type are core/json's
// (json_test.cpp).
#include <gtest/gtest.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "duplex/core/json/json_value.hpp"
#include "duplex/core/socketio/json_writer.hpp"

namespace duplex::core::socketio {
namespace {

using json::Json;
using json::parse_json;

std::string written(const Json& value) {
  std::string out;
  write_json(out, value);
  return out;
}

TEST(SocketIoJsonWriter, ValuesAsJsonStringify) {
  EXPECT_EQ(written(Json()), "null");
  EXPECT_EQ(written(Json(true)), "true");
  EXPECT_EQ(written(Json::array({1, -2, 3.5, "x", nullptr, false})),
            R"([1,-2,3.5,"x",null,false])");
  EXPECT_EQ(written(Json::array()), "[]");
  EXPECT_EQ(written(Json::object()), "{}");
  EXPECT_EQ(written(Json(std::numeric_limits<int64_t>::min())), "-9223372036854775808");
  EXPECT_EQ(written(Json(std::numeric_limits<uint64_t>::max())), "18446744073709551615");
  EXPECT_EQ(written(Json(2.0)), "2");
  Json object;  // insertion order, not sorted
  object["z"] = 1;
  object["a"] = Json::array({Json::object({{"y", "\x07"}, {"x", -0.5}})});
  object["m"] = "caf\xC3\xA9";
  EXPECT_EQ(written(object), R"({"z":1,"a":[{"y":"\u0007","x":-0.5}],"m":"café"})");
  // Parsed text keeps its order too, and a repeated key its first place with its last value:
  // node: JSON.stringify(JSON.parse('{"b":1,"a":2,"b":3}')) is {"b":3,"a":2}
  EXPECT_EQ(written(*parse_json(R"({"b":1,"a":2,"b":3})")), R"({"b":3,"a":2})");
  EXPECT_EQ(written(*parse_json(" [ 1 , -0 , 1e5 , 1.5E-3 , 1E+2 , 0.5 ] ")),
            "[1,0,100000,0.0015,100,0.5]");
  // Array-index keys first, ascending, as JavaScript orders an object's keys. node:
  // JSON.stringify({"b":1,"10":2,"a":[true,false,null],"2":{"y":"\u0007","x":-0.5},"01":3,
  //                 "-1":4,"4294967295":5,"4294967294":6})
  EXPECT_EQ(
      written(*parse_json(R"({"b":1,"10":2,"a":[true,false,null],"2":{"y":"\u0007","x":-0.5},)"
                          R"("01":3,"-1":4,"4294967295":5,"4294967294":6})")),
      R"({"2":{"y":"\u0007","x":-0.5},"10":2,"4294967294":6,"b":1,"a":[true,false,null],)"
      R"("01":3,"-1":4,"4294967295":5})");
  EXPECT_EQ(written(Json(Json::value_t::discarded)), "null");
}

TEST(SocketIoJsonWriter, BinaryValuesBecomePlaceholders) {
  Json value = Json::array({"x", Json::binary({1, 2}),
                            Json::object({{"a", Json::binary({3})}, {"0", Json::binary({})}})});
  std::vector<std::string_view> buffers;
  std::string out;
  write_json(out, value, &buffers);
  // Depth first, keys in JavaScript's order: "0" before "a".
  EXPECT_EQ(out, R"(["x",{"_placeholder":true,"num":0},)"
                 R"({"0":{"_placeholder":true,"num":1},"a":{"_placeholder":true,"num":2}}])");
  ASSERT_EQ(buffers.size(), 3u);
  EXPECT_EQ(buffers[0], std::string_view("\x01\x02", 2));
  EXPECT_EQ(buffers[1], "");
  EXPECT_EQ(buffers[2], "\x03");
  EXPECT_EQ(written(value), out);  // the same text without a list
  EXPECT_EQ(count_binary(value), 3u);
  EXPECT_EQ(count_binary(Json::array({1, "a"})), 0u);
}

}  // namespace
}  // namespace duplex::core::socketio
