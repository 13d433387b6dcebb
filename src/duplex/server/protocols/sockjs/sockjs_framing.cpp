#include "duplex/server/protocols/sockjs/sockjs_framing.hpp"

#include "duplex/core/sockjs/transport_framing.hpp"

namespace duplex::sockjs::detail {

using core::sockjs::Transport;

void append_transport_frame(std::string& out, Transport transport, std::string_view frame,
                            std::string_view callback) {
  switch (transport) {
    case Transport::xhr:
    case Transport::xhr_streaming:
      core::sockjs::append_xhr_frame(out, frame);
      return;
    case Transport::eventsource:
      core::sockjs::append_eventsource_frame(out, frame);
      return;
    case Transport::htmlfile:
      core::sockjs::append_htmlfile_frame(out, frame);
      return;
    case Transport::jsonp:
      core::sockjs::append_jsonp_frame(out, callback, frame);
      return;
    case Transport::websocket:
    case Transport::xhr_send:
    case Transport::jsonp_send:
      out += frame;
      return;
  }
}

void append_prelude(std::string& out, Transport transport, std::string_view callback) {
  switch (transport) {
    case Transport::xhr_streaming:
      core::sockjs::append_xhr_streaming_prelude(out);
      return;
    case Transport::eventsource:
      out += core::sockjs::kEventSourcePrelude;
      return;
    case Transport::htmlfile:
      core::sockjs::append_htmlfile_prelude(out, callback);
      return;
    default:
      return;
  }
}

std::string_view content_type(Transport transport) {
  switch (transport) {
    case Transport::eventsource:
      return "text/event-stream; charset=UTF-8";
    case Transport::htmlfile:
      return "text/html; charset=UTF-8";
    default:
      return "application/javascript; charset=UTF-8";
  }
}

}  // namespace duplex::sockjs::detail
