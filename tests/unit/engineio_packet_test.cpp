#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/engineio/open_packet.hpp"
#include "duplex/core/engineio/packet.hpp"
#include "duplex/core/engineio/payload.hpp"
#include "duplex/core/engineio/session_id.hpp"

namespace duplex::core::engineio {

namespace {

using namespace std::literals;

constexpr PacketType kAllTypes[] = {PacketType::open, PacketType::close,   PacketType::ping,
                                    PacketType::pong, PacketType::message, PacketType::upgrade,
                                    PacketType::noop};

std::string all_bytes() {
  std::string s;
  for (int b = 0; b < 256; ++b) s.push_back(static_cast<char>(b));
  return s;
}

std::string packet_text(PacketType type, std::string_view data) {
  std::string out;
  append_packet(out, type, data);
  return out;
}

std::string payload_of(const std::vector<Packet>& packets) {
  std::string out;
  for (const Packet& p : packets) append_payload_packet(out, p);
  return out;
}

// Decodes `body` and expects it to be accepted.
std::vector<Packet> decoded(std::string_view body, std::string& scratch) {
  std::vector<Packet> packets;
  const PayloadResult r = decode_payload(body, scratch, packets, 1000);
  EXPECT_TRUE(r.ok) << r.error;
  EXPECT_TRUE(r.error.empty());
  return packets;
}

// Decodes `body` and returns the reason it is refused ("" when it is not).
std::string_view refused(std::string_view body, size_t max_packets = 1000) {
  std::string scratch;
  std::vector<Packet> packets = {{.type = PacketType::noop}};
  const PayloadResult r = decode_payload(body, scratch, packets, max_packets);
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(packets.empty());
  return r.error;
}

// --- one packet --------------------------------------------------------------------------

TEST(EngineioPacketTest, AppendWritesTheTypeDigitThenTheData) {
  EXPECT_EQ(packet_text(PacketType::open, "{}"), "0{}");
  EXPECT_EQ(packet_text(PacketType::close, ""), "1");
  EXPECT_EQ(packet_text(PacketType::ping, "probe"), "2probe");
  EXPECT_EQ(packet_text(PacketType::pong, "probe"), "3probe");
  EXPECT_EQ(packet_text(PacketType::message, "hello"), "4hello");
  EXPECT_EQ(packet_text(PacketType::message, ""), "4");
  EXPECT_EQ(packet_text(PacketType::upgrade, ""), "5");
  EXPECT_EQ(packet_text(PacketType::noop, ""), "6");
  std::string out = "x";
  append_packet(out, PacketType::message, "\xe2\x82\xac\x1e\n"sv);
  EXPECT_EQ(out, "x4\xe2\x82\xac\x1e\n"sv);
}

TEST(EngineioPacketTest, DecodesTextFramesOfEveryType) {
  for (PacketType type : kAllTypes) {
    for (std::string_view data : {""sv, "probe"sv, "4"sv, "b"sv, "\0\x1e\xff"sv}) {
      const std::string text = packet_text(type, data);
      const DecodeResult r = decode_ws_message(text, false);
      ASSERT_TRUE(r.ok) << text;
      EXPECT_TRUE(r.error.empty());
      EXPECT_EQ(r.packet, (Packet{.type = type, .data = data})) << text;
      EXPECT_EQ(r.packet.data.data(), text.data() + 1);  // a view into the message
      EXPECT_EQ(decode_text_packet(text).packet, r.packet);
    }
  }
  const DecodeResult empty = decode_ws_message("4", false);
  EXPECT_TRUE(empty.ok);
  EXPECT_EQ(empty.packet, (Packet{.type = PacketType::message, .data = ""}));
}

TEST(EngineioPacketTest, RefusesEmptyAndUnknownTextFrames) {
  EXPECT_EQ(decode_ws_message("", false).error, reason::kEmptyPacket);
  EXPECT_EQ(decode_ws_message("", false).error, "empty packet");
  EXPECT_EQ(decode_ws_message("7", false).error, "unknown packet type");
  for (int b = 0; b < 256; ++b) {
    if (b >= '0' && b <= '6') continue;
    const std::string text = std::string(1, static_cast<char>(b)) + "hello";
    const DecodeResult r = decode_ws_message(text, false);
    EXPECT_FALSE(r.ok) << b;
    EXPECT_EQ(r.error, reason::kUnknownType) << b;
  }
  // Base64 is for polling bodies: over WebSocket binary data goes as a binary frame.
  EXPECT_EQ(decode_ws_message("bAQID", false).error, reason::kUnknownType);
}

TEST(EngineioPacketTest, ABinaryFrameIsABinaryMessageOfTheWholeFrame) {
  const std::string bytes = all_bytes();
  for (std::string_view frame : {std::string_view(bytes), ""sv, "4hello"sv, "bAQID"sv}) {
    const DecodeResult r = decode_ws_message(frame, true);
    ASSERT_TRUE(r.ok);
    EXPECT_EQ(r.packet, (Packet{.type = PacketType::message, .data = frame, .binary = true}));
    EXPECT_EQ(r.packet.data.data(), frame.data());
  }
}

// --- payloads ----------------------------------------------------------------------------

TEST(EngineioPayloadTest, WritesPacketsJoinedByTheRecordSeparator) {
  // The examples of engine.io-parser 4's changelog and of the protocol's description.
  EXPECT_EQ(payload_of({{.type = PacketType::message, .data = "hello"},
                        {.type = PacketType::message, .data = "\xe2\x82\xac\xe2\x82\xac"}}),
            "4hello\x1e"
            "4\xe2\x82\xac\xe2\x82\xac"sv);
  EXPECT_EQ(payload_of({{.type = PacketType::message, .data = "hello"},
                        {.type = PacketType::message, .data = "\x01\x02\x03", .binary = true}}),
            "4hello\x1e"
            "bAQID");
  EXPECT_EQ(payload_of({{.type = PacketType::ping, .data = "probe"},
                        {.type = PacketType::message, .data = "hello"},
                        {.type = PacketType::close}}),
            "2probe\x1e"
            "4hello\x1e"
            "1");
  // As engine.io-parser 5 writes them.
  EXPECT_EQ(payload_of({{.type = PacketType::message, .data = "hello"},
                        {.type = PacketType::message, .data = "\xfe\xff", .binary = true},
                        {.type = PacketType::ping},
                        {.type = PacketType::message, .data = "", .binary = true},
                        {.type = PacketType::message, .data = ""}}),
            "4hello\x1e"
            "b/v8=\x1e"
            "2\x1e"
            "b\x1e"
            "4");
  EXPECT_EQ(payload_of({{.type = PacketType::message, .data = "", .binary = true}}), "b");
  EXPECT_EQ(payload_of({{.type = PacketType::message, .data = "\xff", .binary = true}}), "b/w==");
  EXPECT_EQ(payload_of({{.type = PacketType::noop}}), "6");
}

TEST(EngineioPayloadTest, ReadsTextAndBinaryPackets) {
  const std::string body =
      "4hello\x1e"
      "bAQID\x1e"
      "2probe\x1e"
      "4\x1e"
      "b\x1e"
      "6";
  std::string scratch;
  const std::vector<Packet> packets = decoded(body, scratch);
  const std::vector<Packet> expected = {
      {.type = PacketType::message, .data = "hello"},
      {.type = PacketType::message, .data = "\x01\x02\x03", .binary = true},
      {.type = PacketType::ping, .data = "probe"},
      {.type = PacketType::message, .data = ""},
      {.type = PacketType::message, .data = "", .binary = true},
      {.type = PacketType::noop, .data = ""},
  };
  EXPECT_EQ(packets, expected);
  // Text data are views into the body, binary data into the scratch.
  EXPECT_EQ(packets[0].data.data(), body.data() + 1);
  EXPECT_EQ(packets[1].data.data(), scratch.data());
  EXPECT_EQ(scratch, "\x01\x02\x03");
}

TEST(EngineioPayloadTest, OnePacketIsAPayload) {
  std::string scratch;
  EXPECT_EQ(decoded("4", scratch), (std::vector<Packet>{{.type = PacketType::message}}));
  EXPECT_EQ(decoded("1", scratch), (std::vector<Packet>{{.type = PacketType::close}}));
}

TEST(EngineioPayloadTest, BinaryViewsStayValidWhileTheScratchFills) {
  // A hundred binary packets of growing size: the scratch must not move under earlier views.
  const std::string bytes = all_bytes();
  std::vector<Packet> sent;
  for (size_t n = 0; n < 100; ++n) {
    sent.push_back({.type = PacketType::message,
                    .data = std::string_view(bytes).substr(n, n * 2),
                    .binary = true});
  }
  const std::string body = payload_of(sent);
  std::string scratch = "old contents";
  scratch.shrink_to_fit();
  EXPECT_EQ(decoded(body, scratch), sent);
}

TEST(EngineioPayloadTest, RefusesEmptyPackets) {
  EXPECT_EQ(refused(""), reason::kEmptyPacket);
  EXPECT_EQ(refused("\x1e"), reason::kEmptyPacket);
  EXPECT_EQ(refused("4hello\x1e"), reason::kEmptyPacket);  // a trailing separator
  EXPECT_EQ(refused("\x1e"
                    "4hello"),
            reason::kEmptyPacket);
  EXPECT_EQ(refused("4a\x1e\x1e"
                    "4b"),
            reason::kEmptyPacket);
}

TEST(EngineioPayloadTest, RefusesUnknownTypes) {
  EXPECT_EQ(refused("7"), reason::kUnknownType);
  EXPECT_EQ(refused("4hello\x1e"
                    "x\x1e"
                    "4world"),
            reason::kUnknownType);
  EXPECT_EQ(refused("B"), reason::kUnknownType);
  EXPECT_EQ(refused("\n4"), reason::kUnknownType);
}

TEST(EngineioPayloadTest, RefusesBadBase64) {
  for (std::string_view body : {"bAQI"sv, "bAQIDB"sv, "bAQ=D"sv, "b!!!!"sv, "bAQ-D"sv, "b AQID"sv,
                                "bAQID\n"sv, "b=="sv, "b/x=="sv,
                                "4ok\x1e"
                                "bAQ"sv}) {
    EXPECT_EQ(refused(body), reason::kBadBase64) << body;
  }
  EXPECT_EQ(refused("bAQI"), "binary packet is not valid base64");
}

TEST(EngineioPayloadTest, RefusesMoreThanMaxPackets) {
  std::string scratch;
  std::vector<Packet> packets;
  EXPECT_TRUE(decode_payload("2\x1e"
                             "2\x1e"
                             "2",
                             scratch, packets, 3)
                  .ok);
  EXPECT_EQ(packets.size(), 3u);
  EXPECT_EQ(refused("2\x1e"
                    "2\x1e"
                    "2",
                    2),
            reason::kTooManyPackets);
  EXPECT_EQ(refused("2", 0), "too many packets in the payload");
  // The limit is found before the packet past it is read.
  EXPECT_EQ(refused("2\x1e"
                    "x",
                    1),
            reason::kTooManyPackets);
}

TEST(EngineioPayloadTest, EveryTypeAndEveryByteRoundTrips) {
  const std::string bytes = all_bytes();
  std::vector<Packet> sent;
  for (PacketType type : kAllTypes) {
    sent.push_back({.type = type});
    sent.push_back({.type = type, .data = "probe \xe2\x82\xac"});
  }
  for (size_t n = 0; n <= 4; ++n) {
    sent.push_back({.type = PacketType::message,
                    .data = std::string_view(bytes).substr(256 - n),
                    .binary = true});
  }
  sent.push_back({.type = PacketType::message, .data = bytes, .binary = true});
  // Every byte but the separator in a text packet.
  std::string text = bytes;
  std::erase(text, '\x1e');
  sent.push_back({.type = PacketType::message, .data = text});

  const std::string body = payload_of(sent);
  std::string scratch;
  const std::vector<Packet> packets = decoded(body, scratch);
  EXPECT_EQ(packets, sent);
  EXPECT_EQ(payload_of(packets), body);
}

TEST(EngineioPayloadTest, EveryTruncationReadsBackOrIsRefusedCleanly) {
  const std::string body = payload_of({
      {.type = PacketType::message, .data = "hello"},
      {.type = PacketType::message, .data = "\x01\x02\x03\x04\x05", .binary = true},
      {.type = PacketType::ping},
      {.type = PacketType::message, .data = "\xff\x00"sv, .binary = true},
      {.type = PacketType::message, .data = "{\"a\":1}"},
  });
  const std::string_view reasons[] = {reason::kEmptyPacket, reason::kUnknownType,
                                      reason::kBadBase64};
  size_t accepted = 0;
  for (size_t n = 0; n <= body.size(); ++n) {
    const std::string prefix = body.substr(0, n);
    std::string scratch;
    std::vector<Packet> packets;
    const PayloadResult r = decode_payload(prefix, scratch, packets, 1000);
    if (r.ok) {
      ++accepted;
      // What was read writes back to the very same bytes (base64 is canonical).
      EXPECT_EQ(payload_of(packets), prefix) << n;
    } else {
      EXPECT_TRUE(packets.empty()) << n;
      EXPECT_NE(std::find(std::begin(reasons), std::end(reasons), r.error), std::end(reasons)) << n;
    }
  }
  EXPECT_GT(accepted, 10u);
}

// --- the open packet and session ids -------------------------------------------------------

TEST(EngineioOpenPacketTest, WritesWhatNodesEngineIoWrites) {
  EXPECT_EQ(open_packet_data({.sid = "lv_VI97HAXpY6yYWAAAC"}),
            R"({"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,)"
            R"("pingTimeout":20000,"maxPayload":1000000})");
  EXPECT_EQ(open_packet_data({.sid = "a-_9",
                              .websocket_upgrade = false,
                              .ping_interval_ms = 0,
                              .ping_timeout_ms = 4294967295,
                              .max_payload = 9007199254740992}),
            R"({"sid":"a-_9","upgrades":[],"pingInterval":0,"pingTimeout":4294967295,)"
            R"("maxPayload":9007199254740992})");
  std::string packet;
  append_packet(packet, PacketType::open, open_packet_data({.sid = "s", .max_payload = 100000000}));
  EXPECT_EQ(packet,
            R"(0{"sid":"s","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,)"
            R"("maxPayload":100000000})");
}

TEST(EngineioSidTest, AcceptsOnlyShortUrlSafeIds) {
  EXPECT_TRUE(valid_sid("lv_VI97HAXpY6yYWAAAC"));
  EXPECT_TRUE(valid_sid("a"));
  EXPECT_TRUE(valid_sid("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"));
  EXPECT_TRUE(valid_sid(std::string(64, 'x')));
  EXPECT_FALSE(valid_sid(std::string(65, 'x')));
  EXPECT_FALSE(valid_sid(""));
  for (std::string_view sid : {"a b"sv, "a/b"sv, "a+b"sv, "a=b"sv, "a.b"sv, "a\"b"sv, "a\\b"sv,
                               "a\0b"sv, "\xc3\xa9"sv, "a%20"sv, "a\n"sv}) {
    EXPECT_FALSE(valid_sid(sid)) << sid;
  }
}

}  // namespace

}  // namespace duplex::core::engineio
