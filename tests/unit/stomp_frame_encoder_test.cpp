// Writing STOMP frames (core/stomp/frame_encoder.hpp), byte for byte, and reading what was written
// back with the decoder in every version (split at every byte as in stomp_frame_test.cpp).
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "../support/stomp_events.hpp"
#include "duplex/core/stomp/frame.hpp"
#include "duplex/core/stomp/frame_encoder.hpp"

namespace duplex::core::stomp {
namespace {

using namespace std::literals;
using test::decode_stomp_all_ways;
using test::stomp_frame;
using Events = std::vector<test::StompEvent>;

std::string encode(Command command, std::vector<Header> headers, std::string_view body,
                   Version version = Version::v1_2, bool content_length = false) {
  std::string out = "~";  // appended to what is there
  append_frame(out, {.command = command, .headers = headers, .body = body}, version,
               content_length);
  EXPECT_EQ(out[0], '~');
  return out.substr(1);
}

TEST(StompFrameEncoder, WritesAFrame) {
  EXPECT_EQ(encode(Command::send, {{"destination", "/queue/a"}}, "hello"),
            "SEND\ndestination:/queue/a\n\nhello\0"s);
  EXPECT_EQ(encode(Command::disconnect, {}, ""), "DISCONNECT\n\n\0"s);
  EXPECT_EQ(encode(Command::message, {{"a", "1"}, {"a", "2"}, {"b", ""}}, "x"),
            "MESSAGE\na:1\na:2\nb:\n\nx\0"s);
}

TEST(StompFrameEncoder, WritesEveryCommandsName) {
  const std::pair<Command, std::string_view> names[] = {
      {Command::connect, "CONNECT"},
      {Command::stomp, "STOMP"},
      {Command::send, "SEND"},
      {Command::subscribe, "SUBSCRIBE"},
      {Command::unsubscribe, "UNSUBSCRIBE"},
      {Command::ack, "ACK"},
      {Command::nack, "NACK"},
      {Command::begin, "BEGIN"},
      {Command::commit, "COMMIT"},
      {Command::abort, "ABORT"},
      {Command::disconnect, "DISCONNECT"},
      {Command::connected, "CONNECTED"},
      {Command::message, "MESSAGE"},
      {Command::receipt, "RECEIPT"},
      {Command::error, "ERROR"},
  };
  for (const auto& [command, name] : names) {
    EXPECT_EQ(command_name(command), name);
    EXPECT_EQ(parse_command(name), command);
  }
  EXPECT_EQ(parse_command("send"), std::nullopt);
  EXPECT_EQ(parse_command(""), std::nullopt);
  EXPECT_EQ(parse_command("SEND "), std::nullopt);
  EXPECT_EQ(parse_command("CONNECTE"), std::nullopt);
}

TEST(StompFrameEncoder, EscapesAsEachVersionDoes) {
  const std::vector<Header> headers = {{"a:b\\c", "x\ny:z\\"}, {"r", "1\r2"}};
  EXPECT_EQ(encode(Command::send, headers, "", Version::v1_2),
            "SEND\na\\cb\\\\c:x\\ny\\cz\\\\\nr:1\\r2\n\n\0"s);
  // 1.1 has no escape for CR: it is written as it is (see the header).
  EXPECT_EQ(encode(Command::send, headers, "", Version::v1_1),
            "SEND\na\\cb\\\\c:x\\ny\\cz\\\\\nr:1\r2\n\n\0"s);
  EXPECT_EQ(encode(Command::send, headers, "", Version::v1_0),
            "SEND\na:b\\c:x\ny:z\\\nr:1\r2\n\n\0"s);
}

TEST(StompFrameEncoder, NeverEscapesConnectAndConnected) {
  EXPECT_EQ(encode(Command::connected, {{"server", "a:b\\c"}}, "", Version::v1_2),
            "CONNECTED\nserver:a:b\\c\n\n\0"s);
  EXPECT_EQ(encode(Command::connect, {{"login", "a:b\\c"}}, "", Version::v1_2),
            "CONNECT\nlogin:a:b\\c\n\n\0"s);
  EXPECT_EQ(encode(Command::stomp, {{"login", "a:b\\c"}}, "", Version::v1_2),
            "STOMP\nlogin:a\\cb\\\\c\n\n\0"s);
}

TEST(StompFrameEncoder, AddsContentLengthWhenAskedOrTheBodyHoldsNul) {
  EXPECT_EQ(encode(Command::send, {{"destination", "/a"}}, "hello", Version::v1_2, true),
            "SEND\ndestination:/a\ncontent-length:5\n\nhello\0"s);
  EXPECT_EQ(encode(Command::send, {}, "", Version::v1_2, true), "SEND\ncontent-length:0\n\n\0"s);
  EXPECT_EQ(encode(Command::send, {}, "a\0b"s), "SEND\ncontent-length:3\n\na\0b\0"s);
  EXPECT_EQ(encode(Command::send, {}, "\0"s, Version::v1_0), "SEND\ncontent-length:1\n\n\0\0"s);
  // The frame's own content-length is kept, and none added.
  EXPECT_EQ(
      encode(Command::send, {{"content-length", "3"}, {"x", "y"}}, "a\0b"s, Version::v1_2, true),
      "SEND\ncontent-length:3\nx:y\n\na\0b\0"s);
}

TEST(StompFrameEncoder, PiecesMakeTheSameFrame) {
  // A MESSAGE for two subscribers: the shared head, each one's subscription, the shared end.
  std::string head;
  append_command(head, Command::message);
  append_header(head, "destination", "/topic/a:b", Version::v1_2);
  append_header(head, "message-id", "17", Version::v1_2);
  append_content_length(head, 2);
  std::string end;
  append_frame_end(end, "hi");
  for (const std::string_view id : {"sub-0"sv, "s:1"sv}) {
    std::string frame = head;
    append_header(frame, "subscription", id, Version::v1_2);
    frame += end;
    EXPECT_EQ(frame, encode(Command::message,
                            {{"destination", "/topic/a:b"},
                             {"message-id", "17"},
                             {"content-length", "2"},
                             {"subscription", id}},
                            "hi"));
  }
  std::string escaped;
  append_escaped(escaped, "s:1", Version::v1_2);
  EXPECT_EQ(escaped, "s\\c1");
  std::string length;
  append_content_length(length, 18446744073709551615u);
  EXPECT_EQ(length, "content-length:18446744073709551615\n");
}

TEST(StompFrameEncoder, WhatIsWrittenReadsBack) {
  // Every byte a version can carry in names, values and the body.
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const auto without = [](std::string s, std::string_view drop) {
    std::erase_if(s, [&](char c) { return drop.find(c) != std::string_view::npos; });
    return s;
  };
  struct Case {
    Version version;
    Command command;
    std::string name, value;
  };
  const Case cases[] = {
      {Version::v1_2, Command::send, "n" + all, all},
      {Version::v1_2, Command::message, "n" + all, all},
      {Version::v1_1, Command::send, "n" + without(all, "\r"), without(all, "\r")},
      {Version::v1_0, Command::send, "n" + without(all, "\r\n:"), without(all, "\r\n")},
      {Version::v1_2, Command::connect, "n" + without(all, "\r\n:"), without(all, "\r\n")},
      {Version::v1_1, Command::connected, "n" + without(all, "\r\n:"), without(all, "\r\n")},
  };
  for (const Case& c : cases) {
    for (const bool content_length : {false, true}) {
      for (const std::string& body : {""s, "plain"s, all}) {
        const std::vector<Header> headers = {{c.name, c.value}, {"k", ""}, {c.name, "2"}};
        const std::string wire = encode(c.command, headers, body, c.version, content_length);
        std::vector<std::pair<std::string, std::string>> expected = {
            {c.name, c.value}, {"k", ""}, {c.name, "2"}};
        if (content_length || body == all) {
          expected.emplace_back("content-length", std::to_string(body.size()));
        }
        EXPECT_EQ(decode_stomp_all_ways(wire, c.version),
                  Events{stomp_frame(c.command, expected, body)})
            << static_cast<int>(c.version) << " " << command_name(c.command);
      }
    }
  }
}

}  // namespace
}  // namespace duplex::core::stomp
