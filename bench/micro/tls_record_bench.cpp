// What OpenSSL alone costs a TLS echo server per message: one record decrypted (SSL_read) and
// one encrypted (SSL_write), over memory BIOs so that no socket, loop or WebSocket code is in
// the figure. It is the floor under any TLS echo's cost per message on this machine, next to the
// cleartext echo's whole cost (bench/RESULTS.md, the TLS retention target).
#include <benchmark/benchmark.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <stdexcept>
#include <string>

namespace {

// A P-256 key and a self-signed certificate for it, made in memory.
struct Identity {
  EVP_PKEY* key = EVP_EC_gen("P-256");
  X509* cert = X509_new();
  Identity() {
    if (!key || !cert) throw std::runtime_error("key generation failed");
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), 0);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("bench"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_set_pubkey(cert, key);
    if (X509_sign(cert, key, EVP_sha256()) == 0) throw std::runtime_error("signing failed");
  }
  ~Identity() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
};

// Moves whatever one side wrote to the other side's input.
void pump(BIO* from, BIO* to) {
  char chunk[64 * 1024];
  int n;
  while ((n = BIO_read(from, chunk, sizeof chunk)) > 0) BIO_write(to, chunk, n);
}

// A server and a client session joined by memory BIOs, handshake done, with the server's
// settings of io/tls.cpp that matter per record (read-ahead, buffers kept).
class SessionPair {
 public:
  SessionPair(int version, const char* suite) {
    static const Identity identity;
    server_ctx_ = SSL_CTX_new(TLS_server_method());
    client_ctx_ = SSL_CTX_new(TLS_client_method());
    SSL_CTX_use_certificate(server_ctx_, identity.cert);
    SSL_CTX_use_PrivateKey(server_ctx_, identity.key);
    SSL_CTX_set_read_ahead(server_ctx_, 1);
    for (SSL_CTX* ctx : {server_ctx_, client_ctx_}) {
      SSL_CTX_set_min_proto_version(ctx, version);
      SSL_CTX_set_max_proto_version(ctx, version);
      const int ok = version == TLS1_3_VERSION ? SSL_CTX_set_ciphersuites(ctx, suite)
                                               : SSL_CTX_set_cipher_list(ctx, suite);
      if (ok != 1) throw std::runtime_error(std::string("unknown suite ") + suite);
    }
    server_ = new_session(server_ctx_, server_in_, server_out_);
    client_ = new_session(client_ctx_, client_in_, client_out_);
    SSL_set_accept_state(server_);
    SSL_set_connect_state(client_);
    for (int round = 0;
         round < 10 && !(SSL_is_init_finished(server_) && SSL_is_init_finished(client_)); ++round) {
      SSL_do_handshake(client_);
      pump(client_out_, server_in_);
      SSL_do_handshake(server_);
      pump(server_out_, client_in_);
    }
    if (!SSL_is_init_finished(server_)) throw std::runtime_error("handshake failed");
  }
  ~SessionPair() {
    SSL_free(server_);
    SSL_free(client_);
    SSL_CTX_free(server_ctx_);
    SSL_CTX_free(client_ctx_);
  }

  // The client's record, ready in the server's input.
  void client_sends(const std::string& message) {
    SSL_write(client_, message.data(), static_cast<int>(message.size()));
    pump(client_out_, server_in_);
  }
  // What the benchmark times: the server decrypts one message and encrypts it back.
  int server_echoes(char* buffer, int size) {
    const int n = SSL_read(server_, buffer, size);
    if (n > 0) SSL_write(server_, buffer, n);
    return n;
  }
  // The client takes the echo, so no buffer grows.
  void client_receives(char* buffer, int size) {
    pump(server_out_, client_in_);
    while (SSL_read(client_, buffer, size) > 0) {
    }
  }

 private:
  static SSL* new_session(SSL_CTX* ctx, BIO*& in, BIO*& out) {
    SSL* ssl = SSL_new(ctx);
    in = BIO_new(BIO_s_mem());
    out = BIO_new(BIO_s_mem());
    SSL_set_bio(ssl, in, out);
    return ssl;
  }
  SSL_CTX* server_ctx_;
  SSL_CTX* client_ctx_;
  SSL* server_;
  SSL* client_;
  BIO *server_in_, *server_out_, *client_in_, *client_out_;
};

void tls_echo(benchmark::State& state, int version, const char* suite) {
  SessionPair pair(version, suite);
  const std::string message(static_cast<size_t>(state.range(0)), 'x');
  std::string buffer(message.size() + 1024, '\0');
  // Only the server's part is timed (manual time: pausing the timer would cost more than a
  // record).
  for (auto _ : state) {
    pair.client_sends(message);
    const auto start = std::chrono::steady_clock::now();
    const int echoed = pair.server_echoes(buffer.data(), static_cast<int>(buffer.size()));
    state.SetIterationTime(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (echoed != static_cast<int>(message.size())) {
      state.SkipWithError("echo failed");
      break;
    }
    pair.client_receives(buffer.data(), static_cast<int>(buffer.size()));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * message.size()));
}

BENCHMARK_CAPTURE(tls_echo, tls13_aes128gcm, TLS1_3_VERSION, "TLS_AES_128_GCM_SHA256")
    ->Arg(512)
    ->Arg(16 << 10)
    ->UseManualTime();
BENCHMARK_CAPTURE(tls_echo, tls13_chacha20, TLS1_3_VERSION, "TLS_CHACHA20_POLY1305_SHA256")
    ->Arg(512)
    ->Arg(16 << 10)
    ->UseManualTime();
BENCHMARK_CAPTURE(tls_echo, tls12_aes128gcm, TLS1_2_VERSION, "ECDHE-ECDSA-AES128-GCM-SHA256")
    ->Arg(512)
    ->Arg(16 << 10)
    ->UseManualTime();

}  // namespace
