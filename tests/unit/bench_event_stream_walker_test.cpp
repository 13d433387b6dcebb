// The event-stream walker of `duplex bench --sse` (apps/duplex/event_stream_walker.hpp): the
// events it finds in a chunked text/event-stream, their data sizes and first bytes, are the
// same however the bytes are split, and what it steps over (comments, ids, other fields, events
// without data) never comes out. Each stream is also read split at every byte and byte by byte.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/http/chunked_writer.hpp"
#include "event_stream_walker.hpp"

namespace duplex::app {
namespace {

struct Event {
  uint64_t size = 0;
  std::string head;
  bool operator==(const Event&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
  return os << "{" << e.size << " '" << e.head << "'}";
}

struct Outcome {
  std::vector<Event> events;
  bool ok = true;
  std::string error;
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "{ok=" << o.ok << " '" << o.error << "'";
  for (const Event& e : o.events) os << " " << e;
  return os << "}";
}

Outcome walk(const std::vector<std::string>& pieces, bool chunked = true, size_t head = 8) {
  EventStreamWalker walker(chunked, head);
  Outcome o;
  for (const std::string& piece : pieces) {
    o.ok = walker.feed(piece, [&](uint64_t size, const uint8_t* bytes, size_t head_size) {
      o.events.push_back({size, std::string(reinterpret_cast<const char*>(bytes), head_size)});
      return true;
    });
    if (!o.ok) break;
  }
  o.error = std::string(walker.error());
  return o;
}

// The body read whole, split at every byte, and byte by byte: always the same outcome.
Outcome walk_every_way(std::string_view body, bool chunked = true, size_t head = 8) {
  const Outcome whole = walk({std::string(body)}, chunked, head);
  for (size_t cut = 1; cut < body.size(); ++cut) {
    EXPECT_EQ(
        walk({std::string(body.substr(0, cut)), std::string(body.substr(cut))}, chunked, head),
        whole)
        << "split at " << cut;
  }
  std::vector<std::string> bytes;
  for (char c : body) bytes.emplace_back(1, c);
  EXPECT_EQ(walk(bytes, chunked, head), whole) << "byte by byte";
  return whole;
}

std::string chunk(std::string_view data) {
  std::string out;
  core::append_chunk(out, data);
  return out;
}

TEST(BenchEventStreamWalker, DuplexServesOneEventPerChunk) {
  const std::string body =
      chunk("retry: 3000\n\n") +
      chunk("id: 1\ndata: {\"type\":\"message\",\"topic\":\"t0\",\"data\":\"hello\"}\n\n") +
      chunk("id: 2\ndata: {\"type\":\"message\",\"topic\":\"t0\",\"data\":\"\"}\n\n");
  const Outcome o = walk_every_way(body, true, 12);
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.events, (std::vector<Event>{{46, "{\"type\":\"mes"}, {41, "{\"type\":\"mes"}}));
}

TEST(BenchEventStreamWalker, EventsAcrossChunksAndSeveralInOne) {
  const std::string stream =
      ": heartbeat\n\nid: 7\nevent: message\ndata: first\n\ndata: second\n\nretry: 10\n\n";
  const std::string body = chunk(stream.substr(0, 5)) + chunk(stream.substr(5, 30)) +
                           "A;name=value\r\n" + stream.substr(35, 10) + "\r\n" +
                           chunk(stream.substr(45));
  const Outcome o = walk_every_way(body);
  EXPECT_TRUE(o.ok) << o;
  EXPECT_EQ(o.events, (std::vector<Event>{{5, "first"}, {6, "second"}}));
}

TEST(BenchEventStreamWalker, DataLinesJoinWithLineFeedsAsEventSourceDoes) {
  // "data" alone and "data:" are empty lines; one space after the colon is dropped, not two.
  const Outcome o = walk_every_way(chunk("data: a\ndata\ndata:b\ndata:  c\n\ndata\n\n:x\n\n"));
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.events, (std::vector<Event>{{7, "a\n\nb\n c"}, {0, ""}}));
}

TEST(BenchEventStreamWalker, OnlyDataFieldsCount) {
  const Outcome o =
      walk_every_way(chunk("datas: no\nDATA: no\ndat: no\nid: 1\n\ndataa\n\ndata: yes\n\n"));
  EXPECT_EQ(o.events, (std::vector<Event>{{3, "yes"}}));
}

TEST(BenchEventStreamWalker, AnEventNotEndedIsNotHandedOut) {
  const Outcome o = walk_every_way(chunk("data: whole\n\ndata: cut short\n"));
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.events, (std::vector<Event>{{5, "whole"}}));
}

TEST(BenchEventStreamWalker, ABodyToTheEndOfTheConnection) {
  const Outcome o = walk_every_way("retry: 1\n\ndata: 0123456789\n\n", false, 4);
  EXPECT_TRUE(o.ok);
  EXPECT_EQ(o.events, (std::vector<Event>{{10, "0123"}}));
}

TEST(BenchEventStreamWalker, BadFramingAndTheLastChunkEndTheWalk) {
  Outcome o = walk_every_way(chunk("data: a\n\n") + "zz\r\n");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.events.size(), 1u);
  EXPECT_EQ(o.error, "invalid chunk size");
  o = walk_every_way(chunk("data: a\n\n") + "0\r\n\r\n");
  EXPECT_FALSE(o.ok);
  EXPECT_EQ(o.error, "the stream ended (last chunk)");
  o = walk_every_way("5\r\ndata:\n");  // a bare LF after the chunk data
  EXPECT_FALSE(o.ok);
}

TEST(BenchEventStreamWalker, TheCallerMayStopAtAnEvent) {
  EventStreamWalker walker(true, 4);
  int seen = 0;
  EXPECT_FALSE(walker.feed(chunk("data: 1\n\ndata: 2\n\n"), [&](uint64_t, const uint8_t*, size_t) {
    ++seen;
    return false;
  }));
  EXPECT_EQ(seen, 1);
  EXPECT_EQ(walker.error(), "");
}

}  // namespace
}  // namespace duplex::app
