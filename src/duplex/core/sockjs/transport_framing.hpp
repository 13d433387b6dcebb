// How each SockJS 0.3 transport over HTTP carries frames (frame.hpp), byte for byte as the
// reference server (Node's sockjs 0.3.24) writes them:
//   xhr            one frame per answer, then '\n'                 o\n
//   xhr_streaming  a prelude of 2,048 'h' and '\n', then each frame and '\n'
//   eventsource    a prelude "\r\n", then each frame as an event   data: o\r\n\r\n
//   htmlfile       a page that calls the callback, then a script per frame
//   jsonp          one frame per answer, as a call of the callback /**/cb("o");\r\n
// (The websocket transport sends each frame as one text message, as it is.)
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace duplex::core::sockjs {

/// xhr and xhr_streaming: `frame` and '\n'.
void append_xhr_frame(std::string& out, std::string_view frame);

/// xhr_streaming's prelude, before the open frame: 2,048 'h' and '\n' (some browsers hand a
/// streamed answer to the page only once this much has come).
inline constexpr size_t kXhrStreamingPreludeSize = 2049;
void append_xhr_streaming_prelude(std::string& out);

/// eventsource's prelude, before the open frame.
inline constexpr std::string_view kEventSourcePrelude = "\r\n";
/// eventsource: "data: " + frame + "\r\n\r\n", where '%', '\r', '\n' and NUL in the frame are
/// written %25, %0D, %0A and %00 (the client decodes the data with decodeURI; frames hold no
/// line breaks, but messages may hold '%': a["100%"] goes as data: a["100%25"]).
void append_eventsource_frame(std::string& out, std::string_view frame);

/// htmlfile's page, before the open frame: an HTML document whose script takes
/// parent.<callback> and defines p(d) to hand it each frame, padded with spaces as the
/// reference pads it (1,027 bytes and the callback's length in all, the last four "\r\n\r\n";
/// the padding counts the template's placeholder, not the callback) so that browsers start
/// rendering. `callback` is one is_valid_callback (callback.hpp) took.
void append_htmlfile_prelude(std::string& out, std::string_view callback);
/// htmlfile: "<script>\np(" + frame as a JSON string + ");\n</script>\r\n", with every '<' in
/// the string written \u003c (the reference writes it as it is, so "</script>" in a message
/// ends the block and the message is lost).
void append_htmlfile_frame(std::string& out, std::string_view frame);

/// jsonp: "/**/" + callback + "(" + frame as a JSON string + ");\r\n" (the comment keeps the
/// answer from starting with text a browser could sniff as something else).
void append_jsonp_frame(std::string& out, std::string_view callback, std::string_view frame);

}  // namespace duplex::core::sockjs
