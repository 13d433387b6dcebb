// The Socket.IO protocol test suite's reference server (socketio/socket.io-protocol,
// test-suite/), with Duplex's API: Socket.IO at /socket.io/, pingInterval 300 ms, pingTimeout
// 200 ms, connectTimeout 1 s, any origin; in the main namespace each socket is sent its auth
// payload as "auth", "message" is emitted back as "message-back" and "message-with-ack" is
// acknowledged with its own arguments; the namespace /custom sends "auth" too. As in Node:
//   io.on("connection", socket => {
//     socket.emit("auth", socket.handshake.auth);
//     socket.on("message", (...args) => socket.emit("message-back", ...args));
//     socket.on("message-with-ack", (...args) => { const ack = args.pop(); ack(...args); });
//   });
//   io.of("/custom").on("connection", socket => socket.emit("auth", socket.handshake.auth));
// Usage: example_socketio_protocol_server [--port P] [--threads N]   (default port 3000)
#include <cstdio>
#include <vector>

#include "conformance_flags.hpp"
#include "duplex/server/socketio_server.hpp"
#include "duplex/server/websocket_server.hpp"

namespace sio = duplex::socketio;

namespace {
std::vector<sio::Value> values_of(const sio::Args& args) {
  std::vector<sio::Value> values;
  for (size_t i = 0; i < args.size(); ++i) values.push_back(args.value(i));
  return values;
}
}  // namespace

int main(int argc, char** argv) {
  const auto flags = parse_conformance_flags(argc, argv);
  if (!flags) return 2;
  duplex::Server server({.host = "127.0.0.1", .port = flags->port, .threads = flags->threads});
  sio::Options options;
  options.engine.ping_interval = std::chrono::milliseconds(300);
  options.engine.ping_timeout = std::chrono::milliseconds(200);
  options.engine.cors.allowed_origins = {"*"};
  options.connect_timeout = std::chrono::milliseconds(1000);
  sio::Server io(server, options);

  io.on_connection([](sio::Socket& socket) {
    socket.emit("auth", socket.auth());
    socket.on("message", [](sio::Socket& s, const sio::Args& args, sio::Ack) {
      s.emit_values("message-back", values_of(args));
    });
    socket.on("message-with-ack",
              [](sio::Socket&, const sio::Args& args, sio::Ack ack) { ack(values_of(args)); });
  });
  io.of("/custom").on_connection([](sio::Socket& socket) { socket.emit("auth", socket.auth()); });

  std::printf("socket.io on http://127.0.0.1:%u/socket.io/\n", server.listen());
  std::fflush(stdout);
  server.run();
}
