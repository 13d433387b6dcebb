#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../support/event_stream_reading.hpp"
#include "duplex/core/sse/event_stream.hpp"
#include "duplex/core/sse/event_stream_reader.hpp"

namespace duplex::core {
namespace {

using namespace std::literals;

std::string written(const SseEvent& event) {
  std::string out;
  EXPECT_EQ(append_event(out, event), SseError::none);
  return out;
}

// --- the writer -----------------------------------------------------------------------------

TEST(SseWriterTest, DataOnly) {
  EXPECT_EQ(written({.data = "hello"}), "data: hello\n\n");
  EXPECT_EQ(written({.data = ""}), "data:\n\n");
  EXPECT_EQ(written({.data = "{\"a\":[1,2]}"}), "data: {\"a\":[1,2]}\n\n");
}

TEST(SseWriterTest, EveryField) {
  EXPECT_EQ(written({.data = "x", .event = "update", .id = "42", .retry_ms = 3000}),
            "id: 42\nevent: update\nretry: 3000\ndata: x\n\n");
  EXPECT_EQ(written({.data = "x", .retry_ms = 0}), "retry: 0\ndata: x\n\n");
  EXPECT_EQ(written({.data = "x", .retry_ms = UINT64_MAX}),
            "retry: 18446744073709551615\ndata: x\n\n");
  // An empty id clears the client's last event ID; an empty type is the default one.
  EXPECT_EQ(written({.data = "x", .event = "", .id = ""}), "id:\ndata: x\n\n");
}

TEST(SseWriterTest, OneDataLinePerLine) {
  EXPECT_EQ(written({.data = "a\nb\rc\r\nd"}), "data: a\ndata: b\ndata: c\ndata: d\n\n");
  // A trailing line break gives an empty last line, as reading it back needs.
  EXPECT_EQ(written({.data = "a\n"}), "data: a\ndata:\n\n");
  EXPECT_EQ(written({.data = "a\r"}), "data: a\ndata:\n\n");
  EXPECT_EQ(written({.data = "a\r\n"}), "data: a\ndata:\n\n");
  EXPECT_EQ(written({.data = "\n"}), "data:\ndata:\n\n");
  EXPECT_EQ(written({.data = "\r\n"}), "data:\ndata:\n\n");
  EXPECT_EQ(written({.data = "\n\n"}), "data:\ndata:\ndata:\n\n");
  EXPECT_EQ(written({.data = "\r\r\n"}), "data:\ndata:\ndata:\n\n");
  EXPECT_EQ(written({.data = "\n\r"}), "data:\ndata:\ndata:\n\n");
}

TEST(SseWriterTest, ValuesKeepTheirLeadingSpaces) {
  EXPECT_EQ(written({.data = " x\n  y"}), "data:  x\ndata:   y\n\n");
  EXPECT_EQ(written({.data = "z", .event = " e", .id = " 7"}), "id:  7\nevent:  e\ndata: z\n\n");
}

TEST(SseWriterTest, AnyOtherByteGoesAsItIs) {
  const std::string data = "caf\xc3\xa9: \0\t\x7f:"s;
  EXPECT_EQ(written({.data = data, .event = "a:b\0"sv, .id = "\xe2\x82\xac"}),
            "id: \xe2\x82\xac\nevent: a:b\0\ndata: "s + data + "\n\n");
}

TEST(SseWriterTest, RefusesIdsAndTypesThatWouldBreakTheStream) {
  struct Case {
    SseEvent event;
    SseError error;
    std::string_view text;
  };
  const Case cases[] = {
      {{.data = "x", .id = "1\n2"}, SseError::id_has_line_break, "line break in the event id"},
      {{.data = "x", .id = "1\r"}, SseError::id_has_line_break, "line break in the event id"},
      {{.data = "x", .id = "1\0"sv}, SseError::id_has_nul, "NUL in the event id"},
      {{.data = "x", .event = "a\nb"},
       SseError::event_has_line_break,
       "line break in the event type"},
      {{.data = "x", .event = "\r"},
       SseError::event_has_line_break,
       "line break in the event type"},
  };
  for (const Case& c : cases) {
    std::string out = "data: before\n\n";
    EXPECT_EQ(append_event(out, c.event), c.error);
    EXPECT_EQ(sse_error_text(c.error), c.text);
    EXPECT_EQ(out, "data: before\n\n");  // nothing appended
  }
  EXPECT_EQ(sse_error_text(SseError::none), "");
}

TEST(SseWriterTest, AppendsToTheBuffer) {
  std::string out = "data: one\n\n";
  ASSERT_EQ(append_event(out, {.data = "two", .id = "2"}), SseError::none);
  append_comment(out, "heartbeat");
  EXPECT_EQ(out, "data: one\n\nid: 2\ndata: two\n\n: heartbeat\n");
}

TEST(SseWriterTest, Comments) {
  std::string out;
  append_comment(out, "heartbeat");
  append_comment(out, "");
  append_comment(out, "a\nb\r\nc\r");
  EXPECT_EQ(out, ": heartbeat\n:\n: a\n: b\n: c\n:\n");
}

TEST(SseWriterTest, Retry) {
  std::string out;
  append_retry(out, 5000);
  EXPECT_EQ(out, "retry: 5000\n\n");
}

// --- Last-Event-ID --------------------------------------------------------------------------

TEST(LastEventIdTest, DecimalNumbers) {
  EXPECT_EQ(parse_last_event_id("0"), 0u);
  EXPECT_EQ(parse_last_event_id("7"), 7u);
  EXPECT_EQ(parse_last_event_id("1234567890"), 1234567890u);
  EXPECT_EQ(parse_last_event_id("18446744073709551615"), UINT64_MAX);
}

TEST(LastEventIdTest, AnythingElseIsRefused) {
  for (const std::string_view value :
       {""sv, "18446744073709551616"sv, "99999999999999999999"sv, "100000000000000000000"sv,
        "007"sv, "00"sv, "-1"sv, "+1"sv, " 1"sv, "1 "sv, "1a"sv, "0x1"sv, "1.0"sv, "1e3"sv,
        "\xd9\xa1"sv, "1\0"sv}) {
    EXPECT_EQ(parse_last_event_id(value), std::nullopt) << value;
  }
}

// --- the reader -----------------------------------------------------------------------------

using test::line_breaks_as_lf;
using test::read_event_stream;
using Message = test::ReadMessage;
using Stream = test::ReadStream;

Stream read_pieces(const std::vector<std::string>& pieces, size_t max = 1 << 20) {
  Stream s = read_event_stream(pieces, max);
  EXPECT_EQ(s.broken, "");
  return s;
}

// Reads `input` whole, split in two at every byte boundary, and a byte at a time; every way must
// read the same, which is returned.
Stream read_all_ways(std::string_view input, size_t max = 1 << 20) {
  const Stream whole = read_pieces({std::string(input)}, max);
  for (size_t split = 0; split <= input.size(); ++split) {
    const Stream two =
        read_pieces({std::string(input.substr(0, split)), std::string(input.substr(split))}, max);
    EXPECT_EQ(two, whole) << "split at " << split;
    if (two != whole) break;
  }
  std::vector<std::string> bytes;
  for (char c : input) bytes.emplace_back(1, c);
  EXPECT_EQ(read_pieces(bytes, max), whole) << "byte by byte";
  return whole;
}

std::vector<Message> messages(std::string_view input) { return read_all_ways(input).messages; }

TEST(EventStreamReaderTest, TheSpecsExamples) {
  EXPECT_EQ(messages("data: YHOO\ndata: +2\ndata: 10\n\n"),
            (std::vector<Message>{{"message", "YHOO\n+2\n10", ""}}));
  const Stream s = read_all_ways(
      ": test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\n"
      "data:  third event\n");
  EXPECT_EQ(s.messages, (std::vector<Message>{{"message", "first event", "1"},
                                              {"message", "second event", ""}}));
  EXPECT_EQ(s.last_event_id, "");
  // The last one never ends, so it is never dispatched.
  EXPECT_EQ(messages("data\n\ndata\ndata\n\ndata:"),
            (std::vector<Message>{{"message", "", ""}, {"message", "\n", ""}}));
  EXPECT_EQ(messages("data:test\n\ndata: test\n\n"),
            (std::vector<Message>{{"message", "test", ""}, {"message", "test", ""}}));
}

TEST(EventStreamReaderTest, EveryLineBreak) {
  const std::vector<Message> expected = {{"message", "a\nb", ""}, {"message", "c", ""}};
  EXPECT_EQ(messages("data: a\ndata: b\n\ndata: c\n\n"), expected);
  EXPECT_EQ(messages("data: a\r\ndata: b\r\n\r\ndata: c\r\n\r\n"), expected);
  EXPECT_EQ(messages("data: a\rdata: b\r\rdata: c\r\r"), expected);
  EXPECT_EQ(messages("data: a\rdata: b\r\n\ndata: c\n\r"), expected);
  // CR LF is one break, LF CR two.
  EXPECT_EQ(messages("data: a\r\n\r\n"), (std::vector<Message>{{"message", "a", ""}}));
  EXPECT_EQ(messages("data: a\n\rdata: b\n\n"),
            (std::vector<Message>{{"message", "a", ""}, {"message", "b", ""}}));
}

TEST(EventStreamReaderTest, TypesAndIds) {
  const Stream s = read_all_ways(
      "event: add\nid: 5\ndata: x\n\n"
      "data: y\n\n"      // the type was only for the last event; the id stays
      "event: gone\n\n"  // no data: nothing dispatched, and the type is dropped
      "data: z\n\n"
      "id: bad\0id\ndata: w\n\n"s  // an id with NUL is ignored
      "id\nevent:\ndata: v\n\n");  // an empty id clears it, an empty type is the default one
  EXPECT_EQ(s.messages, (std::vector<Message>{{"add", "x", "5"},
                                              {"message", "y", "5"},
                                              {"message", "z", "5"},
                                              {"message", "w", "5"},
                                              {"message", "v", ""}}));
}

TEST(EventStreamReaderTest, IdIsUpdatedWithoutAMessage) {
  const Stream s = read_all_ways("id: 9\n\n");
  EXPECT_TRUE(s.messages.empty());
  EXPECT_EQ(s.last_event_id, "9");
  // But not before the blank line.
  EXPECT_EQ(read_all_ways("id: 9\ndata: x\n").last_event_id, "");
}

TEST(EventStreamReaderTest, FieldsAndSpaces) {
  EXPECT_EQ(messages("data:no space\ndata: one\ndata:  two\ndata:\tx\ndata\ndata:\n\n"),
            (std::vector<Message>{{"message", "no space\none\n two\n\tx\n\n", ""}}));
  // Only the first colon splits; field names are case-sensitive; unknown fields are ignored.
  EXPECT_EQ(messages("data: a: b\nData: no\nDATA: no\nfoo: bar\n data: no\ndata : no\n\n"),
            (std::vector<Message>{{"message", "a: b", ""}}));
  EXPECT_EQ(messages(":comment\n: data: no\ndata: yes\n:\n\n"),
            (std::vector<Message>{{"message", "yes", ""}}));
  EXPECT_EQ(messages("event:  spaced\ndata: x\n\n"), (std::vector<Message>{{" spaced", "x", ""}}));
}

TEST(EventStreamReaderTest, Retry) {
  EXPECT_EQ(read_all_ways("retry: 100\n").retry_ms, 100u);
  EXPECT_EQ(read_all_ways("retry:0050\n").retry_ms, 50u);
  EXPECT_EQ(read_all_ways("retry: 18446744073709551615\n").retry_ms, UINT64_MAX);
  for (const std::string_view ignored :
       {"retry:\n", "retry: 1x\n", "retry: -1\n", "retry: +1\n", "retry:  1\n", "retry: 1 \n",
        "retry: 18446744073709551616\n", "retry: 1.5\n"}) {
    EXPECT_EQ(read_all_ways(ignored).retry_ms, std::nullopt) << ignored;
  }
  EXPECT_EQ(read_all_ways("retry: 7\nretry: x\n").retry_ms, 7u);
}

TEST(EventStreamReaderTest, OneLeadingByteOrderMarkIsSkipped) {
  EXPECT_EQ(messages("\xEF\xBB\xBF"
                     "data: x\n\n"),
            (std::vector<Message>{{"message", "x", ""}}));
  // A second one is text: here, part of a field name nobody knows.
  EXPECT_TRUE(messages("\xEF\xBB\xBF\xEF\xBB\xBF"
                       "data: x\n\n")
                  .empty());
  // So is the start of one that is not.
  EXPECT_TRUE(messages("\xEF\xBB"
                       "data: x\n\n")
                  .empty());
  EXPECT_EQ(messages("\xEF\n\ndata: x\n\n"), (std::vector<Message>{{"message", "x", ""}}));
  EXPECT_EQ(messages("data: \xEF\xBB\xBF\n\n"),
            (std::vector<Message>{{"message", "\xEF\xBB\xBF", ""}}));
}

TEST(EventStreamReaderTest, Limits) {
  EXPECT_EQ(read_all_ways("data: 0123456789\n\n", 16).messages.size(), 1u);
  EXPECT_EQ(read_all_ways("data: 01234567890\n\n", 16).error, "line too long");
  EXPECT_EQ(read_all_ways("data: 0123456789", 16).error, "");
  EXPECT_EQ(read_all_ways("data: 01234567890", 16).error, "line too long");
  EXPECT_EQ(read_all_ways("data: 01234567\ndata: 012345\n\n", 16).messages.size(), 1u);
  EXPECT_EQ(read_all_ways("data: 01234567\ndata: 01234567\n\n", 16).error, "event data too large");
  const Stream s = read_all_ways("data: a\n\ndata: 01234567\ndata: 01234567\n\ndata: b\n\n", 16);
  EXPECT_EQ(s.messages, (std::vector<Message>{{"message", "a", ""}}));
  EXPECT_EQ(s.error, "event data too large");
}

TEST(EventStreamReaderTest, StaysFailed) {
  EventStreamReader reader(4);
  SseRead r = reader.feed("data: x\n\n");
  EXPECT_EQ(r.status, SseReadStatus::error);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_EQ(r.error_reason, "line too long");
  r = reader.feed("\n");
  EXPECT_EQ(r.status, SseReadStatus::error);
  EXPECT_EQ(r.error_reason, "line too long");
}

TEST(EventStreamReaderTest, StopsAfterEachMessage) {
  EventStreamReader reader;
  const std::string_view input = "data: a\n\ndata: b\n\n: tail";
  SseRead r = reader.feed(input);
  EXPECT_EQ(r.status, SseReadStatus::message);
  EXPECT_EQ(r.consumed, 9u);
  EXPECT_EQ(r.message.data, "a");
  EXPECT_EQ(r.message.type, "message");
  r = reader.feed(input.substr(9));
  EXPECT_EQ(r.status, SseReadStatus::message);
  EXPECT_EQ(r.consumed, 9u);
  EXPECT_EQ(r.message.data, "b");
  r = reader.feed(input.substr(18));
  EXPECT_EQ(r.status, SseReadStatus::need_more);
  EXPECT_EQ(r.consumed, 6u);
}

// --- written, then read back ----------------------------------------------------------------

const std::string_view kPayloads[] = {
    "",
    "a",
    "a\nb",
    "a\rb",
    "a\r\nb",
    "\n",
    "\r",
    "\r\n",
    "\n\n",
    "\r\r\n\n\r",
    "a\n",
    "a\r",
    "\na",
    " leading space",
    "  two leading spaces",
    " ",
    "\ttab",
    "line one\r\n\r\n line three ",
    ":starts with a colon",
    "data: looks like a field\n\nid: 666\n\n",
    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad\xe6\x96\x87",
    "nul \0 inside"sv,
    "\xEF\xBB\xBF"
    "bom first",
    "{\"topic\":\"chat\",\"data\":[1,2,3]}",
};

TEST(SseRoundTripTest, EveryPayloadReadsBack) {
  std::string stream;
  std::vector<Message> expected;
  for (const std::string_view data : kPayloads) {
    ASSERT_EQ(append_event(stream, {.data = data}), SseError::none);
    expected.push_back({"message", line_breaks_as_lf(data), ""});
  }
  EXPECT_EQ(read_all_ways(stream).messages, expected);
}

TEST(SseRoundTripTest, TypesIdsCommentsAndRetry) {
  const std::optional<std::string_view> ids[] = {
      std::nullopt, "1", "", " 2", "18446744073709551615", "\xc3\xa9t\xc3\xa9:3"};
  const std::string_view types[] = {"", "update", " spaced", "a:b", "caf\xc3\xa9", "message"};
  std::string stream;
  append_retry(stream, 2500);
  append_comment(stream, "connected\nto the stream");
  std::vector<Message> expected;
  std::string last_id;
  size_t n = 0;
  for (const std::string_view data : kPayloads) {
    for (const auto& id : ids) {
      for (const std::string_view type : types) {
        const SseEvent event{.data = data, .event = type, .id = id};
        // Every few events a comment, as a heartbeat would come.
        if (++n % 7 == 0) append_comment(stream, "heartbeat");
        ASSERT_EQ(append_event(stream, event), SseError::none);
        if (id) last_id = std::string(*id);
        expected.push_back(
            {type.empty() ? "message" : std::string(type), line_breaks_as_lf(data), last_id});
      }
    }
  }
  const Stream s = read_pieces({stream});
  EXPECT_EQ(s.error, "");
  EXPECT_EQ(s.retry_ms, 2500u);
  EXPECT_EQ(s.last_event_id, last_id);
  ASSERT_EQ(s.messages.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(s.messages[i], expected[i]) << i;
  // And in pieces of every size up to 64 bytes.
  for (size_t size = 1; size <= 64; ++size) {
    std::vector<std::string> pieces;
    for (size_t at = 0; at < stream.size(); at += size) pieces.push_back(stream.substr(at, size));
    EXPECT_EQ(read_pieces(pieces), s) << size;
  }
}

TEST(SseRoundTripTest, LeadingSpacesSurvive) {
  std::string stream;
  ASSERT_EQ(append_event(stream, {.data = " x\n  y\n", .event = "  t", .id = " 1"}),
            SseError::none);
  EXPECT_EQ(messages(stream), (std::vector<Message>{{"  t", " x\n  y\n", " 1"}}));
}

}  // namespace
}  // namespace duplex::core
