#include "connect_command.hpp"

#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "duplex/client/websocket_client.hpp"
#include "duplex/io/event_loop.hpp"

namespace duplex::app {

namespace {

struct ConnectFlags {
  std::string url;
  std::vector<std::string> protocols;
  std::vector<std::string> headers;
  std::vector<std::string> execute;
  double wait = 0;
  bool echo = false;
  uint64_t max_payload = 16 * 1024 * 1024;
  double close_timeout = 5;
  double handshake_timeout = 10;
  int max_redirects = 0;
  std::string proxy;
  bool no_proxy = false;
  bool deflate = false;
  size_t deflate_threshold = 128;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string server_name;
  bool insecure = false;
};

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

// A one-shot timer running a function on the loop.
class Delay final : public io::Timer {
 public:
  explicit Delay(std::function<void()> fn) : fn_(std::move(fn)) {}
  void on_timer() override { fn_(); }

 private:
  std::function<void()> fn_;
};

std::string describe_binary(std::string_view data) {
  static const char* digits = "0123456789abcdef";
  std::string out = "[binary " + std::to_string(data.size()) + " bytes] ";
  const size_t shown = std::min<size_t>(data.size(), 64);
  for (size_t i = 0; i < shown; ++i) {
    const auto b = static_cast<unsigned char>(data[i]);
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  if (data.size() > shown) out += "…";
  return out;
}

// Lines typed (or piped) on standard input become text messages; EOF ends the session.
class StdinLines final : public io::IoHandler {
 public:
  StdinLines(io::EventLoop& loop, std::function<void(std::string_view)> line,
             std::function<void()> eof)
      : loop_(loop), line_(std::move(line)), eof_(std::move(eof)) {}
  ~StdinLines() {
    if (watching_) loop_.remove(STDIN_FILENO);
  }
  void start() {
    try {
      loop_.add(STDIN_FILENO, this, EPOLLIN);
      watching_ = true;
    } catch (const std::system_error&) {
      // A regular file or /dev/null cannot be polled: it never blocks, so read it now.
      while (read_some()) {
      }
    }
  }
  void on_io(uint32_t) override {
    if (!read_some()) {
      loop_.remove(STDIN_FILENO);
      watching_ = false;
    }
  }

 private:
  // Returns false at EOF (after delivering the last partial line).
  bool read_some() {
    char buf[65536];
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return true;
    if (n <= 0) {
      if (!pending_.empty()) line_(pending_);
      pending_.clear();
      eof_();
      return false;
    }
    pending_.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = pending_.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view line(pending_.data() + start, nl - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      line_(line);
    }
    pending_.erase(0, start);
    return true;
  }
  io::EventLoop& loop_;
  std::function<void(std::string_view)> line_;
  std::function<void()> eof_;
  std::string pending_;
  bool watching_ = false;
};

int run_connect(const ConnectFlags& flags) {
  ClientOptions options;
  options.protocols = flags.protocols;
  options.max_payload = flags.max_payload;
  options.close_timeout = to_ms(flags.close_timeout);
  options.handshake_timeout = to_ms(flags.handshake_timeout);
  options.max_redirects = flags.max_redirects;
  options.per_message_deflate.enabled = flags.deflate;
  options.per_message_deflate.threshold = flags.deflate_threshold;
  options.ca_file = flags.ca_file;
  options.cert_file = flags.cert_file;
  options.key_file = flags.key_file;
  options.server_name = flags.server_name;
  options.insecure = flags.insecure;
  if (flags.no_proxy) {
    options.proxy = "";
  } else if (!flags.proxy.empty()) {
    options.proxy = flags.proxy;
  }
  for (const std::string& header : flags.headers) {
    const size_t colon = header.find(':');
    if (colon == std::string::npos || colon == 0) {
      std::cerr << "duplex connect: --header needs 'Name: value', got '" << header << "'\n";
      return 2;
    }
    std::string value = header.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    options.headers.emplace_back(header.substr(0, colon), value);
  }

  io::EventLoop loop;
  std::unique_ptr<WebSocketClient> ws;
  try {
    ws = std::make_unique<WebSocketClient>(loop, flags.url, options);
  } catch (const std::invalid_argument& e) {
    std::cerr << "duplex connect: " << e.what() << "\n";
    return 2;
  }

  const bool interactive = isatty(STDIN_FILENO) && flags.execute.empty() && !flags.echo;
  std::string failure;
  int status = 1;
  int interrupts = 0;
  Delay close_later([&] { ws->close(1000); });
  StdinLines input(
      loop, [&](std::string_view line) { ws->send(line); },
      [&] { loop.schedule(close_later, static_cast<uint64_t>(to_ms(flags.wait).count())); });

  ws->onopen = [&] {
    if (interactive) {
      std::cerr << "connected to " << ws->url()
                << (ws->protocol().empty() ? "" : " (subprotocol " + ws->protocol() + ")")
                << (ws->extensions().empty() ? "" : " (extensions " + ws->extensions() + ")")
                << "; type messages, Ctrl-D to close\n";
    }
    if (flags.echo) return;
    if (!flags.execute.empty()) {
      for (const std::string& message : flags.execute) ws->send(message);
      loop.schedule(close_later, static_cast<uint64_t>(to_ms(flags.wait).count()));
      return;
    }
    input.start();
  };
  ws->onmessage = [&](const MessageEvent& e) {
    if (flags.echo) {
      ws->send(e.data, e.type);
      return;
    }
    std::string line = e.type == MessageType::text ? std::string(e.data) : describe_binary(e.data);
    std::printf("< %s\n", line.c_str());
    std::fflush(stdout);
  };
  ws->onerror = [&](std::string_view message) {
    if (failure.empty()) failure = message;
  };
  ws->onclose = [&](const CloseEvent& e) {
    if (failure.empty()) {
      if (!e.was_clean) {
        failure = "connection closed without a close frame (1006)";
      } else if (e.code != 1000 && e.code != 1001 && e.code != 1005) {
        failure = "closed with " + std::to_string(e.code) +
                  (e.reason.empty() ? "" : " (" + std::string(e.reason) + ")");
      }
    }
    status = failure.empty() ? 0 : 1;
    loop.stop();
  };
  // Ctrl-C closes politely; a second one gives up at once.
  loop.on_signal(SIGINT, [&] {
    if (++interrupts > 1 || ws->ready_state() != ReadyState::open) {
      failure = "interrupted";
      status = 130;
      loop.stop();
      return;
    }
    ws->close(1000);
  });
  loop.on_signal(SIGPIPE, [] {});

  loop.run();
  if (!failure.empty()) std::cerr << "duplex connect: " << failure << "\n";
  return status;
}

}  // namespace

void add_connect_command(CLI::App& cli, int& exit_status) {
  auto flags = std::make_shared<ConnectFlags>();
  CLI::App* cmd = cli.add_subcommand(
      "connect",
      "Connect to a WebSocket server. Lines typed (or piped) are sent as text; messages "
      "received are printed as '< text' or '< [binary N bytes] hex'. End of input closes with "
      "1000. Exit status 0 after a clean close (1000, 1001 or none), 1 otherwise with a "
      "one-line reason on stderr, 2 for a bad argument.");
  cmd->add_option("url", flags->url, "ws://host[:port]/path?query or wss://...")->required();
  cmd->add_option("-p,--protocol", flags->protocols, "Offer this subprotocol (repeatable)");
  cmd->add_option("-H,--header", flags->headers,
                  "Extra request header 'Name: value' (repeatable), e.g. Origin or Cookie");
  cmd->add_option("-x,--execute", flags->execute,
                  "Send this text once connected (repeatable, in order), then close after --wait "
                  "instead of reading standard input");
  cmd->add_option("-w,--wait", flags->wait,
                  "Seconds to wait for replies after the last message sent, before closing")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--echo", flags->echo,
                "Send every message received straight back with its type, until the server "
                "closes (a conformance testee)");
  cmd->add_option("--max-payload", flags->max_payload,
                  "Largest message accepted in bytes; larger ones close with 1009")
      ->capture_default_str();
  cmd->add_option("--close-timeout", flags->close_timeout,
                  "Seconds to wait for the server to finish closing")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--handshake-timeout", flags->handshake_timeout,
                  "Seconds allowed to connect and upgrade")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("--max-redirects", flags->max_redirects,
                  "Follow up to this many HTTP redirects (default: none, as browsers)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--proxy", flags->proxy,
                  "HTTP proxy 'http://[user:pass@]host:port' to tunnel through with CONNECT "
                  "(default: http_proxy/https_proxy/all_proxy with no_proxy)");
  cmd->add_flag("--no-proxy", flags->no_proxy, "Ignore proxy settings from the environment");
  cmd->add_flag("--deflate", flags->deflate,
                "Offer permessage-deflate (RFC 7692) as browsers do; an answer that breaks the "
                "offer fails the handshake");
  cmd->add_option("--deflate-threshold", flags->deflate_threshold,
                  "With --deflate, messages smaller than this many bytes are sent uncompressed")
      ->capture_default_str();
  cmd->add_option("--ca-file", flags->ca_file,
                  "For wss://: trust only the CA certificates in this PEM file (default: the "
                  "system's CA store)")
      ->check(CLI::ExistingFile);
  CLI::Option* cert = cmd->add_option("--cert", flags->cert_file,
                                      "For wss://: client certificate chain (PEM) for servers "
                                      "that require one")
                          ->check(CLI::ExistingFile);
  CLI::Option* key = cmd->add_option("--key", flags->key_file, "Private key (PEM) for --cert")
                         ->check(CLI::ExistingFile);
  cert->needs(key);
  key->needs(cert);
  cmd->add_option("--server-name", flags->server_name,
                  "For wss://: the name to ask for (SNI) and check in the certificate, instead "
                  "of the URL's host");
  cmd->add_flag("--insecure", flags->insecure,
                "For wss://: do not verify the server's certificate or name (tests only; "
                "prints a warning)");
  cmd->callback([flags, &exit_status] { exit_status = run_connect(*flags); });
}

}  // namespace duplex::app
