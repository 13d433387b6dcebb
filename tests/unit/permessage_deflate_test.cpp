// permessage-deflate (RFC 7692): negotiation, the codec with the RFC's examples, and the receiver
// with compressed messages fed at every byte boundary, RSV1 rules and a decompression bomb.
#include "duplex/core/ws/permessage_deflate.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "../support/bytes.hpp"
#include "duplex/core/ws/close_codes.hpp"
#include "duplex/core/ws/deflate_codec.hpp"
#include "duplex/core/ws/receiver.hpp"
#include "duplex/core/ws/sender.hpp"

// --- allocation accounting for the decompression bomb -----------------------------------------
// While armed, the largest single allocation and the sum of all allocations are recorded. Not
// under AddressSanitizer, which keeps its own operator new.
#if defined(__SANITIZE_ADDRESS__)
#define DUPLEX_COUNT_ALLOCATIONS 0
#else
#define DUPLEX_COUNT_ALLOCATIONS 1
#endif

namespace {
thread_local bool g_counting = false;
thread_local size_t g_largest = 0;
thread_local size_t g_total = 0;

#if DUPLEX_COUNT_ALLOCATIONS
void* counted_new(size_t size) {
  if (g_counting) {
    g_largest = std::max(g_largest, size);
    g_total += size;
  }
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
#endif
}  // namespace

#if DUPLEX_COUNT_ALLOCATIONS
void* operator new(size_t size) { return counted_new(size); }
void* operator new[](size_t size) { return counted_new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
#endif

namespace duplex::core {

namespace {

using test::bytes;
using Result = Inflater::Result;

// --- negotiation ----------------------------------------------------------------------------

std::vector<Extension> offers(std::string_view header) {
  auto parsed = parse_extensions(header);
  EXPECT_TRUE(parsed.has_value()) << header;
  return parsed.value_or(std::vector<Extension>{});
}

DeflateOptions server(DeflateMode mode = DeflateMode::dedicated) {
  DeflateOptions o;
  o.enabled = true;
  o.mode = mode;
  return o;
}

std::string answer(std::string_view offer, const DeflateOptions& options) {
  auto a = accept_deflate(offers(offer), options);
  return a ? a->response : "(declined)";
}

TEST(DeflateNegotiation, AcceptsTheBrowserOffer) {
  auto a = accept_deflate(offers("permessage-deflate; client_max_window_bits"), server());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->response, "permessage-deflate");
  EXPECT_EQ(a->params, (DeflateParams{false, false, 15, 15}));
}

TEST(DeflateNegotiation, DisabledDeclinesEverything) {
  DeflateOptions o;
  EXPECT_EQ(answer("permessage-deflate", o), "(declined)");
}

TEST(DeflateNegotiation, AnswersEachParameter) {
  const DeflateOptions o = server();
  EXPECT_EQ(answer("permessage-deflate; server_no_context_takeover", o),
            "permessage-deflate; server_no_context_takeover");
  // The client's flag is only a hint: not answered, so the client keeps its context.
  EXPECT_EQ(answer("permessage-deflate; client_no_context_takeover", o), "permessage-deflate");
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=10", o),
            "permessage-deflate; server_max_window_bits=10");
  EXPECT_EQ(answer("permessage-deflate; client_max_window_bits=12", o),
            "permessage-deflate; client_max_window_bits=12");
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=\"9\"", o),
            "permessage-deflate; server_max_window_bits=9");
  auto a = accept_deflate(offers("permessage-deflate; server_no_context_takeover; "
                                 "server_max_window_bits=9; client_max_window_bits=11"),
                          o);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->params, (DeflateParams{true, false, 9, 11}));
}

TEST(DeflateNegotiation, DeclinesInvalidOffers) {
  const DeflateOptions o = server();
  for (const char* offer : {
           "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
           "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
           "permessage-deflate; server_max_window_bits",
           "permessage-deflate; server_max_window_bits=7",
           "permessage-deflate; server_max_window_bits=16",
           "permessage-deflate; server_max_window_bits=09",
           "permessage-deflate; server_max_window_bits=1a",
           "permessage-deflate; client_max_window_bits=0",
           "permessage-deflate; server_no_context_takeover=1",
           "permessage-deflate; client_no_context_takeover=true",
           "permessage-deflate; mystery",
           "x-webkit-deflate-frame",
       }) {
    EXPECT_EQ(answer(offer, o), "(declined)") << offer;
  }
}

TEST(DeflateNegotiation, TakesTheFirstAcceptableOfferInOrder) {
  const DeflateOptions o = server();
  // Autobahn 13.7: the first offer is taken.
  EXPECT_EQ(answer("permessage-deflate; client_no_context_takeover; client_max_window_bits; "
                   "server_no_context_takeover; server_max_window_bits=9, "
                   "permessage-deflate; client_no_context_takeover; client_max_window_bits; "
                   "server_no_context_takeover, permessage-deflate",
                   o),
            "permessage-deflate; server_no_context_takeover; server_max_window_bits=9");
  // An invalid first offer falls through to the next one.
  EXPECT_EQ(answer("permessage-deflate; bogus=1, permessage-deflate; server_max_window_bits=12", o),
            "permessage-deflate; server_max_window_bits=12");
  EXPECT_EQ(answer("x-other, permessage-deflate", o), "permessage-deflate");
}

TEST(DeflateNegotiation, BoundsWindowBits) {
  DeflateOptions o = server();
  o.server_max_window_bits = 10;
  o.client_max_window_bits = 9;
  // The client's window can only be bounded if it offers client_max_window_bits.
  EXPECT_EQ(answer("permessage-deflate", o), "(declined)");
  auto a =
      accept_deflate(offers("permessage-deflate, permessage-deflate; client_max_window_bits"), o);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->response, "permessage-deflate; client_max_window_bits=9");
  EXPECT_EQ(a->params, (DeflateParams{false, false, 10, 9}));
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=12; client_max_window_bits=8", o),
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=8");
}

TEST(DeflateNegotiation, SharedModeTurnsOffContextTakeoverBothWays) {
  auto a = accept_deflate(offers("permessage-deflate; client_max_window_bits"),
                          server(DeflateMode::shared));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->response,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  EXPECT_EQ(a->params, (DeflateParams{true, true, 15, 15}));
}

TEST(DeflateNegotiation, ClientOffer) {
  DeflateOptions o;
  o.enabled = true;
  EXPECT_EQ(deflate_offer(o), "permessage-deflate; client_max_window_bits");
  o.server_no_context_takeover = o.client_no_context_takeover = true;
  o.server_max_window_bits = 10;
  o.client_max_window_bits = 11;
  EXPECT_EQ(deflate_offer(o),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=10; client_max_window_bits=11");
  // The offer is what our own server accepts.
  auto a = accept_deflate(offers(deflate_offer(o)), server());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->params, (DeflateParams{true, false, 10, 11}));
}

std::variant<DeflateParams, std::string> check(std::string_view response, const DeflateOptions& o) {
  auto list = offers(response);
  EXPECT_EQ(list.size(), 1u);
  return check_deflate_answer(list.at(0), o);
}

TEST(DeflateNegotiation, ClientAcceptsValidAnswers) {
  DeflateOptions o;
  o.enabled = true;
  EXPECT_EQ(std::get<DeflateParams>(check("permessage-deflate", o)),
            (DeflateParams{false, false, 15, 15}));
  EXPECT_EQ(std::get<DeflateParams>(check("permessage-deflate; server_no_context_takeover; "
                                          "client_no_context_takeover; server_max_window_bits=9; "
                                          "client_max_window_bits=10",
                                          o)),
            (DeflateParams{true, true, 9, 10}));
}

TEST(DeflateNegotiation, ClientRejectsInvalidAnswers) {
  DeflateOptions o;
  o.enabled = true;
  o.client_max_window_bits = 12;
  const std::pair<const char*, const char*> cases[] = {
      {"permessage-deflate; foo", "permessage-deflate: unknown parameter foo"},
      {"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
       "permessage-deflate: repeated parameter server_no_context_takeover"},
      {"permessage-deflate; server_max_window_bits",
       "permessage-deflate: invalid server_max_window_bits"},
      {"permessage-deflate; server_max_window_bits=16",
       "permessage-deflate: invalid server_max_window_bits"},
      {"permessage-deflate; client_max_window_bits",
       "permessage-deflate: client_max_window_bits without a value"},
      {"permessage-deflate; client_max_window_bits=13",
       "permessage-deflate: client_max_window_bits=13 is larger than offered"},
      {"permessage-deflate; client_no_context_takeover=1",
       "permessage-deflate: client_no_context_takeover with a value"},
  };
  for (const auto& [response, error] : cases) {
    auto r = check(response, o);
    ASSERT_TRUE(std::holds_alternative<std::string>(r)) << response;
    EXPECT_EQ(std::get<std::string>(r), error);
  }
  o.server_no_context_takeover = true;
  o.server_max_window_bits = 10;
  EXPECT_EQ(std::get<std::string>(check("permessage-deflate; server_max_window_bits=10", o)),
            "permessage-deflate: server_no_context_takeover was asked for but not agreed");
  EXPECT_EQ(std::get<std::string>(check("permessage-deflate; server_no_context_takeover", o)),
            "permessage-deflate: server_max_window_bits was asked for but not agreed");
  EXPECT_EQ(std::get<std::string>(check(
                "permessage-deflate; server_no_context_takeover; server_max_window_bits=11", o)),
            "permessage-deflate: server_max_window_bits=11 is larger than offered");
}

TEST(DeflateNegotiation, ValidatesOptions) {
  DeflateOptions o;
  EXPECT_NO_THROW(validate_deflate_options(o));
  o.server_max_window_bits = 16;
  EXPECT_THROW(validate_deflate_options(o), std::invalid_argument);
  o = {};
  o.client_max_window_bits = 7;
  EXPECT_THROW(validate_deflate_options(o), std::invalid_argument);
  o = {};
  o.level = 10;
  EXPECT_THROW(validate_deflate_options(o), std::invalid_argument);
}

// --- the codec: RFC 7692 section 7.2.3 examples ------------------------------------------------

std::string inflate_pieces(Inflater& inflater, const std::vector<std::string>& pieces,
                           uint64_t limit = 1 << 20, Result expected = Result::ok) {
  std::string out;
  Result r = Result::ok;
  for (const std::string& piece : pieces) {
    r = inflater.feed(piece, out, limit);
    if (r != Result::ok) break;
  }
  if (r == Result::ok) r = inflater.finish(out, limit);
  EXPECT_EQ(r, expected);
  return out;
}

std::string inflate_one(Inflater& inflater, const std::string& payload) {
  return inflate_pieces(inflater, {payload});
}

const std::string kHello = bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00});

TEST(DeflateCodec, CompressesHelloAsTheRfcDoes) {
  Deflater deflater(15, false);
  std::string out;
  ASSERT_TRUE(deflater.compress("Hello", out));
  EXPECT_EQ(out, kHello);
  // Context takeover: the second "Hello" refers back to the first (7.2.3.2).
  out.clear();
  ASSERT_TRUE(deflater.compress("Hello", out));
  EXPECT_EQ(out, bytes({0xf2, 0x00, 0x11, 0x00, 0x00}));
  // Without takeover, every message is compressed alone.
  Deflater alone(15, true);
  for (int i = 0; i < 2; ++i) {
    out.clear();
    ASSERT_TRUE(alone.compress("Hello", out));
    EXPECT_EQ(out, kHello);
  }
}

TEST(DeflateCodec, InflatesTheRfcExamples) {
  Inflater inflater(15, false);
  EXPECT_EQ(inflate_one(inflater, kHello), "Hello");
  // The shared sliding window: the second message is only a back-reference.
  EXPECT_EQ(inflate_one(inflater, bytes({0xf2, 0x00, 0x11, 0x00, 0x00})), "Hello");

  Inflater fresh(15, false);
  // 7.2.3.3: a block with BFINAL set, then a byte starting an empty stored block.
  EXPECT_EQ(inflate_one(fresh, bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00})), "Hello");
  // 7.2.3.4: a block with no compression.
  EXPECT_EQ(
      inflate_one(fresh, bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00})),
      "Hello");
  // 7.2.3.5: two DEFLATE blocks in one message.
  EXPECT_EQ(inflate_one(fresh, bytes({0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9,
                                      0xc9, 0x07, 0x00})),
            "Hello");
  // 7.2.3.6: an empty message, and an empty payload.
  EXPECT_EQ(inflate_one(fresh, bytes({0x00})), "");
  EXPECT_EQ(inflate_one(fresh, ""), "");
  // A final block without the extra byte (what Z_FINISH produces) ends the message too.
  EXPECT_EQ(inflate_one(fresh, bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})), "Hello");
  EXPECT_EQ(inflate_one(fresh, kHello), "Hello");
}

TEST(DeflateCodec, InflatesSplitAtEveryByte) {
  // The two messages of 7.2.3.2 and the fragmented one of 7.2.3.1, cut at every position.
  const std::string second = bytes({0xf2, 0x00, 0x11, 0x00, 0x00});
  const std::string bfinal = bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00});
  for (size_t cut = 0; cut <= kHello.size(); ++cut) {
    for (size_t cut2 = 0; cut2 <= second.size(); ++cut2) {
      Inflater inflater(15, false);
      EXPECT_EQ(inflate_pieces(inflater, {kHello.substr(0, cut), kHello.substr(cut)}), "Hello");
      EXPECT_EQ(inflate_pieces(inflater, {second.substr(0, cut2), second.substr(cut2)}), "Hello");
    }
  }
  for (size_t cut = 0; cut <= bfinal.size(); ++cut) {
    Inflater inflater(15, false);
    EXPECT_EQ(inflate_pieces(inflater, {bfinal.substr(0, cut), bfinal.substr(cut)}), "Hello");
    EXPECT_EQ(inflate_one(inflater, kHello), "Hello") << cut;
  }
}

std::string sample(size_t n, uint32_t seed) {
  // Text with repeats (compressible) and some noise.
  static const char* kWords[] = {
      "alpha", "beta", "gamma", "delta", "{\"id\":", "\"name\":", "true", "null", ", ", "]}", "\n"};
  std::mt19937 rng(seed);
  std::string s;
  while (s.size() < n) {
    s += kWords[rng() % 11];
    if (rng() % 7 == 0) s += std::to_string(rng());
  }
  s.resize(n);
  return s;
}

TEST(DeflateCodec, RoundTripsSizesWindowsAndTakeover) {
  for (int bits : {9, 10, 12, 15}) {
    for (bool takeover : {true, false}) {
      Deflater deflater(bits, !takeover, 6, 8);
      // Keeps a window of `bits` only: a reference further back into an earlier message fails.
      Inflater inflater(bits, !takeover);
      for (size_t n :
           {size_t{0}, size_t{1}, size_t{100}, size_t{5000}, size_t{70000}, size_t{300000}}) {
        const std::string message = sample(n, static_cast<uint32_t>(n + bits));
        std::string compressed;
        ASSERT_TRUE(deflater.compress(message, compressed));
        if (n > 1000) {
          EXPECT_LT(compressed.size(), message.size() / 2);
        }
        EXPECT_EQ(inflate_one(inflater, compressed), message) << bits << " " << n;
      }
    }
  }
}

TEST(DeflateCodec, CorruptAndCutDataFail) {
  Inflater inflater(15, false);
  std::string out;
  EXPECT_EQ(inflater.feed(bytes({0xff, 0xff, 0xff, 0xff}), out, 1000), Result::corrupt);
  // Reset after a failure: the next message inflates.
  EXPECT_EQ(inflate_one(inflater, kHello), "Hello");
  // A message cut inside a block.
  Inflater cut(15, false);
  inflate_pieces(cut, {kHello.substr(0, 3)}, 1000, Result::corrupt);
}

std::string bomb(size_t inflated_size) {
  Deflater deflater(15, true, 9);
  std::string out;
  EXPECT_TRUE(deflater.compress(std::string(inflated_size, '\0'), out));
  return out;
}

TEST(DeflateCodec, OutputNeverPassesTheLimit) {
  const std::string compressed = bomb(8 << 20);
  EXPECT_LT(compressed.size(), 10000u);
  for (uint64_t limit : {uint64_t{0}, uint64_t{1}, uint64_t{1000}, uint64_t{65536}}) {
    Inflater inflater(15, false);
    std::string out;
    EXPECT_EQ(inflater.feed(compressed, out, limit), Result::too_big);
    EXPECT_LE(out.size(), limit);
    if (limit > 100) {
      EXPECT_LE(out.capacity(), limit);
    }
  }
  // Exactly at the limit is fine.
  Inflater inflater(15, false);
  std::string out;
  const std::string ok = bomb(4096);
  EXPECT_EQ(inflater.feed(ok, out, 4096), Result::ok);
  EXPECT_EQ(inflater.finish(out, 4096), Result::ok);
  EXPECT_EQ(out, std::string(4096, '\0'));
}

TEST(DeflateCodec, CountsZlibMemory) {
  const size_t before = zlib_bytes_in_use();
  {
    Deflater deflater(15, false);
    Inflater inflater(15, false);
    EXPECT_EQ(deflater.memory(), 0u);  // nothing until first use
    std::string out;
    ASSERT_TRUE(deflater.compress(sample(10000, 1), out));
    EXPECT_EQ(inflate_one(inflater, out), sample(10000, 1));
    // deflate: 2 * 32 KiB window + 64 KiB prev + 64 KiB head + 64 KiB pending + state.
    EXPECT_GT(deflater.memory(), 256u * 1024);
    EXPECT_LT(deflater.memory(), 300u * 1024);
    // inflate: the 32 KiB window + state.
    EXPECT_GT(inflater.memory(), 32u * 1024);
    EXPECT_LT(inflater.memory(), 48u * 1024);
    EXPECT_EQ(zlib_bytes_in_use(), before + deflater.memory() + inflater.memory());
  }
  EXPECT_EQ(zlib_bytes_in_use(), before);
}

// --- the receiver with permessage-deflate -----------------------------------------------------

struct Recorder : ReceiverEvents {
  void on_message(MessageType type, std::string_view payload) override {
    events.push_back((type == MessageType::text ? "text:" : "binary:") + std::string(payload));
  }
  void on_ping(std::string_view payload) override {
    events.push_back("ping:" + std::string(payload));
  }
  void on_pong(std::string_view payload) override {
    events.push_back("pong:" + std::string(payload));
  }
  void on_close(uint16_t code, std::string_view) override {
    events.push_back("close:" + std::to_string(code));
  }
  void on_protocol_error(uint16_t code, std::string_view reason) override {
    events.push_back("error:" + std::to_string(code));
    last_reason = reason;
  }
  std::vector<std::string> events;
  std::string last_reason;
};

// A server frame (unmasked), as a client receives it.
std::string frame(Opcode op, std::string_view payload, bool fin = true, bool rsv1 = false,
                  int rsv = 0) {
  std::string out;
  append_frame(out, op, payload, fin, rsv1);
  out[0] = static_cast<char>(out[0] | (rsv << 4));
  return out;
}

using Events = std::vector<std::string>;

Events receive(std::string_view stream, const std::vector<size_t>& cuts, Inflater* inflater,
               bool shared = false, uint64_t max_payload = 1 << 20) {
  Receiver receiver(Role::client, max_payload);
  receiver.set_inflater(inflater, shared);
  Recorder rec;
  size_t start = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    const size_t end = i < cuts.size() ? cuts[i] : stream.size();
    std::string piece(stream.substr(start, end - start));
    receiver.feed(piece.data(), piece.size(), rec);
    start = end;
  }
  return rec.events;
}

TEST(DeflateReceiver, RfcMessagesAtEveryByteBoundary) {
  // 7.2.3.1 fragmented "Hello", the shared-window second "Hello", an uncompressed message (RSV1
  // clear is allowed after negotiation), a ping between fragments, and a binary message.
  const std::string stream =
      frame(Opcode::text, kHello.substr(0, 3), false, true) + frame(Opcode::ping, "p") +
      frame(Opcode::continuation, kHello.substr(3), true) +
      frame(Opcode::text, bytes({0xf2, 0x00, 0x11, 0x00, 0x00}), true, true) +
      frame(Opcode::text, "plain") +
      frame(Opcode::binary, bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}), true, true) +
      frame(Opcode::text, "", true, true) + frame(Opcode::close, "");
  const Events expected = {"ping:p",       "text:Hello", "text:Hello", "text:plain",
                           "binary:Hello", "text:",      "close:1005"};
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    for (bool shared : {false, true}) {
      Inflater inflater(15, false);
      EXPECT_EQ(receive(stream, {cut}, &inflater, shared), expected) << cut;
    }
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < stream.size(); ++i) every.push_back(i);
  for (bool shared : {false, true}) {
    Inflater inflater(15, false);
    EXPECT_EQ(receive(stream, every, &inflater, shared), expected);
  }
}

TEST(DeflateReceiver, LargeCompressedMessagesInPieces) {
  Deflater deflater(15, false);
  std::string stream;
  std::vector<std::string> messages;
  for (size_t n : {size_t{200000}, size_t{3}, size_t{70000}}) {
    messages.push_back(sample(n, static_cast<uint32_t>(n)));
    std::string compressed;
    ASSERT_TRUE(deflater.compress(messages.back(), compressed));
    // Fragments of 1000 compressed bytes.
    for (size_t at = 0; at < compressed.size(); at += 1000) {
      const bool last = at + 1000 >= compressed.size();
      stream += frame(at == 0 ? Opcode::text : Opcode::continuation, compressed.substr(at, 1000),
                      last, at == 0);
    }
  }
  Events expected;
  for (const auto& m : messages) expected.push_back("text:" + m);
  for (size_t step : {size_t{1} << 30, size_t{4096}, size_t{777}}) {
    std::vector<size_t> cuts;
    for (size_t at = step; at < stream.size(); at += step) cuts.push_back(at);
    for (bool shared : {false, true}) {
      Inflater inflater(15, false);
      EXPECT_EQ(receive(stream, cuts, &inflater, shared), expected);
    }
  }
}

TEST(DeflateReceiver, SharedInflaterServesInterleavedConnections) {
  // Two connections' compressed messages split across reads, inflated by one shared inflater.
  Deflater a(15, true), b(15, true);
  Inflater shared(15, true);
  Receiver ra(Role::client, 1 << 20), rb(Role::client, 1 << 20);
  ra.set_inflater(&shared, true);
  rb.set_inflater(&shared, true);
  Recorder ea, eb;
  std::string ca, cb;
  ASSERT_TRUE(a.compress(sample(5000, 1), ca));
  ASSERT_TRUE(b.compress(sample(6000, 2), cb));
  std::string fa = frame(Opcode::text, ca, true, true), fb = frame(Opcode::binary, cb, true, true);
  const size_t half_a = fa.size() / 2, half_b = fb.size() / 2;
  ra.feed(fa.data(), half_a, ea);
  rb.feed(fb.data(), half_b, eb);
  ra.feed(fa.data() + half_a, fa.size() - half_a, ea);
  rb.feed(fb.data() + half_b, fb.size() - half_b, eb);
  EXPECT_EQ(ea.events, Events{"text:" + sample(5000, 1)});
  EXPECT_EQ(eb.events, Events{"binary:" + sample(6000, 2)});
}

TEST(DeflateReceiver, Rsv1Rules) {
  Inflater inflater(15, false);
  // Not negotiated: RSV1 is a protocol error.
  EXPECT_EQ(receive(frame(Opcode::text, kHello, true, true), {}, nullptr), Events{"error:1002"});
  // On a continuation, a control frame, or with RSV2/RSV3.
  EXPECT_EQ(receive(frame(Opcode::text, kHello.substr(0, 3), false, true) +
                        frame(Opcode::continuation, kHello.substr(3), true, true),
                    {}, &inflater),
            Events{"error:1002"});
  for (Opcode op : {Opcode::ping, Opcode::pong, Opcode::close}) {
    EXPECT_EQ(receive(frame(op, "", true, true), {}, &inflater), Events{"error:1002"});
  }
  EXPECT_EQ(receive(frame(Opcode::text, kHello, true, false, 2), {}, &inflater),
            Events{"error:1002"});
  EXPECT_EQ(receive(frame(Opcode::text, kHello, true, true, 1), {}, &inflater),
            Events{"error:1002"});
}

TEST(DeflateReceiver, CorruptDataAndBadUtf8Close1007) {
  Inflater inflater(15, false);
  EXPECT_EQ(receive(frame(Opcode::binary, bytes({0xff, 0xfe, 0x00}), true, true), {}, &inflater),
            Events{"error:1007"});
  Inflater cut(15, false);
  EXPECT_EQ(receive(frame(Opcode::binary, kHello.substr(0, 4), true, true), {}, &cut),
            Events{"error:1007"});
  // Inflated text is checked as UTF-8.
  Deflater deflater(15, true);
  std::string compressed;
  ASSERT_TRUE(deflater.compress(bytes({'o', 'k', 0xc3, 0x28}), compressed));
  Inflater text(15, false);
  EXPECT_EQ(receive(frame(Opcode::text, compressed, true, true), {}, &text), Events{"error:1007"});
  Inflater bin(15, false);
  EXPECT_EQ(receive(frame(Opcode::binary, compressed, true, true), {}, &bin),
            Events{"binary:" + bytes({'o', 'k', 0xc3, 0x28})});
}

TEST(DeflateReceiver, DecompressionBombClosesWith1009WithinTheLimit) {
  // 1 GiB of zeros is about 1 MiB compressed; 64 MiB of them about 64 KiB. The receiver's limit
  // is 1 MiB: it must stop there without allocating more than the limit.
  const std::string compressed = bomb(64 << 20);
  ASSERT_LT(compressed.size(), 100u * 1024);
  const std::string stream = frame(Opcode::binary, compressed, true, true);
  constexpr uint64_t kLimit = 1 << 20;
  for (bool shared : {false, true}) {
    Inflater inflater(15, false);
    Receiver receiver(Role::client, kLimit);
    receiver.set_inflater(&inflater, shared);
    Recorder rec;
    std::string piece(stream);
    g_largest = g_total = 0;
    g_counting = true;
    receiver.feed(piece.data(), piece.size(), rec);
    g_counting = false;
    EXPECT_EQ(rec.events, Events{"error:1009"});
    EXPECT_EQ(rec.last_reason, "message too big once decompressed");
    if (DUPLEX_COUNT_ALLOCATIONS) {
      EXPECT_LE(g_largest, kLimit + 64);  // no single buffer beyond the limit
      EXPECT_LE(g_total, 3 * kLimit);     // geometric growth up to the limit, nothing else big
    }
  }
}

TEST(DeflateReceiver, MaxPayloadBoundsTheInflatedSize) {
  Deflater deflater(15, false);
  std::string compressed;
  ASSERT_TRUE(deflater.compress(std::string(1001, 'a'), compressed));
  Inflater inflater(15, false);
  EXPECT_EQ(receive(frame(Opcode::text, compressed, true, true), {}, &inflater, false, 1000),
            Events{"error:1009"});
  Inflater exact(15, false);
  EXPECT_EQ(receive(frame(Opcode::text, compressed, true, true), {}, &exact, false, 1001),
            Events{"text:" + std::string(1001, 'a')});
}

}  // namespace

}  // namespace duplex::core
