// Measures what permessage-deflate costs per connection in each memory mode: a server on a
// thread, N raw clients that negotiate the extension and exchange one compressed 1 KiB message
// each, then the bytes zlib holds (counted by the codec's allocator) and the process's resident
// memory, per connection. Prints a table; the figures in DEVELOPERS.md come from it.
//
//   build/release/deflate_memory [connections]
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "duplex/core/ws/deflate_codec.hpp"
#include "duplex/core/ws/sender.hpp"
#include "duplex/server/websocket_server.hpp"

namespace {

using namespace duplex;

size_t resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  size_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) throw std::runtime_error("send failed");
    data.remove_prefix(static_cast<size_t>(n));
  }
}

std::string read_until(int fd, std::string_view end) {
  std::string got;
  char c;
  while (got.size() < end.size() || got.compare(got.size() - end.size(), end.size(), end) != 0) {
    if (::recv(fd, &c, 1, 0) != 1) throw std::runtime_error("connection closed");
    got.push_back(c);
  }
  return got;
}

void read_exactly(int fd, size_t n) {
  std::string buffer(n, '\0');
  size_t done = 0;
  while (done < n) {
    const ssize_t got = ::recv(fd, buffer.data() + done, n - done, 0);
    if (got <= 0) throw std::runtime_error("connection closed");
    done += static_cast<size_t>(got);
  }
}

/// One client: upgrade offering deflate, send `frame`, read one frame back. Returns the socket.
int client(uint16_t port, const std::string& frame, bool* agreed) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error("connect failed");
  }
  send_all(fd,
           "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n");
  const std::string head = read_until(fd, "\r\n\r\n");
  *agreed = head.find("permessage-deflate") != std::string::npos;
  send_all(fd, frame);
  unsigned char h[2];
  if (::recv(fd, h, 2, MSG_WAITALL) != 2) throw std::runtime_error("no echo");
  size_t length = h[1] & 0x7F;
  if (length == 126) {
    unsigned char l[2];
    if (::recv(fd, l, 2, MSG_WAITALL) != 2) throw std::runtime_error("no echo");
    length = (size_t{l[0]} << 8) | l[1];
  }
  read_exactly(fd, length);
  return fd;
}

struct Figures {
  double zlib_per_connection;
  double rss_per_connection;
  size_t zlib_fixed;  // what stays after the clients left: the endpoint's shared codecs
  bool agreed;
};

Figures measure(const DeflateOptions& deflate, int connections, const std::string& frame) {
  ServerOptions options;
  options.host = "127.0.0.1";
  options.port = 0;
  options.handle_signals = false;
  Server server(options);
  server.endpoint("/", {.max_backpressure = 1 << 20,
                        .per_message_deflate = deflate,
                        .on_message = [](WebSocket& ws, std::string_view message,
                                         MessageType type) { ws.send(message, type); }});
  const uint16_t port = server.listen();
  std::thread loop([&] { server.run(); });

  // One connection first, so that shared codecs and the loop's buffers exist before counting.
  bool agreed = false;
  std::vector<int> fds{client(port, frame, &agreed)};
  const size_t zlib_before = core::zlib_bytes_in_use();
  const size_t rss_before = resident_bytes();
  for (int i = 0; i < connections; ++i) fds.push_back(client(port, frame, &agreed));
  const size_t zlib_after = core::zlib_bytes_in_use();
  const size_t rss_after = resident_bytes();
  for (int fd : fds) ::close(fd);
  server.shutdown();
  loop.join();
  return {static_cast<double>(zlib_after - zlib_before) / connections,
          (static_cast<double>(rss_after) - static_cast<double>(rss_before)) / connections,
          zlib_before, agreed};
}

}  // namespace

int main(int argc, char** argv) {
  const int connections = argc > 1 ? std::atoi(argv[1]) : 400;
  // A 1 KiB JSON-like message, compressed as a first message (valid with or without takeover).
  std::string message;
  for (int i = 0; message.size() < 1024; ++i) {
    message += "{\"id\":" + std::to_string(i) + ",\"name\":\"user-" + std::to_string(i % 7) +
               "\",\"ok\":true},";
  }
  message.resize(1024);
  std::string compressed;
  {
    core::Deflater deflater(15, true);
    deflater.compress(message, compressed);
  }
  std::string frame, plain;
  core::append_masked_frame(frame, core::Opcode::text, compressed, core::MaskKey{1, 2, 3, 4}, true,
                            true);
  core::append_masked_frame(plain, core::Opcode::text, message, core::MaskKey{1, 2, 3, 4});

  std::printf("permessage-deflate memory, %d connections, one 1 KiB message each way\n",
              connections);
  std::printf("%-28s %18s %18s %16s\n", "mode", "zlib B/connection", "RSS B/connection",
              "zlib B at start");
  struct Mode {
    const char* name;
    DeflateOptions options;
  };
  DeflateOptions off;
  DeflateOptions shared{.enabled = true, .mode = DeflateMode::shared};
  DeflateOptions dedicated{.enabled = true, .mode = DeflateMode::dedicated};
  DeflateOptions small = dedicated;
  small.server_max_window_bits = 10;
  small.client_max_window_bits = 10;
  small.mem_level = 4;
  for (const Mode& mode :
       {Mode{"off", off}, Mode{"shared", shared}, Mode{"dedicated (15 bits)", dedicated},
        Mode{"dedicated (10 bits, mem 4)", small}}) {
    const Figures f = measure(mode.options, connections, mode.options.enabled ? frame : plain);
    std::printf("%-28s %18.0f %18.0f %16zu%s\n", mode.name, f.zlib_per_connection,
                f.rss_per_connection, f.zlib_fixed,
                f.agreed == mode.options.enabled ? "" : "  (unexpected negotiation)");
  }
  return 0;
}
