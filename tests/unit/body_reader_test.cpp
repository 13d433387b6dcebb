#include "duplex/core/http/body_reader.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "duplex/core/http/http1_parser.hpp"
#include "duplex/core/http/http1_response_parser.hpp"

namespace duplex::core {
namespace {

using namespace std::literals;

// Everything observable about reading one body, copied out so that runs compare.
struct Outcome {
  BodyStatus status = BodyStatus::need_more;
  size_t consumed = 0;  // of all the input, over every call
  std::string body;     // the pieces, end to end
  int error_status = 0;
  std::string error_reason;

  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  return os << "{status=" << static_cast<int>(o.status) << " consumed=" << o.consumed << " body='"
            << o.body << "' error=" << o.error_status << " '" << o.error_reason << "'}";
}

// Feeds `pieces` in order, each in a buffer of its own, looping on each as BodyReader asks.
// Every piece of data must be a view into the bytes just fed.
Outcome read_pieces(BodyFraming framing, BodyLimits limits,
                    const std::vector<std::string>& pieces) {
  BodyReader reader(framing, limits);
  Outcome o{.status = reader.status(),
            .error_status = reader.error_status(),
            .error_reason = std::string(reader.error_reason())};
  for (const std::string& piece : pieces) {
    const BodyResult r = read_body(reader, piece, [&](std::string_view data) {
      EXPECT_GE(data.data(), piece.data());
      EXPECT_LE(data.data() + data.size(), piece.data() + piece.size());
      o.body.append(data);
    });
    EXPECT_TRUE(r.data.empty());
    o.status = r.status;
    o.consumed += r.consumed;
    o.error_status = r.error_status;
    o.error_reason = std::string(r.error_reason);
    if (r.status != BodyStatus::need_more) break;
    EXPECT_EQ(r.consumed, piece.size());
  }
  if (o.status == BodyStatus::error) o.consumed = 0;
  EXPECT_EQ(reader.status(), o.status);
  EXPECT_EQ(reader.body_bytes(), o.body.size());
  return o;
}

// Reads `input` whole, split in two at every byte boundary, and a byte at a time; every way must
// give the same outcome, which is returned.
Outcome read_all_ways(BodyFraming framing, std::string_view input, BodyLimits limits = {}) {
  const Outcome whole = read_pieces(framing, limits, {std::string(input)});
  for (size_t split = 0; split <= input.size(); ++split) {
    const Outcome two = read_pieces(
        framing, limits, {std::string(input.substr(0, split)), std::string(input.substr(split))});
    EXPECT_EQ(two, whole) << "split at " << split;
    if (two != whole) break;
  }
  std::vector<std::string> bytes;
  for (char c : input) bytes.emplace_back(1, c);
  EXPECT_EQ(read_pieces(framing, limits, bytes), whole) << "byte by byte";
  return whole;
}

Outcome chunked(std::string_view input, BodyLimits limits = {}) {
  return read_all_ways(BodyFraming::chunked(), input, limits);
}

void expect_body(const Outcome& o, std::string_view body, size_t consumed) {
  EXPECT_EQ(o.status, BodyStatus::complete) << o;
  EXPECT_EQ(o.body, body);
  EXPECT_EQ(o.consumed, consumed);
}

void expect_error(const Outcome& o, int status, std::string_view reason) {
  EXPECT_EQ(o.status, BodyStatus::error) << o;
  EXPECT_EQ(o.error_status, status) << o;
  EXPECT_EQ(o.error_reason, reason) << o;
}

void expect_chunked_error(std::string_view input, int status, std::string_view reason,
                          BodyLimits limits = {}) {
  SCOPED_TRACE(std::string(input));
  expect_error(chunked(input, limits), status, reason);
}

constexpr std::string_view kNext = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";

// --- Content-Length -------------------------------------------------------------------------

TEST(BodyReaderTest, ContentLengthLeavesPipelinedBytes) {
  const std::string input = "hello"s + std::string(kNext);
  expect_body(read_all_ways(BodyFraming::content_length(5), input), "hello", 5);
}

TEST(BodyReaderTest, ContentLengthLastPieceComesWithComplete) {
  BodyReader reader(BodyFraming::content_length(8));
  BodyResult r = reader.feed("abc");
  EXPECT_EQ(r.status, BodyStatus::need_more);
  EXPECT_EQ(r.consumed, 3u);
  EXPECT_EQ(r.data, "abc");
  r = reader.feed("defghXYZ");
  EXPECT_EQ(r.status, BodyStatus::complete);
  EXPECT_EQ(r.consumed, 5u);
  EXPECT_EQ(r.data, "defgh");
  EXPECT_EQ(reader.body_bytes(), 8u);
  // Finished: nothing more is taken.
  r = reader.feed("XYZ");
  EXPECT_EQ(r.status, BodyStatus::complete);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_TRUE(r.data.empty());
}

TEST(BodyReaderTest, ContentLengthNeedsMore) {
  const Outcome o = read_all_ways(BodyFraming::content_length(10), "hello");
  EXPECT_EQ(o.status, BodyStatus::need_more);
  EXPECT_EQ(o.body, "hello");
  EXPECT_EQ(o.consumed, 5u);
}

TEST(BodyReaderTest, ContentLengthOverTheLimitFailsBeforeAnyByte) {
  const BodyLimits limits{.max_body = 4};
  BodyReader reader(BodyFraming::content_length(5), limits);
  EXPECT_EQ(reader.status(), BodyStatus::error);
  EXPECT_EQ(reader.error_status(), 413);
  EXPECT_EQ(reader.error_reason(), "Content-Length over the body limit");
  const BodyResult r = reader.feed("hello");
  EXPECT_EQ(r.status, BodyStatus::error);
  EXPECT_EQ(r.consumed, 0u);
  EXPECT_TRUE(r.data.empty());
  EXPECT_EQ(r.error_status, 413);
  EXPECT_EQ(r.error_reason, "Content-Length over the body limit");
  expect_error(read_all_ways(BodyFraming::content_length(UINT64_MAX), "x", limits), 413,
               "Content-Length over the body limit");
  // At the limit is fine.
  expect_body(read_all_ways(BodyFraming::content_length(4), "abcde", limits), "abcd", 4);
}

TEST(BodyReaderTest, NoBodyAndZeroLengthAreCompleteAtOnce) {
  for (const BodyFraming framing : {BodyFraming::no_body(), BodyFraming::content_length(0)}) {
    BodyReader reader(framing);
    EXPECT_EQ(reader.status(), BodyStatus::complete);
    expect_body(read_all_ways(framing, kNext), "", 0);
  }
}

TEST(BodyReaderTest, BinaryContentLengthBody) {
  const std::string body = "\0\r\n\xff\x80 0\r\n\r\n"s;
  expect_body(read_all_ways(BodyFraming::content_length(body.size()), body + "rest"), body,
              body.size());
}

// --- chunked --------------------------------------------------------------------------------

TEST(BodyReaderTest, ChunkedLeavesPipelinedBytes) {
  const std::string wire = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  expect_body(chunked(wire + std::string(kNext)), "hello world", wire.size());
}

TEST(BodyReaderTest, ChunkedHandsOutOnePiecePerCall) {
  const std::string input = "5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\nNEXT";
  BodyReader reader(BodyFraming::chunked());
  std::string_view rest = input;
  BodyResult r = reader.feed(rest);
  EXPECT_EQ(r.status, BodyStatus::need_more);
  EXPECT_EQ(r.data, "hello");
  EXPECT_EQ(r.consumed, 8u);
  rest.remove_prefix(r.consumed);
  r = reader.feed(rest);
  EXPECT_EQ(r.status, BodyStatus::need_more);
  EXPECT_EQ(r.data, "world");
  EXPECT_EQ(r.consumed, 10u);  // "\r\n5\r\nworld"
  rest.remove_prefix(r.consumed);
  r = reader.feed(rest);
  EXPECT_EQ(r.status, BodyStatus::complete);
  EXPECT_TRUE(r.data.empty());
  EXPECT_EQ(r.consumed, 7u);  // "\r\n0\r\n\r\n"
  rest.remove_prefix(r.consumed);
  EXPECT_EQ(rest, "NEXT");
  EXPECT_EQ(reader.body_bytes(), 10u);
}

TEST(BodyReaderTest, ChunkedNeedsMore) {
  for (const std::string_view input :
       {"", "5", "5\r", "5\r\nhel", "5\r\nhello", "5\r\nhello\r", "5\r\nhello\r\n",
        "5\r\nhello\r\n0\r\n", "0\r\n\r", "0\r\nA: b\r\n", "5;a=\"x"}) {
    SCOPED_TRACE(std::string(input));
    const Outcome o = chunked(input);
    EXPECT_EQ(o.status, BodyStatus::need_more);
    EXPECT_EQ(o.consumed, input.size());
  }
}

TEST(BodyReaderTest, ChunkSizesInHex) {
  const std::string ten = "0123456789";
  expect_body(chunked("A\r\n" + ten + "\r\na\r\n" + ten + "\r\n00000010\r\n" + ten + "abcdef" +
                      "\r\n0000\r\n\r\n"),
              ten + ten + ten + "abcdef", 3 + 12 + 3 + 12 + 10 + 18 + 8);
  expect_body(chunked("1f\r\n" + std::string(31, 'x') + "\r\n0\r\n\r\n"), std::string(31, 'x'),
              4 + 33 + 5);
}

TEST(BodyReaderTest, EmptyChunkedBody) { expect_body(chunked("0\r\n\r\nNEXT"), "", 5); }

TEST(BodyReaderTest, ChunkDataMayHoldAnyByte) {
  const std::string data = "\r\n0\r\n\r\n\0\xff"s;
  expect_body(chunked("9\r\n" + data + "\r\n0\r\n\r\n"), data, 3 + 11 + 5);
}

TEST(BodyReaderTest, ChunkExtensionsAreIgnored) {
  const std::string_view lines[] = {
      "5;name",
      "5;a=b",
      "5;a=b;c=d;e",
      "5;a=\"quoted \\\" string; with = and \\\\\"",
      "5;a=\"\"",
      "5 ;a",
      "5\t \t;a",
      "5; a",
      "5;a =b",
      "5;a= b",
      "5 ; a = b ;c",
      "5;a=b \t;c",
      "5;a=\"x\" ;c",
      "5;!#$%&'*+-.^_`|~=!#$%&'*+-.^_`|~",
      "5;a=\"caf\xc3\xa9\t\"",
  };
  for (const std::string_view line : lines) {
    SCOPED_TRACE(std::string(line));
    const std::string wire = std::string(line) + "\r\nhello\r\n0;last=1\r\n\r\n";
    expect_body(chunked(wire + "NEXT"), "hello", wire.size());
  }
}

TEST(BodyReaderTest, MalformedChunkExtensions) {
  const std::string_view lines[] = {
      "5;",           "5;;a",           "5;=b",       "5;a=", "5;a=;b",         "5;a b",
      "5;a=b c",      "5;a=\"x\"y",     "5;a=\"x",    "5 ",   "5 \t",           "5;a ",
      "5;a= ",        "5;a=b ",         "5;a,b",      "5;a@", "5;a=b@",         "5;a=\"\x01\"",
      "5;a=\"\x7f\"", "5;a=\"\\\x01\"", "5;a=\"\\\r", "5 a",  "5;a=\"x\"\"y\"",
  };
  for (const std::string_view line : lines) {
    expect_chunked_error(std::string(line) + "\r\nhello\r\n0\r\n\r\n", 400,
                         "malformed chunk extension");
  }
}

TEST(BodyReaderTest, InvalidChunkSizes) {
  for (const std::string_view line :
       {"", " 5", "\t5", ";a", "x", "-5", "+5", "0x5", "5x", "g", "5\x01", "\xff"}) {
    expect_chunked_error(std::string(line) + "\r\nhello\r\n0\r\n\r\n", 400, "invalid chunk size");
  }
}

TEST(BodyReaderTest, LinesEndInCrlf) {
  expect_chunked_error("5\nhello\r\n0\r\n\r\n", 400, "bare LF in chunk line");
  expect_chunked_error("5;a=b\nhello\r\n0\r\n\r\n", 400, "bare LF in chunk line");
  expect_chunked_error("5;a=\"\n\"\r\nhello\r\n0\r\n\r\n", 400, "bare LF in chunk line");
  expect_chunked_error("5\r\r\nhello\r\n0\r\n\r\n", 400, "bare CR in chunk line");
  expect_chunked_error("5\rhello\r\n0\r\n\r\n", 400, "bare CR in chunk line");
  expect_chunked_error("5\r\nhello\n0\r\n\r\n", 400, "chunk data not followed by CRLF");
  expect_chunked_error("5\r\nhello\r0\r\n\r\n", 400, "chunk data not followed by CRLF");
  expect_chunked_error("5\r\nhelloX\r\n0\r\n\r\n", 400, "chunk data not followed by CRLF");
  expect_chunked_error("5\r\nhello0\r\n\r\n", 400, "chunk data not followed by CRLF");
  expect_chunked_error("0\n\r\n", 400, "bare LF in chunk line");
  expect_chunked_error("0\r\n\n", 400, "bare LF in trailer section");
  expect_chunked_error("0\r\n\rX", 400, "bare CR in trailer section");
  expect_chunked_error("0\r\nA: b\n\r\n", 400, "bare LF in trailer section");
  expect_chunked_error("0\r\nA: b\rc\r\n\r\n", 400, "bare CR in trailer section");
  expect_chunked_error("0\r\nA\n", 400, "bare LF in trailer section");
}

TEST(BodyReaderTest, DataBeforeAnErrorIsHandedOut) {
  const Outcome o = chunked("5\r\nhello\r\n3\r\nabcX");
  expect_error(o, 400, "chunk data not followed by CRLF");
  EXPECT_EQ(o.body, "helloabc");
}

TEST(BodyReaderTest, TrailersAreSkipped) {
  const std::string wire =
      "5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum:abc\r\nX-Empty:\r\nX-Text: caf\xc3\xa9\t!\r\n"
      "\r\n";
  expect_body(chunked(wire + std::string(kNext)), "hello", wire.size());
}

TEST(BodyReaderTest, MalformedTrailers) {
  const std::string_view trailers[] = {" Folded: x", "\tFolded: x", "No colon", "Space : x",
                                       ": no name",  "A@: b",       "A: \x01",  "A: b\x7f",
                                       "A: \0"sv,    "NoColon"};
  for (const std::string_view trailer : trailers) {
    expect_chunked_error("0\r\n" + std::string(trailer) + "\r\n\r\n", 400,
                         "malformed trailer field");
  }
}

TEST(BodyReaderTest, BodyLimitAcrossChunks) {
  const BodyLimits limits{.max_body = 8};
  expect_body(chunked("5\r\nhello\r\n3\r\nabc\r\n0\r\n\r\n", limits), "helloabc", 23);
  // The size that would pass the limit fails at its digit, before the line ends.
  const Outcome o = chunked("5\r\nhello\r\n4", limits);
  expect_error(o, 413, "chunk size over the body limit");
  EXPECT_EQ(o.body, "hello");
  expect_chunked_error("9", 413, "chunk size over the body limit", limits);
  expect_chunked_error("10", 413, "chunk size over the body limit", limits);
  // Leading zeros are not a size.
  expect_body(chunked("00000008\r\nabcdefgh\r\n0\r\n\r\n", limits), "abcdefgh", 25);
}

TEST(BodyReaderTest, DefaultBodyLimitIsOneMebibyte) {
  const std::string mib(1 << 20, 'z');
  BodyReader reader(BodyFraming::chunked());
  const std::string wire = "100000\r\n" + mib + "\r\n0\r\n\r\n";
  std::string body;
  const BodyResult r = read_body(reader, wire, [&](std::string_view d) { body.append(d); });
  EXPECT_EQ(r.status, BodyStatus::complete);
  EXPECT_EQ(r.consumed, wire.size());
  EXPECT_EQ(body, mib);
  expect_chunked_error("100001", 413, "chunk size over the body limit");
  // What is left after half of it (too long an input to split every way).
  BodyReader half(BodyFraming::chunked());
  const std::string over = "80000\r\n" + mib.substr(0, 1 << 19) + "\r\n80001";
  const BodyResult r2 = read_body(half, over, [](std::string_view) {});
  EXPECT_EQ(r2.status, BodyStatus::error);
  EXPECT_EQ(r2.error_status, 413);
  EXPECT_EQ(r2.error_reason, "chunk size over the body limit");
  EXPECT_EQ(half.body_bytes(), 1u << 19);
}

TEST(BodyReaderTest, HugeHexSizesNeverOverflow) {
  const BodyLimits unlimited{.max_body = UINT64_MAX};
  // UINT64_MAX itself fits the limit: its data follows.
  const Outcome max = chunked("ffffffffffffffff\r\nab", unlimited);
  EXPECT_EQ(max.status, BodyStatus::need_more);
  EXPECT_EQ(max.body, "ab");
  // One more digit would pass 64 bits.
  expect_chunked_error("10000000000000000\r\n", 413, "chunk size over the body limit", unlimited);
  expect_chunked_error("fffffffffffffffff", 413, "chunk size over the body limit", unlimited);
  expect_chunked_error(std::string(40, 'F'), 413, "chunk size over the body limit", unlimited);
  // After two bytes of data, what is left of 64 bits is two less.
  expect_chunked_error("2\r\nab\r\nfffffffffffffffe", 413, "chunk size over the body limit",
                       unlimited);
  const Outcome just = chunked("2\r\nab\r\nfffffffffffffffd\r\n", unlimited);
  EXPECT_EQ(just.status, BodyStatus::need_more) << just;
}

TEST(BodyReaderTest, ChunkLineIsBounded) {
  const BodyLimits limits{.max_chunk_line = 16};
  const std::string fits = "5;" + std::string(14, 'a');
  expect_body(chunked(fits + "\r\nhello\r\n0\r\n\r\n", limits), "hello", fits.size() + 14);
  expect_chunked_error(fits + "a\r\nhello\r\n0\r\n\r\n", 400, "chunk line too long", limits);
  expect_chunked_error(std::string(17, '0') + "\r\n\r\n", 400, "chunk line too long", limits);
  expect_chunked_error("0;" + std::string(15, 'a') + "\r\n\r\n", 400, "chunk line too long",
                       limits);
  // Extension bytes in a quoted string count too.
  expect_chunked_error("5;a=\"" + std::string(100, ' '), 400, "chunk line too long", limits);
}

TEST(BodyReaderTest, TrailerSectionIsBounded) {
  const BodyLimits limits{.max_trailers = 16};
  expect_body(chunked("0\r\nA: 123456789\r\n\r\n", limits), "", 3 + 16);
  expect_chunked_error("0\r\nA: 1234567890\r\n\r\n", 431, "trailer section too large", limits);
  expect_chunked_error("0\r\n" + std::string(100, 'A'), 431, "trailer section too large", limits);
}

TEST(BodyReaderTest, StaysFailed) {
  BodyReader reader(BodyFraming::chunked());
  BodyResult r = reader.feed("zz");
  EXPECT_EQ(r.status, BodyStatus::error);
  EXPECT_EQ(r.consumed, 0u);
  r = reader.feed("5\r\nhello\r\n0\r\n\r\n");
  EXPECT_EQ(r.status, BodyStatus::error);
  EXPECT_EQ(r.error_status, 400);
  EXPECT_EQ(r.error_reason, "invalid chunk size");
  EXPECT_TRUE(r.data.empty());
  EXPECT_EQ(reader.body_bytes(), 0u);
}

// --- request_framing ------------------------------------------------------------------------

RequestFraming framing_of(std::vector<HttpHeader> headers, int version_minor = 1) {
  HttpRequest request;
  request.method = "POST";
  request.target = request.path = "/";
  request.version_minor = version_minor;
  request.headers = std::move(headers);
  return request_framing(request);
}

void expect_framing_error(const RequestFraming& f, int status, std::string_view reason) {
  EXPECT_FALSE(f.ok());
  EXPECT_EQ(f.error_status, status);
  EXPECT_EQ(f.error_reason, reason);
  EXPECT_FALSE(f.expect_continue);
}

TEST(RequestFramingTest, NoBody) {
  const RequestFraming f = framing_of({{"Host", "a"}});
  EXPECT_TRUE(f.ok());
  EXPECT_EQ(f.body, BodyFraming::no_body());
  EXPECT_FALSE(f.expect_continue);
}

TEST(RequestFramingTest, ContentLength) {
  EXPECT_EQ(framing_of({{"Content-Length", "42"}}).body, BodyFraming::content_length(42));
  EXPECT_EQ(framing_of({{"content-length", "0"}}).body, BodyFraming::content_length(0));
  EXPECT_EQ(framing_of({{"Content-Length", "007"}}).body, BodyFraming::content_length(7));
  EXPECT_EQ(framing_of({{"Content-Length", "18446744073709551615"}}).body,
            BodyFraming::content_length(UINT64_MAX));
  EXPECT_EQ(framing_of({{"Content-Length", "5"}, {"X", "y"}, {"CONTENT-LENGTH", "5"}}).body,
            BodyFraming::content_length(5));
  for (const std::string_view bad : {"", "-1", "+1", "4 2", "42, 42", "0x10", "1e3",
                                     "18446744073709551616", "99999999999999999999"}) {
    SCOPED_TRACE(std::string(bad));
    expect_framing_error(framing_of({{"Content-Length", bad}}), 400, "invalid Content-Length");
  }
  expect_framing_error(framing_of({{"Content-Length", "5"}, {"Content-Length", "6"}}), 400,
                       "conflicting Content-Length values");
}

TEST(RequestFramingTest, Chunked) {
  EXPECT_EQ(framing_of({{"Transfer-Encoding", "chunked"}}).body, BodyFraming::chunked());
  EXPECT_EQ(framing_of({{"transfer-encoding", "Chunked"}}).body, BodyFraming::chunked());
  EXPECT_EQ(framing_of({{"Transfer-Encoding", " , chunked ,"}}).body, BodyFraming::chunked());
}

TEST(RequestFramingTest, TransferCodingsOtherThanChunked) {
  struct Case {
    std::vector<HttpHeader> headers;
    int status;
    std::string_view reason;
    int version_minor = 1;
  };
  const std::vector<HttpHeader> te_chunked = {{"Transfer-Encoding", "chunked"}};
  const Case cases[] = {
      {{{"Transfer-Encoding", "gzip, chunked"}}, 501, "unsupported transfer coding"},
      {{{"Transfer-Encoding", "gzip"}, {"Transfer-Encoding", "chunked"}},
       501,
       "unsupported transfer coding"},
      {{{"Transfer-Encoding", "x;q=1, chunked"}}, 501, "unsupported transfer coding"},
      {{{"Transfer-Encoding", "gzip"}}, 400, "Transfer-Encoding does not end in chunked"},
      {{{"Transfer-Encoding", "chunked, gzip"}}, 400, "Transfer-Encoding does not end in chunked"},
      {{{"Transfer-Encoding", ""}}, 400, "Transfer-Encoding does not end in chunked"},
      {{{"Transfer-Encoding", " , "}}, 400, "Transfer-Encoding does not end in chunked"},
      {{{"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "gzip"}},
       400,
       "Transfer-Encoding does not end in chunked"},
      {{{"Transfer-Encoding", "chunked, chunked"}}, 400, "chunked applied more than once"},
      {{{"Transfer-Encoding", "chunked;a=b"}}, 400, "parameters on chunked"},
      {{{"Transfer-Encoding", "g@zip, chunked"}}, 400, "invalid Transfer-Encoding"},
      {te_chunked, 400, "Transfer-Encoding in an HTTP/1.0 request", 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.headers.back().value));
    expect_framing_error(framing_of(c.headers, c.version_minor), c.status, c.reason);
  }
}

TEST(RequestFramingTest, BothTransferEncodingAndContentLength) {
  expect_framing_error(framing_of({{"Content-Length", "5"}, {"Transfer-Encoding", "chunked"}}), 400,
                       "both Content-Length and Transfer-Encoding");
  expect_framing_error(framing_of({{"Transfer-Encoding", "chunked"}, {"Content-Length", "0"}}), 400,
                       "both Content-Length and Transfer-Encoding");
}

TEST(RequestFramingTest, ExpectContinue) {
  EXPECT_TRUE(framing_of({{"Content-Length", "5"}, {"Expect", "100-continue"}}).expect_continue);
  EXPECT_TRUE(framing_of({{"Expect", "100-Continue"}, {"Content-Length", "5"}}).expect_continue);
  EXPECT_TRUE(
      framing_of({{"Transfer-Encoding", "chunked"}, {"Expect", "100-continue"}}).expect_continue);
  // No body to wait for, or an HTTP/1.0 client (which never waits).
  EXPECT_FALSE(framing_of({{"Content-Length", "0"}, {"Expect", "100-continue"}}).expect_continue);
  EXPECT_FALSE(framing_of({{"Expect", "100-continue"}}).expect_continue);
  const RequestFraming old = framing_of({{"Content-Length", "5"}, {"Expect", "100-continue"}}, 0);
  EXPECT_TRUE(old.ok());
  EXPECT_FALSE(old.expect_continue);
  EXPECT_FALSE(framing_of({{"Content-Length", "5"}}).expect_continue);

  expect_framing_error(framing_of({{"Content-Length", "5"}, {"Expect", "something"}}), 417,
                       "unsupported expectation");
  expect_framing_error(framing_of({{"Expect", "100-continue, x=1"}, {"Content-Length", "5"}}), 417,
                       "unsupported expectation");
  // A framing error comes first.
  expect_framing_error(framing_of({{"Expect", "x"}, {"Content-Length", "x"}}), 400,
                       "invalid Content-Length");
}

TEST(RequestFramingTest, FromAParsedHead) {
  const std::string head =
      "POST /publish HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n";
  Http1RequestParser parser;
  HttpRequest request;
  ASSERT_EQ(parser.parse(head, request).status, HttpParseStatus::complete);
  const RequestFraming f = request_framing(request);
  EXPECT_TRUE(f.ok());
  EXPECT_EQ(f.body, BodyFraming::content_length(3));
  EXPECT_TRUE(f.expect_continue);

  parser.reset();
  const std::string chunked_head =
      "POST /publish HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n";
  ASSERT_EQ(parser.parse(chunked_head, request).status, HttpParseStatus::complete);
  EXPECT_EQ(request_framing(request).body, BodyFraming::chunked());
}

ResponseFraming response_framing_of(int status, std::vector<HttpHeader> headers,
                                    bool to_head = false) {
  HttpResponseHead response;
  response.status = status;
  response.headers = std::move(headers);
  return response_framing(response, to_head);
}

TEST(ResponseFramingTest, ContentLengthChunkedOrUntilClose) {
  EXPECT_EQ(response_framing_of(200, {{"Content-Length", "42"}}).body,
            BodyFraming::content_length(42));
  const ResponseFraming chunked = response_framing_of(200, {{"Transfer-Encoding", "chunked"}});
  EXPECT_TRUE(chunked.ok());
  EXPECT_FALSE(chunked.until_close);
  EXPECT_EQ(chunked.body, BodyFraming::chunked());
  const ResponseFraming open_ended = response_framing_of(200, {{"Content-Type", "text/plain"}});
  EXPECT_TRUE(open_ended.ok());
  EXPECT_TRUE(open_ended.until_close);
  EXPECT_EQ(open_ended.body, BodyFraming::no_body());
}

TEST(ResponseFramingTest, StatusesAndHeadHaveNoBody) {
  for (const int status : {100, 101, 199, 204, 304}) {
    SCOPED_TRACE(status);
    const ResponseFraming f = response_framing_of(status, {{"Content-Length", "x"}});
    EXPECT_TRUE(f.ok());
    EXPECT_FALSE(f.until_close);
    EXPECT_EQ(f.body, BodyFraming::no_body());
  }
  const ResponseFraming head = response_framing_of(200, {{"Content-Length", "9"}}, true);
  EXPECT_TRUE(head.ok());
  EXPECT_EQ(head.body, BodyFraming::no_body());
}

TEST(ResponseFramingTest, FieldsThatCannotDelimitABody) {
  const std::pair<std::vector<HttpHeader>, std::string_view> cases[] = {
      {{{"Content-Length", "4 2"}}, "invalid Content-Length"},
      {{{"Content-Length", "5"}, {"Content-Length", "6"}}, "conflicting Content-Length values"},
      {{{"Transfer-Encoding", "chunked, chunked"}}, "chunked applied more than once"},
      {{{"Transfer-Encoding", "g@zip"}}, "invalid Transfer-Encoding"},
      {{{"Transfer-Encoding", "gzip, chunked"}}, "unsupported transfer coding"},
      {{{"Transfer-Encoding", "gzip"}}, "unsupported transfer coding"},
      {{{"Transfer-Encoding", "chunked"}, {"Content-Length", "3"}},
       "both Content-Length and Transfer-Encoding"},
  };
  for (const auto& [headers, reason] : cases) {
    SCOPED_TRACE(std::string(reason));
    const ResponseFraming f = response_framing_of(200, headers);
    EXPECT_FALSE(f.ok());
    EXPECT_EQ(f.error_reason, reason);
  }
}

TEST(ResponseFramingTest, FromAParsedHead) {
  const std::string head =
      "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n";
  Http1ResponseParser parser;
  HttpResponseHead response;
  ASSERT_EQ(parser.parse(head, response).status, HttpParseStatus::complete);
  EXPECT_EQ(response_framing(response).body, BodyFraming::content_length(17));
}

}  // namespace
}  // namespace duplex::core
