// Reading STOMP frames (STOMP 1.2 "STOMP Frames", "Augmented BNF"; 1.0 and 1.1 as their
// escaping differs) from bytes as they arrive, sans-IO. A server reads its clients' frames with
// it, a client (the tests, the load generator) the server's: every command of frame.hpp is read.
//
// The grammar read:
//   frame-stream = *( frame / EOL )      ; an EOL between frames is a heart-beat
//   frame        = command EOL *( header EOL ) EOL body NUL
//   EOL          = [CR] LF               ; a CR anywhere else than right before LF is an error
//   header       = name ":" value        ; the first ':' splits, values may hold more
// - The command is one of Command's, case-sensitive; any other line is an unknown_command
//   error, with the line handed out so that the server can say which.
// - Names are at least one byte. Every header is kept, in order (a repeated one too: Frame::header
//   gives the first, which is the one that counts). Nothing is trimmed: " a : b " is the name
//   " a " and the value " b ".
// - Escaping: a 1.2 frame's names and values have \r, \n, \c and \\ turned into CR, LF, ':' and
//   '\'; 1.1 the same without \r; any other escape (a '\' before another byte, or ending the
//   line) is bad_escape. 1.0 frames, and CONNECT and CONNECTED frames in every version
//   (version.hpp, escaping_of), are read as they are.
// - The body: with a content-length header (the first one, if repeated), exactly that many bytes
//   (NULs included), then a NUL, else missing_nul; the value must be 1*DIGIT. Without one, the
//   body runs to the first NUL.
// - Limits (DecodeLimits) are errors found at the byte that breaks them, never after buffering
//   more than they allow: the (max_frame_bytes + 1)th byte of a frame, or at once when a
//   content-length says the frame will be larger; the first byte of a header line past
//   max_headers; the byte that makes a line longer than max_line_bytes.
// Every error is found at one byte of the input, the first that breaks a rule, whatever pieces
// it came in (where one byte breaks several, the frame size counts first, then the header count,
// then the line length, then the grammar): any split of the same bytes gives the same events.
//
// Use (pull): feed each piece of input (a WebSocket message) to next() until it says need_more:
//
//   std::string_view in = message;
//   while (true) {
//     const DecodeEvent e = decoder.next(in);
//     if (e.kind == DecodeEvent::Kind::need_more) break;             // `in` is used up
//     if (e.kind == DecodeEvent::Kind::error) { send ERROR, close; break; }
//     if (e.kind == DecodeEvent::Kind::frame) handle(e.frame);        // may call set_version
//     // heart_beat: bytes came; nothing else to do
//   }
//
// Views and memory: a frame (and an unknown command's name) is handed out as views, valid until
// the next call to this decoder, and those into `in` as long as its bytes are. The header array
// is the decoder's. When the frame lies whole in `in`, its names, values and body are views into
// `in` (no copy), but for names and values that had escapes to undo, which are written into the
// decoder's buffer. A frame split across calls is copied into that buffer as it comes (its own
// bytes only; in one allocation when content-length gives its size), and all its views point
// there.
// That buffer is freed by the next call (the loop above always makes one, the call that says
// need_more). The header array is kept from frame to frame within one input (up to
// kKeptHeaders of them; a larger one is freed as the buffer is) and freed when the input is used
// up between frames, so an idle decoder holds no memory at all (an idle STOMP connection pays
// one allocation per read for it, not 32 bytes per header of its last frame). sizeof is 104
// bytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "duplex/core/stomp/frame.hpp"
#include "duplex/core/stomp/version.hpp"

namespace duplex::core::stomp {

struct DecodeLimits {
  /// Bytes of a frame from its command's first byte to its NUL, every EOL included. The
  /// default takes a 1 MiB body with up to 64 KiB of command and headers.
  uint32_t max_frame_bytes = (1u << 20) + (64u << 10);
  /// Header lines in a frame.
  uint32_t max_headers = 64;
  /// Bytes of the command line or of one header line, its EOL not counted (an escape counts as
  /// its two bytes).
  uint32_t max_line_bytes = 8u << 10;
};

enum class DecodeError : uint8_t {
  unknown_command,              // the command line is no command (DecodeEvent::unknown_command)
  bare_cr,                      // a CR not followed by LF (outside a body)
  header_without_colon,         // a header line with no ':'
  empty_header_name,            // a header line starting with ':'
  bad_escape,                   // an escape the version does not define
  content_length_not_a_number,  // content-length is not 1*DIGIT
  content_length_too_large,     // content-length is above max_frame_bytes
  missing_nul,                  // the content-length bytes of body are not followed by NUL
  frame_too_large,              // more than max_frame_bytes
  too_many_headers,             // more than max_headers
  line_too_long,                // a command or header line longer than max_line_bytes
};

/// A short sentence for the ERROR frame's message header and body, e.g. "Header line without a
/// colon", "content-length is not a number". unknown_command gives "Unknown command": the
/// server adds the name.
std::string_view decode_error_reason(DecodeError error);

struct DecodeEvent {
  enum class Kind : uint8_t {
    need_more,   // `in` is used up (and any frame it began is held): feed the next piece
    frame,       // `frame` is a whole frame
    heart_beat,  // an EOL between frames
    error,       // `error`; the decoder stays failed
  };
  Kind kind = Kind::need_more;
  Frame frame;                       // Kind::frame
  DecodeError error{};               // Kind::error
  std::string_view unknown_command;  // DecodeError::unknown_command: the line (without EOL)
};

class FrameDecoder {
 public:
  /// The header array's capacity kept for the next frame of the same input; a larger one is
  /// freed after use.
  static constexpr size_t kKeptHeaders = 8;

  /// Frames are read with `version`'s escaping until set_version says otherwise: a server
  /// starts at 1.2 (a CONNECT is read the same in every version) and sets the negotiated
  /// version when it answers CONNECTED; a client sets it when CONNECTED comes.
  explicit FrameDecoder(Version version = Version::v1_2, DecodeLimits limits = {});

  /// Reads the next event from the front of `in` and removes the bytes it used: a frame or a
  /// heart-beat (their bytes), need_more (every byte: a frame begun is held), or an error
  /// (`in` is left as it is). Once failed, every call gives the same error again, without an
  /// unknown_command name. `in` is the bytes after the ones earlier calls removed, or a new piece.
  DecodeEvent next(std::string_view& in);

  /// The escaping of the frames whose command line has not been read yet.
  void set_version(Version version) { version_ = version; }
  Version version() const { return version_; }

  bool failed() const { return state_ == State::failed; }
  /// True while part of a frame has been read (and is held).
  bool mid_frame() const;
  /// Heap bytes held (buffer and header array), for the memory tests.
  size_t memory_held() const;

 private:
  enum class State : uint8_t {
    between,     // between frames
    between_cr,  // after a CR between frames
    command,
    command_cr,
    line_start,  // a header line's first byte, or the blank line's
    blank_cr,    // after a CR at a line's start
    name,
    name_escape,  // after a '\' in a name
    name_cr,
    value,
    value_escape,
    value_cr,
    body,          // up to a NUL
    counted_body,  // content-length bytes
    nul,           // the NUL after them
    failed,
  };

  // Reads the frame's bytes from in[i]: true once its NUL is read (i past it), false when `in`
  // is used up or on an error (failed()).
  bool scan(std::string_view in, size_t& i);
  bool head_byte(std::string_view in, size_t& i);
  bool end_command(std::string_view in, size_t i);
  bool end_head();
  bool count_line_byte();
  bool fail(DecodeError error);
  DecodeEvent failure(std::string_view unknown_command = {}) const;
  Frame build(const char* frame);
  std::string_view unescaped(std::string_view text);
  void release_memory();

  std::string buffer_;  // a split frame's bytes so far, then unescaped names and values
  std::vector<Header> headers_;
  DecodeLimits limits_;
  uint32_t frame_bytes_ = 0;     // of the frame so far
  uint32_t line_bytes_ = 0;      // of the current line so far, CRs not counted
  uint32_t head_bytes_ = 0;      // the command and headers, with the blank line
  uint32_t header_count_ = 0;    // header lines so far
  uint32_t appended_ = 0;        // bytes of the call's `in` already in buffer_
  uint64_t content_length_ = 0;  // the value read so far
  State state_ = State::between;
  Command command_ = Command::send;
  Version version_;
  Version escaping_ = Version::v1_2;  // of the current frame
  DecodeError error_{};
  uint8_t name_match_ = 0;  // bytes of the name matching "content-length"; 0xFF: none
  bool has_content_length_ : 1 = false;
  bool in_content_length_ : 1 = false;  // reading the counting content-length's value
  bool content_length_digits_ : 1 = false;
  bool has_escapes_ : 1 = false;  // a header of this frame has a '\' to undo
  bool split_ : 1 = false;        // the frame's first bytes are in buffer_
  bool release_ : 1 = false;      // the last frame used buffer_: free it on the next call
};

}  // namespace duplex::core::stomp
