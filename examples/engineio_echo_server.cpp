// The Engine.IO protocol test suite's reference server (socketio/engine.io-protocol,
// test-suite/): Engine.IO v4 alone at /engine.io/, with pingInterval 300 ms and pingTimeout
// 200 ms, echoing every message (text or binary) back to its sender, as Node's
//   const engine = require("engine.io").attach(httpServer, { pingInterval: 300, pingTimeout: 200
//   }); engine.on("connection", socket => socket.on("data", (...args) => socket.send(...args)));
// Usage: example_engineio_echo_server [--port P] [--threads N]   (default port 3000)
#include <cstdio>
#include <string_view>

#include "conformance_flags.hpp"
#include "duplex/server/engineio_server.hpp"
#include "duplex/server/websocket_server.hpp"

int main(int argc, char** argv) {
  const auto flags = parse_conformance_flags(argc, argv);
  if (!flags) return 2;
  duplex::Server server({.host = "127.0.0.1", .port = flags->port, .threads = flags->threads});
  duplex::engineio::Server engine(
      server,
      {.path = "/engine.io/",
       .ping_interval = std::chrono::milliseconds(300),
       .ping_timeout = std::chrono::milliseconds(200)},
      [](duplex::engineio::Socket& socket) {
        socket.on_message([&socket](std::string_view data, duplex::MessageType type) {
          socket.send(data, type);
        });
      });
  std::printf("engine.io echo on http://127.0.0.1:%u/engine.io/\n", server.listen());
  std::fflush(stdout);
  server.run();
}
