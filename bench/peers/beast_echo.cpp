// Reference peer: a minimal Boost.Beast WebSocket echo server on one thread (one io_context),
// asynchronous accept, read and write, text/binary kept, no compression, one frame per message.
// With --tls CERT KEY it serves wss:// through Beast's ssl_stream (Asio's OpenSSL stream, TLS
// 1.2 and 1.3, OpenSSL's defaults otherwise).
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <cstdio>
#include <memory>
#include <type_traits>
#include <utility>

#include "asio_tls_context.hpp"
#include "peer_common.h"

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

constexpr std::size_t kMaxMessage = 64 * 1024 * 1024;

// One connection; Stream is a TCP socket or a TLS stream over one.
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... Args>
  explicit Session(Args&&... args) : ws_(std::forward<Args>(args)...) {}

  void start() {
    beast::get_lowest_layer(ws_).set_option(tcp::no_delay(true));
    ws_.read_message_max(kMaxMessage);
    ws_.auto_fragment(false);  // echo each message as one frame, like the other peers
    if constexpr (std::is_same_v<Stream, tcp::socket>) {
      accept();
    } else {
      ws_.next_layer().async_handshake(ssl::stream_base::server,
                                       [self = this->shared_from_this()](beast::error_code ec) {
                                         if (!ec) self->accept();
                                       });
    }
  }

 private:
  void accept() {
    ws_.async_accept([self = this->shared_from_this()](beast::error_code ec) {
      if (!ec) self->read();
    });
  }

  void read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec) return;  // closed by the peer, or failed: the session ends
      self->ws_.text(self->ws_.got_text());
      self->ws_.async_write(self->buffer_.data(), [self](beast::error_code ec, std::size_t) {
        if (ec) return;
        self->buffer_.consume(self->buffer_.size());
        self->read();
      });
    });
  }

  websocket::stream<Stream> ws_;
  beast::flat_buffer buffer_;
};

class Listener {
 public:
  // `tls` is null for cleartext.
  Listener(asio::io_context& ioc, unsigned short port, ssl::context* tls)
      : ioc_(ioc), acceptor_(ioc), tls_(tls) {
    tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), port);
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(PEER_BACKLOG);
  }

  void accept() {
    acceptor_.async_accept(ioc_, [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) serve(std::move(socket));
      accept();
    });
  }

  void close() { acceptor_.close(); }

 private:
  void serve(tcp::socket socket) {
    if (tls_) {
      std::make_shared<Session<beast::ssl_stream<tcp::socket>>>(std::move(socket), *tls_)->start();
    } else {
      std::make_shared<Session<tcp::socket>>(std::move(socket))->start();
    }
  }

  asio::io_context& ioc_;
  tcp::acceptor acceptor_;
  ssl::context* tls_;
};

}  // namespace

int main(int argc, char** argv) {
  peer_tls tls_files;
  const int port = peer_init(argc, argv, nullptr, &tls_files);
  try {
    std::shared_ptr<ssl::context> tls;
    if (tls_files.cert) tls = make_asio_tls_context(tls_files);
    asio::io_context ioc(1);
    Listener listener(ioc, static_cast<unsigned short>(port), tls.get());
    listener.accept();
    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](beast::error_code, int) {
      listener.close();
      ioc.stop();
    });
    peer_announce_ready(port);
    ioc.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "beast_echo: %s\n", e.what());
    return 1;
  }
  return 0;
}
