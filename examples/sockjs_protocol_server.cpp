// The SockJS protocol test suite's server (sockjs/sockjs-protocol, sockjs-protocol-0.3.3.py):
// under the root, the services the suite uses, as Node's sockjs test server has them:
//   /echo                     every message back to its sender (response limit 4,096 bytes)
//   /disabled_websocket_echo  the same without the websocket transports
//   /cookie_needed_echo       the same with JSESSIONID cookies
//   /close                    every session closed at once with 3000 "Go away!"
// Usage: example_sockjs_protocol_server [--port P] [--threads N] [--heartbeat-delay S]
//        [--disconnect-delay S] [--sockjs-url URL]   (default port 3000; delays 25 s and 5 s)
#include <chrono>
#include <cstdio>
#include <string_view>

#include "conformance_flags.hpp"
#include "duplex/server/sockjs_server.hpp"
#include "duplex/server/websocket_server.hpp"

int main(int argc, char** argv) {
  const auto flags = parse_conformance_flags(argc, argv, true);
  if (!flags) return 2;
  duplex::Server server({.host = "127.0.0.1", .port = flags->port, .threads = flags->threads});

  auto service = [&](std::string prefix) {
    duplex::sockjs::Options options;
    options.prefix = std::move(prefix);
    if (flags->heartbeat_delay) {
      options.heartbeat_delay =
          std::chrono::milliseconds(static_cast<int64_t>(*flags->heartbeat_delay * 1000));
    }
    if (flags->disconnect_delay) {
      options.disconnect_delay =
          std::chrono::milliseconds(static_cast<int64_t>(*flags->disconnect_delay * 1000));
    }
    if (flags->sockjs_url) options.sockjs_url = *flags->sockjs_url;
    options.on_message = [](duplex::sockjs::Session& s, std::string_view m) { s.send(m); };
    return options;
  };
  duplex::sockjs::Options echo = service("/echo");
  echo.response_limit = 4096;
  duplex::sockjs::Options no_websocket = service("/disabled_websocket_echo");
  no_websocket.websocket = false;
  duplex::sockjs::Options cookie = service("/cookie_needed_echo");
  cookie.jsessionid = true;
  duplex::sockjs::Options close = service("/close");
  close.on_open = [](duplex::sockjs::Session& s) { s.close(3000, "Go away!"); };

  duplex::sockjs::Service echo_service(server, std::move(echo));
  duplex::sockjs::Service no_websocket_service(server, std::move(no_websocket));
  duplex::sockjs::Service cookie_service(server, std::move(cookie));
  duplex::sockjs::Service close_service(server, std::move(close));
  std::printf(
      "listening on http://127.0.0.1:%u/ (SockJS services /echo, /disabled_websocket_echo, "
      "/cookie_needed_echo, /close)\n",
      server.listen());
  std::fflush(stdout);
  server.run();
}
