// Socket.IO v5 packets (core/socketio): decoding with the reference parser's rules, encoding
// byte for byte as its encoder, binary attachments. "reference:" notes give what
// socket.io-parser 4.2.7 (node_modules, the parser of socket.io 4.8) does with the same text,
// from `new Decoder().add(text)` / `new Encoder().encode(packet)` in Node 20.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "duplex/core/json/json_scanner.hpp"
#include "duplex/core/json/json_value.hpp"
#include "duplex/core/socketio/binary_reassembler.hpp"
#include "duplex/core/socketio/packet_decoder.hpp"
#include "duplex/core/socketio/packet_encoder.hpp"
#include "duplex/core/socketio/placeholders.hpp"

namespace duplex::core::socketio {
namespace {

using namespace json;

Packet packet_of(std::string_view text) {
  const Decoded decoded = decode(text);
  EXPECT_EQ(decoded.error, "") << text;
  return decoded.packet;
}

std::string error_of(std::string_view text) {
  const Decoded decoded = decode(text);
  return decoded.ok() ? std::string("(valid)") : std::string(decoded.error);
}

std::vector<std::string> strings(std::span<const std::string_view> views) {
  return {views.begin(), views.end()};
}

TEST(SocketIoDecode, EveryPacketType) {
  Packet p = packet_of("0");
  EXPECT_EQ(p.type, PacketType::connect);
  EXPECT_EQ(p.nsp, "/");
  EXPECT_FALSE(p.id);
  EXPECT_EQ(p.attachments, 0u);
  EXPECT_EQ(p.data, "");

  p = packet_of(R"(0/admin,{"token":"abc"})");
  EXPECT_EQ(p.type, PacketType::connect);
  EXPECT_EQ(p.nsp, "/admin");
  EXPECT_EQ(p.data, R"({"token":"abc"})");

  p = packet_of("1/admin,");
  EXPECT_EQ(p.type, PacketType::disconnect);
  EXPECT_EQ(p.nsp, "/admin");
  EXPECT_EQ(p.data, "");

  p = packet_of(R"(2["chat message",{"text":"hi"}])");
  EXPECT_EQ(p.type, PacketType::event);
  EXPECT_EQ(p.nsp, "/");
  EXPECT_FALSE(p.id);
  EXPECT_EQ(p.data, R"(["chat message",{"text":"hi"}])");

  p = packet_of(R"(2/admin,12["a"])");
  EXPECT_EQ(p.nsp, "/admin");
  EXPECT_EQ(p.id, 12u);
  EXPECT_EQ(p.data, R"(["a"])");

  p = packet_of(R"(3/admin,12["ok",{"n":1}])");
  EXPECT_EQ(p.type, PacketType::ack);
  EXPECT_EQ(p.id, 12u);
  EXPECT_EQ(p.data, R"(["ok",{"n":1}])");

  p = packet_of(R"(4{"message":"Invalid namespace"})");
  EXPECT_EQ(p.type, PacketType::connect_error);
  EXPECT_EQ(p.data, R"({"message":"Invalid namespace"})");
  EXPECT_EQ(packet_of(R"(4"not authorized")").data, R"("not authorized")");

  p = packet_of(
      R"(52-/upload,7["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])");
  EXPECT_EQ(p.type, PacketType::binary_event);
  EXPECT_EQ(p.attachments, 2u);
  EXPECT_EQ(p.nsp, "/upload");
  EXPECT_EQ(p.id, 7u);

  p = packet_of(R"(61-3[{"_placeholder":true,"num":0}])");
  EXPECT_EQ(p.type, PacketType::binary_ack);
  EXPECT_EQ(p.attachments, 1u);
  EXPECT_EQ(p.id, 3u);
  EXPECT_EQ(p.data, R"([{"_placeholder":true,"num":0}])");
}

TEST(SocketIoDecode, HeaderEdgesAsTheReference) {
  // reference: "2/nsp" is an event in /nsp without data; "2" one in / without data.
  EXPECT_EQ(packet_of("2/nsp").nsp, "/nsp");
  EXPECT_EQ(packet_of("2/nsp").data, "");
  EXPECT_EQ(packet_of("2").data, "");
  EXPECT_EQ(packet_of("3").type, PacketType::ack);
  EXPECT_EQ(packet_of("4").type, PacketType::connect_error);
  // reference: "0/admin" (no comma) connects to /admin.
  EXPECT_EQ(packet_of("0/admin").nsp, "/admin");
  // reference: without a comma the namespace runs to the end, data and all: `2/chat["a"]` is
  // an event in the namespace `/chat["a"]`, without data.
  EXPECT_EQ(packet_of(R"(2/chat["a"])").nsp, R"(/chat["a"])");
  EXPECT_EQ(packet_of(R"(2/chat["a"])").data, "");
  // reference: "2/,[\"a\"]" is in "/".
  EXPECT_EQ(packet_of(R"(2/,["a"])").nsp, "/");
  // reference: leading zeros are read ("20012[...]" has id 12); "31" is an ack 1 without data.
  EXPECT_EQ(packet_of(R"(20012["a"])").id, 12u);
  EXPECT_EQ(packet_of(R"(20["a"])").id, 0u);
  EXPECT_EQ(packet_of("31").id, 1u);
  EXPECT_EQ(packet_of(R"(29007199254740991["a"])").id, kMaxAckId);
  // reference: "501-" has 1 attachment; "51-" is a binary event without data;
  // "510-" has 10 (the default maximum).
  EXPECT_EQ(packet_of(R"(501-["a"])").attachments, 1u);
  EXPECT_EQ(packet_of("51-").data, "");
  EXPECT_EQ(packet_of(R"(510-["a"])").attachments, 10u);
  EXPECT_EQ(packet_of(R"(51-/a,1["a"])").nsp, "/a");
  EXPECT_EQ(decode(R"(520-["a"])", {.max_attachments = 20}).packet.attachments, 20u);
  // Whitespace after the data is JSON's: reference takes `2["a"] ` and `2["a"]\n`.
  EXPECT_EQ(packet_of("2[\"a\"] \n").data, "[\"a\"] \n");
  EXPECT_EQ(packet_of(R"(2[ "a" ])").data, R"([ "a" ])");
}

TEST(SocketIoDecode, ReferenceValidityRules) {
  // connect: data absent or an object. reference: "0[]", "0null", "0\"x\"" invalid payload.
  EXPECT_EQ(error_of("0{}"), "(valid)");
  EXPECT_EQ(error_of("0[]"), reason::kConnectData);
  EXPECT_EQ(error_of("0null"), reason::kConnectData);
  EXPECT_EQ(error_of(R"(0"x")"), reason::kConnectData);
  // reference: an id is read whatever the type: "0/a,1" is a connect to /a with id 1.
  EXPECT_EQ(packet_of("0/a,1").id, 1u);
  // disconnect: no data. reference: "1{}" invalid payload.
  EXPECT_EQ(error_of("1{}"), reason::kDisconnectData);
  EXPECT_EQ(error_of("1x"), reason::kDisconnectData);
  // connect_error: an object or a string. reference: "4[]" and "4null" invalid payload.
  EXPECT_EQ(error_of("4{}"), "(valid)");
  EXPECT_EQ(error_of(R"(4"x")"), "(valid)");
  EXPECT_EQ(error_of("4[]"), reason::kConnectErrorData);
  EXPECT_EQ(error_of("4null"), reason::kConnectErrorData);
  EXPECT_EQ(error_of("4 {}"), reason::kSpaceBeforeData);
  // event: an array, first element a number or a non-reserved string. reference: "2[]",
  // "2[null]", "2[true]", "2[\"connect\"]" and "2[\"conn\\u0065ct\"]" invalid; "2[1]" valid.
  EXPECT_EQ(error_of("2[1]"), "(valid)");
  EXPECT_EQ(error_of("2[-1.5e3,2]"), "(valid)");
  EXPECT_EQ(error_of("2[]"), reason::kNoEventName);
  EXPECT_EQ(error_of("2[null]"), reason::kBadEventName);
  EXPECT_EQ(error_of("2[true]"), reason::kBadEventName);
  EXPECT_EQ(error_of("2[[\"a\"]]"), reason::kBadEventName);
  EXPECT_EQ(error_of("2[{}]"), reason::kBadEventName);
  EXPECT_EQ(error_of(R"(2{"a":1})"), reason::kNotArray);
  EXPECT_EQ(error_of(R"(2"a")"), reason::kNotArray);
  for (const char* name : {"connect", "connect_error", "disconnect", "disconnecting", "newListener",
                           "removeListener"}) {
    EXPECT_EQ(error_of("2[\"" + std::string(name) + "\"]"), reason::kReservedEventName);
    EXPECT_EQ(error_of("5"
                       "1-[\"" +
                       std::string(name) + "\"]"),
              reason::kReservedEventName);
  }
  EXPECT_EQ(error_of(R"(2["conn\u0065ct"])"), reason::kReservedEventName);
  EXPECT_EQ(error_of(R"(2["Connect"])"), "(valid)");
  EXPECT_EQ(error_of(R"(2["connect "])"), "(valid)");
  EXPECT_EQ(error_of(R"(2["disconnected"])"), "(valid)");
  EXPECT_EQ(error_of(R"(51-[])"), reason::kNoEventName);
  // ack: any array. reference: "3[]" valid, "3{}" invalid.
  EXPECT_EQ(error_of("3[]"), "(valid)");
  EXPECT_EQ(error_of("3[null]"), "(valid)");
  EXPECT_EQ(error_of("3{}"), reason::kNotArray);
  EXPECT_EQ(error_of("61-{}"), reason::kNotArray);
  EXPECT_EQ(error_of("61-[]"), "(valid)");
}

TEST(SocketIoDecode, MalformedPackets) {
  // reference: "7" unknown packet type 7, "x" unknown packet type NaN.
  EXPECT_EQ(error_of("7"), reason::kUnknownType);
  EXPECT_EQ(error_of("x"), reason::kUnknownType);
  EXPECT_EQ(error_of("/"), reason::kUnknownType);
  EXPECT_EQ(error_of("-1"), reason::kUnknownType);
  // reference: "" and " {}" are connects (Number("") and Number(" ") are 0): refused here.
  EXPECT_EQ(error_of(""), reason::kEmpty);
  EXPECT_EQ(error_of(" {}"), reason::kUnknownType);
  // reference: "50-", "5-", "51[...]" Illegal attachments; "511-" too many attachments.
  EXPECT_EQ(error_of(R"(50-["a"])"), reason::kIllegalAttachments);
  EXPECT_EQ(error_of(R"(5-["a"])"), reason::kIllegalAttachments);
  EXPECT_EQ(error_of(R"(51["a"])"), reason::kIllegalAttachments);
  EXPECT_EQ(error_of("5"), reason::kIllegalAttachments);
  EXPECT_EQ(error_of("51"), reason::kIllegalAttachments);
  EXPECT_EQ(error_of(R"(511-["a"])"), reason::kTooManyAttachments);
  EXPECT_EQ(error_of(R"(599999999999999999999999-["a"])"), reason::kTooManyAttachments);
  // reference: " 1", "+1", "0x1" are read by Number(): refused here.
  EXPECT_EQ(error_of(R"(5 1-["a"])"), reason::kIllegalAttachments);
  EXPECT_EQ(error_of(R"(5+1-["a"])"), reason::kIllegalAttachments);
  EXPECT_EQ(error_of(R"(50x1-["a"])"), reason::kIllegalAttachments);
  // reference: `21-["a",{"_placeholder":true,"num":0}]` (binary header on a plain type) reads id
  // 1 and then fails on the data "-[...]": invalid payload.
  EXPECT_EQ(error_of(R"(21-["a",{"_placeholder":true,"num":0}])"), json_reason::kNotJson);
  // reference: "2 [\"a\"]" gets id 0 and "2 12[\"a\"]" id 12, whitespace read as part of an
  // id by Number(): refused here.
  EXPECT_EQ(error_of(R"(2 ["a"])"), reason::kSpaceBeforeData);
  EXPECT_EQ(error_of(R"(2 12["a"])"), reason::kSpaceBeforeData);
  EXPECT_EQ(error_of("2\t[\"a\"]"), reason::kSpaceBeforeData);
  EXPECT_EQ(error_of(R"(212 ["a"])"), reason::kSpaceBeforeData);
  EXPECT_EQ(error_of(R"(2/a, ["a"])"), reason::kSpaceBeforeData);
  // reference: "29007199254740993[...]" gets id 9007199254740992 (a double): refused here.
  EXPECT_EQ(error_of(R"(29007199254740992["a"])"), reason::kIdTooLarge);
  EXPECT_EQ(error_of(R"(299999999999999999999999999["a"])"), reason::kIdTooLarge);
  // reference: invalid payload for all of these (JSON.parse throws).
  for (const char* text :
       {R"(2["a")", R"(2["a",])", R"(2["a"]x)", R"(2/a,b["x"])", R"(2/a,,["x"])", R"(2/a,/b,["x"])",
        "2[01]", "2['a']", "0{a:1}", R"(2["a\q"])", "2[\"a\x01\"]", "3[", "4{", "2-1[\"a\"]"}) {
    EXPECT_EQ(error_of(text), json_reason::kNotJson) << text;
  }
  EXPECT_EQ(error_of("3" + std::string(200, '[') + std::string(200, ']')), json_reason::kTooDeep);
}

TEST(SocketIoDecode, JsonThatOnlyJsonParseTakes) {
  // reference: `2["\ud800"]` and `2[1e400]` are valid events (Infinity for the number).
  PacketArgs args;
  ASSERT_TRUE(decode(R"(2["\ud800",1e400])", args).ok());
  EXPECT_EQ(args.name, "\xED\xA0\x80");
  EXPECT_EQ(strings(args.args), std::vector<std::string>{"1e400"});
}

TEST(SocketIoDecode, SplitsEventsAndAcks) {
  PacketArgs args;
  const std::string text = R"(2/chat,5["chat\nmessage",{"text":"hi"},[1,"]"], "x" ,-0])";
  Decoded d = decode(text, args);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(args.name_is_string);
  EXPECT_EQ(args.name, "chat\nmessage");
  EXPECT_EQ(args.name_json, R"("chat\nmessage")");
  EXPECT_EQ(strings(args.args),
            (std::vector<std::string>{R"({"text":"hi"})", R"([1,"]"])", R"("x")", "-0"}));
  for (const auto arg : args.args) {  // views of the packet text: no copy
    EXPECT_GE(arg.data(), text.data());
    EXPECT_LE(arg.data() + arg.size(), text.data() + text.size());
  }
  const auto first = parse_json(args.args[0]);
  ASSERT_TRUE(first);
  EXPECT_EQ((*first)["text"], "hi");

  // A number as the name.
  ASSERT_TRUE(decode("2[42,true]", args).ok());
  EXPECT_FALSE(args.name_is_string);
  EXPECT_EQ(args.name, "");
  EXPECT_EQ(args.name_json, "42");
  EXPECT_EQ(strings(args.args), std::vector<std::string>{"true"});

  // Acks: every element is an argument; reused args hold nothing of the last packet.
  ASSERT_TRUE(decode(R"(3/chat,5["ok",{"n":1}])", args).ok());
  EXPECT_FALSE(args.name_is_string);
  EXPECT_EQ(args.name_json, "");
  EXPECT_EQ(strings(args.args), (std::vector<std::string>{R"("ok")", R"({"n":1})"}));
  ASSERT_TRUE(decode("3[]", args).ok());
  EXPECT_TRUE(args.args.empty());

  // Binary types split the same way; other types and errors leave args empty.
  ASSERT_TRUE(decode(R"(51-["up",{"_placeholder":true,"num":0}])", args).ok());
  EXPECT_EQ(args.name, "up");
  EXPECT_EQ(strings(args.args), std::vector<std::string>{R"({"_placeholder":true,"num":0})"});
  ASSERT_TRUE(decode(R"(0{"a":[1]})", args).ok());
  EXPECT_TRUE(args.args.empty());
  EXPECT_FALSE(args.name_is_string);
  ASSERT_TRUE(decode(R"(2["a",1])", args).ok());
  EXPECT_FALSE(decode(R"(2["a",1)", args).ok());
  EXPECT_TRUE(args.args.empty());
  EXPECT_EQ(args.name, "");
  ASSERT_TRUE(decode(R"(2["a",1])", args).ok());
  EXPECT_FALSE(decode(R"(2["connect",1])", args).ok());
  EXPECT_TRUE(args.args.empty());
  EXPECT_FALSE(args.name_is_string);
  // An event without data has no name.
  ASSERT_TRUE(decode("2", args).ok());
  EXPECT_FALSE(args.name_is_string);
  EXPECT_EQ(args.name_json, "");
}

// Every prefix of a valid packet decodes to a valid packet or an error, and the same with the
// arguments split (run under ASan, this also shows nothing reads past the text).
TEST(SocketIoDecode, TruncationsAreValidOrRefused) {
  for (const std::string text :
       {R"(2/admin,12["chat message",{"text":"hi \"there\"","n":[1,-2.5e3]},null,true])",
        R"(52-/up,99["file",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])",
        R"(0/admin,{"token":"abc"})", R"(4{"message":"Invalid namespace","data":{"a":1}})",
        R"(3/admin,12[])", "1/admin,"}) {
    PacketArgs args;
    ASSERT_TRUE(decode(text, args).ok()) << text;
    for (size_t n = 0; n < text.size(); ++n) {
      const std::string cut = text.substr(0, n);  // its own allocation, for ASan
      const Decoded plain = decode(cut);
      const Decoded split = decode(cut, args);
      EXPECT_EQ(plain.error, split.error) << cut;
      if (!plain.ok()) continue;
      // Those that stay valid end before the data starts (or in the namespace).
      EXPECT_TRUE(plain.packet.data.empty()) << cut;
    }
  }
}

TEST(SocketIoEncode, ByteForByteAsTheReference) {
  std::string out;
  const std::vector<std::string_view> args = {R"({"text":"hi"})"};
  // reference: encode({type:2, nsp:"/", data:["chat message",{text:"hi"}]})
  encode_event(out, "/", "chat message", args);
  EXPECT_EQ(out, R"(2["chat message",{"text":"hi"}])");
  // reference: encode({type:2, nsp:"/admin", id:12, data:["a\"b\n\u2028\u0001",1,[true]]})
  out.clear();
  const std::vector<std::string_view> more = {"1", "[true]"};
  encode_event(out, "/admin", "a\"b\n\xE2\x80\xA8\x01", more, 12);
  EXPECT_EQ(out, "2/admin,12[\"a\\\"b\\n\xE2\x80\xA8\\u0001\",1,[true]]");
  out.clear();
  encode_event(out, "", "e", {});
  EXPECT_EQ(out, R"(2["e"])");
  // reference: {type:3, nsp:"/", id:7, data:[]} and {type:3, nsp:"/admin", id:0, data:[...]}
  out.clear();
  encode_ack(out, "/", 7, {});
  EXPECT_EQ(out, "37[]");
  out.clear();
  const std::vector<std::string_view> ack = {R"("ok")", R"({"n":1})"};
  encode_ack(out, "/admin", 0, ack);
  EXPECT_EQ(out, R"(3/admin,0["ok",{"n":1}])");
  // reference: {type:0, data:{sid:"abc"}}, {sid:"x",pid:"y"}, nsp /admin with pid undefined
  out.clear();
  encode_connect(out, "/", "abc");
  EXPECT_EQ(out, R"(0{"sid":"abc"})");
  out.clear();
  encode_connect(out, "/", "x", "y");
  EXPECT_EQ(out, R"(0{"sid":"x","pid":"y"})");
  out.clear();
  encode_connect(out, "/admin", "x");
  EXPECT_EQ(out, R"(0/admin,{"sid":"x"})");
  // reference: {type:4, data:{message:"Invalid namespace"}}, and with data in /admin
  out.clear();
  encode_connect_error(out, "/", "Invalid namespace");
  EXPECT_EQ(out, R"(4{"message":"Invalid namespace"})");
  out.clear();
  encode_connect_error(out, "/admin", "not authorized", R"({"content":"Please retry later"})");
  EXPECT_EQ(out, R"(4/admin,{"message":"not authorized","data":{"content":"Please retry later"}})");
  // reference: {type:1, nsp:"/"}, {type:1, nsp:"/admin"}
  out.clear();
  encode_disconnect(out, "/");
  EXPECT_EQ(out, "1");
  out.clear();
  encode_disconnect(out, "/admin");
  EXPECT_EQ(out, "1/admin,");
  // The header alone, every part; appending to what is there.
  out = "x";
  encode_header(out, PacketType::binary_ack, "/n", 5, 1);
  EXPECT_EQ(out, "x61-/n,5");
  out.clear();
  encode_header(out, PacketType::connect, "/");
  EXPECT_EQ(out, "0");
  out.clear();
  encode_header(out, PacketType::event, "/", 0);
  EXPECT_EQ(out, "20");
}

TEST(SocketIoEncode, ClientConnects) {
  // socket.io-client: data = pid ? Object.assign({pid, offset}, auth) : auth. reference:
  // {pid:"p",offset:"o"} + {token:"t"} and {pid:"p",offset:undefined} + undefined.
  std::string out;
  encode_connect_request(out, "/");
  EXPECT_EQ(out, "0");
  out.clear();
  encode_connect_request(out, "/admin", R"({"token":"t"})");
  EXPECT_EQ(out, R"(0/admin,{"token":"t"})");
  out.clear();
  encode_connect_request(out, "/", R"({"token":"t"})", "p", "o");
  EXPECT_EQ(out, R"(0{"pid":"p","offset":"o","token":"t"})");
  out.clear();
  encode_connect_request(out, "/", {}, "p");
  EXPECT_EQ(out, R"(0{"pid":"p"})");
  out.clear();
  encode_connect_request(out, "/", "{}", "p", "o");
  EXPECT_EQ(out, R"(0{"pid":"p","offset":"o"})");
}

TEST(SocketIoEncode, DecodesBackToTheSameHeader) {
  for (const auto type :
       {PacketType::connect, PacketType::disconnect, PacketType::event, PacketType::ack,
        PacketType::connect_error, PacketType::binary_event, PacketType::binary_ack}) {
    for (const std::string_view nsp : {"/", "/admin", "/a/b c"}) {
      for (const auto id : {std::optional<uint64_t>(), std::optional<uint64_t>(0),
                            std::optional<uint64_t>(kMaxAckId)}) {
        std::string text;
        encode_header(text, type, nsp, id, 3);
        const Decoded d = decode(text);
        ASSERT_TRUE(d.ok()) << text;
        EXPECT_EQ(d.packet.type, type);
        EXPECT_EQ(d.packet.nsp, nsp);
        EXPECT_EQ(d.packet.id, id);
        EXPECT_EQ(d.packet.attachments, is_binary(type) ? 3u : 0u);
      }
    }
  }
}

TEST(SocketIoBinary, EncodesValuesWithPlaceholders) {
  std::vector<std::string_view> buffers = {"stale"};
  std::string out;
  // reference: {type:2, data:["upload", Buffer<010203>, {a:[Buffer<04>], b:"x"}]}
  Json args = Json::array({Json::binary({1, 2, 3}),
                           Json::object({{"a", Json::array({Json::binary({4})})}, {"b", "x"}})});
  encode_event(out, buffers, "/", "upload", args);
  EXPECT_EQ(out, R"(52-["upload",{"_placeholder":true,"num":0},)"
                 R"({"a":[{"_placeholder":true,"num":1}],"b":"x"}])");
  ASSERT_EQ(buffers.size(), 2u);
  EXPECT_EQ(buffers[0], "\x01\x02\x03");
  EXPECT_EQ(buffers[1], "\x04");
  // reference: {type:3, nsp:"/n", id:5, data:[Buffer<09>]}
  out.clear();
  const Json ack_args = Json::array({Json::binary({9})});  // the buffers are views of it
  encode_ack(out, buffers, "/n", 5, ack_args);
  EXPECT_EQ(out, R"(61-/n,5[{"_placeholder":true,"num":0}])");
  ASSERT_EQ(buffers.size(), 1u);
  EXPECT_EQ(buffers[0], "\x09");
  // reference: {type:2, data:["e", {"1":Buffer<01>, z:Buffer<02>, "0":Buffer<03>}]}: index keys
  // first, so "0" gets num 0 with bytes 03.
  out.clear();
  Json keyed = Json::object();
  keyed["1"] = Json::binary({1});
  keyed["z"] = Json::binary({2});
  keyed["0"] = Json::binary({3});
  const Json keyed_args = Json::array({keyed});
  encode_event(out, buffers, "/", "e", keyed_args);
  EXPECT_EQ(out, R"(53-["e",{"0":{"_placeholder":true,"num":0},"1":{"_placeholder":true,"num":1},)"
                 R"("z":{"_placeholder":true,"num":2}}])");
  EXPECT_EQ(strings(buffers), (std::vector<std::string>{"\x03", "\x01", "\x02"}));
  // Without binary values: a plain event and ack, as the reference encoder chooses.
  out.clear();
  encode_event(out, buffers, "/", "e", Json::array({1, "a", Json::object({{"k", nullptr}})}), 4);
  EXPECT_EQ(out, R"(24["e",1,"a",{"k":null}])");
  EXPECT_TRUE(buffers.empty());
  out.clear();
  encode_ack(out, buffers, "/", 4, Json::array());
  EXPECT_EQ(out, "34[]");
}

TEST(SocketIoBinary, ReassemblesAndFillsPlaceholders) {
  std::string text;
  std::vector<std::string_view> sent;
  const Json args = Json::array({Json::binary({1, 2}), Json::object({{"b", Json::binary({})}})});
  encode_event(text, sent, "/up", "file", args, 9);

  BinaryReassembler reassembler;
  EXPECT_FALSE(reassembler.waiting());
  EXPECT_EQ(reassembler.add("x").status, ReassemblyStatus::error);
  EXPECT_EQ(reassembler.add("x").error, reason::kUnexpectedBinary);

  {
    const std::string copy = text;  // the text may go once start() has it
    const Decoded d = decode(copy);
    ASSERT_TRUE(d.ok());
    ASSERT_EQ(d.packet.attachments, 2u);
    reassembler.start(d.packet);
  }
  EXPECT_TRUE(reassembler.waiting());
  EXPECT_EQ(reassembler.add(sent[0]).status, ReassemblyStatus::need_more);
  const Reassembly done = reassembler.add(sent[1]);
  ASSERT_EQ(done.status, ReassemblyStatus::complete);
  EXPECT_FALSE(reassembler.waiting());
  EXPECT_EQ(done.packet.type, PacketType::binary_event);
  EXPECT_EQ(done.packet.nsp, "/up");
  EXPECT_EQ(done.packet.id, 9u);
  ASSERT_EQ(done.attachments.size(), 2u);

  const Reconstructed value = reconstruct(done.packet.data, done.attachments);
  ASSERT_TRUE(value.ok()) << value.error;
  EXPECT_EQ(value.value,
            Json::array({"file", Json::binary({1, 2}), Json::object({{"b", Json::binary({})}})}));
  // Another packet after it, and reset() dropping one half way.
  reassembler.start(decode(R"(51-["a",{"_placeholder":true,"num":0}])").packet);
  EXPECT_EQ(reassembler.add("z").attachments.size(), 1u);
  reassembler.start(decode(R"(52-["a"])").packet);
  EXPECT_EQ(reassembler.add("z").status, ReassemblyStatus::need_more);
  reassembler.reset();
  EXPECT_FALSE(reassembler.waiting());
  EXPECT_EQ(reassembler.add("z").status, ReassemblyStatus::error);
}

TEST(SocketIoBinary, PlaceholderRules) {
  const std::vector<std::string_view> two = {"ab", "c"};
  const auto error = [&](std::string_view data) {
    return std::string(reconstruct(data, two).error);
  };
  EXPECT_EQ(error(R"(["e",{"_placeholder":true,"num":1},[{"_placeholder":true,"num":0}]])"), "");
  // One attachment used twice (the reference allows it); extra members are ignored.
  EXPECT_EQ(error(R"([{"_placeholder":true,"num":0,"x":1},{"_placeholder":true,"num":0},)"
                  R"({"num":1,"_placeholder":true}])"),
            "");
  EXPECT_EQ(error(R"([{"_placeholder":true,"num":1.0},{"_placeholder":true,"num":0}])"), "");
  // Not placeholders: "_placeholder" not exactly true; such objects stay objects.
  const Reconstructed kept = reconstruct(
      R"([{"_placeholder":"true","num":0},{"_placeholder":1,"num":0},{"_placeholder":true,"num":0},)"
      R"({"_placeholder":true,"num":1}])",
      two);
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept.value[0].is_object());
  EXPECT_TRUE(kept.value[1].is_object());
  EXPECT_EQ(kept.value[2], Json::binary({'a', 'b'}));
  EXPECT_EQ(kept.value[3], Json::binary({'c'}));
  // num out of range, not a number, not whole, missing; an attachment unused; not JSON.
  for (const char* data :
       {R"([{"_placeholder":true,"num":2},{"_placeholder":true,"num":0}])",
        R"([{"_placeholder":true,"num":-1}])", R"([{"_placeholder":true,"num":"0"}])",
        R"([{"_placeholder":true,"num":0.5}])", R"([{"_placeholder":true}])",
        R"([{"_placeholder":true,"num":18446744073709551615}])",
        R"([{"_placeholder":true,"num":1e400}])"}) {
    EXPECT_EQ(error(data), data == std::string_view(R"([{"_placeholder":true,"num":1e400}])")
                               ? reason::kAttachmentDataNotJson
                               : reason::kBadPlaceholder)
        << data;
  }
  EXPECT_EQ(error(R"(["e",{"_placeholder":true,"num":0}])"), reason::kUnusedAttachment);
  EXPECT_EQ(error(R"(["e"])"), reason::kUnusedAttachment);
  EXPECT_EQ(error(R"(["e")"), reason::kAttachmentDataNotJson);
  EXPECT_EQ(std::string(reconstruct(R"(["e"])", {}).error), "");
}

}  // namespace
}  // namespace duplex::core::socketio
