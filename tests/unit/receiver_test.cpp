#include "duplex/core/ws/receiver.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/ws/close_codes.hpp"
#include "duplex/core/ws/sender.hpp"

namespace duplex::core {

namespace {

// --- recorded events ------------------------------------------------------------------------

struct Event {
  enum Kind { text, binary, ping, pong, close, error };
  Kind kind;
  std::string data;   // payload, or close reason
  uint16_t code = 0;  // close code or protocol error code

  bool operator==(const Event&) const = default;
};

Event Text(std::string s) { return {Event::text, std::move(s)}; }
Event Binary(std::string s) { return {Event::binary, std::move(s)}; }
Event Ping(std::string s) { return {Event::ping, std::move(s)}; }
Event Pong(std::string s) { return {Event::pong, std::move(s)}; }
Event Close(uint16_t code, std::string reason = {}) {
  return {Event::close, std::move(reason), code};
}
Event Error(uint16_t code) { return {Event::error, {}, code}; }

using Events = std::vector<Event>;

void PrintTo(const Event& e, std::ostream* os) {
  static constexpr const char* kNames[] = {"Text", "Binary", "Ping", "Pong", "Close", "Error"};
  *os << kNames[e.kind] << "(";
  if (e.kind == Event::close || e.kind == Event::error)
    *os << e.code << (e.kind == Event::close ? ", " : "");
  if (e.kind != Event::error) {
    *os << e.data.size() << " bytes \"";
    const size_t shown = std::min<size_t>(e.data.size(), 32);
    for (size_t i = 0; i < shown; ++i) {
      const auto c = static_cast<uint8_t>(e.data[i]);
      if (c >= 0x20 && c < 0x7F) {
        *os << static_cast<char>(c);
      } else {
        static constexpr char kHex[] = "0123456789ABCDEF";
        *os << "\\x" << kHex[c >> 4] << kHex[c & 15];
      }
    }
    *os << (shown < e.data.size() ? "...\"" : "\"");
  }
  *os << ")";
}

class Recorder : public ReceiverEvents {
 public:
  void on_message(MessageType type, std::string_view payload) override {
    events.push_back(
        {type == MessageType::text ? Event::text : Event::binary, std::string(payload)});
    message_pointers.push_back(payload.data());
    if (halt_on_message) halt_on_message->halt();
  }
  void on_ping(std::string_view payload) override {
    events.push_back(Ping(std::string(payload)));
    if (halt_on_ping) halt_on_ping->halt();
  }
  void on_pong(std::string_view payload) override { events.push_back(Pong(std::string(payload))); }
  void on_close(uint16_t code, std::string_view reason) override {
    events.push_back(Close(code, std::string(reason)));
  }
  void on_protocol_error(uint16_t code, std::string_view reason) override {
    EXPECT_FALSE(reason.empty());
    events.push_back(Error(code));
  }

  Events events;
  std::vector<const char*> message_pointers;
  Receiver* halt_on_message = nullptr;
  Receiver* halt_on_ping = nullptr;
};

// --- frame builder -------------------------------------------------------------------------

constexpr MaskKey kKey{0x37, 0xFA, 0x21, 0x3D};

struct Opts {
  uint8_t rsv = 0;     // the three RSV bits, 0..7
  bool masked = true;  // client frames are masked
  int len_bytes = 0;   // 0: minimal; 1: 7-bit; 2: 16-bit; 8: 64-bit (non-minimal allowed)
  std::optional<uint64_t> length;  // declared length instead of the payload size
  MaskKey key = kKey;
};

std::string frame(uint8_t op, std::string_view payload, bool fin = true, Opts o = {}) {
  const uint64_t len = o.length.value_or(payload.size());
  int enc = o.len_bytes;
  if (enc == 0) enc = len < 126 ? 1 : len <= 0xFFFF ? 2 : 8;
  std::string out;
  out.push_back(static_cast<char>((fin ? 0x80 : 0) | ((o.rsv & 7) << 4) | (op & 0x0F)));
  const uint8_t m = o.masked ? 0x80 : 0;
  if (enc == 1) {
    out.push_back(static_cast<char>(m | len));
  } else if (enc == 2) {
    out.push_back(static_cast<char>(m | 126));
    out.push_back(static_cast<char>(len >> 8));
    out.push_back(static_cast<char>(len));
  } else {
    out.push_back(static_cast<char>(m | 127));
    for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>(len >> (8 * i)));
  }
  if (o.masked) {
    out.append(reinterpret_cast<const char*>(o.key.data()), 4);
    std::string body(payload);
    for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(body[i] ^ o.key[i % 4]);
    out += body;
  } else {
    out += payload;
  }
  return out;
}

std::string text(std::string_view s, bool fin = true, Opts o = {}) { return frame(0x1, s, fin, o); }
std::string binary(std::string_view s, bool fin = true, Opts o = {}) {
  return frame(0x2, s, fin, o);
}
std::string cont(std::string_view s, bool fin = true, Opts o = {}) { return frame(0x0, s, fin, o); }
std::string ping(std::string_view s, Opts o = {}) { return frame(0x9, s, true, o); }
std::string pong(std::string_view s, Opts o = {}) { return frame(0xA, s, true, o); }
std::string close_payload(uint16_t code, std::string_view reason = {}) {
  std::string p;
  p.push_back(static_cast<char>(code >> 8));
  p.push_back(static_cast<char>(code & 0xFF));
  p += reason;
  return p;
}
std::string close_frame(uint16_t code, std::string_view reason = {}, Opts o = {}) {
  return frame(0x8, close_payload(code, reason), true, o);
}
std::string empty_close(Opts o = {}) { return frame(0x8, "", true, o); }

std::string pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7) % 26);
  return s;
}

std::string binary_pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + 7) & 0xFF);
  return s;
}

// --- running ---------------------------------------------------------------------------------

constexpr uint64_t kMax = 1 << 20;

struct Run {
  Events events;
  size_t consumed = 0;
  bool halted = false;
};

// Feeds `stream` cut at the sorted positions `cuts`, each piece copied into a fresh buffer since
// the receiver unmasks in place.
Run run(std::string_view stream, const std::vector<size_t>& cuts, Role role = Role::server,
        uint64_t max_payload = kMax) {
  Receiver receiver(role, max_payload);
  Recorder rec;
  Run result;
  size_t start = 0;
  auto feed = [&](size_t end) {
    std::string piece(stream.substr(start, end - start));
    const bool halted_before = receiver.halted();
    const size_t n = receiver.feed(piece.data(), piece.size(), rec);
    EXPECT_LE(n, piece.size());
    if (halted_before) {
      EXPECT_EQ(n, 0u);
    }
    if (!receiver.halted()) {
      EXPECT_EQ(n, piece.size()) << "not halted but did not consume all";
    }
    result.consumed += n;
    start = end;
  };
  for (size_t cut : cuts) feed(cut);
  feed(stream.size());
  result.events = rec.events;
  result.halted = receiver.halted();
  return result;
}

std::vector<size_t> split_positions(size_t size) {
  std::vector<size_t> positions;
  for (size_t i = 0; i <= size; ++i) {
    // Every position of small streams; for large ones the edges and a stride through the middle.
    if (size <= 4096 || i < 80 || i + 80 > size || i % 997 == 0) positions.push_back(i);
  }
  return positions;
}

// Feeds the stream whole, in two pieces at (nearly) every position and one byte at a time, checks
// that all give the same events, and returns them.
Events check(std::string_view stream, Role role = Role::server, uint64_t max_payload = kMax) {
  const Run whole = run(stream, {}, role, max_payload);
  for (size_t cut : split_positions(stream.size())) {
    const Run split = run(stream, {cut}, role, max_payload);
    if (split.events != whole.events || split.halted != whole.halted) {
      ADD_FAILURE() << "split at " << cut << " of " << stream.size()
                    << " differs:\n  whole: " << testing::PrintToString(whole.events)
                    << "\n  split: " << testing::PrintToString(split.events);
      break;
    }
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < stream.size(); ++i) every.push_back(i);
  const Run bytewise = run(stream, every, role, max_payload);
  if (bytewise.events != whole.events || bytewise.halted != whole.halted) {
    ADD_FAILURE() << "byte at a time differs:\n  whole: " << testing::PrintToString(whole.events)
                  << "\n  bytes: " << testing::PrintToString(bytewise.events);
  }
  return whole.events;
}

// Feeds `stream` one byte at a time and returns the index of the byte whose feed produced the
// first protocol error, or npos.
size_t error_byte(std::string_view stream, uint64_t max_payload = kMax, Role role = Role::server) {
  Receiver receiver(role, max_payload);
  Recorder rec;
  for (size_t i = 0; i < stream.size(); ++i) {
    char c = stream[i];
    receiver.feed(&c, 1, rec);
    for (const Event& e : rec.events) {
      if (e.kind == Event::error) return i;
    }
  }
  return std::string::npos;
}

// --- data messages ---------------------------------------------------------------------------

TEST(ReceiverTest, SingleFrameMessagesOfEveryLengthClass) {
  for (size_t len : {0u, 1u, 125u, 126u, 65535u, 65536u}) {
    SCOPED_TRACE(len);
    const std::string t = pattern(len);
    EXPECT_EQ(check(text(t)), Events{Text(t)});
    const std::string b = binary_pattern(len);
    EXPECT_EQ(check(binary(b)), Events{Binary(b)});
  }
}

TEST(ReceiverTest, RfcExamples) {
  // RFC 6455 section 5.7.
  const char masked_hello[] = "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  EXPECT_EQ(check({masked_hello, 11}), Events{Text("Hello")});
  const char unmasked_hello[] = "\x81\x05\x48\x65\x6c\x6c\x6f";
  EXPECT_EQ(check({unmasked_hello, 7}, Role::client), Events{Text("Hello")});
  const char fragmented[] = "\x01\x03\x48\x65\x6c\x80\x02\x6c\x6f";
  EXPECT_EQ(check({fragmented, 9}, Role::client), Events{Text("Hello")});
  const char unmasked_ping[] = "\x89\x05\x48\x65\x6c\x6c\x6f";
  EXPECT_EQ(check({unmasked_ping, 7}, Role::client), Events{Ping("Hello")});
  const char masked_pong[] = "\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58";
  EXPECT_EQ(check({masked_pong, 11}), Events{Pong("Hello")});
}

TEST(ReceiverTest, NonMinimalLengthEncodingsAreAccepted) {
  EXPECT_EQ(check(text("abc", true, {.len_bytes = 2})), Events{Text("abc")});
  EXPECT_EQ(check(text("abc", true, {.len_bytes = 8})), Events{Text("abc")});
  EXPECT_EQ(check(binary("", true, {.len_bytes = 8})), Events{Binary("")});
  EXPECT_EQ(check(binary(pattern(300), true, {.len_bytes = 8})), Events{Binary(pattern(300))});
  EXPECT_EQ(check(ping("p", {.len_bytes = 2})), Events{Ping("p")});
  EXPECT_EQ(check(ping(pattern(125), {.len_bytes = 8})), Events{Ping(pattern(125))});
}

TEST(ReceiverTest, AnyMaskKey) {
  for (const MaskKey key :
       {MaskKey{0, 0, 0, 0}, MaskKey{0xFF, 0xFF, 0xFF, 0xFF}, MaskKey{0x01, 0x80, 0x7F, 0xFE}}) {
    EXPECT_EQ(check(text(pattern(77), true, {.key = key})), Events{Text(pattern(77))});
  }
}

TEST(ReceiverTest, SeveralFramesInOneBuffer) {
  const std::string stream = text("one") + binary(binary_pattern(200)) + ping("p1") + text("") +
                             pong("") + binary("") + text("\xE2\x82\xAC") + ping("") +
                             close_frame(1000, "done");
  EXPECT_EQ(check(stream),
            (Events{Text("one"), Binary(binary_pattern(200)), Ping("p1"), Text(""), Pong(""),
                    Binary(""), Text("\xE2\x82\xAC"), Ping(""), Close(1000, "done")}));
}

TEST(ReceiverTest, ManySmallFrames) {
  std::string stream;
  Events expected;
  for (int i = 0; i < 200; ++i) {
    const std::string p = pattern(static_cast<size_t>(i % 9));
    stream += (i % 2) ? binary(p) : text(p);
    expected.push_back((i % 2) ? Binary(p) : Text(p));
  }
  EXPECT_EQ(check(stream), expected);
}

// --- fragmentation ---------------------------------------------------------------------------

TEST(ReceiverTest, FragmentedMessages) {
  EXPECT_EQ(check(text("Hel", false) + cont("lo")), Events{Text("Hello")});
  EXPECT_EQ(check(binary("a", false) + cont("b", false) + cont("c", false) + cont("d")),
            Events{Binary("abcd")});
  // Many fragments make a large message.
  std::string stream = binary(binary_pattern(1000), false);
  std::string expected = binary_pattern(1000);
  for (int i = 0; i < 70; ++i) {
    stream += cont(pattern(1000), false);
    expected += pattern(1000);
  }
  stream += cont("end");
  expected += "end";
  EXPECT_EQ(check(stream), Events{Binary(expected)});
}

TEST(ReceiverTest, TextSplitInsideCharacterAcrossFragments) {
  EXPECT_EQ(check(text("\xE2", false) + cont("\x82", false) + cont("\xAC")),
            Events{Text("\xE2\x82\xAC")});
  EXPECT_EQ(check(text("a\xF0\x9F", false) + cont("\x98\x80z")),
            Events{Text("a\xF0\x9F\x98\x80z")});
  EXPECT_EQ(check(text("\xC3", false) + ping("x") + cont("\xA9")),
            (Events{Ping("x"), Text("\xC3\xA9")}));
}

TEST(ReceiverTest, EmptyFragments) {
  EXPECT_EQ(check(text("", false) + cont("", false) + cont("abc")), Events{Text("abc")});
  EXPECT_EQ(check(text("abc", false) + cont("")), Events{Text("abc")});
  EXPECT_EQ(check(text("", false) + cont("")), Events{Text("")});
  EXPECT_EQ(check(binary("", false) + cont("", false) + cont("", false) + cont("")),
            Events{Binary("")});
  EXPECT_EQ(check(binary("x", false) + cont("", false) + cont("y", false) + cont("")),
            Events{Binary("xy")});
}

TEST(ReceiverTest, ControlFramesBetweenFragmentsComeFirst) {
  const std::string stream = text("frag", false) + ping("p") + cont("ment", false) + pong("q") +
                             ping(pattern(125)) + cont("ed") + text("next");
  EXPECT_EQ(check(stream),
            (Events{Ping("p"), Pong("q"), Ping(pattern(125)), Text("fragmented"), Text("next")}));
  // A close between fragments ends it all: the partial message is never delivered.
  EXPECT_EQ(check(binary("ab", false) + close_frame(1001) + cont("cd")), Events{Close(1001)});
}

TEST(ReceiverTest, ConsecutiveFragmentedMessages) {
  const std::string stream = text("a", false) + cont("b") + binary("c", false) + cont("d") +
                             text("\xC3", false) + cont("\xA9") + binary("whole");
  EXPECT_EQ(check(stream), (Events{Text("ab"), Binary("cd"), Text("\xC3\xA9"), Binary("whole")}));
}

// --- control frames --------------------------------------------------------------------------

TEST(ReceiverTest, PingAndPongPayloads) {
  for (size_t len : {0u, 1u, 124u, 125u}) {
    EXPECT_EQ(check(ping(binary_pattern(len))), Events{Ping(binary_pattern(len))});
    EXPECT_EQ(check(pong(binary_pattern(len))), Events{Pong(binary_pattern(len))});
  }
}

TEST(ReceiverTest, ControlFramesDoNotCountAgainstMaxPayload) {
  EXPECT_EQ(check(ping(pattern(125)), Role::server, 10), Events{Ping(pattern(125))});
  EXPECT_EQ(check(close_frame(1000, pattern(100)), Role::server, 10),
            Events{Close(1000, pattern(100))});
}

TEST(ReceiverTest, CloseWithoutPayload) {
  EXPECT_EQ(check(empty_close()), Events{Close(close_code::kNoStatus)});
}

TEST(ReceiverTest, CloseWithCode) {
  EXPECT_EQ(check(close_frame(1000)), Events{Close(1000)});
  EXPECT_EQ(check(close_frame(1001)), Events{Close(1001)});
}

TEST(ReceiverTest, CloseWithCodeAndReason) {
  EXPECT_EQ(check(close_frame(1000, "bye")), Events{Close(1000, "bye")});
  EXPECT_EQ(check(close_frame(4000, "\xC3\xA9t\xC3\xA9")),
            Events{Close(4000, "\xC3\xA9t\xC3\xA9")});
  const std::string longest = pattern(123);
  EXPECT_EQ(check(close_frame(1000, longest)), Events{Close(1000, longest)});
}

TEST(ReceiverTest, ValidCloseCodes) {
  std::vector<uint16_t> codes = {1000, 1001, 1002, 1003, 3000, 3999, 4000, 4999};
  for (uint16_t c = 1007; c <= 1014; ++c) codes.push_back(c);
  for (uint16_t code : codes) {
    EXPECT_EQ(check(close_frame(code)), Events{Close(code)}) << code;
    EXPECT_EQ(check(close_frame(code, "r")), Events{Close(code, "r")}) << code;
  }
}

TEST(ReceiverTest, InvalidCloseCodes) {
  for (uint16_t code : {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    EXPECT_EQ(check(close_frame(code)), Events{Error(1002)}) << code;
    EXPECT_EQ(check(close_frame(code, "reason")), Events{Error(1002)}) << code;
  }
}

TEST(ReceiverTest, CloseWithOneBytePayload) {
  EXPECT_EQ(check(frame(0x8, "\x03")), Events{Error(1002)});
  // The next byte in the buffer must not be taken as the code's second byte (0x0F81 = 3969 would
  // be a valid code).
  EXPECT_EQ(check(frame(0x8, "\x0F") + text("x")), Events{Error(1002)});
  EXPECT_EQ(check(frame(0x8, "\x0F", true, {.masked = false}) + "\x81", Role::client),
            Events{Error(1002)});
}

TEST(ReceiverTest, CloseReasonInvalidUtf8) {
  EXPECT_EQ(check(close_frame(1000, "\xFF")), Events{Error(1007)});
  EXPECT_EQ(check(close_frame(1000, "ok\xED\xA0\x80")), Events{Error(1007)});
  EXPECT_EQ(check(close_frame(1000, "cut\xE2\x82")), Events{Error(1007)});
  EXPECT_EQ(check(close_frame(1000, "\xC0\x80")), Events{Error(1007)});
}

// --- halting ---------------------------------------------------------------------------------

TEST(ReceiverTest, NothingAfterClose) {
  const std::string stream = text("before") + close_frame(1000) + text("after") + ping("x") +
                             frame(0x3, "bad") + close_frame(1001);
  EXPECT_EQ(check(stream), (Events{Text("before"), Close(1000)}));

  Receiver receiver(Role::server, kMax);
  Recorder rec;
  std::string first = text("a") + empty_close();
  const size_t n = receiver.feed(first.data(), first.size(), rec);
  EXPECT_EQ(n, first.size());
  EXPECT_TRUE(receiver.halted());
  std::string again = text("more");
  EXPECT_EQ(receiver.feed(again.data(), again.size(), rec), 0u);
  EXPECT_EQ(rec.events, (Events{Text("a"), Close(1005)}));
  // The close frame ends the consumed bytes even with more input behind it.
  Receiver r2(Role::server, kMax);
  Recorder rec2;
  std::string both = empty_close() + text("x");
  EXPECT_EQ(r2.feed(both.data(), both.size(), rec2), empty_close().size());
}

TEST(ReceiverTest, NothingAfterError) {
  const std::string stream = text("before") + frame(0x3, "") + text("after") + close_frame(1000);
  EXPECT_EQ(check(stream), (Events{Text("before"), Error(1002)}));
  EXPECT_EQ(check(text("\xFF") + text("ok")), Events{Error(1007)});

  Receiver receiver(Role::server, kMax);
  Recorder rec;
  std::string bad = frame(0x4, "x");
  receiver.feed(bad.data(), bad.size(), rec);
  EXPECT_TRUE(receiver.halted());
  std::string more = ping("p") + text("t");
  EXPECT_EQ(receiver.feed(more.data(), more.size(), rec), 0u);
  EXPECT_EQ(rec.events, Events{Error(1002)});
}

TEST(ReceiverTest, HaltFromOnMessage) {
  const std::string f1 = text("first");
  const std::string stream = f1 + text("second") + ping("p") + close_frame(1000);
  Receiver receiver(Role::server, kMax);
  Recorder rec;
  rec.halt_on_message = &receiver;
  std::string buf = stream;
  EXPECT_EQ(receiver.feed(buf.data(), buf.size(), rec), f1.size());
  EXPECT_TRUE(receiver.halted());
  EXPECT_EQ(rec.events, Events{Text("first")});
  std::string more = text("later");
  EXPECT_EQ(receiver.feed(more.data(), more.size(), rec), 0u);
  EXPECT_EQ(rec.events, Events{Text("first")});
}

TEST(ReceiverTest, HaltFromOnMessageAfterFragments) {
  const std::string head = ping("a") + binary("x", false) + ping("b") + cont("y");
  const std::string stream = head + binary("z") + ping("c");
  Receiver receiver(Role::server, kMax);
  Recorder rec;
  rec.halt_on_message = &receiver;
  std::string buf = stream;
  EXPECT_EQ(receiver.feed(buf.data(), buf.size(), rec), head.size());
  EXPECT_EQ(rec.events, (Events{Ping("a"), Ping("b"), Binary("xy")}));
}

TEST(ReceiverTest, HaltFromOnPing) {
  const std::string f1 = text("t") + ping("p");
  const std::string stream = f1 + text("u");
  Receiver receiver(Role::server, kMax);
  Recorder rec;
  rec.halt_on_ping = &receiver;
  std::string buf = stream;
  EXPECT_EQ(receiver.feed(buf.data(), buf.size(), rec), f1.size());
  EXPECT_EQ(rec.events, (Events{Text("t"), Ping("p")}));
}

// --- protocol errors -------------------------------------------------------------------------

TEST(ReceiverTest, ReservedBits) {
  for (uint8_t rsv = 1; rsv <= 7; ++rsv) {
    SCOPED_TRACE(static_cast<int>(rsv));
    EXPECT_EQ(check(text("abc", true, {.rsv = rsv})), Events{Error(1002)});
    EXPECT_EQ(check(binary("", true, {.rsv = rsv})), Events{Error(1002)});
    EXPECT_EQ(check(ping("p", {.rsv = rsv})), Events{Error(1002)});
    EXPECT_EQ(check(empty_close({.rsv = rsv})), Events{Error(1002)});
    EXPECT_EQ(check(text("a", false) + cont("b", true, {.rsv = rsv})), Events{Error(1002)});
    EXPECT_EQ(check(text("ok") + text("abc", true, {.rsv = rsv})),
              (Events{Text("ok"), Error(1002)}));
  }
}

TEST(ReceiverTest, ReservedOpcodes) {
  for (uint8_t op : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    SCOPED_TRACE(static_cast<int>(op));
    EXPECT_EQ(check(frame(op, "")), Events{Error(1002)});
    EXPECT_EQ(check(frame(op, "payload")), Events{Error(1002)});
    EXPECT_EQ(check(frame(op, "payload", false)), Events{Error(1002)});
    EXPECT_EQ(check(text("ok") + frame(op, "x") + text("no")), (Events{Text("ok"), Error(1002)}));
    EXPECT_EQ(check(text("a", false) + frame(op, "x")), Events{Error(1002)});
  }
}

TEST(ReceiverTest, UnmaskedFrameToServer) {
  EXPECT_EQ(check(text("abc", true, {.masked = false})), Events{Error(1002)});
  EXPECT_EQ(check(ping("", {.masked = false})), Events{Error(1002)});
  EXPECT_EQ(check(text("ok") + binary("x", true, {.masked = false})),
            (Events{Text("ok"), Error(1002)}));
}

TEST(ReceiverTest, MaskedFrameToClient) {
  EXPECT_EQ(check(text("abc"), Role::client), Events{Error(1002)});
  EXPECT_EQ(check(pong(""), Role::client), Events{Error(1002)});
}

TEST(ReceiverTest, ClientParsesUnmaskedServerFrames) {
  const Opts u{.masked = false};
  const std::string stream = text("hi", true, u) + binary(binary_pattern(70000), true, u) +
                             text("fr", false, u) + ping("p", u) + cont("ag", true, u) +
                             pong("", u) + close_frame(1000, "bye", u);
  EXPECT_EQ(check(stream, Role::client),
            (Events{Text("hi"), Binary(binary_pattern(70000)), Ping("p"), Text("frag"), Pong(""),
                    Close(1000, "bye")}));
  EXPECT_EQ(check(text("\xFF", true, u), Role::client), Events{Error(1007)});
}

TEST(ReceiverTest, FragmentedControlFrames) {
  EXPECT_EQ(check(frame(0x9, "p", false)), Events{Error(1002)});
  EXPECT_EQ(check(frame(0xA, "", false)), Events{Error(1002)});
  EXPECT_EQ(check(frame(0x8, close_payload(1000), false)), Events{Error(1002)});
  EXPECT_EQ(check(text("a", false) + frame(0x9, "p", false)), Events{Error(1002)});
}

TEST(ReceiverTest, ControlFramesLongerThan125) {
  EXPECT_EQ(check(ping(pattern(126))), Events{Error(1002)});
  EXPECT_EQ(check(pong(pattern(200))), Events{Error(1002)});
  EXPECT_EQ(check(close_frame(1000, pattern(124))), Events{Error(1002)});
  // Detected at the header, before the payload arrives.
  const std::string f = ping(pattern(126));
  // The header is complete (and checked) with its last mask key byte.
  EXPECT_EQ(error_byte(f), frame_header_size(126, true) - 1);
}

TEST(ReceiverTest, ContinuationWithoutMessage) {
  EXPECT_EQ(check(cont("x")), Events{Error(1002)});
  EXPECT_EQ(check(cont("x", false)), Events{Error(1002)});
  EXPECT_EQ(check(cont("")), Events{Error(1002)});
  EXPECT_EQ(check(text("a", false) + cont("b") + cont("c")), (Events{Text("ab"), Error(1002)}));
  EXPECT_EQ(check(text("whole") + cont("c")), (Events{Text("whole"), Error(1002)}));
}

TEST(ReceiverTest, DataFrameInsideFragmentedMessage) {
  EXPECT_EQ(check(text("a", false) + text("b")), Events{Error(1002)});
  EXPECT_EQ(check(text("a", false) + binary("b")), Events{Error(1002)});
  EXPECT_EQ(check(binary("a", false) + text("b", false)), Events{Error(1002)});
  EXPECT_EQ(check(binary("a", false) + ping("p") + binary("b")), (Events{Ping("p"), Error(1002)}));
}

TEST(ReceiverTest, LengthWithMostSignificantBitSet) {
  for (uint64_t len : {uint64_t{1} << 63, ~uint64_t{0}, (uint64_t{1} << 63) | 5}) {
    const std::string f = binary("", true, {.len_bytes = 8, .length = len});
    EXPECT_EQ(check(f), Events{Error(1002)});
    EXPECT_EQ(check(f, Role::server, ~uint64_t{0}), Events{Error(1002)});
    EXPECT_EQ(check(f + "trailing junk", Role::server, ~uint64_t{0}), Events{Error(1002)});
  }
}

// --- UTF-8 -----------------------------------------------------------------------------------

TEST(ReceiverTest, InvalidUtf8Text) {
  EXPECT_EQ(check(text("\xFF")), Events{Error(1007)});
  EXPECT_EQ(check(text("abc\xC0\x80")), Events{Error(1007)});
  EXPECT_EQ(check(text("\xED\xA0\x80")), Events{Error(1007)});
  EXPECT_EQ(check(text("\xF4\x90\x80\x80")), Events{Error(1007)});
  // Ends mid-character: single frame, and in the last fragment.
  EXPECT_EQ(check(text("abc\xE2\x82")), Events{Error(1007)});
  EXPECT_EQ(check(text("a", false) + cont("\xF0\x9F\x98")), Events{Error(1007)});
  EXPECT_EQ(check(text("a\xE2", false) + cont("")), Events{Error(1007)});
  // Bad bytes in a later fragment, also across a fragment boundary.
  EXPECT_EQ(check(text("ok", false) + cont("\x80")), Events{Error(1007)});
  EXPECT_EQ(check(text("\xE2", false) + cont("\x41")), Events{Error(1007)});
  // Binary messages are not validated.
  EXPECT_EQ(check(binary("\xFF\xC0\x80")), Events{Binary("\xFF\xC0\x80")});
  EXPECT_EQ(check(binary("\xE2", false) + cont("")), Events{Binary("\xE2")});
}

// The error comes with the chunk holding the first bad byte; the prefix before it is fine.
void expect_fails_fast(const std::string& stream, size_t bad) {
  SCOPED_TRACE(testing::Message() << "bad byte at " << bad << " of " << stream.size());
  ASSERT_LT(bad, stream.size());
  EXPECT_EQ(error_byte(stream), bad);

  Receiver receiver(Role::server, kMax);
  Recorder rec;
  std::string prefix = stream.substr(0, bad);
  EXPECT_EQ(receiver.feed(prefix.data(), prefix.size(), rec), prefix.size());
  for (const Event& e : rec.events) EXPECT_NE(e.kind, Event::error);
  EXPECT_FALSE(receiver.halted());
  // Only the bad byte and less than the rest of the frame: the error is already there.
  std::string piece = stream.substr(bad, 1);
  receiver.feed(piece.data(), piece.size(), rec);
  ASSERT_FALSE(rec.events.empty());
  EXPECT_EQ(rec.events.back(), Error(1007));
  EXPECT_TRUE(receiver.halted());
}

TEST(ReceiverTest, InvalidUtf8DetectedOnTheChunkWithTheBadByte) {
  {
    const std::string s = text("hello\xFFworld, and much more text after it");
    expect_fails_fast(s, 6 + 5);
  }
  {
    // The bad byte is the second of a sequence (E0 80: overlong).
    const std::string s = text(pattern(300) + "\xE0\x80\x80" + pattern(300));
    expect_fails_fast(s, 8 + 300 + 1);
  }
  {
    // In a fragment that is not final; the rest of the message never arrives.
    const std::string f1 = text("good\xC3\xA9", false);
    const std::string s2 = f1 +
                           cont(
                               "bad\xF5"
                               "followed",
                               false) +
                           cont("end");
    expect_fails_fast(s2, f1.size() + 6 + 3);
  }
  {
    // The character is split across fragments and the bad byte starts the second one.
    const std::string f1 = text("x\xF0\x9F", false);
    const std::string s = f1 + cont(
                                   "\x41"
                                   "abc");
    expect_fails_fast(s, f1.size() + 6);
  }
  {
    // A ping between fragments, then the bad byte.
    const std::string f1 = text("x\xE2", false) + ping("p");
    const std::string s = f1 + cont("\x82\x80\x80rest");
    expect_fails_fast(s, f1.size() + 6 + 2);
  }
}

// --- max_payload -----------------------------------------------------------------------------

TEST(ReceiverTest, MessageOverMaxPayloadSingleFrame) {
  EXPECT_EQ(check(binary(pattern(101)), Role::server, 100), Events{Error(1009)});
  EXPECT_EQ(check(text(pattern(101)), Role::server, 100), Events{Error(1009)});
  EXPECT_EQ(check(binary(pattern(65536)), Role::server, 65535), Events{Error(1009)});
  EXPECT_EQ(check(binary("x"), Role::server, 0), Events{Error(1009)});
  EXPECT_EQ(check(text("ok") + binary(pattern(101)), Role::server, 100),
            (Events{Text("ok"), Error(1009)}));
  // Detected at the header: the error comes with the last header byte, no payload needed.
  const std::string f = binary(pattern(1000));
  EXPECT_EQ(error_byte(f, 999), frame_header_size(1000, true) - 1);
  const std::string huge = binary("", true, {.length = uint64_t{1} << 40});
  EXPECT_EQ(check(huge, Role::server, kMax), Events{Error(1009)});
  EXPECT_EQ(error_byte(huge), frame_header_size(uint64_t{1} << 40, true) - 1);
}

TEST(ReceiverTest, MessageOverMaxPayloadAsFragments) {
  EXPECT_EQ(check(binary(pattern(60), false) + cont(pattern(41)), Role::server, 100),
            Events{Error(1009)});
  EXPECT_EQ(check(text(pattern(50), false) + ping("p") + cont(pattern(50), false) + cont("x"),
                  Role::server, 100),
            (Events{Ping("p"), Error(1009)}));
  // Detected at the header of the fragment that goes over.
  const std::string f1 = binary(pattern(60), false);
  const std::string f2 = cont(pattern(41));
  EXPECT_EQ(error_byte(f1 + f2, 100), f1.size() + 5);
  // The sum is per message: a new message starts from zero.
  EXPECT_EQ(check(binary(pattern(60), false) + cont(pattern(40)) + binary(pattern(60), false) +
                      cont(pattern(40)),
                  Role::server, 100),
            (Events{Binary(pattern(60) + pattern(40)), Binary(pattern(60) + pattern(40))}));
}

TEST(ReceiverTest, ExactlyMaxPayloadAccepted) {
  EXPECT_EQ(check(binary(pattern(100)), Role::server, 100), Events{Binary(pattern(100))});
  EXPECT_EQ(check(text(pattern(100)), Role::server, 100), Events{Text(pattern(100))});
  EXPECT_EQ(check(binary(pattern(60), false) + cont(pattern(40)), Role::server, 100),
            Events{Binary(pattern(60) + pattern(40))});
  EXPECT_EQ(
      check(binary(pattern(60), false) + cont(pattern(40), false) + cont(""), Role::server, 100),
      Events{Binary(pattern(60) + pattern(40))});
  EXPECT_EQ(check(binary(""), Role::server, 0), Events{Binary("")});
  EXPECT_EQ(check(text("", false) + cont(""), Role::server, 0), Events{Text("")});
}

TEST(ReceiverTest, SetMaxPayload) {
  Receiver receiver(Role::server, 10);
  Recorder rec;
  std::string a = binary(pattern(20));
  receiver.set_max_payload(20);
  receiver.feed(a.data(), a.size(), rec);
  EXPECT_EQ(rec.events, Events{Binary(pattern(20))});
  receiver.set_max_payload(19);
  std::string b = binary(pattern(20));
  receiver.feed(b.data(), b.size(), rec);
  EXPECT_EQ(rec.events, (Events{Binary(pattern(20)), Error(1009)}));
}

TEST(ReceiverTest, LoweringMaxPayloadMidMessage) {
  // 80 bytes of a message are in; the limit drops to 50. The message is already over the new
  // limit, so the next fragment must fail with 1009 rather than be accepted.
  Receiver receiver(Role::server, 100);
  Recorder rec;
  std::string f1 = binary(pattern(80), false);
  receiver.feed(f1.data(), f1.size(), rec);
  EXPECT_TRUE(receiver.mid_message());
  receiver.set_max_payload(50);
  std::string f2 = cont(pattern(1000));
  receiver.feed(f2.data(), f2.size(), rec);
  EXPECT_EQ(rec.events, Events{Error(1009)});
}

// --- zero copy, state, reuse -----------------------------------------------------------------

TEST(ReceiverTest, ZeroCopyForWholeUnfragmentedFrames) {
  std::string buf = text("first") + binary(binary_pattern(70000)) + text("") + binary("z");
  Receiver receiver(Role::server, kMax);
  Recorder rec;
  ASSERT_EQ(receiver.feed(buf.data(), buf.size(), rec), buf.size());
  ASSERT_EQ(rec.message_pointers.size(), 4u);
  for (size_t i = 0; i < rec.message_pointers.size(); ++i) {
    const char* p = rec.message_pointers[i];
    EXPECT_TRUE(p >= buf.data() && p <= buf.data() + buf.size()) << i;
  }
  // The unmasked payload is in the caller's buffer, right after the header.
  EXPECT_EQ(rec.message_pointers[0], buf.data() + 6);
  EXPECT_EQ(std::string_view(buf).substr(6, 5), "first");
}

TEST(ReceiverTest, ZeroCopyAgainAfterReassembledMessages) {
  // A fragmented message, and one split across feeds, go through the reassembly buffer; a whole
  // frame after them is delivered from the caller's buffer again.
  Receiver receiver(Role::server, kMax);
  Recorder rec;
  std::string fragmented = binary("ab", false) + cont("cd");
  ASSERT_EQ(receiver.feed(fragmented.data(), fragmented.size(), rec), fragmented.size());
  std::string split = text("split");
  receiver.feed(split.data(), 8, rec);
  receiver.feed(split.data() + 8, split.size() - 8, rec);
  std::string whole = text("whole") + binary(binary_pattern(20000));
  ASSERT_EQ(receiver.feed(whole.data(), whole.size(), rec), whole.size());
  ASSERT_EQ(rec.events,
            (Events{Binary("abcd"), Text("split"), Text("whole"), Binary(binary_pattern(20000))}));
  EXPECT_EQ(rec.message_pointers[2], whole.data() + 6);
  EXPECT_EQ(rec.message_pointers[3], whole.data() + 11 + 8);
}

TEST(ReceiverTest, MidMessage) {
  Receiver receiver(Role::server, kMax);
  Recorder rec;
  EXPECT_FALSE(receiver.mid_message());
  std::string f1 = text("ab", false);
  receiver.feed(f1.data(), f1.size(), rec);
  EXPECT_TRUE(receiver.mid_message());
  std::string p = ping("x");
  receiver.feed(p.data(), p.size(), rec);
  EXPECT_TRUE(receiver.mid_message());
  std::string f2 = cont("cd");
  receiver.feed(f2.data(), 7, rec);  // header and one payload byte
  EXPECT_TRUE(receiver.mid_message());
  receiver.feed(f2.data() + 7, 1, rec);
  EXPECT_FALSE(receiver.mid_message());
  EXPECT_EQ(rec.events, (Events{Ping("x"), Text("abcd")}));
  std::string single = binary("xyz");
  receiver.feed(single.data(), 7, rec);
  EXPECT_TRUE(receiver.mid_message());
}

TEST(ReceiverTest, ReusesAfterLargeSpilledMessage) {
  // A large message arriving in pieces goes through the reassembly buffer; later messages still
  // come out right.
  const std::string big = binary_pattern(100000);
  const std::string stream =
      binary(big) + text("small") + binary(big.substr(0, 20000), false) + cont("tail") + text("x");
  Receiver receiver(Role::server, kMax);
  Recorder rec;
  std::string buf = stream;
  for (size_t pos = 0; pos < buf.size();) {
    const size_t n = std::min<size_t>(buf.size() - pos, 4093);
    ASSERT_EQ(receiver.feed(buf.data() + pos, n, rec), n);
    pos += n;
  }
  EXPECT_EQ(rec.events,
            (Events{Binary(big), Text("small"), Binary(big.substr(0, 20000) + "tail"), Text("x")}));
}

TEST(ReceiverTest, MoveKeepsState) {
  Receiver a(Role::server, kMax);
  Recorder rec;
  std::string f = text("h\xC3", false) + cont("\xA9llo") + ping("p");
  a.feed(f.data(), 9, rec);  // the first fragment and one byte of the next header
  Receiver b(std::move(a));
  b.feed(f.data() + 9, f.size() - 9, rec);
  Receiver c(Role::client, 1);
  c = std::move(b);
  std::string g = text("z");
  c.feed(g.data(), g.size(), rec);
  EXPECT_EQ(rec.events, (Events{Text("h\xC3\xA9llo"), Ping("p"), Text("z")}));
}

TEST(ReceiverTest, FeedEmpty) {
  Receiver receiver(Role::server, kMax);
  Recorder rec;
  EXPECT_EQ(receiver.feed(nullptr, 0, rec), 0u);
  EXPECT_TRUE(rec.events.empty());
  EXPECT_FALSE(receiver.halted());
}

// --- randomized ------------------------------------------------------------------------------

TEST(ReceiverTest, RandomValidStreamsInRandomPieces) {
  std::mt19937 rng(20240607);
  for (int round = 0; round < 200; ++round) {
    std::string stream;
    Events expected;
    const int messages = 1 + static_cast<int>(rng() % 6);
    for (int m = 0; m < messages; ++m) {
      const bool is_text = rng() % 2;
      std::string body;
      const size_t len = rng() % 3 == 0 ? rng() % 3000 : rng() % 40;
      for (size_t i = 0; i < len; ++i) {
        body += is_text ? (rng() % 5 == 0 ? std::string("\xE2\x82\xAC") : std::string(1, 'a'))
                        : std::string(1, static_cast<char>(rng()));
      }
      // Cut the body into fragments anywhere (inside characters too), with controls between.
      size_t pos = 0;
      bool first = true;
      while (true) {
        const size_t n = std::min<size_t>(body.size() - pos, rng() % 2 ? body.size() : rng() % 50);
        const bool fin = pos + n == body.size() && rng() % 3 != 0;
        const Opts o{.len_bytes = static_cast<int>(std::vector<int>{0, 0, 0, 2, 8}[rng() % 5]),
                     .key = MaskKey{static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng()),
                                    static_cast<uint8_t>(rng()), static_cast<uint8_t>(rng())}};
        const std::string piece = body.substr(pos, n);
        stream += first ? frame(is_text ? 0x1 : 0x2, piece, fin, o) : cont(piece, fin, o);
        first = false;
        pos += n;
        if (fin) break;
        if (rng() % 4 == 0) {
          const std::string p = pattern(rng() % 126);
          const bool is_ping = rng() % 2;
          stream += is_ping ? ping(p) : pong(p);
          expected.push_back(is_ping ? Ping(p) : Pong(p));
        }
      }
      expected.push_back(is_text ? Text(body) : Binary(body));
    }
    // Random pieces.
    std::vector<size_t> cuts;
    for (size_t c = rng() % 200; c < stream.size(); c += 1 + rng() % 300) cuts.push_back(c);
    EXPECT_EQ(run(stream, cuts).events, expected) << "round " << round;
    EXPECT_EQ(run(stream, {}).events, expected) << "round " << round;
  }
}

}  // namespace

}  // namespace duplex::core
