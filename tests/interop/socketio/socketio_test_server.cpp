// A Socket.IO server for the interop suite that exposes the library's features to
// socket.io-client through events, so each can be asserted from the client side: rooms, except,
// broadcast, emits to a socket id, server-side acks with timeouts, disconnect on both sides and
// their reasons, binary, middleware refusals, dynamic namespaces, the /pubsub and SSE topics
// shared with rooms, and (with --recovery) connection state recovery.
// Usage: socketio_test_server [--port P] [--threads N] [--recovery] [--cookie]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "duplex/server/pubsub_endpoint.hpp"
#include "duplex/server/socketio_server.hpp"
#include "duplex/server/sse_endpoint.hpp"
#include "duplex/server/websocket_server.hpp"

namespace sio = duplex::socketio;
using sio::Json;

namespace {

std::vector<sio::Value> values_from(const sio::Args& args, size_t first) {
  std::vector<sio::Value> values;
  for (size_t i = first; i < args.size(); ++i) values.push_back(args.value(i));
  return values;
}

std::string string_arg(const sio::Args& args, size_t i) { return args.string(i).value_or(""); }

// Disconnect reasons seen by the server, by socket id (read back through "reasons").
std::mutex reasons_mutex;
Json reasons = Json::object();

}  // namespace

int main(int argc, char** argv) {
  uint16_t port = 3000;
  size_t threads = 1;
  bool recovery = false;
  bool cookie = false;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--recovery") == 0) recovery = true;
    if (std::strcmp(argv[i], "--cookie") == 0) cookie = true;
    if (i + 1 >= argc) continue;
    if (std::strcmp(argv[i], "--port") == 0) port = static_cast<uint16_t>(std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--threads") == 0)
      threads = static_cast<size_t>(std::atoi(argv[i + 1]));
  }
  duplex::Server server({.host = "127.0.0.1", .port = port, .threads = threads});
  server.endpoint("/pubsub", duplex::pubsub_endpoint(server, {}, {.topic_prefix = "pubsub:"}));
  server.http("/sse", duplex::sse_handler(server, {.topic_prefix = "pubsub:"}));
  server.http("/publish", duplex::pubsub_publish_handler(server, {.topic_prefix = "pubsub:"}));

  sio::Options options;
  options.engine.ping_interval = std::chrono::milliseconds(300);
  options.engine.ping_timeout = std::chrono::milliseconds(300);
  options.engine.cors.allowed_origins = {"*"};
  options.pubsub_prefix = "pubsub:";
  options.connection_state_recovery = recovery;
  if (cookie) options.engine.cookie = "io";
  options.max_disconnection_duration = std::chrono::milliseconds(3000);
  sio::Server io(server, options);

  io.on_connection([&io](sio::Socket& socket) {
    socket.emit("hello", socket.id(), socket.nsp(), socket.recovered());
    if (!socket.data().has_value()) socket.data() = std::string("first seen as ") + socket.id();
    socket.on_disconnect([](sio::Socket& s, std::string_view reason) {
      std::lock_guard lock(reasons_mutex);
      reasons[s.id()] = std::string(reason);
    });
    socket.on("join", [](sio::Socket& s, const sio::Args& args, sio::Ack ack) {
      s.join(string_arg(args, 0));
      ack.send(s.rooms());
    });
    socket.on("leave", [](sio::Socket& s, const sio::Args& args, sio::Ack ack) {
      s.leave(string_arg(args, 0));
      ack.send(s.rooms());
    });
    socket.on("to-room", [&io](sio::Socket&, const sio::Args& args, sio::Ack ack) {
      io.to(string_arg(args, 0)).emit_values(string_arg(args, 1), values_from(args, 2));
      ack.send(true);
    });
    socket.on("to-room-except", [&io](sio::Socket&, const sio::Args& args, sio::Ack ack) {
      io.to(string_arg(args, 0))
          .except(string_arg(args, 1))
          .emit_values("room-message", values_from(args, 2));
      ack.send(true);
    });
    socket.on("to-rooms", [&io](sio::Socket&, const sio::Args& args, sio::Ack ack) {
      io.to(string_arg(args, 0))
          .to(string_arg(args, 1))
          .emit_values("room-message", values_from(args, 2));
      ack.send(true);
    });
    socket.on("broadcast", [](sio::Socket& s, const sio::Args& args, sio::Ack ack) {
      s.broadcast().emit_values("broadcast", values_from(args, 0));
      ack.send(true);
    });
    socket.on("emit-all", [&io](sio::Socket&, const sio::Args& args, sio::Ack ack) {
      io.emit("all", args.value(0));
      ack.send(true);
    });
    socket.on("to-socket", [&io](sio::Socket& s, const sio::Args& args, sio::Ack ack) {
      io.to(string_arg(args, 0)).emit("private", args.value(1), s.id());
      ack.send(true);
    });
    socket.on("server-ack", [](sio::Socket& s, const sio::Args& args, sio::Ack) {
      const auto timeout = std::chrono::milliseconds(args.json(0).get<int>());
      s.emit_with_ack(
          "question", {Json{{"q", 1}}},
          [&s](const sio::AckReply& reply) {
            if (reply.timed_out) {
              s.emit("answer", "timed out");
            } else {
              s.emit("answer", reply.args.array());
            }
          },
          timeout);
    });
    socket.on("binary-back", [](sio::Socket& s, const sio::Args& args, sio::Ack) {
      Json blob = Json::binary({0, 1, 2, 255});
      s.emit("binary", blob, Json{{"nested", Json::binary({9, 8})}}, args.array());
    });
    socket.on("disconnect-me", [](sio::Socket& s, const sio::Args& args, sio::Ack) {
      s.disconnect(args.size() > 0 && args.json(0) == true);
    });
    socket.on("fetch", [&io](sio::Socket&, const sio::Args& args, sio::Ack ack) {
      ack.send(io.to(string_arg(args, 0)).fetch_socket_ids());
    });
    socket.on("sockets-join", [&io](sio::Socket&, const sio::Args& args, sio::Ack ack) {
      io.to(string_arg(args, 0)).sockets_join(string_arg(args, 1));
      ack.send(true);
    });
    socket.on("drop-transport",
              [](sio::Socket& s, const sio::Args&, sio::Ack) { s.conn().close(); });
    socket.on("data", [](sio::Socket& s, const sio::Args&, sio::Ack ack) {
      ack.send(std::any_cast<std::string>(s.data()));
    });
    socket.on("volatile", [&io](sio::Socket&, const sio::Args& args, sio::Ack ack) {
      io.of("/").all().volatile_().emit("volatile", args.value(0));
      ack.send(true);
    });
    socket.on("reasons", [](sio::Socket&, const sio::Args&, sio::Ack ack) {
      std::lock_guard lock(reasons_mutex);
      ack.send(reasons);
    });
    socket.on("echo", [](sio::Socket& s, const sio::Args& args, sio::Ack ack) {
      if (ack.wanted()) {
        ack(values_from(args, 0));
      } else {
        s.emit_values("echo", values_from(args, 0));
      }
    });
  });

  io.of("/private").use([](sio::Socket& socket) -> std::optional<sio::ConnectError> {
    if (socket.auth().value("token", "") == "secret") return std::nullopt;
    return sio::ConnectError{"not authorized", Json{{"code", 401}}};
  });
  io.of("/private").on_connection([](sio::Socket& socket) {
    socket.emit("welcome", socket.nsp());
  });

  io.of([](std::string_view name, const Json&) { return name.rfind("/dyn-", 0) == 0; },
        [](sio::Namespace nsp) {
          nsp.on_connection([](sio::Socket& socket) { socket.emit("dyn", socket.nsp()); });
        });

  std::printf("socket.io test server on http://127.0.0.1:%u/\n", server.listen());
  std::fflush(stdout);
  server.run();
}
