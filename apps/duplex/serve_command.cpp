#include "serve_command.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

#include "chat_room.hpp"
#include "client_files.hpp"
#include "duplex/cluster/redis_backplane.hpp"
#include "duplex/core/pubsub/pubsub_protocol.hpp"
#include "duplex/server/long_poll_endpoint.hpp"
#include "duplex/server/pubsub_endpoint.hpp"
#include "duplex/server/socketio_server.hpp"
#include "duplex/server/sockjs_server.hpp"
#include "duplex/server/sse_endpoint.hpp"
#include "duplex/server/stomp_server.hpp"
#include "duplex/server/websocket_server.hpp"
#include "process_stats.hpp"

extern const std::string_view kBuiltinPage;
extern const std::string_view kChatPage;
extern const std::string_view kFavicon;
extern const std::string_view kSocketIoChatPage;
extern const std::string_view kSockjsChatPage;
extern const std::string_view kStompChatPage;

namespace duplex::app {

namespace {

struct ServeFlags {
  std::string host = "0.0.0.0";
  uint16_t port = 8080;
  size_t threads = std::max(1u, std::thread::hardware_concurrency());
  std::string io = "epoll";
  std::string static_dir;
  uint64_t max_payload = 16 * 1024 * 1024;
  size_t max_backpressure = 16 * 1024 * 1024;
  size_t max_header_bytes = 8192;
  double idle_timeout = 120;
  double ping_interval = 0;
  double close_timeout = 5;
  double handshake_timeout = 10;
  std::vector<std::string> origins;
  std::vector<std::string> protocols;
  std::string deflate = "shared";
  size_t deflate_threshold = 128;
  int deflate_window_bits = 15;
  int deflate_client_window_bits = 15;
  bool verbose = false;
  std::string tls_cert;
  std::string tls_key;
  std::string tls_ca;
  std::vector<std::string> tls_sni;
  std::vector<std::string> cors_origins;
  bool cors_credentials = false;
  size_t history = 100;
  double history_age = 300;
  double sse_heartbeat = 15;
  double poll_timeout = 25;
  uint64_t first_sequence = 0;
  std::vector<std::string> socketio_cors;
  std::vector<std::string> stomp_logins;  // USER:PASS
  double socketio_ping_interval = 25;
  double socketio_ping_timeout = 20;
  double sockjs_heartbeat_delay = 25;
  double sockjs_disconnect_delay = 5;
  double stomp_heart_beat = 10;
  double stomp_heart_beat_grace = 5;
  uint64_t socketio_max_payload = 1'000'000;
  std::string redis;  // redis://HOST:PORT[/DB]
  uint64_t redis_max_buffered = 64u << 20;
};

// HOST:CERT:KEY for --tls-sni.
bool parse_sni(const std::string& spec, io::TlsCertificate& out) {
  const size_t first = spec.find(':');
  const size_t second = first == std::string::npos ? first : spec.find(':', first + 1);
  if (second == std::string::npos || first == 0 || second == first + 1 ||
      second + 1 == spec.size()) {
    return false;
  }
  out = {spec.substr(0, first), spec.substr(first + 1, second - first - 1),
         spec.substr(second + 1)};
  return true;
}

// Chat messages are short (ChatRooms::kMaxTextBytes of text): a larger one up to this size is
// answered with an error, past it the connection closes with 1009.
constexpr uint64_t kChatMaxPayload = 64 * 1024;

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

// Where a person should point a browser: a wildcard address is not one.
std::string display_host(const std::string& host) {
  if (host == "0.0.0.0" || host.empty()) return "localhost";
  if (host == "::") return "[::1]";
  if (host.find(':') != std::string::npos) return "[" + host + "]";
  return host;
}

// An event's arguments from `first` on, to emit again as they came (never parsed).
std::vector<socketio::Value> socketio_values(const socketio::Args& args, size_t first = 0) {
  std::vector<socketio::Value> values;
  values.reserve(args.size());
  for (size_t i = first; i < args.size(); ++i) values.push_back(args.value(i));
  return values;
}

// A client's files under `dir` ("/socket.io/"), as Node's socket.io serves its own
// (serveClient), ahead of the routes that answer everything else there. False when the build
// had none: `main_file` then answers 404 saying so.
bool serve_client_files(Server& server, const std::string& dir,
                        const std::vector<ClientFile>& files, std::string_view main_file,
                        std::string_view package) {
  if (files.empty()) {
    server.http(dir + std::string(main_file), [package = std::string(package)](HttpExchange& ex) {
      ex.respond(404, "this duplex was built without the " + package +
                          " files: run scripts/setup.sh, then build again\n");
    });
    return false;
  }
  for (const ClientFile& file : files) {
    const bool map = file.name.ends_with(".map");
    server.http(dir + std::string(file.name), [file, map](HttpExchange& ex) {
      if (ex.method() != "GET" && ex.method() != "HEAD") {
        ex.respond(405, "GET the client script\n", "text/plain; charset=utf-8",
                   {{"Allow", "GET, HEAD"}});
        return;
      }
      ex.respond(200, file.content,
                 map ? "application/json; charset=utf-8" : "application/javascript; charset=utf-8",
                 {{"Cache-Control", "public, max-age=0"}});
    });
  }
  return true;
}

int serve(const ServeFlags& flags) {
  ServerOptions options;
  options.host = flags.host;
  options.port = flags.port;
  options.threads = flags.threads;
  options.io = flags.io == "io_uring" ? io::IoBackend::io_uring : io::IoBackend::epoll;
  options.static_dir = flags.static_dir;
  options.max_header_bytes = flags.max_header_bytes;
  options.close_timeout = to_ms(flags.close_timeout);
  options.handshake_timeout = to_ms(flags.handshake_timeout);
  options.history = {.max_messages = flags.history,
                     .max_age = to_ms(flags.history_age),
                     .first_sequence = flags.first_sequence};
  options.tls.cert_file = flags.tls_cert;
  options.tls.key_file = flags.tls_key;
  options.tls.client_ca_file = flags.tls_ca;
  for (const std::string& spec : flags.tls_sni) {
    io::TlsCertificate& host = options.tls.sni.emplace_back();
    if (!parse_sni(spec, host)) {
      std::cerr << "duplex serve: --tls-sni needs HOST:CERT:KEY, got '" << spec << "'\n";
      return 2;
    }
  }
  if (flags.verbose) {
    options.tls.on_handshake_error = [](const io::PeerAddress& peer, std::string_view reason) {
      std::cerr << "tls handshake failed " << peer.to_string() << ": " << reason << "\n";
    };
  }
  options.tls.on_reload = [](std::string_view error) {
    if (error.empty()) {
      std::cerr << "duplex serve: certificates reloaded\n";
    } else {
      std::cerr << "duplex serve: certificate reload failed, keeping the old ones: " << error
                << "\n";
    }
  };

  EndpointConfig echo;
  echo.max_payload = flags.max_payload;
  echo.max_backpressure = flags.max_backpressure;
  echo.idle_timeout = to_ms(flags.idle_timeout);
  echo.ping_interval = to_ms(flags.ping_interval);
  echo.allowed_origins = flags.origins;
  echo.protocols = flags.protocols;
  if (flags.protocols.empty()) {
    // No --protocol: take the client's first offer, as Node `ws`'s server does. A client that
    // offers subprotocols (Node `ws`, browsers) fails a handshake answered without one.
    echo.on_upgrade = [](UpgradeRequest& request) {
      if (!request.offered_protocols().empty()) {
        request.set_protocol(request.offered_protocols().front());
      }
    };
  }
  DeflateOptions& deflate = echo.per_message_deflate;
  deflate.enabled = flags.deflate != "off";
  deflate.mode = flags.deflate == "dedicated" ? DeflateMode::dedicated : DeflateMode::shared;
  deflate.threshold = flags.deflate_threshold;
  deflate.server_max_window_bits = flags.deflate_window_bits;
  deflate.client_max_window_bits = flags.deflate_client_window_bits;
  echo.on_message = [](WebSocket& ws, std::string_view message, MessageType type) {
    ws.send(message, type);
  };
  if (flags.verbose) {
    echo.on_open = [](WebSocket& ws) {
      std::cerr << "open " << ws.remote_address().to_string() << " " << ws.endpoint().path()
                << (ws.protocol().empty() ? "" : " protocol=") << ws.protocol() << "\n";
    };
    echo.on_close = [](WebSocket& ws, uint16_t code, std::string_view reason) {
      std::cerr << "close " << ws.remote_address().to_string() << " code=" << code
                << (reason.empty() ? "" : " reason=") << reason << "\n";
    };
  }

  // Every connection is a descriptor: a default soft limit (often 1,024) would cap the server
  // far below what its memory allows.
  raise_descriptor_limit();
  ChatRooms chat;  // before the server: its handlers run until the server is gone
  std::unique_ptr<Server> made;
  try {
    made = std::make_unique<Server>(options);
  } catch (const std::system_error& e) {
    // Asked for io_uring and the kernel refuses it: say so rather than serve on epoll.
    if (options.io != io::IoBackend::io_uring) throw;
    std::cerr << "duplex serve: --io io_uring is not available here (" << e.what()
              << "); use --io epoll\n";
    return 1;
  }
  Server& server = *made;
  server.endpoint("/", echo);
  server.endpoint("/echo", echo);
  server.page("/", std::string(kBuiltinPage));
  // Browsers ask every site for /favicon.ico; a --static folder's own icon is served instead.
  std::error_code no_icon;
  if (flags.static_dir.empty() ||
      !std::filesystem::is_regular_file(std::filesystem::path(flags.static_dir) / "favicon.ico",
                                        no_icon)) {
    server.page("/favicon.ico", std::string(kFavicon), "image/x-icon");
  }

  // /pubsub and the chat take the echo's limits and logging, not its subprotocols (listed or
  // taken from the offer).
  EndpointConfig base = echo;
  base.protocols.clear();
  base.on_upgrade = nullptr;
  base.on_message = nullptr;
  // Topics of /pubsub clients live under their own prefix, apart from the chat rooms'.
  server.endpoint("/pubsub", pubsub_endpoint(server, base, {.topic_prefix = "pubsub:"}));
  EndpointConfig chat_config = base;
  chat_config.max_payload = std::min<uint64_t>(flags.max_payload, kChatMaxPayload);
  // Browsers answer pings on their own: an open chat page that says nothing stays in its room.
  if (chat_config.ping_interval.count() == 0) {
    chat_config.ping_interval = chat_config.idle_timeout / 2;
  }
  server.endpoint("/chat/ws", chat.endpoint(server, chat_config));
  server.page("/chat", std::string(kChatPage));

  // The older push techniques on the same topics as /pubsub: an event stream, and publishing
  // with a plain POST. Other origins may use them as --cors-origin allows.
  HttpRouteOptions routes;
  routes.body_timeout = to_ms(flags.handshake_timeout);
  routes.max_body = flags.max_payload;
  routes.max_buffered = flags.max_backpressure;
  routes.cors.allowed_origins = flags.cors_origins;
  routes.cors.allow_credentials = flags.cors_credentials;
  server.http(
      "/sse",
      sse_handler(server, {.topic_prefix = "pubsub:", .heartbeat = to_ms(flags.sse_heartbeat)}),
      routes);
  server.http(
      "/poll",
      long_poll_handler(server, {.topic_prefix = "pubsub:", .timeout = to_ms(flags.poll_timeout)}),
      routes);
  server.http("/publish", pubsub_publish_handler(server, {.topic_prefix = "pubsub:"}), routes);

  // Socket.IO at /socket.io/, its rooms on /pubsub's topics; the default application is the
  // Socket.IO chat example's: every "chat message" goes to everyone. Beside it, for benchmarks
  // and tests: "echo" back to the sender, "join" a room (acked with its name) and "broadcast"
  // to a room.
  const bool have_client = serve_client_files(server, "/socket.io/", socketio_client_files(),
                                              "socket.io.js", "socket.io-client");
  socketio::Options sio;
  sio.engine.path = "/socket.io/";
  sio.engine.ping_interval = to_ms(flags.socketio_ping_interval);
  sio.engine.ping_timeout = to_ms(flags.socketio_ping_timeout);
  sio.engine.max_payload = flags.socketio_max_payload;
  sio.engine.cors.allowed_origins = flags.socketio_cors;
  sio.engine.cors.allow_credentials = flags.cors_credentials;
  sio.pubsub_prefix = "pubsub:";
  auto io = std::make_unique<socketio::Server>(server, sio);
  io->on_connection([&io = *io](socketio::Socket& socket) {
    socket.on("chat message", [&io](socketio::Socket&, const socketio::Args& args, socketio::Ack) {
      io.of("/").all().emit_values("chat message", socketio_values(args));
    });
    socket.on("echo", [](socketio::Socket& self, const socketio::Args& args, socketio::Ack) {
      self.emit_values("echo", socketio_values(args));
    });
    socket.on("join", [](socketio::Socket& self, const socketio::Args& args, socketio::Ack ack) {
      const std::optional<std::string> room = args.empty() ? std::nullopt : args.string(0);
      if (room) self.join(*room);
      if (ack.wanted()) ack.send(room ? args.value(0) : socketio::Value(nullptr));
    });
    socket.on("broadcast", [&io](socketio::Socket&, const socketio::Args& args, socketio::Ack) {
      const std::optional<std::string> room = args.empty() ? std::nullopt : args.string(0);
      if (room) io.to(*room).emit_values("broadcast", socketio_values(args, 1));
    });
  });
  server.page("/socketio/chat", std::string(kSocketIoChatPage));
  if (!have_client) {
    std::cerr << "duplex serve: built without the socket.io-client files, so "
                 "/socket.io/socket.io.js is not served (run scripts/setup.sh, then build "
                 "again); Socket.IO itself is at /socket.io/\n";
  }
  // SockJS (sockjs-client 1.x): /sockjs/echo echoes, /sockjs/close closes each session at once
  // with 3000 "Go away!", /sockjs/chat is a chat room (every message to everyone, on /pubsub's
  // topic "sockjs-chat", so /pubsub, /sse and /publish reach it too), with its page at
  // /sockjs/chat.html and the client at /sockjs/sockjs.min.js (which the iframe page loads).
  const bool have_sockjs_client = serve_client_files(server, "/sockjs/", sockjs_client_files(),
                                                     "sockjs.min.js", "sockjs-client");
  auto sockjs_options = [&flags](std::string prefix) {
    sockjs::Options o;
    o.prefix = std::move(prefix);
    o.heartbeat_delay = to_ms(flags.sockjs_heartbeat_delay);
    o.disconnect_delay = to_ms(flags.sockjs_disconnect_delay);
    o.max_message = flags.max_payload;
    return o;
  };
  sockjs::Options sockjs_echo = sockjs_options("/sockjs/echo");
  sockjs_echo.on_message = [](sockjs::Session& s, std::string_view m) { s.send(m); };
  sockjs::Options sockjs_close = sockjs_options("/sockjs/close");
  sockjs_close.on_open = [](sockjs::Session& s) { s.close(3000, "Go away!"); };
  sockjs::Options sockjs_chat = sockjs_options("/sockjs/chat");
  sockjs_chat.on_open = [](sockjs::Session& s) { s.subscribe("pubsub:sockjs-chat"); };
  sockjs_chat.on_message = [&server](sockjs::Session&, std::string_view m) {
    // As /pubsub publishes (its subscribers of the topic read it): the text as a JSON string.
    std::string data;
    core::pubsub::append_json_string(data, m);
    server.publish("pubsub:sockjs-chat", core::pubsub::delivery("sockjs-chat", data));
  };
  sockjs::Service sockjs_echo_service(server, std::move(sockjs_echo));
  sockjs::Service sockjs_close_service(server, std::move(sockjs_close));
  sockjs::Service sockjs_chat_service(server, std::move(sockjs_chat));
  server.page("/sockjs/chat.html", std::string(kSockjsChatPage));
  if (!have_sockjs_client) {
    std::cerr << "duplex serve: built without the sockjs-client files, so "
                 "/sockjs/sockjs.min.js is not served (run scripts/setup.sh, then build again); "
                 "SockJS itself is at /sockjs/echo, /sockjs/close and /sockjs/chat\n";
  }
  // STOMP 1.2 (@stomp/stompjs, any STOMP-over-WebSocket client) at /stomp, and over SockJS at
  // /stomp-sockjs: /topic/<name> is /pubsub's topic <name> (a SEND is published as /pubsub
  // publishes), /queue/<name> a queue. With --stomp-login, CONNECT must name one of them.
  stomp::Options stomp_options{.path = "/stomp",
                               .sockjs = sockjs_options("/stomp-sockjs"),
                               .topic_prefix = "pubsub:",
                               .publish_as_pubsub = true,
                               .heart_beat_send = to_ms(flags.stomp_heart_beat),
                               .heart_beat_receive = to_ms(flags.stomp_heart_beat),
                               .heart_beat_grace = to_ms(flags.stomp_heart_beat_grace),
                               .max_frame = flags.max_payload};
  if (!flags.stomp_logins.empty()) {
    stomp_options.on_connect = [logins = flags.stomp_logins](stomp::ConnectRequest& request) {
      if (!request.login || !request.passcode) return false;
      const std::string given = std::string(*request.login) + ":" + std::string(*request.passcode);
      if (std::find(logins.begin(), logins.end(), given) == logins.end()) return false;
      request.user_id = std::string(*request.login);
      return true;
    };
  }
  stomp::Broker stomp_broker(server, std::move(stomp_options));
  const bool have_stomp_client = serve_client_files(server, "/stomp/", stomp_client_files(),
                                                    "stomp.umd.min.js", "@stomp/stompjs");
  server.page("/stomp/chat", std::string(kStompChatPage));
  if (!have_stomp_client) {
    std::cerr << "duplex serve: built without the @stomp/stompjs files, so /stomp/chat has no "
                 "client (run scripts/setup.sh, then build again); the broker itself is at "
                 "/stomp\n";
  }
  // --redis: this node shares its topics and users with every node on the same Redis.
  std::optional<cluster::RedisBackplane> redis;
  if (!flags.redis.empty()) {
    try {
      redis.emplace(server, cluster::RedisOptions{.url = flags.redis,
                                                  .max_buffered = flags.redis_max_buffered,
                                                  .on_log = [](std::string_view line) {
                                                    std::cerr << line << "\n";
                                                  }});
    } catch (const std::invalid_argument& e) {
      std::cerr << "duplex serve: --redis: " << e.what() << "\n";
      return 2;
    }
  }
  uint16_t port = 0;
  try {
    port = server.listen();
  } catch (const std::runtime_error& e) {  // a certificate file (a failed bind is thrown on)
    if (dynamic_cast<const std::system_error*>(&e)) throw;
    std::cerr << "duplex serve: " << e.what() << "\n";
    return 1;
  }
  const std::string where = display_host(flags.host) + ":" + std::to_string(port);
  const char* s = options.tls.enabled() ? "s" : "";
  const size_t threads = server.thread_count();
  std::printf(
      "duplex serving http%s://%s/ (WebSocket echo at ws%s://%s/ and ws%s://%s/echo) on %zu "
      "thread%s; pub/sub at ws%s://%s/pubsub, chat at http%s://%s/chat, Socket.IO at "
      "http%s://%s/socket.io/ (chat at http%s://%s/socketio/chat), SockJS at "
      "http%s://%s/sockjs/echo (chat at http%s://%s/sockjs/chat.html), STOMP at ws%s://%s/stomp\n",
      s, where.c_str(), s, where.c_str(), s, where.c_str(), threads, threads == 1 ? "" : "s", s,
      where.c_str(), s, where.c_str(), s, where.c_str(), s, where.c_str(), s, where.c_str(), s,
      where.c_str(), s, where.c_str());
  std::fflush(stdout);
  server.run();
  if (flags.verbose) std::cerr << "shut down\n";
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& cli, int& exit_status) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* cmd = cli.add_subcommand(
      "serve",
      "Run the WebSocket server: upgrades at / and /echo echo every message back; /pubsub "
      "speaks the JSON publish/subscribe protocol (docs/pubsub-protocol.md); a plain GET of / "
      "serves a page to try the echo from a browser, /chat a chat room (docs/chat-protocol.md), "
      "/favicon.ico an icon; /sse, /poll and POST /publish reach /pubsub's topics; Socket.IO "
      "(socket.io-client 4) is at /socket.io/, where every \"chat message\" event is sent to "
      "everyone, \"echo\" is emitted back to the sender with the same arguments, \"join\" "
      "(room) joins the room and acks with its name, and \"broadcast\" (room, data...) emits "
      "\"broadcast\" (data...) to the room, with its client at /socket.io/socket.io.js and a chat "
      "page at /socketio/chat (docs/socketio.md); SockJS (sockjs-client 1.x) is at "
      "/sockjs/echo (echo), /sockjs/close (closed at once with 3000 \"Go away!\") and "
      "/sockjs/chat (every message to everyone), with its client at /sockjs/sockjs.min.js and "
      "a chat page at /sockjs/chat.html (docs/sockjs.md); STOMP 1.2 (@stomp/stompjs) is at "
      "ws://.../stomp and over SockJS at /stomp-sockjs, where /topic/<name> is /pubsub's topic "
      "<name>, /queue/<name> a queue and /user/<user>/<name> that user's subscriptions, with a "
      "chat page at /stomp/chat and its client at /stomp/stomp.umd.min.js (docs/stomp.md). "
      "SIGINT/SIGTERM close every "
      "connection with 1001 and exit.");
  cmd->add_option("--host", flags->host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", flags->port, "TCP port (0 picks a free one)")->capture_default_str();
  cmd->add_option("--threads", flags->threads,
                  "Event loops, each on its own thread, sharing the port (default: one per core)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1024}));
  cmd->add_option("--io", flags->io,
                  "How the loops reach the kernel: epoll, or io_uring (multishot receives into "
                  "provided buffers, one system call per loop iteration besides the writes); "
                  "io_uring exits with an error where the kernel does not offer it")
      ->capture_default_str()
      ->check(CLI::IsMember({"epoll", "io_uring"}));
  cmd->add_option("--static", flags->static_dir, "Serve plain HTTP GETs from this folder")
      ->check(CLI::ExistingDirectory);
  cmd->add_option("--max-payload", flags->max_payload,
                  "Largest message in bytes; larger ones close with 1009")
      ->capture_default_str();
  cmd->add_option("--max-backpressure", flags->max_backpressure,
                  "Bytes queued for a slow reader before it is disconnected")
      ->capture_default_str();
  cmd->add_option("--max-header-bytes", flags->max_header_bytes,
                  "Largest HTTP request head; larger ones get 431")
      ->capture_default_str();
  cmd->add_option("--idle-timeout", flags->idle_timeout,
                  "Seconds of silence before a connection is closed with 1001 (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--ping-interval", flags->ping_interval,
                  "Seconds of silence before the server pings (0: never)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--close-timeout", flags->close_timeout,
                  "Seconds the peer gets to finish a closing handshake")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--handshake-timeout", flags->handshake_timeout,
                  "Seconds allowed for an HTTP request head to arrive")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--allow-origin", flags->origins,
                  "Accept upgrades only from this Origin (repeatable; default: any origin)");
  cmd->add_option("--protocol", flags->protocols,
                  "Subprotocol the echo endpoints accept (repeatable): the client's first offered "
                  "match is chosen, and an offer with none of them is answered without one. "
                  "Without --protocol the client's first offer is chosen (as Node ws's server "
                  "does)");
  cmd->add_option("--deflate", flags->deflate,
                  "permessage-deflate (RFC 7692), which browsers offer: 'shared' (the default: "
                  "one compressor per endpoint, no context takeover, nothing kept per "
                  "connection), 'dedicated' (codecs per connection that keep context: better "
                  "ratio, about 300 KiB per connection), or 'off'")
      ->capture_default_str()
      ->check(CLI::IsMember({"shared", "dedicated", "off"}));
  cmd->add_option("--deflate-threshold", flags->deflate_threshold,
                  "Messages smaller than this many bytes are sent uncompressed")
      ->capture_default_str();
  cmd->add_option("--deflate-window-bits", flags->deflate_window_bits,
                  "Largest window (8-15) the server compresses with")
      ->capture_default_str()
      ->check(CLI::Range(8, 15));
  cmd->add_option("--deflate-client-window-bits", flags->deflate_client_window_bits,
                  "Largest window (8-15) clients may compress with; below 15, offers that cannot "
                  "be bounded are declined")
      ->capture_default_str()
      ->check(CLI::Range(8, 15));
  cmd->add_option("--tls-cert", flags->tls_cert,
                  "Serve https:// and wss:// with this PEM certificate chain (needs --tls-key); "
                  "SIGHUP reloads the certificate files")
      ->check(CLI::ExistingFile);
  CLI::Option* key = cmd->add_option("--tls-key", flags->tls_key, "PEM private key for --tls-cert")
                         ->check(CLI::ExistingFile);
  cmd->get_option("--tls-cert")->needs(key);
  key->needs(cmd->get_option("--tls-cert"));
  cmd->add_option("--tls-ca", flags->tls_ca,
                  "Require client certificates signed by a CA in this PEM file (mutual TLS)")
      ->check(CLI::ExistingFile)
      ->needs(key);
  cmd->add_option("--tls-sni", flags->tls_sni,
                  "HOST:CERT:KEY: another certificate, for clients asking for HOST (repeatable; "
                  "HOST may be *.domain)")
      ->needs(key);
  cmd->add_option("--socketio-cors", flags->socketio_cors,
                  "Let pages of this origin use Socket.IO's polling transport (repeatable; * for "
                  "any; default: same origin only); --cors-credentials applies too");
  cmd->add_option(
         "--stomp-login", flags->stomp_logins,
         "USER:PASS a STOMP CONNECT must give as login and passcode (repeatable; default: "
         "every client is let in); a wrong one gets ERROR \"Authentication failed\", then the "
         "close")
      ->check([](const std::string& v) {
        const size_t colon = v.find(':');
        return colon == std::string::npos || colon == 0 ? std::string("expected USER:PASS")
                                                        : std::string();
      });
  cmd->add_option("--socketio-ping-interval", flags->socketio_ping_interval,
                  "Seconds between Socket.IO's pings")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--sockjs-heartbeat-delay", flags->sockjs_heartbeat_delay,
                  "Seconds a SockJS receiving request may be sent nothing before it gets a "
                  "heartbeat frame")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--sockjs-disconnect-delay", flags->sockjs_disconnect_delay,
                  "Seconds a SockJS session whose receiving request ended waits for the next one "
                  "before it closes")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--stomp-heart-beat", flags->stomp_heart_beat,
                  "Seconds between the STOMP heart-beats the broker offers to send and wants to "
                  "receive (CONNECTED's heart-beat is negotiated from them and the client's; 0: "
                  "none)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--stomp-heart-beat-grace", flags->stomp_heart_beat_grace,
                  "Seconds a STOMP client may be late with its heart-beats before it is dropped")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--socketio-ping-timeout", flags->socketio_ping_timeout,
                  "Seconds a Socket.IO client gets to answer a ping before it is dropped")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--socketio-max-payload", flags->socketio_max_payload,
                  "Largest Socket.IO message or polling request body in bytes")
      ->capture_default_str();
  cmd->add_option("--cors-origin", flags->cors_origins,
                  "Let pages of this origin use /sse, /poll and /publish (repeatable; * for any; "
                  "default: same origin only)");
  cmd->add_flag("--cors-credentials", flags->cors_credentials,
                "Let those pages send cookies and HTTP authentication with their requests");
  cmd->add_option("--history", flags->history,
                  "Messages kept per topic for clients that come back (an EventSource's "
                  "Last-Event-ID); 0 keeps none")
      ->capture_default_str();
  cmd->add_option("--history-age", flags->history_age, "Seconds a kept message stays (0: no limit)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--first-sequence", flags->first_sequence,
                  "Sequence of the first message, where /sse ids and /poll cursors count from "
                  "(0: from the clock, so that a restarted server counts above its earlier runs "
                  "and a client that comes back from one is told it lost what it had)")
      ->capture_default_str();
  cmd->add_option("--sse-heartbeat", flags->sse_heartbeat,
                  "Seconds between the comments that keep an idle /sse stream open")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--poll-timeout", flags->poll_timeout,
                  "Seconds a /poll request waits for a message before it is answered empty")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option(
      "--redis", flags->redis,
      "Share topics, rooms and users with the other duplex serve nodes on this Redis "
      "(redis://HOST:PORT[/DB]): each node publishes what is published on it to Redis "
      "channels and subscribes to those it has subscribers for, so a publish on one node "
      "reaches subscribers on all of them, once each and in order. While Redis cannot be "
      "reached, delivery on the node goes on, messages for other nodes are dropped (counted "
      "when it is back), and the node retries after 100 ms, doubling to 5 s; each change is "
      "one line on stderr");
  cmd->add_option("--redis-max-buffered", flags->redis_max_buffered,
                  "With --redis: bytes of publishes that may wait for a slow Redis; past them, "
                  "publishes for other nodes are dropped (local delivery goes on), with one "
                  "line on stderr when dropping starts and one with the count when Redis "
                  "keeps up again")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_flag("-v,--verbose", flags->verbose,
                "Log connections, closes and failed TLS handshakes to stderr");
  cmd->callback([flags, &exit_status] { exit_status = serve(*flags); });
}

}  // namespace duplex::app
