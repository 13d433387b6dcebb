// The seeds' notify-by-id scheme, routed by the server: each client connects as a user
// (ws://host:port/?id=alice) and sends "bob,carol:text"; only bob's and carol's connections
// get "alice: text" (the seed sends every event to every client and lets the others drop it).
// Usage: example_notify_recipients [port]
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "duplex/server/websocket_server.hpp"

namespace {

// "bob,carol" -> {"bob", "carol"}
std::vector<std::string> split_ids(std::string_view list) {
  std::vector<std::string> ids;
  while (!list.empty()) {
    const size_t comma = list.find(',');
    if (std::string_view id = list.substr(0, comma); !id.empty()) ids.emplace_back(id);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
  }
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  duplex::Server server(
      {.host = "127.0.0.1", .port = static_cast<uint16_t>(argc > 1 ? std::atoi(argv[1]) : 5209)});
  server.endpoint(
      "/", {
               .on_upgrade =
                   [](duplex::UpgradeRequest& request) {
                     const std::string_view query = request.query();
                     if (query.substr(0, 3) != "id=" || query.size() == 3) {
                       return request.reject(400, "connect as /?id=<your id>");
                     }
                     request.set_user_id(std::string(query.substr(3)));
                   },
               .on_message =
                   [&server](duplex::WebSocket& ws, std::string_view message, duplex::MessageType) {
                     const size_t colon = message.find(':');
                     if (colon == std::string_view::npos) {
                       ws.send("error: send \"id1,id2:text\"");
                       return;
                     }
                     server.send_to_users(
                         split_ids(message.substr(0, colon)),
                         std::string(ws.user_id()) + ": " + std::string(message.substr(colon + 1)));
                   },
           });
  std::printf("notify server on port %u\n", server.listen());
  std::fflush(stdout);
  server.run();
}
