#include "duplex/core/ws/receiver.hpp"

#include <algorithm>
#include <cstring>

#include "duplex/core/ws/close_codes.hpp"

namespace duplex::core {

struct Receiver::Spill {
  std::string message;     // a message that arrived in pieces, or an inflated one
  std::string control;     // a control frame split across reads
  std::string compressed;  // a compressed message gathered for a shared inflater
};

namespace {
// Reassembly buffers above this are released after their message instead of kept for reuse,
// so a connection that once got a large message does not hold the memory while idle.
constexpr size_t kKeepBufferBytes = 16 * 1024;
// How far ahead of the received bytes the reassembly buffer is reserved.
constexpr uint64_t kReserveAhead = 64 * 1024;
}  // namespace

Receiver::Receiver(Role role, uint64_t max_payload) : max_payload_(max_payload), role_(role) {}
Receiver::~Receiver() = default;
Receiver::Receiver(Receiver&&) noexcept = default;
Receiver& Receiver::operator=(Receiver&&) noexcept = default;

Receiver::Spill& Receiver::spill() {
  if (!spill_) spill_ = std::make_unique<Spill>();
  return *spill_;
}

void Receiver::fail(ReceiverEvents& events, uint16_t code, std::string_view reason) {
  halted_ = true;
  events.on_protocol_error(code, reason);
}

size_t Receiver::feed(char* data, size_t len, ReceiverEvents& events) {
  size_t pos = 0;
  while (!halted_ && pos < len) {
    if (stage_ == Stage::header && header_len_ == 0 && !in_message_) {
      if (const size_t used = read_whole_message(data + pos, len - pos, events)) {
        pos += used;
        continue;
      }
    }
    if (stage_ == Stage::header) {
      pos += read_header(data + pos, len - pos, events);
      if (stage_ == Stage::header) break;  // needs more bytes, or failed
    }
    pos += read_payload(data + pos, len - pos, events);
  }
  return pos;
}

size_t Receiver::read_whole_message(char* data, size_t len, ReceiverEvents& events) {
  // The common case in one pass: an unfragmented text or binary frame, header and payload all
  // in this read, under 64 KiB. Anything else (or anything wrong) goes the general way, which
  // reports errors; nothing here has changed state or bytes when it returns 0.
  if (len < 2) return 0;
  const auto* h = reinterpret_cast<const uint8_t*>(data);
  const uint8_t op = h[0] & 0x0F;
  const bool masked = (h[1] & 0x80) != 0;
  const uint8_t len7 = h[1] & 0x7F;
  if ((h[0] & 0xF0) != 0x80 || (op != 1 && op != 2) || masked != (role_ == Role::server) ||
      len7 == 127) {
    return 0;
  }
  size_t at = 2;
  uint64_t length = len7;
  if (len7 == 126) {
    if (len < 4) return 0;
    length = (uint64_t{h[2]} << 8) | h[3];
    at = 4;
  }
  const size_t header = at + (masked ? 4 : 0);
  if (len < header || len - header < length || length > max_payload_) return 0;

  char* payload = data + header;
  const auto size = static_cast<size_t>(length);
  bool ascii = false;
  if (masked) {
    MaskKey key;
    std::memcpy(key.data(), h + at, 4);
    if (op == 1) {
      ascii = unmask_is_ascii(payload, size, key);
    } else {
      apply_mask(payload, size, key);
    }
  }
  if (op == 1 && !ascii) {
    Utf8Validator text;
    if (!text.feed({payload, size})) {
      fail(events, close_code::kInvalidPayload, "invalid UTF-8 in text message");
      return header + size;
    }
    if (!text.at_boundary()) {
      fail(events, close_code::kInvalidPayload, "text message ends mid-character");
      return header + size;
    }
  }
  events.on_message(op == 1 ? MessageType::text : MessageType::binary, {payload, size});
  return header + size;
}

size_t Receiver::read_header(const char* data, size_t len, ReceiverEvents& events) {
  if (len == 0) return 0;
  const auto* in = reinterpret_cast<const uint8_t*>(data);
  // Fast path: the whole header is in this read.
  if (header_len_ == 0 && len >= 2) {
    const size_t size = header_size_from_second_byte(in[1]);
    if (len >= size) {
      if (parse_header(in, events)) stage_ = Stage::payload;
      return size;
    }
  }
  // Slow path: gather the header in header_ across reads.
  size_t used = 0;
  if (header_len_ < 2) {
    const size_t take = std::min<size_t>(2 - header_len_, len);
    std::memcpy(header_ + header_len_, in, take);
    header_len_ += take;
    used += take;
    if (header_len_ < 2) return used;
  }
  const size_t size = header_size_from_second_byte(header_[1]);
  const size_t take = std::min(size - header_len_, len - used);
  std::memcpy(header_ + header_len_, in + used, take);
  header_len_ += take;
  used += take;
  if (header_len_ == size) {
    header_len_ = 0;
    if (parse_header(header_, events)) stage_ = Stage::payload;
  }
  return used;
}

bool Receiver::parse_header(const uint8_t* h, ReceiverEvents& events) {
  const bool fin = h[0] & 0x80;
  const uint8_t rsv = (h[0] >> 4) & 0x7;
  const uint8_t op = h[0] & 0x0F;
  const bool masked = h[1] & 0x80;
  uint64_t length = h[1] & 0x7F;
  size_t at = 2;
  if (length == 126) {
    length = (uint64_t{h[2]} << 8) | h[3];
    at = 4;
  } else if (length == 127) {
    length = 0;
    for (int i = 0; i < 8; ++i) length = (length << 8) | h[2 + i];
    at = 10;
  }

  // RSV1 is permessage-deflate's bit, and only on the first frame of a data message.
  const bool deflate_bit = rsv == 4 && inflater_ && (op == 0x1 || op == 0x2);
  if (rsv != 0 && !deflate_bit) {
    return fail(events, close_code::kProtocolError,
                rsv == 4 && inflater_ ? "RSV1 on a control or continuation frame"
                                      : "reserved bits set"),
           false;
  }
  if (!is_known_opcode(op))
    return fail(events, close_code::kProtocolError, "reserved opcode"), false;
  if (masked != (role_ == Role::server)) {
    fail(events, close_code::kProtocolError,
         role_ == Role::server ? "client frame not masked" : "server frame masked");
    return false;
  }
  if (length >> 63) return fail(events, close_code::kProtocolError, "invalid frame length"), false;

  const auto opcode = static_cast<Opcode>(op);
  if (is_control(opcode)) {
    if (!fin) return fail(events, close_code::kProtocolError, "fragmented control frame"), false;
    if (length > kMaxControlPayload) {
      return fail(events, close_code::kProtocolError, "control frame too long"), false;
    }
  } else {
    if (opcode == Opcode::continuation && !in_message_) {
      return fail(events, close_code::kProtocolError, "continuation frame without a message"),
             false;
    }
    if (opcode != Opcode::continuation && in_message_) {
      return fail(events, close_code::kProtocolError, "new message inside a fragmented message"),
             false;
    }
    if (opcode != Opcode::continuation) {
      message_type_ = opcode == Opcode::text ? MessageType::text : MessageType::binary;
      message_size_ = 0;
      compressed_ = deflate_bit;
      utf8_.reset();
    }
    // The first test keeps the subtraction from wrapping when the limit was lowered mid-message.
    if (message_size_ > max_payload_ || length > max_payload_ - message_size_) {
      return fail(events, close_code::kMessageTooBig, "message too big"), false;
    }
    message_size_ += length;
    in_message_ = !fin;
  }

  frame_fin_ = fin;
  frame_opcode_ = opcode;
  frame_masked_ = masked;
  frame_remaining_ = length;
  mask_offset_ = 0;
  if (masked) std::memcpy(mask_.data(), h + at, 4);
  return true;
}

size_t Receiver::read_payload(char* data, size_t len, ReceiverEvents& events) {
  const size_t take = static_cast<size_t>(std::min<uint64_t>(len, frame_remaining_));
  // Text that unmasks to pure ASCII between character boundaries is valid UTF-8 as it stands:
  // the unmasking pass tells, so the validator does not read it again.
  bool ascii = false;
  if (frame_masked_ && take > 0) {
    if (message_type_ == MessageType::text && !is_control(frame_opcode_)) {
      ascii = unmask_is_ascii(data, take, mask_, mask_offset_);
    } else {
      apply_mask(data, take, mask_, mask_offset_);
    }
    mask_offset_ = static_cast<uint8_t>((mask_offset_ + take) & 3);
  }
  const bool frame_done = take == frame_remaining_;
  frame_remaining_ -= take;
  if (frame_done) stage_ = Stage::header;

  if (is_control(frame_opcode_)) {
    if (frame_done && (!spill_ || spill_->control.empty())) {
      on_control({data, take}, events);
    } else {
      std::string& buffer = spill().control;
      buffer.append(data, take);
      if (frame_done) {
        const std::string payload = std::move(buffer);
        buffer.clear();
        on_control(payload, events);
      }
    }
  } else {
    on_data(data, take, frame_done, ascii, events);
  }
  return take;
}

void Receiver::on_data(char* data, size_t take, bool frame_done, bool ascii,
                       ReceiverEvents& events) {
  if (compressed_) return on_compressed(data, take, frame_done && frame_fin_, events);
  const bool validated = ascii && utf8_.at_boundary();
  if (message_type_ == MessageType::text && !validated && !utf8_.feed({data, take})) {
    return fail(events, close_code::kInvalidPayload, "invalid UTF-8 in text message");
  }
  const bool message_done = frame_done && frame_fin_;
  if (message_done && message_type_ == MessageType::text && !utf8_.at_boundary()) {
    return fail(events, close_code::kInvalidPayload, "text message ends mid-character");
  }
  if (message_done && !spilled_) {
    events.on_message(message_type_, {data, take});  // zero copy: still in the caller's buffer
    message_size_ = 0;
    return;
  }
  std::string& buffer = spill().message;
  if (!spilled_) {
    spilled_ = true;
    // Reserve for what has arrived plus a bounded margin, not the size the header announces:
    // a peer must send the bytes before the server commits memory for them.
    buffer.reserve(static_cast<size_t>(std::min<uint64_t>(message_size_, take + kReserveAhead)));
  }
  buffer.append(data, take);
  if (message_done) {
    events.on_message(message_type_, buffer);
    release_message_buffer();
  }
}

void Receiver::on_compressed(const char* data, size_t take, bool message_done,
                             ReceiverEvents& events) {
  Spill& s = spill();
  std::string_view input(data, take);
  if (inflater_shared_) {
    // A shared inflater is used for whole messages only, so gather the ones that span reads.
    if (!message_done || !s.compressed.empty()) {
      s.compressed.append(data, take);
      if (!message_done) return;
      input = s.compressed;
    }
  }
  std::string& out = s.message;
  spilled_ = true;
  const size_t before = out.size();
  using Result = Inflater::Result;
  Result r = inflater_->feed(input, out, max_payload_);
  if (r == Result::ok && message_done) r = inflater_->finish(out, max_payload_);
  if (inflater_shared_ && message_done) s.compressed.clear();
  // Text is checked first, also when inflating failed: what came out before the failure is
  // judged the same whether the message arrived whole or in pieces.
  if (message_type_ == MessageType::text) {
    if (!utf8_.feed(std::string_view(out).substr(before)) ||
        (r == Result::ok && message_done && !utf8_.at_boundary())) {
      return fail(events, close_code::kInvalidPayload, "invalid UTF-8 in text message");
    }
  }
  switch (r) {
    case Result::ok:
      break;
    case Result::too_big:
      return fail(events, close_code::kMessageTooBig, "message too big once decompressed");
    case Result::corrupt:
      return fail(events, close_code::kInvalidPayload, "invalid compressed data");
    case Result::no_memory:
      return fail(events, close_code::kInternalError, "out of memory decompressing a message");
  }
  if (!message_done) return;
  events.on_message(message_type_, out);
  release_message_buffer();
}

void Receiver::release_message_buffer() {
  spilled_ = false;
  message_size_ = 0;
  if (!spill_) return;
  for (std::string* buffer : {&spill_->message, &spill_->compressed}) {
    if (buffer->capacity() > kKeepBufferBytes) {
      std::string().swap(*buffer);
    } else {
      buffer->clear();
    }
  }
}

void Receiver::on_control(std::string_view payload, ReceiverEvents& events) {
  switch (frame_opcode_) {
    case Opcode::ping:
      events.on_ping(payload);
      return;
    case Opcode::pong:
      events.on_pong(payload);
      return;
    case Opcode::close: {
      if (payload.empty()) {
        halted_ = true;
        events.on_close(close_code::kNoStatus, {});
        return;
      }
      if (payload.size() == 1) {
        return fail(events, close_code::kProtocolError, "close frame with a 1-byte payload");
      }
      const auto code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                              static_cast<uint8_t>(payload[1]));
      if (!close_code::is_valid_on_wire(code)) {
        return fail(events, close_code::kProtocolError, "invalid close code");
      }
      const std::string_view reason = payload.substr(2);
      if (!is_valid_utf8(reason)) {
        return fail(events, close_code::kInvalidPayload, "close reason is not UTF-8");
      }
      halted_ = true;
      events.on_close(code, reason);
      return;
    }
    default:
      return;  // unreachable: only control opcodes get here
  }
}

}  // namespace duplex::core
