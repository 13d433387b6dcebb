// Reading STOMP frames (core/stomp/frame_decoder.hpp). Every input is read whole, split in two at
// every byte and a byte at a time (decode_stomp_all_ways), which must give the same events.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "../support/stomp_events.hpp"
#include "duplex/core/stomp/frame.hpp"
#include "duplex/core/stomp/frame_decoder.hpp"

namespace duplex::core::stomp {
namespace {

using namespace std::literals;
using test::decode_stomp_all_ways;
using test::decode_stomp_pieces;
using test::stomp_error;
using test::stomp_frame;
using test::stomp_heart_beat;
using Events = std::vector<test::StompEvent>;
using Kind = DecodeEvent::Kind;

Events decode(std::string_view input, Version version = Version::v1_2, DecodeLimits limits = {}) {
  return decode_stomp_all_ways(input, version, limits);
}

// The one error `input` ends in, after `before` events.
void expect_error(std::string_view input, DecodeError error, size_t before = 0,
                  Version version = Version::v1_2, DecodeLimits limits = {}) {
  const Events events = decode(input, version, limits);
  ASSERT_EQ(events.size(), before + 1) << testing::PrintToString(events);
  EXPECT_EQ(events.back(), stomp_error(error)) << testing::PrintToString(input);
}

void expect_errors(DecodeError error, std::initializer_list<std::string_view> inputs) {
  for (const std::string_view input : inputs) expect_error(input, error);
}

bool points_into(std::string_view view, std::string_view bytes) {
  return view.data() >= bytes.data() && view.data() + view.size() <= bytes.data() + bytes.size();
}

// The frame at the start of `input` (which holds it whole), read by `decoder`.
Frame read_frame(FrameDecoder& decoder, std::string_view input) {
  const DecodeEvent e = decoder.next(input);
  EXPECT_EQ(e.kind, Kind::frame);
  return e.frame;
}

TEST(StompFrameDecoder, ReadsCommandHeadersAndBody) {
  EXPECT_EQ(decode("SEND\ndestination:/queue/a\n\nhello\0"sv),
            Events{stomp_frame(Command::send, {{"destination", "/queue/a"}}, "hello")});
  EXPECT_EQ(decode("DISCONNECT\n\n\0"sv), Events{stomp_frame(Command::disconnect)});
  EXPECT_EQ(decode("SEND\na:1\nb:2\nc:3\n\n\0"sv),
            Events{stomp_frame(Command::send, {{"a", "1"}, {"b", "2"}, {"c", "3"}})});
}

TEST(StompFrameDecoder, ReadsEveryCommand) {
  for (const Command c : {Command::connect, Command::stomp, Command::send, Command::subscribe,
                          Command::unsubscribe, Command::ack, Command::nack, Command::begin,
                          Command::commit, Command::abort, Command::disconnect, Command::connected,
                          Command::message, Command::receipt, Command::error}) {
    const std::string input = std::string(command_name(c)) + "\n\n" + '\0';
    EXPECT_EQ(decode(input), Events{stomp_frame(c)}) << input;
  }
}

TEST(StompFrameDecoder, ReadsCrlfLineEnds) {
  EXPECT_EQ(decode("SEND\r\ndestination:/a\r\n\r\nhi\0"sv),
            Events{stomp_frame(Command::send, {{"destination", "/a"}}, "hi")});
  // LF and CRLF may be mixed; a CR in the body is body.
  EXPECT_EQ(decode("SEND\na:1\r\nb:2\n\r\nx\r\ny\r\0"sv),
            Events{stomp_frame(Command::send, {{"a", "1"}, {"b", "2"}}, "x\r\ny\r")});
  EXPECT_EQ(decode("SEND\r\n\n\0"sv), Events{stomp_frame(Command::send)});
}

TEST(StompFrameDecoder, SplitsAHeaderAtItsFirstColonAndTrimsNothing) {
  EXPECT_EQ(decode("SEND\nurl:http://x:80/y\nempty:\n a : b \n\n\0"sv),
            Events{stomp_frame(Command::send,
                               {{"url", "http://x:80/y"}, {"empty", ""}, {" a ", " b "}})});
  EXPECT_EQ(decode("SEND\na::\n\n\0"sv), Events{stomp_frame(Command::send, {{"a", ":"}})});
}

TEST(StompFrameDecoder, KeepsRepeatedHeadersInOrderAndTheFirstCounts) {
  const std::string input = "MESSAGE\nfoo:World\nfoo:Hello\nbar:1\n\n\0"s;
  EXPECT_EQ(decode(input), Events{stomp_frame(Command::message,
                                              {{"foo", "World"}, {"foo", "Hello"}, {"bar", "1"}})});
  FrameDecoder decoder;
  const Frame frame = read_frame(decoder, input);
  EXPECT_EQ(frame.header("foo"), "World");
  EXPECT_EQ(frame.header("bar"), "1");
  EXPECT_EQ(frame.header("baz"), std::nullopt);
}

TEST(StompFrameDecoder, ReadsTheBodyToTheFirstNulWithoutContentLength) {
  // What follows the NUL is the next frame (here a command line not ended yet).
  EXPECT_EQ(decode("SEND\n\nab\0cd\0"sv), Events{stomp_frame(Command::send, {}, "ab")});
  EXPECT_EQ(decode("SEND\n\nab\0cd\0\n"sv),
            (Events{stomp_frame(Command::send, {}, "ab"),
                    stomp_error(DecodeError::unknown_command, "cd\0"s)}));
  // Header names are case-sensitive: Content-Length is another header.
  EXPECT_EQ(decode("SEND\nContent-Length:1\n\nabc\0"sv),
            Events{stomp_frame(Command::send, {{"Content-Length", "1"}}, "abc")});
}

TEST(StompFrameDecoder, ReadsContentLengthBytesNulsIncluded) {
  EXPECT_EQ(decode("SEND\ncontent-length:5\n\na\0b\0c\0"sv),
            Events{stomp_frame(Command::send, {{"content-length", "5"}}, "a\0b\0c"s)});
  EXPECT_EQ(decode("SEND\ncontent-length:0\n\n\0"sv),
            Events{stomp_frame(Command::send, {{"content-length", "0"}})});
  EXPECT_EQ(decode("SEND\ncontent-length:003\n\n\0\0\0\0"sv),
            Events{stomp_frame(Command::send, {{"content-length", "003"}}, "\0\0\0"s)});
  EXPECT_EQ(decode("SEND\r\ncontent-length:2\r\n\r\n\r\n\0"sv),
            Events{stomp_frame(Command::send, {{"content-length", "2"}}, "\r\n")});
  // The first content-length counts; a later one is only a header.
  EXPECT_EQ(decode("SEND\ncontent-length:1\ncontent-length:x\n\n\0\0"sv),
            Events{stomp_frame(Command::send, {{"content-length", "1"}, {"content-length", "x"}},
                               "\0"s)});
  EXPECT_EQ(
      decode("SEND\na:b\ncontent-length:1\ncontent-length:3\n\nz\0"sv),
      Events{stomp_frame(Command::send,
                         {{"a", "b"}, {"content-length", "1"}, {"content-length", "3"}}, "z")});
}

TEST(StompFrameDecoder, ContentLengthMustBeDigits) {
  for (const std::string_view value :
       {""sv, "a"sv, "1a"sv, " 1"sv, "1 "sv, "+1"sv, "-1"sv, "0x1"sv, "1\\c"sv, "1.0"sv}) {
    expect_error("SEND\ncontent-length:"s + std::string(value) + "\n\n\0"s,
                 DecodeError::content_length_not_a_number);
  }
  expect_error("SEND\ncontent-length:\r\n\r\n\0"sv, DecodeError::content_length_not_a_number);
  // Found at the first byte that is not a digit, before the line ends.
  EXPECT_EQ(decode_stomp_pieces({"SEND\ncontent-length:12x"}),
            Events{stomp_error(DecodeError::content_length_not_a_number)});
}

TEST(StompFrameDecoder, ContentLengthMustEndInNul) {
  expect_error("SEND\ncontent-length:2\n\nabc\0"sv, DecodeError::missing_nul);
  expect_error("SEND\ncontent-length:0\n\nx\0"sv, DecodeError::missing_nul);
  // Reported at the byte after the body, before any NUL comes.
  EXPECT_EQ(decode_stomp_pieces({"SEND\ncontent-length:1\n\nab"}),
            Events{stomp_error(DecodeError::missing_nul)});
}

TEST(StompFrameDecoder, ReadsSeveralFramesAndHeartBeatsInOrder) {
  EXPECT_EQ(decode("\n\r\nSEND\n\na\0\nACK\nid:1\n\n\0\r\n\nSEND\n\nb\0"sv),
            (Events{stomp_heart_beat(), stomp_heart_beat(), stomp_frame(Command::send, {}, "a"),
                    stomp_heart_beat(), stomp_frame(Command::ack, {{"id", "1"}}),
                    stomp_heart_beat(), stomp_heart_beat(), stomp_frame(Command::send, {}, "b")}));
  EXPECT_EQ(decode("\n"), Events{stomp_heart_beat()});
  EXPECT_EQ(decode("\r\n"), Events{stomp_heart_beat()});
  EXPECT_EQ(decode("\n\n\n"), (Events{stomp_heart_beat(), stomp_heart_beat(), stomp_heart_beat()}));
  EXPECT_EQ(decode(""), Events{});
  // A frame not finished yet, and a CR waiting for its LF, give nothing.
  EXPECT_EQ(decode("SEND\na:b\n\nbody"), Events{});
  EXPECT_EQ(decode("\r"), Events{});
}

TEST(StompFrameDecoder, CrOnlyBeforeLf) {
  expect_errors(DecodeError::bare_cr,
                {"\rX"sv, "\r\r\n"sv, "SEND\rX\n\n\0"sv, "SEND\na\rb:c\n\n\0"sv,
                 "SEND\na:b\rc\n\n\0"sv, "SEND\na:b\r\r\n\n\0"sv, "SEND\na:b\n\rx\0"sv});
  expect_error("SEND\n\n\0\rSEND"sv, DecodeError::bare_cr, 1);
}

TEST(StompFrameDecoder, RefusesUnknownCommandsWithTheirName) {
  EXPECT_EQ(decode("FOO\n\n\0"sv), Events{stomp_error(DecodeError::unknown_command, "FOO")});
  EXPECT_EQ(decode("send\n\n\0"sv), Events{stomp_error(DecodeError::unknown_command, "send")});
  EXPECT_EQ(decode("SEND \n\n\0"sv), Events{stomp_error(DecodeError::unknown_command, "SEND ")});
  EXPECT_EQ(decode("HELLO WORLD\r\n\r\n\0"sv),
            Events{stomp_error(DecodeError::unknown_command, "HELLO WORLD")});
  EXPECT_EQ(decode("\n\0SEND\n"sv),
            (Events{stomp_heart_beat(), stomp_error(DecodeError::unknown_command, "\0SEND"s)}));
  EXPECT_EQ(decode("SEND\n\n\0GET / HTTP/1.1\r\n"sv),
            (Events{stomp_frame(Command::send),
                    stomp_error(DecodeError::unknown_command, "GET / HTTP/1.1")}));
}

TEST(StompFrameDecoder, RefusesHeaderLinesWithoutAColonOrAName) {
  // The last: a frame whose blank line is missing reads its body as a header line.
  expect_errors(DecodeError::header_without_colon,
                {"SEND\nabc\n\n\0"sv, "SEND\r\nabc\r\n\r\n\0"sv, "SEND\na:b\nc\n\n\0"sv,
                 "SEND\na:b\nbody\0\n"sv});
  expect_errors(DecodeError::empty_header_name, {"SEND\n:b\n\n\0"sv, "SEND\n:\n\n\0"sv});
}

TEST(StompFrameDecoder, UnescapesOneTwoHeaders) {
  EXPECT_EQ(decode("SEND\na\\cb\\\\c:x\\ny\\rz\\c\\\\\n\n\0"sv),
            Events{stomp_frame(Command::send, {{"a:b\\c", "x\ny\rz:\\"}})});
  EXPECT_EQ(decode("MESSAGE\ndestination:/a\\cb\n\n\0"sv),
            Events{stomp_frame(Command::message, {{"destination", "/a:b"}})});
  for (const std::string_view bad : {"\\t"sv, "\\a"sv, "\\C"sv, "\\N"sv, "\\R"sv, "\\ "sv}) {
    expect_error("SEND\na:x" + std::string(bad) + "y\n\n\0"s, DecodeError::bad_escape);
    expect_error("SEND\nx" + std::string(bad) + "y:a\n\n\0"s, DecodeError::bad_escape);
  }
  // A '\' ending a name or a value.
  expect_error("SEND\na:x\\\n\n\0"sv, DecodeError::bad_escape);
  expect_error("SEND\na:x\\\r\n\r\n\0"sv, DecodeError::bad_escape);
  expect_error("SEND\nx\\\n\n\0"sv, DecodeError::bad_escape);
  // Found at the byte after the '\'.
  EXPECT_EQ(decode_stomp_pieces({"SEND\na:\\t"}), Events{stomp_error(DecodeError::bad_escape)});
}

TEST(StompFrameDecoder, UnescapesOneOneHeadersWithoutCr) {
  EXPECT_EQ(decode("SEND\na\\cb:x\\ny\\c\\\\\n\n\0"sv, Version::v1_1),
            Events{stomp_frame(Command::send, {{"a:b", "x\ny:\\"}})});
  expect_error("SEND\na:x\\ry\n\n\0"sv, DecodeError::bad_escape, 0, Version::v1_1);
  expect_error("SEND\na:x\\ty\n\n\0"sv, DecodeError::bad_escape, 0, Version::v1_1);
}

TEST(StompFrameDecoder, OneZeroHeadersAreReadAsTheyAre) {
  EXPECT_EQ(decode("SEND\na\\c:x\\t\\n\\\n\n\0"sv, Version::v1_0),
            Events{stomp_frame(Command::send, {{"a\\c", "x\\t\\n\\"}})});
}

TEST(StompFrameDecoder, ConnectAndConnectedAreNeverUnescaped) {
  for (const Version v : {Version::v1_0, Version::v1_1, Version::v1_2}) {
    EXPECT_EQ(decode("CONNECT\nlogin:a\\tb\\c\npasscode:\\\n\n\0"sv, v),
              Events{stomp_frame(Command::connect, {{"login", "a\\tb\\c"}, {"passcode", "\\"}})});
    EXPECT_EQ(decode("CONNECTED\nserver:x\\ny\n\n\0"sv, v),
              Events{stomp_frame(Command::connected, {{"server", "x\\ny"}})});
  }
  // STOMP is escaped as any other frame (the specification names only those two).
  EXPECT_EQ(decode("STOMP\nlogin:a\\cb\n\n\0"sv),
            Events{stomp_frame(Command::stomp, {{"login", "a:b"}})});
  expect_error("STOMP\nlogin:a\\tb\n\n\0"sv, DecodeError::bad_escape);
}

TEST(StompFrameDecoder, SetVersionTakesEffectFromTheNextFrame) {
  const std::string input = "CONNECT\naccept-version:1.0\n\n\0SEND\na:\\t\n\n\0"s;
  FrameDecoder decoder;
  std::string_view in = input;
  EXPECT_EQ(decoder.next(in).kind, Kind::frame);
  decoder.set_version(Version::v1_0);
  EXPECT_EQ(decoder.version(), Version::v1_0);
  const DecodeEvent e = decoder.next(in);
  ASSERT_EQ(e.kind, Kind::frame);
  EXPECT_EQ(e.frame.header("a"), "\\t");
  EXPECT_TRUE(in.empty());

  // Set while a frame is partly read: that frame keeps its version once its command is read.
  FrameDecoder split;
  std::string_view part = "SEND\na:"sv;
  EXPECT_EQ(split.next(part).kind, Kind::need_more);
  split.set_version(Version::v1_0);
  std::string_view rest = "\\t\n\n\0SEND\nb:\\t\n\n\0"sv;
  EXPECT_EQ(split.next(rest).error, DecodeError::bad_escape);
}

TEST(StompFrameDecoder, ReadsTheFramesStompJsSends) {
  // @stomp/stompjs 7.5 (Client with webSocketFactory), the bytes its WebSocket sent, after a
  // CONNECTED with version:1.2: connect, subscribe, publish "hello", "", "hé" with a header
  // x-note:"a:b\c", a binary body 01 00 02, ack, unsubscribe, deactivate.
  const std::string input =
      "CONNECT\naccept-version:1.2,1.1,1.0\nheart-beat:10000,10000\n\n\0"
      "SUBSCRIBE\nid:sub-0\ndestination:/topic/chat\n\n\0"
      "SEND\ndestination:/topic/chat\ncontent-length:5\n\nhello\0"
      "SEND\ndestination:/topic/chat\n\n\0"
      "SEND\ndestination:/topic/chat\nx-note:a\\cb\\\\c\ncontent-length:3\n\nh\xC3\xA9\0"
      "SEND\ndestination:/topic/chat\ncontent-length:3\n\n\x01\0\x02\0"
      "ACK\nid:m-1\nsubscription:sub-0\n\n\0"
      "\n"  // a heart-beat
      "UNSUBSCRIBE\nid:sub-0\n\n\0"
      "DISCONNECT\nreceipt:close-1\n\n\0"s;
  EXPECT_EQ(
      decode(input),
      (Events{stomp_frame(Command::connect,
                          {{"accept-version", "1.2,1.1,1.0"}, {"heart-beat", "10000,10000"}}),
              stomp_frame(Command::subscribe, {{"id", "sub-0"}, {"destination", "/topic/chat"}}),
              stomp_frame(Command::send, {{"destination", "/topic/chat"}, {"content-length", "5"}},
                          "hello"),
              stomp_frame(Command::send, {{"destination", "/topic/chat"}}),
              stomp_frame(
                  Command::send,
                  {{"destination", "/topic/chat"}, {"x-note", "a:b\\c"}, {"content-length", "3"}},
                  "h\xC3\xA9"),
              stomp_frame(Command::send, {{"destination", "/topic/chat"}, {"content-length", "3"}},
                          "\x01\0\x02"s),
              stomp_frame(Command::ack, {{"id", "m-1"}, {"subscription", "sub-0"}}),
              stomp_heart_beat(), stomp_frame(Command::unsubscribe, {{"id", "sub-0"}}),
              stomp_frame(Command::disconnect, {{"receipt", "close-1"}})}));
}

TEST(StompFrameDecoder, ReadsServerFrames) {
  EXPECT_EQ(
      decode("CONNECTED\nversion:1.2\nheart-beat:0,0\nserver:duplex\n\n\0"
             "MESSAGE\nsubscription:0\nmessage-id:007\ndestination:/queue/a\ncontent-type:"
             "text/plain\ncontent-length:5\n\nhello\0\n"
             "RECEIPT\nreceipt-id:77\n\n\0"
             "ERROR\nmessage:malformed frame received\ncontent-type:text/plain\n\nThe message:"
             "\n-----\nMESSAGE\n\0"sv),
      (Events{stomp_frame(Command::connected,
                          {{"version", "1.2"}, {"heart-beat", "0,0"}, {"server", "duplex"}}),
              stomp_frame(Command::message,
                          {{"subscription", "0"},
                           {"message-id", "007"},
                           {"destination", "/queue/a"},
                           {"content-type", "text/plain"},
                           {"content-length", "5"}},
                          "hello"),
              stomp_heart_beat(), stomp_frame(Command::receipt, {{"receipt-id", "77"}}),
              stomp_frame(Command::error,
                          {{"message", "malformed frame received"}, {"content-type", "text/plain"}},
                          "The message:\n-----\nMESSAGE\n")}));
}

TEST(StompFrameDecoder, FrameSizeLimit) {
  const DecodeLimits limits{.max_frame_bytes = 16};
  // "SEND\n\n" is 6 bytes: a body of 9 and its NUL make 16.
  EXPECT_EQ(decode("SEND\n\n123456789\0"sv, Version::v1_2, limits),
            Events{stomp_frame(Command::send, {}, "123456789")});
  expect_error("SEND\n\n1234567890\0"sv, DecodeError::frame_too_large, 0, Version::v1_2, limits);
  // Found at the 17th byte, whatever follows.
  EXPECT_EQ(decode_stomp_pieces({"SEND\n\n1234567890x"}, Version::v1_2, limits),
            Events{stomp_error(DecodeError::frame_too_large)});
  EXPECT_EQ(decode_stomp_pieces({"SEND\n\n1234567890"}, Version::v1_2, limits), Events{});
  // In the head.
  expect_error("SEND\nabcdefghijk:\n\n\0"sv, DecodeError::frame_too_large, 0, Version::v1_2,
               limits);
  // With content-length: known when the head ends ("SEND\ncontent-length:N\n\n" is 23 bytes).
  const DecodeLimits counted{.max_frame_bytes = 30};
  EXPECT_EQ(decode("SEND\ncontent-length:5\n\n12345\0"sv, Version::v1_2, counted),
            Events{stomp_frame(Command::send, {{"content-length", "5"}}, "12345")});
  EXPECT_EQ(decode_stomp_pieces({"SEND\ncontent-length:7\n\n"}, Version::v1_2, counted),
            Events{stomp_error(DecodeError::frame_too_large)});
  // A content-length above the limit, at its digit; digits beyond any width are no overflow.
  EXPECT_EQ(decode_stomp_pieces({"SEND\ncontent-length:31"}, Version::v1_2, counted),
            Events{stomp_error(DecodeError::content_length_too_large)});
  EXPECT_EQ(decode_stomp_pieces({"SEND\ncontent-length:30"}, Version::v1_2, counted), Events{});
  expect_error("SEND\ncontent-length:99999999999999999999999999\n\n\0"sv,
               DecodeError::content_length_too_large);
  // Heart-beats between frames are not part of any.
  EXPECT_EQ(
      decode("\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\nSEND\n\n123456789\0\n"sv, Version::v1_2, limits)
          .size(),
      19u);
}

TEST(StompFrameDecoder, TheDefaultFrameSizeTakesAMebibyteBody) {
  EXPECT_EQ(DecodeLimits{}.max_frame_bytes, (1u << 20) + (64u << 10));
  const std::string body(1 << 20, 'x');
  const std::string head = "SEND\ndestination:/topic/big\ncontent-length:1048576\n\n";
  for (const std::string& input : {head + body + '\0', "SEND\n\n" + body + '\0'}) {
    const Events events = decode_stomp_pieces({input.substr(0, 100000), input.substr(100000)});
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].body, body);
  }
}

TEST(StompFrameDecoder, HeaderCountLimit) {
  const DecodeLimits limits{.max_headers = 2};
  EXPECT_EQ(decode("SEND\na:1\nb:2\n\n\0"sv, Version::v1_2, limits),
            Events{stomp_frame(Command::send, {{"a", "1"}, {"b", "2"}})});
  expect_error("SEND\na:1\nb:2\nc:3\n\n\0"sv, DecodeError::too_many_headers, 0, Version::v1_2,
               limits);
  // At the third line's first byte.
  EXPECT_EQ(decode_stomp_pieces({"SEND\na:1\nb:2\nc"}, Version::v1_2, limits),
            Events{stomp_error(DecodeError::too_many_headers)});
  EXPECT_EQ(decode_stomp_pieces({"SEND\na:1\nb:2\n\r"}, Version::v1_2, limits), Events{});
  EXPECT_EQ(DecodeLimits{}.max_headers, 64u);
}

TEST(StompFrameDecoder, LineLengthLimit) {
  const DecodeLimits limits{.max_line_bytes = 5};
  EXPECT_EQ(decode("SEND\nab:cd\r\n\n\0"sv, Version::v1_2, limits),
            Events{stomp_frame(Command::send, {{"ab", "cd"}})});
  EXPECT_EQ(decode("SEND\na:\\n\n\n\0"sv, Version::v1_2, limits),
            Events{stomp_frame(Command::send, {{"a", "\n"}})});
  expect_error("SEND\nab:cde\n\n\0"sv, DecodeError::line_too_long, 0, Version::v1_2, limits);
  expect_error("SEND\nabcdef:\n\n\0"sv, DecodeError::line_too_long, 0, Version::v1_2, limits);
  expect_error("SEND\na:\\n\\\\\n\n\0"sv, DecodeError::line_too_long, 0, Version::v1_2, limits);
  // The command line too (DISCONNECT is ten bytes).
  expect_error("DISCONNECT\n\n\0"sv, DecodeError::line_too_long, 0, Version::v1_2, limits);
  // At the sixth byte, before the line ends.
  EXPECT_EQ(decode_stomp_pieces({"SEND\nabcdef"}, Version::v1_2, limits),
            Events{stomp_error(DecodeError::line_too_long)});
  EXPECT_EQ(DecodeLimits{}.max_line_bytes, 8192u);
}

TEST(StompFrameDecoder, StaysFailed) {
  // The same error every call, its bytes left; the unknown command's name only the first time.
  FrameDecoder decoder;
  const std::string_view inputs[] = {"FOO\n\n\0SEND\n\n\0"sv, "SEND\n\n\0"sv, "SEND\n\n\0"sv};
  for (const std::string_view input : inputs) {
    std::string_view in = input;
    const DecodeEvent e = decoder.next(in);
    EXPECT_EQ(e.kind, Kind::error);
    EXPECT_EQ(e.error, DecodeError::unknown_command);
    EXPECT_EQ(e.unknown_command, input.data() == inputs[0].data() ? "FOO" : "");
    EXPECT_EQ(in, input);
    EXPECT_TRUE(decoder.failed());
    EXPECT_FALSE(decoder.mid_frame());
  }
}

TEST(StompFrameDecoder, ErrorReasons) {
  const std::pair<DecodeError, std::string_view> reasons[] = {
      {DecodeError::unknown_command, "Unknown command"},
      {DecodeError::bare_cr, "CR not followed by LF"},
      {DecodeError::header_without_colon, "Header line without a colon"},
      {DecodeError::empty_header_name, "Header with an empty name"},
      {DecodeError::bad_escape, "Undefined escape sequence in a header"},
      {DecodeError::content_length_not_a_number, "content-length is not a number"},
      {DecodeError::content_length_too_large, "content-length is larger than the frame size limit"},
      {DecodeError::missing_nul, "No NUL after the content-length bytes of body"},
      {DecodeError::frame_too_large, "Frame too large"},
      {DecodeError::too_many_headers, "Too many headers"},
      {DecodeError::line_too_long, "Command or header line too long"},
  };
  for (const auto& [error, reason] : reasons) EXPECT_EQ(decode_error_reason(error), reason);
}

TEST(StompFrameDecoder, AWholeFrameIsReadInPlace) {
  const std::string input = "SEND\ndestination:/a\ncontent-length:2\n\nhi\0"s;
  FrameDecoder decoder;
  const Frame frame = read_frame(decoder, input);
  ASSERT_EQ(frame.headers.size(), 2u);
  for (const Header& h : frame.headers) {
    EXPECT_TRUE(points_into(h.name, input));
    EXPECT_TRUE(points_into(h.value, input));
  }
  EXPECT_EQ(frame.body.data(), input.data() + input.size() - 3);
  EXPECT_EQ(decoder.memory_held(), 2 * sizeof(Header));
}

TEST(StompFrameDecoder, UnescapedHeadersAndSplitFramesAreTheDecoders) {
  const std::string input = "SEND\na:x\\cy\nb:z\n\nbody\0"s;
  FrameDecoder decoder;
  const Frame frame = read_frame(decoder, input);
  EXPECT_EQ(frame.headers[0].value, "x:y");
  EXPECT_FALSE(points_into(frame.headers[0].value, input));
  EXPECT_TRUE(points_into(frame.body, input));  // only the headers were written

  const std::string first = "SEND\na:1\nb:2\n\nbo", second = "dy\0SEND\n\nx\0"s;
  FrameDecoder split;
  std::string_view a = first, b = second;
  EXPECT_EQ(split.next(a).kind, Kind::need_more);
  EXPECT_TRUE(split.mid_frame());
  EXPECT_GT(split.memory_held(), 0u);
  const DecodeEvent whole = split.next(b);
  ASSERT_EQ(whole.kind, Kind::frame);
  EXPECT_EQ(whole.frame.body, "body");
  EXPECT_EQ(whole.frame.header("a"), "1");
  EXPECT_FALSE(points_into(whole.frame.body, first));
  EXPECT_FALSE(points_into(whole.frame.body, second));
  EXPECT_EQ(b, "SEND\n\nx\0"sv);  // only the frame's bytes were taken
  const DecodeEvent next = split.next(b);
  ASSERT_EQ(next.kind, Kind::frame);
  EXPECT_TRUE(points_into(next.frame.body, second));
}

TEST(StompFrameDecoder, AnIdleDecoderHoldsNoBuffer) {
  EXPECT_LE(sizeof(FrameDecoder), 104u);
  FrameDecoder decoder;
  EXPECT_EQ(decoder.memory_held(), 0u);
  // A large frame in pieces: its buffer is freed by the call after it, which says need_more.
  const std::string body(100000, 'x');
  const std::string input = "SEND\ndestination:/a\n\n" + body + '\0';
  std::string_view first = std::string_view(input).substr(0, 50000);
  std::string_view rest = std::string_view(input).substr(50000);
  EXPECT_EQ(decoder.next(first).kind, Kind::need_more);
  EXPECT_GE(decoder.memory_held(), 50000u);
  EXPECT_EQ(decoder.next(rest).kind, Kind::frame);
  EXPECT_EQ(decoder.next(rest).kind, Kind::need_more);
  EXPECT_EQ(decoder.memory_held(), 0u);

  // Frames of one input share one header array, freed once the input is used up.
  std::string_view two = "SEND\na:1\n\n\0SEND\nb:2\n\n\0"sv;
  EXPECT_EQ(decoder.next(two).kind, Kind::frame);
  EXPECT_EQ(decoder.memory_held(), sizeof(Header));
  EXPECT_EQ(decoder.next(two).kind, Kind::frame);
  EXPECT_EQ(decoder.memory_held(), sizeof(Header));
  EXPECT_EQ(decoder.next(two).kind, Kind::need_more);
  EXPECT_EQ(decoder.memory_held(), 0u);

  // A frame with more than kKeptHeaders headers: its header array goes too.
  std::string many = "SEND\n";
  for (size_t i = 0; i <= FrameDecoder::kKeptHeaders; ++i) many += "h:v\n";
  many += "\n\0"s;
  std::string_view in = many;
  EXPECT_EQ(decoder.next(in).kind, Kind::frame);
  EXPECT_EQ(decoder.next(in).kind, Kind::need_more);
  EXPECT_EQ(decoder.memory_held(), 0u);

  // Unescaped headers too.
  std::string_view escaped = "SEND\na:\\c\n\n\0"sv;
  EXPECT_EQ(decoder.next(escaped).kind, Kind::frame);
  EXPECT_EQ(decoder.next(escaped).kind, Kind::need_more);
  EXPECT_EQ(decoder.memory_held(), 0u);
}

TEST(StompFrameDecoder, ATooLargeFrameIsRefusedBeforeItIsHeld) {
  // 2 MiB without a NUL, fed in 64 KiB pieces: refused at the byte past the limit, holding no
  // more than the limit.
  FrameDecoder decoder;
  const std::string piece(64 << 10, 'x');
  std::string_view head = "SEND\n\n"sv;
  EXPECT_EQ(decoder.next(head).kind, Kind::need_more);
  size_t fed = 6;
  DecodeEvent e;
  while (true) {
    std::string_view in = piece;
    e = decoder.next(in);
    if (e.kind != Kind::need_more) break;
    fed += piece.size();
    ASSERT_LE(decoder.memory_held(), 2 * size_t{DecodeLimits{}.max_frame_bytes});
  }
  EXPECT_EQ(e.error, DecodeError::frame_too_large);
  EXPECT_EQ(fed, 6 + 16 * piece.size());
}

}  // namespace
}  // namespace duplex::core::stomp
