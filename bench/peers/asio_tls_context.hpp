// The server TLS context of the Asio-based peers (Beast, websocketpp): TLS 1.2 and 1.3 with
// OpenSSL's defaults otherwise, certificate chain and key from the PEM files of `--tls`.
#ifndef DUPLEX_BENCH_ASIO_TLS_CONTEXT_HPP
#define DUPLEX_BENCH_ASIO_TLS_CONTEXT_HPP

#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "peer_common.h"

inline std::shared_ptr<boost::asio::ssl::context> make_asio_tls_context(const peer_tls& files) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                   ssl::context::no_tlsv1_1);
  ctx->use_certificate_chain_file(files.cert);
  ctx->use_private_key_file(files.key, ssl::context::pem);
  return ctx;
}

#endif
