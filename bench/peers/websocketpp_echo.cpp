// Reference peer: a minimal websocketpp echo server on Boost.Asio, one thread, no
// permessage-deflate (the plain asio configs have no extension), access and error logs off.
// With --tls CERT KEY it serves wss:// through the asio_tls config (Asio's OpenSSL stream, TLS
// 1.2 and 1.3, OpenSSL's defaults otherwise).
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <type_traits>
#include <websocketpp/config/asio.hpp>
#include <websocketpp/server.hpp>

#include "asio_tls_context.hpp"
#include "peer_common.h"

namespace {

constexpr std::size_t kMaxMessage = 64 * 1024 * 1024;

// Serves the echo until SIGINT or SIGTERM; Config is websocketpp's asio or asio_tls config.
template <class Config>
void serve(int port, const peer_tls& tls) {
  using Server = websocketpp::server<Config>;
  Server server;
  server.clear_access_channels(websocketpp::log::alevel::all);
  server.clear_error_channels(websocketpp::log::elevel::all);
  server.init_asio();
  server.set_reuse_addr(true);
  server.set_listen_backlog(PEER_BACKLOG);
  server.set_max_message_size(kMaxMessage);
  if constexpr (std::is_same_v<Config, websocketpp::config::asio_tls>) {
    auto ctx = make_asio_tls_context(tls);  // one context for every connection
    server.set_tls_init_handler([ctx](websocketpp::connection_hdl) { return ctx; });
  }
  server.set_tcp_post_init_handler([&server](websocketpp::connection_hdl hdl) {
    boost::system::error_code ec;  // the socket is accepted by now
    server.get_con_from_hdl(hdl)->get_raw_socket().set_option(boost::asio::ip::tcp::no_delay(true),
                                                              ec);
  });
  server.set_message_handler(
      [&server](websocketpp::connection_hdl hdl, typename Server::message_ptr msg) {
        websocketpp::lib::error_code ec;
        server.send(hdl, msg->get_payload(), msg->get_opcode(), ec);  // a failed send just drops
      });
  server.listen(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"),
                                               static_cast<unsigned short>(port)));
  server.start_accept();

  boost::asio::signal_set signals(server.get_io_service(), SIGINT, SIGTERM);
  signals.async_wait([&server](const boost::system::error_code&, int) {
    websocketpp::lib::error_code ec;
    server.stop_listening(ec);
    server.stop();
  });
  peer_announce_ready(port);
  server.run();
}

}  // namespace

int main(int argc, char** argv) {
  peer_tls tls;
  const int port = peer_init(argc, argv, nullptr, &tls);
  try {
    if (tls.cert) {
      serve<websocketpp::config::asio_tls>(port, tls);
    } else {
      serve<websocketpp::config::asio>(port, tls);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "websocketpp_echo: %s\n", e.what());
    return 1;
  }
  return 0;
}
