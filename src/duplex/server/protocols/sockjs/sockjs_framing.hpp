// Internal: a SockJS frame in the form each transport carries it (core/sockjs/
// transport_framing.hpp holds the forms), chosen by the transport, with the Content-Type and
// prelude of each streaming answer.
#pragma once

#include <string>
#include <string_view>

#include "duplex/core/sockjs/route.hpp"

namespace duplex::sockjs::detail {

/// Appends `frame` ("o", "h", "a[...]", "c[...]") as `transport` carries it (`callback` for
/// jsonp and htmlfile); over the websocket transport a frame is the message itself.
void append_transport_frame(std::string& out, core::sockjs::Transport transport,
                            std::string_view frame, std::string_view callback);

/// What a streaming answer (xhr_streaming, eventsource, htmlfile) sends before its first frame.
void append_prelude(std::string& out, core::sockjs::Transport transport, std::string_view callback);

/// The Content-Type of a transport's answers.
std::string_view content_type(core::sockjs::Transport transport);

}  // namespace duplex::sockjs::detail
