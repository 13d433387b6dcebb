// Incremental UTF-8 validation (RFC 3629): text may arrive split across frames and reads, and a
// receiver must fail on the first byte that can no longer be part of a valid sequence.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace duplex::core {

class Utf8Validator {
 public:
  /// Validates the next chunk. Returns false at the first byte that makes the text invalid; the
  /// validator then stays failed until reset().
  bool feed(std::string_view chunk);
  /// True when the text so far ends on a character boundary (a message may end here).
  bool at_boundary() const { return need_ == 0 && !failed_; }
  void reset() { *this = Utf8Validator(); }

 private:
  uint8_t need_ = 0;   // continuation bytes still expected
  uint8_t lo_ = 0x80;  // allowed range of the next continuation byte
  uint8_t hi_ = 0xBF;
  bool failed_ = false;
};

/// Validates a complete text.
bool is_valid_utf8(std::string_view text);

/// Appends the UTF-8 form of `code_point` (below 0x110000). A surrogate (U+D800-U+DFFF) is
/// written in the three bytes it would have (ED A0..BF xx, the generalized "WTF-8" form, which
/// is not valid UTF-8) for code that keeps lone UTF-16 surrogates that way.
void append_utf8(std::string& out, uint32_t code_point);

/// Appends `bytes` decoded as UTF-8 the way the WHATWG Encoding standard decodes it (as
/// browsers' TextDecoder and Node's Buffer.toString('utf8') do): valid sequences are copied and
/// each maximal subpart of an invalid one (a lead byte with the continuation bytes that can still
/// follow it, or a lone byte that starts nothing) becomes one U+FFFD (EF BF BD). So ED A0 80, a
/// surrogate, becomes three U+FFFD and a character cut short at the end one.
void append_utf8_replacing_invalid(std::string& out, std::string_view bytes);

}  // namespace duplex::core
