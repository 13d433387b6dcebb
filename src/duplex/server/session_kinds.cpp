// Delivery to a session by its kind: the one place that knows every transport behind a
// Session, so topics, users and the hub never do (session.hpp).
#include "duplex/server/connection.hpp"
#include "duplex/server/protocols/long_poll.hpp"
#include "duplex/server/protocols/socketio/socketio_socket.hpp"
#include "duplex/server/protocols/sockjs/sockjs_session.hpp"
#include "duplex/server/protocols/sse_stream.hpp"
#include "duplex/server/protocols/stomp/stomp_connection.hpp"
#include "duplex/server/session/session.hpp"

namespace duplex::detail {

bool deliver(Session& session, MessageEncodings& message) {
  // A Socket.IO emit of another event than "message" means nothing to other kinds.
  if (message.outgoing().socketio_only() && session.kind() != SessionKind::socketio) {
    return false;
  }
  switch (session.kind()) {
    case SessionKind::websocket:
      return session.transport<Connection>().send_broadcast(message);
    case SessionKind::sse_stream:
      return session.transport<SseStream>().deliver(message);
    case SessionKind::long_poll:
      return session.transport<LongPoll>().deliver(message);
    case SessionKind::socketio:
      return session.transport<socketio::detail::SocketImpl>().deliver(message);
    case SessionKind::sockjs:
      return session.transport<sockjs::detail::SessionImpl>().deliver(message);
    case SessionKind::stomp:
      return session.transport<stomp::detail::ConnectionImpl>().deliver(message);
  }
  return false;
}

}  // namespace duplex::detail
