// The permessage-deflate codec (RFC 7692 section 7.2) over zlib's raw DEFLATE streams: a
// Deflater compresses whole messages, an Inflater decompresses messages fed in pieces with a hard
// bound on the output. zlib's state is created on first use, so an idle connection that
// negotiated the extension costs only these small objects.
#pragma once

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace duplex::core {

/// Bytes zlib holds at this moment for every Deflater and Inflater of the process.
size_t zlib_bytes_in_use();

class Deflater {
 public:
  /// `window_bits` 9-15 (zlib cannot compress with a 256-byte window); `no_context_takeover`
  /// starts every message with an empty window.
  Deflater(int window_bits, bool no_context_takeover, int level = 6, int mem_level = 8);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  /// Appends the payload of a compressed message to `out`: raw DEFLATE flushed with
  /// Z_SYNC_FLUSH, the final 00 00 ff ff removed. False only when zlib fails (out of memory);
  /// `out` is then as it was.
  bool compress(std::string_view message, std::string& out);
  bool no_context_takeover() const { return no_context_takeover_; }
  int window_bits() const { return window_bits_; }
  /// Bytes zlib allocated for this stream.
  size_t memory() const { return memory_; }

 private:
  bool init();
  z_stream stream_{};
  size_t memory_ = 0;
  int window_bits_;
  int level_;
  int mem_level_;
  bool no_context_takeover_;
  bool ready_ = false;
};

class Inflater {
 public:
  enum class Result : uint8_t { ok, too_big, corrupt, no_memory };

  /// `window_bits` 8-15: the largest window the peer compresses with. `no_context_takeover`
  /// resets the stream after every message.
  Inflater(int window_bits, bool no_context_takeover);
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  /// Inflates the next piece of a message's payload, appending to `out`. `out` never grows past
  /// `limit` bytes, nor does its capacity: more output than that gives too_big.
  Result feed(std::string_view piece, std::string& out, uint64_t limit);
  /// Ends the message: inflates the 00 00 ff ff tail and checks that the data stopped at a block
  /// boundary (a cut message is corrupt). Any result but ok resets the stream, so a shared
  /// inflater is ready for the next message.
  Result finish(std::string& out, uint64_t limit);
  /// Forgets a partly inflated message and the context.
  void reset();
  bool no_context_takeover() const { return no_context_takeover_; }
  int window_bits() const { return window_bits_; }
  size_t memory() const { return memory_; }

 private:
  Result run(const uint8_t* in, size_t len, std::string& out, uint64_t limit, bool tail);
  Result fail(Result result);
  bool init();
  bool restart_keeping_window();
  z_stream stream_{};
  size_t memory_ = 0;
  uint64_t fed_ = 0;  // payload bytes of the current message
  int window_bits_;
  bool no_context_takeover_;
  bool ready_ = false;
  bool ended_by_final_block_ = false;  // a BFINAL block ended the data fed so far
};

}  // namespace duplex::core
