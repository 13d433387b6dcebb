// TLS (OpenSSL 3) as a layer under the WebSocket code: contexts built from PEM files, and a
// session that drives one non-blocking socket. The handshake is advanced from the event loop;
// afterwards read() and write() behave like recv() and send(), so the code above cannot tell
// TLS is there. The socket is used directly (no memory BIOs), with MSG_NOSIGNAL on writes.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct ssl_ctx_st;
struct ssl_st;

namespace duplex::io {

class EventLoop;
class IoHandler;

/// A certificate chain and key served to clients that ask for `host` through SNI. `host` may
/// start with "*." to cover one level of subdomains.
struct TlsCertificate {
  std::string host;
  std::string cert_file;  // PEM, leaf first, then intermediates
  std::string key_file;   // PEM
};

/// Server side: TLS 1.2 and 1.3 only, forward-secret AEAD ciphers, ALPN http/1.1, a default
/// certificate plus any number chosen by host name (SNI), and optional client-certificate
/// verification. Immutable: a reload builds a new one; connections keep the one they started
/// with.
class TlsServerContext {
 public:
  /// Reads every file now. Throws std::runtime_error naming the file and OpenSSL's reason.
  /// With `client_ca_file` set, clients must present a certificate signed by one of its CAs.
  static std::shared_ptr<const TlsServerContext> load(const std::string& cert_file,
                                                      const std::string& key_file,
                                                      const std::vector<TlsCertificate>& sni,
                                                      const std::string& client_ca_file);
  ~TlsServerContext();
  TlsServerContext(const TlsServerContext&) = delete;
  TlsServerContext& operator=(const TlsServerContext&) = delete;

  ssl_ctx_st* default_context() const { return default_; }
  /// The context whose certificate covers `host` (exact names first, then wildcards); null if
  /// none does.
  ssl_ctx_st* for_host(std::string_view host) const;

 private:
  TlsServerContext() = default;
  struct Host {
    std::string name;  // lower case; "*.example.com" for a wildcard
    ssl_ctx_st* ctx;
  };
  ssl_ctx_st* default_ = nullptr;
  std::vector<Host> hosts_;
};

struct TlsClientSettings {
  std::string ca_file;    // PEM CAs trusted instead of the system's store (empty: the system's)
  std::string cert_file;  // a client certificate chain for servers that ask for one (mTLS)
  std::string key_file;
  bool insecure = false;  // no certificate or host name checks (tests only)
  auto operator<=>(const TlsClientSettings&) const = default;
};

/// Client side: the system's CA store (or only `ca_file`), TLS 1.2+, ALPN http/1.1. Contexts
/// are shared between clients with the same settings.
class TlsClientContext {
 public:
  /// Throws std::runtime_error if a file cannot be loaded. `insecure` prints a warning to
  /// stderr the first time.
  static std::shared_ptr<const TlsClientContext> get(const TlsClientSettings& settings);
  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  ssl_ctx_st* context() const { return ctx_; }
  bool insecure() const { return insecure_; }

 private:
  TlsClientContext() = default;
  ssl_ctx_st* ctx_ = nullptr;
  bool insecure_ = false;
};

/// One TLS connection over a non-blocking socket it does not own (the owner closes the fd).
class TlsSession {
 public:
  /// A server session for an accepted socket.
  static std::unique_ptr<TlsSession> accept(std::shared_ptr<const TlsServerContext> context,
                                            int fd);
  /// A client session: SNI and the certificate's name (or IP address) check use `host`.
  static std::unique_ptr<TlsSession> connect(std::shared_ptr<const TlsClientContext> context,
                                             int fd, const std::string& host);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  enum class Progress { pending, done, failed };
  /// Advances the handshake; call on every readiness event until it is done or failed. While
  /// the handshake waits to write, `owner` is registered for EPOLLOUT too (and for
  /// `read_events` only again afterwards). On failure error() tells why.
  Progress handshake(EventLoop& loop, IoHandler* owner, uint32_t read_events);
  bool established() const { return established_; }

  /// Like recv(): decrypted bytes (> 0), 0 at the peer's close_notify or EOF, -1 with errno
  /// EAGAIN when nothing is ready, or -1 with another errno and error() set.
  ssize_t read(char* buffer, size_t size);
  /// Bytes decrypted or an ending seen but not yet returned: call read() again before waiting.
  bool pending() const;
  /// Like send(): bytes taken (> 0), or -1 with errno (EAGAIN: wait for writability). The
  /// records of one call leave with one send(); a retry must pass the bytes not yet taken
  /// again, possibly followed by more.
  ssize_t write(const char* data, size_t size);
  /// Gives OpenSSL's record buffers and the session's own output buffer back when nothing is
  /// buffered (the next record allocates them again); false when something still is. For
  /// sessions that have been quiet a while: busy ones keep their buffers, idle ones stay small.
  bool release_buffers_if_idle();
  /// Sends close_notify (best effort), then the TCP FIN. Reading may go on.
  void shutdown_write();

  const std::string& error() const { return error_; }
  /// The protocol chosen through ALPN ("http/1.1"), empty if none.
  std::string_view alpn() const;
  /// "TLSv1.3" and the like.
  std::string_view version() const;
  /// The verified client certificate's subject (server side, with client CAs), else empty.
  std::string peer_subject() const;

 private:
  struct Bio;
  TlsSession(ssl_st* ssl, int fd);
  void set_error(int ssl_error, int saved_errno);
  void answer_plain_http();
  /// OpenSSL's output: queued while batching or behind queued bytes, else sent at once.
  int take_output(const char* data, size_t size);
  bool queued() const { return sent_ < out_.size(); }
  /// One send() of the queued ciphertext; false on a socket error (errno set).
  bool send_queued();
  /// Plaintext bytes of the records now fully sent; resets the buffer once it is drained.
  size_t take_sent_records();

  struct Record {
    size_t end;    // where its ciphertext ends in out_
    size_t plain;  // the plaintext bytes it carries
  };

  ssl_st* ssl_;
  int fd_;
  std::string out_;  // ciphertext not yet sent, from sent_ on
  size_t sent_ = 0;
  std::vector<Record> records_;  // data records in out_, in order
  bool batching_ = false;
  std::shared_ptr<const TlsServerContext> server_context_;  // SNI looks hosts up in it
  std::shared_ptr<const TlsClientContext> client_context_;
  std::string error_;
  int end_ = 0;  // after bytes were returned: 1 = EOF, -1 = error (with end_errno_)
  int end_errno_ = 0;
  bool more_ = false;  // read() filled the caller's buffer with records still buffered
  bool established_ = false;
  bool waiting_writable_ = false;
};

}  // namespace duplex::io
