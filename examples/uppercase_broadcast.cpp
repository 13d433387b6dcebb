// The seeds' nodejs-websocket example: every text is answered in upper case with "!!!", and
// also broadcast to every connection, like `server.connections.forEach(c => c.sendText(msg))`.
// Usage: example_uppercase_broadcast [port]
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "duplex/server/websocket_server.hpp"

int main(int argc, char** argv) {
  duplex::Server server(
      {.host = "127.0.0.1", .port = static_cast<uint16_t>(argc > 1 ? std::atoi(argv[1]) : 5208)});
  server.endpoint("/",
                  {
                      .on_open = [](duplex::WebSocket&) { std::puts("New connection"); },
                      .on_message =
                          [](duplex::WebSocket& ws, std::string_view message, duplex::MessageType) {
                            std::string upper(message);
                            for (char& c : upper)
                              c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                            ws.send(upper + "!!!");
                            ws.endpoint().broadcast("broadcast: " + std::string(message));
                          },
                      .on_close = [](duplex::WebSocket&, uint16_t,
                                     std::string_view) { std::puts("Connection closed"); },
                  });
  std::printf("app is running at port %u\n", server.listen());
  std::fflush(stdout);
  server.run();
}
