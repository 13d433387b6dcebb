// SockJS 0.3 frames, what the server sends on every transport: "o" when a session opens, "h" as a
// heartbeat, a[<messages>] with messages and c[<code>,"<reason>"] when it closes, byte for byte as
// the reference server (Node's sockjs 0.3.24) writes them. Each transport then wraps a frame its
// own way (transport_framing.hpp); over WebSocket a frame is one text message.
//
// Messages are UTF-8 text; a lone UTF-16 surrogate may be held in its three WTF-8 bytes (ED A0..BF
// xx, as core/json/json_unescape.hpp makes of a "\ud800" escape), which is what a JavaScript
// string with that surrogate turns into. Other bytes that are not UTF-8 are copied as they are.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace duplex::core::sockjs {

inline constexpr std::string_view kOpenFrame = "o";
inline constexpr std::string_view kHeartbeatFrame = "h";

/// The close the reference sends a second receiving request of a session (another poll, another
/// stream) while one is open; that request ends, the first one goes on.
inline constexpr uint16_t kAnotherConnectionCode = 2010;
inline constexpr std::string_view kAnotherConnectionReason = "Another connection still open";
/// The reference's close when the application closes without a code and reason.
inline constexpr uint16_t kNormalClosureCode = 1000;
inline constexpr std::string_view kNormalClosureReason = "Normal closure";

/// Appends `message` as a JSON string exactly as the reference quotes it (its utils.quote):
/// what JSON.stringify writes (core/text/json_string.hpp: '"', '\\' and control characters
/// escaped, a lone surrogate as \udxxx), and then \uXXXX (lowercase hex) for every UTF-16 code
/// unit in the ranges it escapes besides: U+200C-U+200F, U+2028-U+202F, U+2060-U+206F,
/// U+FFF0-U+FFFF and the surrogates U+D800-U+DFFF, which catches every character above U+FFFF
/// as its pair (U+1F600 is written \ud83d\ude00). Everything else, U+007F, U+205F and U+FFEF
/// included, is copied as it is.
void append_quoted(std::string& out, std::string_view message);

/// Appends a["q1","q2",...] from elements already quoted by append_quoted.
void append_array_frame(std::string& out, std::span<const std::string_view> quoted);

/// Appends a[<one quoted message>].
void append_message_frame(std::string& out, std::string_view message);

/// Appends c[code,"reason"], the reason quoted as JSON.stringify([code, reason]) writes it
/// (without the extra escapes of append_quoted): c[3000,"Go away!"].
void append_close_frame(std::string& out, uint16_t code, std::string_view reason);

}  // namespace duplex::core::sockjs
