// Writing STOMP frames (STOMP 1.2 "STOMP Frames", "Value Encoding"): appended to a std::string,
// as frame_decoder.hpp reads them (LF line ends, never CRLF).
//
// append_frame writes a whole frame. The pieces it is made of are here too, for frames put
// together bit by bit: a MESSAGE for many subscribers is one shared head (append_command and
// append_header), then each subscriber's `subscription` header, then one shared end
// (append_frame_end).
//
// Escaping: in 1.2, CR, LF, ':' and '\' in names and values are written \r, \n, \c and \\; in 1.1
// the same but CR, which 1.1 has no escape for; in 1.0 nothing is escaped; and CONNECT and
// CONNECTED frames are never escaped (version.hpp, escaping_of). What an escaping cannot carry
// is the caller's to keep out, or the frame is not read back as written: a CR or LF anywhere
// and a ':' in a name when nothing is escaped, a CR in 1.1. (A ':' in a value needs no escape
// to be read back, but is escaped where the version can.) Names and values read by the decoder
// (in the version they are written in) always fit.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "duplex/core/stomp/frame.hpp"
#include "duplex/core/stomp/version.hpp"

namespace duplex::core::stomp {

/// Appends the command line: "MESSAGE\n".
void append_command(std::string& out, Command command);

/// Appends one header line, "name:value\n", both escaped as `escaping` escapes them; a CONNECT
/// or CONNECTED frame's headers take escaping_of(command, version), which is 1.0.
void append_header(std::string& out, std::string_view name, std::string_view value,
                   Version escaping);

/// Appends `text` escaped as `escaping` escapes names and values, without anything around it.
void append_escaped(std::string& out, std::string_view text, Version escaping);

/// Appends "content-length:<body_size>\n".
void append_content_length(std::string& out, size_t body_size);

/// Appends what ends a frame after its headers: the blank line, the body and the NUL.
void append_frame_end(std::string& out, std::string_view body);

/// Appends a whole frame: its command, its headers in order (escaped as the frame's command and
/// `version` say), a content-length header, the blank line, the body and the NUL. The
/// content-length header is added when `content_length` is true or the body holds a NUL (it
/// could not be read back without one), unless the frame's headers have one already: that one
/// is written as given, and must be the body's size.
void append_frame(std::string& out, const Frame& frame, Version version,
                  bool content_length = false);

}  // namespace duplex::core::stomp
