#include "duplex/io/tls.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>
#include <utility>

#include "duplex/io/event_loop.hpp"
#include "duplex/io/socket.hpp"

namespace duplex::io {

namespace {

// Forward-secret AEAD suites only for TLS 1.2; TLS 1.3's defaults are all modern.
constexpr const char* kTls12Ciphers = "ECDHE+AES128GCM:ECDHE+CHACHA20:ECDHE+AES256GCM";
// AES-128 first: as safe in practice and a third cheaper than AES-256 per byte.
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384";
constexpr unsigned char kAlpnHttp11[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

std::string reason(unsigned long code) {
  if (const char* r = ERR_reason_error_string(code)) return r;
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

// OpenSSL's reason for the last failure on this thread (and clears the queue). A system
// error (a missing file) says more than the "system lib" wrapped around it.
std::string last_reason(const char* fallback) {
  std::string text = fallback;
  while (const unsigned long code = ERR_get_error()) {
    if (ERR_SYSTEM_ERROR(code)) {
      text = std::strerror(ERR_GET_REASON(code));
      ERR_clear_error();
      break;
    }
    text = reason(code);
  }
  return text;
}

// Ciphertext batches up to this size are encrypted before one send().
constexpr size_t kMaxBatch = 256 * 1024;
// A drained output buffer larger than this is given back rather than kept.
constexpr size_t kKeepOutputCapacity = 64 * 1024;

// --- context setup -------------------------------------------------------------------------

SSL_CTX* new_context(const SSL_METHOD* method) {
  SSL_CTX* ctx = SSL_CTX_new(method);
  if (!ctx) throw std::runtime_error("TLS: " + last_reason("cannot create a context"));
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // SSL_write makes one record per call (the session batches them for one send()). Record
  // buffers are kept while a session is busy (SSL_MODE_RELEASE_BUFFERS would free and allocate
  // them around every record, a third of the CPU of small-message echo) and given back once it
  // is quiet: release_buffers_if_idle().
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_read_ahead(ctx, 1);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 ||
      SSL_CTX_set_ciphersuites(ctx, kTls13Suites) != 1) {
    SSL_CTX_free(ctx);
    throw std::runtime_error("TLS: " + last_reason("no usable cipher"));
  }
  return ctx;
}

int select_alpn(SSL*, const unsigned char** out, unsigned char* out_size, const unsigned char* in,
                unsigned int in_size, void*) {
  unsigned char* chosen = nullptr;
  if (SSL_select_next_proto(&chosen, out_size, kAlpnHttp11, sizeof kAlpnHttp11, in, in_size) ==
      OPENSSL_NPN_NEGOTIATED) {
    *out = chosen;
    return SSL_TLSEXT_ERR_OK;
  }
  return SSL_TLSEXT_ERR_NOACK;  // the client offered no http/1.1: go on without ALPN
}

int select_host(SSL* ssl, int*, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;
  if (SSL_CTX* ctx = static_cast<const TlsServerContext*>(arg)->for_host(name)) {
    SSL_set_SSL_CTX(ssl, ctx);
  }
  return SSL_TLSEXT_ERR_OK;
}

// Throws (the caller frees `ctx`) naming the file and OpenSSL's reason.
void use_certificate(SSL_CTX* ctx, const std::string& cert_file, const std::string& key_file) {
  auto fail = [](const std::string& what) {
    throw std::runtime_error("TLS: " + what + ": " + last_reason("unknown error"));
  };
  if (SSL_CTX_use_certificate_chain_file(ctx, cert_file.c_str()) != 1) {
    fail("cannot load the certificate chain '" + cert_file + "'");
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    fail("cannot load the private key '" + key_file + "'");
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    fail("the key '" + key_file + "' does not match the certificate '" + cert_file + "'");
  }
}

SSL_CTX* server_context(const std::string& cert_file, const std::string& key_file,
                        const std::string& client_ca_file, const TlsServerContext* owner) {
  SSL_CTX* ctx = new_context(TLS_server_method());
  auto fail = [&](const std::string& what) {
    const std::string why = last_reason("unknown error");
    SSL_CTX_free(ctx);
    throw std::runtime_error("TLS: " + what + ": " + why);
  };
  try {
    use_certificate(ctx, cert_file, key_file);
  } catch (...) {
    SSL_CTX_free(ctx);
    throw;
  }
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  SSL_CTX_set_tlsext_servername_callback(ctx, select_host);
  SSL_CTX_set_tlsext_servername_arg(ctx, const_cast<TlsServerContext*>(owner));
  static const unsigned char kSessionContext[] = "duplex";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  if (!client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, client_ca_file.c_str(), nullptr) != 1) {
      fail("cannot load the client CA file '" + client_ca_file + "'");
    }
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(client_ca_file.c_str());
    if (!names) fail("no CA certificate in '" + client_ca_file + "'");
    SSL_CTX_set_client_CA_list(ctx, names);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  return ctx;
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

// --- TlsServerContext -------------------------------------------------------------------------

std::shared_ptr<const TlsServerContext> TlsServerContext::load(
    const std::string& cert_file, const std::string& key_file,
    const std::vector<TlsCertificate>& sni, const std::string& client_ca_file) {
  std::shared_ptr<TlsServerContext> self(new TlsServerContext());
  self->default_ = server_context(cert_file, key_file, client_ca_file, self.get());
  for (const TlsCertificate& host : sni) {
    if (host.host.empty()) throw std::runtime_error("TLS: an SNI certificate needs a host name");
    self->hosts_.push_back({lower(host.host), server_context(host.cert_file, host.key_file,
                                                             client_ca_file, self.get())});
  }
  return self;
}

TlsServerContext::~TlsServerContext() {
  // Sessions still using a context hold a reference of their own: OpenSSL counts them.
  for (Host& host : hosts_) SSL_CTX_free(host.ctx);
  SSL_CTX_free(default_);
}

ssl_ctx_st* TlsServerContext::for_host(std::string_view name) const {
  const std::string host = lower(name);
  for (const Host& h : hosts_) {
    if (h.name == host) return h.ctx;
  }
  const size_t dot = host.find('.');
  if (dot == std::string::npos) return nullptr;
  const std::string wildcard = "*" + host.substr(dot);
  for (const Host& h : hosts_) {
    if (h.name == wildcard) return h.ctx;
  }
  return nullptr;
}

// --- TlsClientContext -------------------------------------------------------------------------

std::shared_ptr<const TlsClientContext> TlsClientContext::get(const TlsClientSettings& settings) {
  static std::mutex mutex;
  static std::map<TlsClientSettings, std::weak_ptr<const TlsClientContext>> cache;
  std::lock_guard lock(mutex);
  auto& slot = cache[settings];
  if (auto existing = slot.lock()) return existing;

  const std::string& ca_file = settings.ca_file;
  std::shared_ptr<TlsClientContext> self(new TlsClientContext());
  self->ctx_ = new_context(TLS_client_method());
  self->insecure_ = settings.insecure;
  SSL_CTX_set_alpn_protos(self->ctx_, kAlpnHttp11, sizeof kAlpnHttp11);
  if (!settings.cert_file.empty())
    use_certificate(self->ctx_, settings.cert_file, settings.key_file);
  if (settings.insecure) {
    SSL_CTX_set_verify(self->ctx_, SSL_VERIFY_NONE, nullptr);
    static std::once_flag warned;
    std::call_once(warned, [] {
      std::fputs(
          "duplex: warning: TLS certificates are not verified (insecure mode, for tests only)\n",
          stderr);
    });
  } else {
    SSL_CTX_set_verify(self->ctx_, SSL_VERIFY_PEER, nullptr);
    // A CA file replaces the system store, as curl's --cacert does.
    const int ok = ca_file.empty()
                       ? SSL_CTX_set_default_verify_paths(self->ctx_)
                       : SSL_CTX_load_verify_locations(self->ctx_, ca_file.c_str(), nullptr);
    if (ok != 1) {
      // self's destructor frees the context.
      throw std::runtime_error(
          ca_file.empty()
              ? "TLS: cannot load the system CA store: " + last_reason("unknown error")
              : "TLS: cannot load the CA file '" + ca_file + "': " + last_reason("unknown error"));
    }
  }
  slot = self;
  return self;
}

TlsClientContext::~TlsClientContext() { SSL_CTX_free(ctx_); }

// --- TlsSession's BIO: reads with recv(), writes through the session's output -----------------

struct TlsSession::Bio {
  static TlsSession& session(BIO* bio) { return *static_cast<TlsSession*>(BIO_get_data(bio)); }

  static int write(BIO* bio, const char* data, int size) {
    BIO_clear_retry_flags(bio);
    return session(bio).take_output(data, static_cast<size_t>(size));
  }

  static int read(BIO* bio, char* buffer, int size) {
    const ssize_t n = ::recv(session(bio).fd_, buffer, static_cast<size_t>(size), 0);
    BIO_clear_retry_flags(bio);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) BIO_set_retry_read(bio);
    return static_cast<int>(n);
  }

  static long ctrl(BIO*, int command, long, void*) { return command == BIO_CTRL_FLUSH ? 1 : 0; }

  static int create(BIO* bio) {
    BIO_set_init(bio, 1);
    return 1;
  }

  static BIO* make(TlsSession* session) {
    static BIO_METHOD* method = [] {
      BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "duplex socket");
      BIO_meth_set_write(m, write);
      BIO_meth_set_read(m, read);
      BIO_meth_set_ctrl(m, ctrl);
      BIO_meth_set_create(m, create);
      return m;
    }();
    BIO* bio = BIO_new(method);
    if (!bio) throw std::runtime_error("TLS: " + last_reason("cannot create a BIO"));
    BIO_set_data(bio, session);
    return bio;
  }
};

// --- TlsSession -----------------------------------------------------------------------------

TlsSession::TlsSession(ssl_st* ssl, int fd) : ssl_(ssl), fd_(fd) {
  BIO* bio = Bio::make(this);
  SSL_set_bio(ssl_, bio, bio);
}

int TlsSession::take_output(const char* data, size_t size) {
  if (batching_ || queued()) {
    out_.append(data, size);
    return static_cast<int>(size);
  }
  // Handshake flights and alerts go straight out; what the socket does not take waits.
  ssize_t n = ::send(fd_, data, size, MSG_NOSIGNAL);
  if (n < 0) {
    if (errno != EAGAIN && errno != EINTR) return -1;
    n = 0;
  }
  if (static_cast<size_t>(n) < size) out_.assign(data + n, size - static_cast<size_t>(n));
  return static_cast<int>(size);
}

bool TlsSession::send_queued() {
  if (!queued()) return true;
  const ssize_t n = ::send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL);
  if (n < 0) return errno == EAGAIN || errno == EINTR;
  sent_ += static_cast<size_t>(n);
  return true;
}

size_t TlsSession::take_sent_records() {
  size_t plain = 0;
  size_t done = 0;
  while (done < records_.size() && records_[done].end <= sent_) plain += records_[done++].plain;
  records_.erase(records_.begin(), records_.begin() + static_cast<ptrdiff_t>(done));
  if (!queued()) {  // all out: the buffer starts over (records_ is empty too)
    if (out_.capacity() > kKeepOutputCapacity) {
      std::string().swap(out_);
    } else {
      out_.clear();
    }
    sent_ = 0;
  }
  return plain;
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

bool TlsSession::release_buffers_if_idle() {
  if (!established_ || queued() || end_ != 0 || more_ || SSL_has_pending(ssl_)) return false;
  std::string().swap(out_);
  sent_ = 0;
  return SSL_free_buffers(ssl_) == 1;
}

std::unique_ptr<TlsSession> TlsSession::accept(std::shared_ptr<const TlsServerContext> context,
                                               int fd) {
  SSL* ssl = SSL_new(context->default_context());
  if (!ssl) throw std::runtime_error("TLS: " + last_reason("cannot create a session"));
  std::unique_ptr<TlsSession> session(new TlsSession(ssl, fd));
  session->server_context_ = std::move(context);
  SSL_set_accept_state(ssl);
  return session;
}

std::unique_ptr<TlsSession> TlsSession::connect(std::shared_ptr<const TlsClientContext> context,
                                                int fd, const std::string& host) {
  SSL* ssl = SSL_new(context->context());
  if (!ssl) throw std::runtime_error("TLS: " + last_reason("cannot create a session"));
  std::unique_ptr<TlsSession> session(new TlsSession(ssl, fd));
  const bool numeric = is_numeric_host(host);
  // SNI carries names only, never addresses (RFC 6066 §3).
  if (!numeric) SSL_set_tlsext_host_name(ssl, host.c_str());
  if (!context->insecure()) {
    const int ok = numeric ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str())
                           : SSL_set1_host(ssl, host.c_str());
    if (ok != 1) throw std::runtime_error("TLS: cannot check the host name '" + host + "'");
  }
  session->client_context_ = std::move(context);
  SSL_set_connect_state(ssl);
  return session;
}

TlsSession::Progress TlsSession::handshake(EventLoop& loop, IoHandler* owner,
                                           uint32_t read_events) {
  if (established_) return Progress::done;
  // A flight the socket did not take goes first; the handshake waits for it.
  int code = SSL_ERROR_WANT_WRITE;
  int saved_errno = 0;
  if (!send_queued()) {
    code = SSL_ERROR_SYSCALL;
    saved_errno = errno;
  } else if (!queued()) {
    ERR_clear_error();
    const int r = SSL_do_handshake(ssl_);
    saved_errno = errno;
    code = r == 1 ? SSL_ERROR_NONE : SSL_get_error(ssl_, r);
    if (!send_queued()) {
      code = SSL_ERROR_SYSCALL;
      saved_errno = errno;
    }
  }
  // Once done, whatever is queued (session tickets) leaves with the first write.
  const bool want_write = code != SSL_ERROR_NONE && queued();
  if (want_write != waiting_writable_) {
    waiting_writable_ = want_write;
    loop.modify(fd_, owner, want_write ? read_events | EPOLLOUT : read_events);
  }
  if (code == SSL_ERROR_NONE) {
    established_ = true;
    return Progress::done;
  }
  if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) return Progress::pending;
  const unsigned long last = ERR_peek_last_error();
  const bool plain_http =
      ERR_GET_LIB(last) == ERR_LIB_SSL && (ERR_GET_REASON(last) == SSL_R_HTTP_REQUEST ||
                                           ERR_GET_REASON(last) == SSL_R_HTTPS_PROXY_REQUEST);
  set_error(code, saved_errno);
  if (plain_http) answer_plain_http();
  return Progress::failed;
}

void TlsSession::set_error(int code, int saved_errno) {
  if (code == SSL_ERROR_SSL) {
    error_ = last_reason("TLS error");
    const long verify = SSL_get_verify_result(ssl_);
    if (verify != X509_V_OK) {
      error_ += " (";
      error_ += X509_verify_cert_error_string(verify);
      error_ += ")";
    }
  } else if (code == SSL_ERROR_SYSCALL && saved_errno != 0) {
    error_ = std::strerror(saved_errno);
    ERR_clear_error();
  } else {
    error_ = established_ ? "connection closed" : "connection closed during the TLS handshake";
    ERR_clear_error();
  }
}

void TlsSession::answer_plain_http() {
  // Browsers and tools show this body, which says what went wrong better than a reset would.
  static constexpr std::string_view kBody = "This port speaks TLS: use https:// or wss://\n";
  const std::string response =
      "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
      "Content-Length: " +
      std::to_string(kBody.size()) + "\r\nConnection: close\r\n\r\n" + std::string(kBody);
  // The rest of the request is read first so that closing does not turn into a reset that
  // would discard the answer on the client's side.
  char scratch[4096];
  for (int i = 0; i < 16 && ::recv(fd_, scratch, sizeof scratch, MSG_DONTWAIT) > 0; ++i) {
  }
  [[maybe_unused]] ssize_t n = ::send(fd_, response.data(), response.size(), MSG_NOSIGNAL);
  ::shutdown(fd_, SHUT_WR);
  error_ = "plain HTTP request on the TLS port (answered 400)";
}

ssize_t TlsSession::read(char* buffer, size_t size) {
  if (end_ != 0) {
    const int end = end_;
    end_ = 0;
    errno = end_errno_;
    return end > 0 ? 0 : -1;
  }
  size_t total = 0;
  more_ = false;
  while (total < size) {
    ERR_clear_error();
    size_t n = 0;
    const int r = SSL_read_ex(ssl_, buffer + total, size - total, &n);
    if (r == 1) {
      total += n;
      // Records read ahead are decrypted now; anything else waits for the next readiness.
      if (!SSL_has_pending(ssl_)) break;
      continue;
    }
    const int saved_errno = errno;
    const int code = SSL_get_error(ssl_, r);
    if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) break;
    int result = 0;
    int result_errno = 0;
    if (code != SSL_ERROR_ZERO_RETURN) {
      set_error(code, saved_errno);
      result = -1;
      result_errno = code == SSL_ERROR_SYSCALL && saved_errno ? saved_errno : EPROTO;
    }
    if (total > 0) {  // the bytes first; the ending on the next call
      end_ = result < 0 ? -1 : 1;
      end_errno_ = result_errno;
      break;
    }
    errno = result_errno;
    return result;
  }
  if (total == 0) {
    errno = EAGAIN;
    return -1;
  }
  more_ = total == size && SSL_has_pending(ssl_);
  return static_cast<ssize_t>(total);
}

bool TlsSession::pending() const { return end_ != 0 || more_; }

ssize_t TlsSession::write(const char* data, size_t size) {
  // Records are encrypted into out_ and sent with one send(). Plaintext counts as written once
  // its whole record has left: until then the caller passes the same bytes again, and the
  // ones already encrypted (the front of `data`) are skipped.
  const auto fail = [this](int saved_errno) {
    set_error(SSL_ERROR_SYSCALL, saved_errno);
    errno = saved_errno;
    return ssize_t{-1};
  };
  size_t done = 0;
  if (queued()) {
    if (!send_queued()) return fail(errno);
    done = take_sent_records();
    if (queued()) return done > 0 ? static_cast<ssize_t>(done) : (errno = EAGAIN, -1);
  }
  size_t offset = done;
  batching_ = true;
  while (offset < size && out_.size() < kMaxBatch) {
    ERR_clear_error();
    size_t n = 0;
    if (SSL_write_ex(ssl_, data + offset, size - offset, &n) != 1) {
      const int saved_errno = errno;
      const int code = SSL_get_error(ssl_, 0);
      if (offset == done && !queued() && code != SSL_ERROR_WANT_READ) {
        batching_ = false;
        set_error(code, saved_errno);
        errno = code == SSL_ERROR_SYSCALL && saved_errno ? saved_errno : EPIPE;
        return -1;
      }
      break;  // what was encrypted goes out; an error shows on the next call
    }
    offset += n;
    records_.push_back({out_.size(), n});  // one record per call (partial-write mode)
  }
  batching_ = false;
  if (!send_queued()) return done > 0 ? static_cast<ssize_t>(done) : fail(errno);
  done += take_sent_records();
  return done > 0 ? static_cast<ssize_t>(done) : (errno = EAGAIN, -1);
}

void TlsSession::shutdown_write() {
  ERR_clear_error();
  if (established_) SSL_shutdown(ssl_);  // close_notify; the peer's is read like data
  ERR_clear_error();
  send_queued();
  ::shutdown(fd_, SHUT_WR);
}

std::string_view TlsSession::alpn() const {
  const unsigned char* data = nullptr;
  unsigned int size = 0;
  SSL_get0_alpn_selected(ssl_, &data, &size);
  return {reinterpret_cast<const char*>(data), size};
}

std::string_view TlsSession::version() const { return SSL_get_version(ssl_); }

std::string TlsSession::peer_subject() const {
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (!cert || SSL_get_verify_result(ssl_) != X509_V_OK) return {};
  BIO* out = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(out, X509_get_subject_name(cert), 0, XN_FLAG_RFC2253);
  char* text = nullptr;
  const long size = BIO_get_mem_data(out, &text);
  std::string subject(text, static_cast<size_t>(size));
  BIO_free(out);
  return subject;
}

}  // namespace duplex::io
