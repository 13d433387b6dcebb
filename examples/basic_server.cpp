// The seeds' first Node `ws` server, in C++:
//   const wss = new WebSocket.Server({ port: 8080 });
//   wss.on("connection", ws => { ws.on("message", m => console.log("received: %s", m));
//                                ws.send("something"); });
// Usage: example_basic_server [port]
#include <cstdio>
#include <cstdlib>

#include "duplex/server/websocket_server.hpp"

int main(int argc, char** argv) {
  duplex::Server server(
      {.host = "127.0.0.1", .port = static_cast<uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080)});
  server.endpoint("/",
                  {
                      .on_open = [](duplex::WebSocket& ws) { ws.send("something"); },
                      .on_message =
                          [](duplex::WebSocket&, std::string_view message, duplex::MessageType) {
                            std::printf("received: %.*s\n", static_cast<int>(message.size()),
                                        message.data());
                            std::fflush(stdout);
                          },
                  });
  std::printf("listening on ws://127.0.0.1:%u/\n", server.listen());
  std::fflush(stdout);
  server.run();
}
