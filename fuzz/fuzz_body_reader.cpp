// libFuzzer target for the request body reader (and the chunked writer it reads back).
//
// Input layout: byte 0 picks the framing (bits 0-1: chunked, chunked, Content-Length, none) and
// the body limit (bits 2-7: 8 bytes a step, 63 for no limit); byte 1 is the Content-Length;
// byte 2 the chunk line and trailer section limits; byte 3 seeds where the input is cut; bytes
// 4.. are the bytes after the request head. The input is read whole, cut into up to eight
// pieces, and a byte at a time: every way must give the same status, error, consumed count and
// body bytes. A complete chunked body, written again with the chunked writer, must read back to
// the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/http/body_reader.hpp"
#include "duplex/core/http/chunked_writer.hpp"
#include "fuzz_common.hpp"

namespace {

using namespace duplex::core;

using duplex::fuzz::check;
using duplex::fuzz::cut;

struct Outcome {
  BodyStatus status = BodyStatus::need_more;
  size_t consumed = 0;
  std::string body;
  int error_status = 0;
  std::string_view error_reason;

  bool operator==(const Outcome&) const = default;
};

// Feeds the pieces in order, each from an allocation of its own as separate reads would be.
Outcome read_pieces(BodyFraming framing, BodyLimits limits,
                    const std::vector<std::string>& pieces) {
  BodyReader reader(framing, limits);
  Outcome o{.status = reader.status(),
            .error_status = reader.error_status(),
            .error_reason = reader.error_reason()};
  for (const std::string& piece : pieces) {
    const BodyResult r = read_body(reader, piece, [&](std::string_view data) {
      check(!data.empty());
      check(data.data() >= piece.data() &&
            data.data() + data.size() <= piece.data() + piece.size());
      o.body.append(data);
    });
    check(r.data.empty());
    o.status = r.status;
    o.consumed += r.consumed;
    o.error_status = r.error_status;
    o.error_reason = r.error_reason;
    if (r.status != BodyStatus::need_more) break;
    check(r.consumed == piece.size());
  }
  if (o.status == BodyStatus::error) o.consumed = 0;
  check(reader.status() == o.status);
  check(reader.body_bytes() == o.body.size());
  // Finished readers take nothing more.
  if (o.status != BodyStatus::need_more) {
    const BodyResult again = reader.feed("0\r\n\r\n");
    check(again.status == o.status && again.consumed == 0 && again.data.empty());
  }
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const std::string input(reinterpret_cast<const char*>(data) + 4, size - 4);
  BodyFraming framing;
  switch (data[0] & 3) {
    case 0:
    case 1:
      framing = BodyFraming::chunked();
      break;
    case 2:
      framing = BodyFraming::content_length(data[1]);
      break;
    default:
      break;
  }
  const unsigned step = data[0] >> 2;
  const BodyLimits limits{.max_body = step == 63 ? UINT64_MAX : step * 8,
                          .max_chunk_line = 1 + (data[2] & 15) * 4u,
                          .max_trailers = 1 + (data[2] >> 4) * 8u};

  const Outcome whole = read_pieces(framing, limits, {input});
  check(read_pieces(framing, limits, cut(input, data[3])) == whole);
  std::vector<std::string> bytes;
  for (char c : input) bytes.emplace_back(1, c);
  check(read_pieces(framing, limits, bytes) == whole);

  check(whole.body.size() <= limits.max_body);
  switch (whole.status) {
    case BodyStatus::need_more:
      check(whole.consumed == input.size());
      check(framing.kind != BodyFraming::Kind::length || whole.body == input);
      break;
    case BodyStatus::error:
      check(whole.error_status == 400 || whole.error_status == 413 || whole.error_status == 431);
      check(!whole.error_reason.empty());
      check(framing.kind != BodyFraming::Kind::none);
      break;
    case BodyStatus::complete:
      check(whole.consumed <= input.size());
      if (framing.kind == BodyFraming::Kind::length) {
        check(whole.body == input.substr(0, framing.length));
      } else if (framing.kind == BodyFraming::Kind::none) {
        check(whole.consumed == 0 && whole.body.empty());
      } else {
        check(std::string_view(input).substr(0, whole.consumed).ends_with("\r\n\r\n"));
        // Written again in chunks of the seed's sizes, it reads back to the same body.
        std::string wire;
        std::string_view rest = whole.body;
        for (const std::string& piece : cut(rest, data[3] + 1u)) append_chunk(wire, piece);
        append_last_chunk(wire);
        const Outcome again = read_pieces(framing, {.max_body = limits.max_body}, {wire + input});
        check(again.status == BodyStatus::complete && again.consumed == wire.size() &&
              again.body == whole.body);
      }
      break;
  }
  return 0;
}
