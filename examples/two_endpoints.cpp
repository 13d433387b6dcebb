// The seeds' "several servers on one HTTP server" example: upgrades to /foo and /bar go to two
// different endpoints; any other path is refused (404) instead of `socket.destroy()`.
// Usage: example_two_endpoints [port]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "duplex/server/websocket_server.hpp"

int main(int argc, char** argv) {
  duplex::Server server(
      {.host = "127.0.0.1", .port = static_cast<uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080)});
  server.endpoint("/foo", {.on_message = [](duplex::WebSocket& ws, std::string_view message,
                                            duplex::MessageType) {
                    ws.send("foo got: " + std::string(message));
                  }});
  server.endpoint("/bar", {.on_message = [](duplex::WebSocket& ws, std::string_view message,
                                            duplex::MessageType) {
                    ws.send("bar got: " + std::string(message));
                  }});
  std::printf("listening on ws://127.0.0.1:%u/foo and /bar\n", server.listen());
  std::fflush(stdout);
  server.run();
}
