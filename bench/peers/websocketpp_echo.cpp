// Reference peer: a minimal websocketpp echo server on Boost.Asio, one thread, no TLS, no
// permessage-deflate (the plain asio config has no extension), access and error logs off.
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include "peer_common.h"

namespace {

using Server = websocketpp::server<websocketpp::config::asio>;

constexpr std::size_t kMaxMessage = 64 * 1024 * 1024;

}  // namespace

int main(int argc, char** argv) {
  const int port = peer_init(argc, argv, nullptr);
  try {
    Server server;
    server.clear_access_channels(websocketpp::log::alevel::all);
    server.clear_error_channels(websocketpp::log::elevel::all);
    server.init_asio();
    server.set_reuse_addr(true);
    server.set_listen_backlog(PEER_BACKLOG);
    server.set_max_message_size(kMaxMessage);
    server.set_tcp_post_init_handler([&server](websocketpp::connection_hdl hdl) {
      boost::system::error_code ec;  // the socket is accepted by now
      server.get_con_from_hdl(hdl)->get_socket().set_option(boost::asio::ip::tcp::no_delay(true),
                                                            ec);
    });
    server.set_message_handler([&server](websocketpp::connection_hdl hdl, Server::message_ptr msg) {
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
  } catch (const std::exception& e) {
    std::fprintf(stderr, "websocketpp_echo: %s\n", e.what());
    return 1;
  }
  return 0;
}
