// libFuzzer target for the Server-Sent Events writer and reader.
//
// Input layout: byte 0 seeds where the rest is cut, byte 1 picks the reader's limit (16 bytes a
// step, 0 for the default), bytes 2.. are a stream. The stream is read whole, cut into up to
// eight pieces, and a byte at a time: every way must read the same messages, last event ID,
// reconnection time and error. Then the same bytes, cut at 0xFF into data, type and id in turn
// (every fourth piece a comment), are written as events; each one the writer accepts must read
// back with the same type and id and the data with its line breaks as LF, and each one it refuses
// must have a CR, LF or NUL where they are not allowed, and leave the buffer as it was.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../tests/support/event_stream_reading.hpp"
#include "duplex/core/sse/event_stream.hpp"
#include "duplex/core/sse/event_stream_reader.hpp"
#include "fuzz_common.hpp"

namespace {

using namespace duplex::core;

using duplex::fuzz::check;
using duplex::fuzz::cut;
using duplex::fuzz::split;

using duplex::test::line_breaks_as_lf;
using duplex::test::read_event_stream;
using duplex::test::ReadMessage;
using duplex::test::ReadStream;

// Reads the pieces and checks what every message must be.
ReadStream read_pieces(const std::vector<std::string>& pieces, size_t max) {
  ReadStream s = read_event_stream(pieces, max);
  check(s.broken.empty());
  for (const ReadMessage& m : s.messages) {
    check(!m.type.empty() && m.type.find_first_of("\r\n") == std::string::npos);
    check(m.last_event_id.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
    check(m.data.size() <= max);
  }
  return s;
}

bool has_line_break(std::string_view s) { return s.find_first_of("\r\n") != s.npos; }

void write_and_read_back(std::string_view input) {
  const std::vector<std::string_view> fields = split(input, '\xFF');
  std::string stream;
  std::vector<ReadMessage> expected;
  std::string last_id;
  for (size_t i = 0; i < fields.size(); i += 4) {
    const std::string_view data = fields[i];
    const std::string_view type = i + 1 < fields.size() ? fields[i + 1] : "";
    // An id field that is empty means none, so that both ways are tried.
    std::optional<std::string_view> id;
    if (i + 2 < fields.size() && !fields[i + 2].empty()) id = fields[i + 2].substr(1);
    const std::string before = stream;
    const SseError error = append_event(stream, {.data = data, .event = type, .id = id});
    if (error == SseError::none) {
      if (id) last_id = std::string(*id);
      expected.push_back(
          {type.empty() ? "message" : std::string(type), line_breaks_as_lf(data), last_id});
    } else {
      check(stream == before);
      check(!sse_error_text(error).empty());
      const bool bad_id = id && (has_line_break(*id) || id->find('\0') != id->npos);
      check(bad_id || has_line_break(type));
    }
    if (i + 3 < fields.size()) append_comment(stream, fields[i + 3]);
  }
  const ReadStream s = read_pieces({stream}, size_t{1} << 20);
  check(s.error.empty());
  check(s.messages == expected);
  check(s.last_event_id == last_id);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 2, size - 2);
  const size_t max = data[1] == 0 ? size_t{1} << 20 : data[1] * size_t{16};

  const ReadStream whole = read_pieces({input}, max);
  check(read_pieces(cut(input, data[0]), max) == whole);
  std::vector<std::string> bytes;
  for (char c : input) bytes.emplace_back(1, c);
  check(read_pieces(bytes, max) == whole);

  write_and_read_back(input);
  return 0;
}
