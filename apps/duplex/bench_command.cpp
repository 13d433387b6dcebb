#include "bench_command.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <variant>

#include "load_generator.hpp"
#include "process_stats.hpp"
#include "pubsub_generator.hpp"

namespace duplex::app {

namespace {

struct BenchFlags {
  std::string url = "ws://127.0.0.1:8080/echo";
  int connections = 100;
  size_t size = 512;
  bool binary = false;
  bool deflate = false;
  std::string payload_file;
  std::string ca_file;
  bool insecure = false;
  int inflight = 1;
  double duration = 10;
  double warmup = 2;
  uint64_t messages = 0;
  std::vector<pid_t> server_pids;  // --server-pid, repeatable: their CPU times are summed
  std::vector<std::string> nodes;  // --node: more servers for the subscribers
  bool idle = false;
  bool pubsub = false;
  bool sse = false;
  std::string sse_path = "/sse";
  bool poll = false;
  std::string poll_path = "/poll";
  std::string socketio;  // "echo" or "room": Socket.IO clients (empty: not)
  std::string sockjs;    // "echo" or "fanout": SockJS clients (empty: not)
  std::string stomp;     // "topic" or "queue": STOMP clients (empty: not)
  int subscribers = 1000;
  int publishers = 1;
  int topics = 1;
  int source_addresses = 0;
  bool json = false;
  bool quiet = false;
  std::string label;
};

// Connections from one source address to one destination are limited by the ephemeral port
// range (about 28,000 by default); loopback has a whole /8 of sources to spread over.
constexpr int kConnectionsPerSource = 20000;

// The smallest --sockjs echo message: its 8 hex digits.
constexpr size_t kSockjsLeast = 8;

std::string with_commas(double value) {
  std::string digits = std::to_string(static_cast<long long>(std::llround(value)));
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(i, ",");
  return digits;
}

std::string fixed(double value, int decimals) {
  char text[64];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string micros(uint64_t ns) { return fixed(static_cast<double>(ns) / 1000.0, 1); }

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// Server-side figures sampled around the measured window.
struct ServerSamples {
  std::optional<double> cpu_start, cpu_end;
  std::optional<long long> rss_before, rss_after;
  double own_cpu_start = 0, own_cpu_end = 0;
};

class ProgressLine {
 public:
  explicit ProgressLine(bool enabled) : enabled_(enabled), tty_(isatty(STDERR_FILENO) == 1) {}
  ~ProgressLine() { finish(); }

  void show(const std::string& text) {
    if (!enabled_) return;
    if (tty_) {
      std::cerr << "\r\033[K" << text << std::flush;
      shown_ = true;
    } else {
      std::cerr << text << "\n";
    }
  }
  void finish() {
    if (shown_) std::cerr << "\n";
    shown_ = false;
  }

 private:
  bool enabled_, tty_, shown_ = false;
};

const char* phase_name(Progress::Phase phase) {
  switch (phase) {
    case Progress::Phase::connecting:
      return "connecting";
    case Progress::Phase::baseline:
      return "baseline";
    case Progress::Phase::subscribing:
      return "subscribing";
    case Progress::Phase::warming_up:
      return "warming up";
    case Progress::Phase::measuring:
      return "measuring";
    case Progress::Phase::holding:
      return "holding idle";
    case Progress::Phase::done:
      return "done";
  }
  return "";
}

std::string describe_load(const BenchFlags& flags, const LoadOptions& options) {
  std::ostringstream out;
  out << options.target.url.to_string() << ": " << with_commas(options.connections);
  if (!options.event_stream_target.empty()) {
    out << " SSE streams (GET " << options.event_stream_target << ")";
  } else if (options.socketio) {
    out << " Socket.IO clients (WebSocket)";
  } else if (options.sockjs) {
    out << " SockJS clients (websocket transport)";
  } else if (options.stomp) {
    out << " STOMP clients (CONNECTed, no subscription)";
  } else {
    out << " connections";
  }
  if (flags.idle) {
    out << ", idle for " << fixed(flags.duration, 0) << " s";
  } else {
    out << " x " << with_commas(static_cast<double>(options.message_size)) << " B "
        << (options.socketio ? "\"echo\" emits"
            : options.sockjs ? "messages"
            : options.binary ? "binary"
                             : "text")
        << (options.deflate ? " compressed" : "") << ", " << options.inflight << " in flight, "
        << fixed(flags.duration, 0) << " s after " << fixed(flags.warmup, 0) << " s warm-up";
  }
  return out.str();
}

std::optional<double> server_cpu_seconds(const ServerSamples& server) {
  if (server.cpu_start && server.cpu_end) return *server.cpu_end - *server.cpu_start;
  return std::nullopt;
}

std::string latency_json(const LatencyHistogram& h) {
  return "\"latency_us\":{\"p50\":" + micros(h.quantile(0.5)) +
         ",\"p90\":" + micros(h.quantile(0.9)) + ",\"p99\":" + micros(h.quantile(0.99)) +
         ",\"p999\":" + micros(h.quantile(0.999)) + ",\"max\":" + micros(h.max()) +
         ",\"mean\":" + fixed(h.mean() / 1000.0, 1) + "}";
}

std::string errors_json(uint64_t errors, const std::vector<std::string>& samples) {
  std::string out = "\"errors\":" + std::to_string(errors) + ",\"error_samples\":[";
  for (size_t i = 0; i < samples.size(); ++i) out += (i ? "," : "") + json_string(samples[i]);
  return out + "]";
}

// The human report's lines on server CPU, generator CPU and latency; `unit` names what is
// counted per server CPU-second.
void print_costs(const ServerSamples& server, double seconds, uint64_t count, const char* unit,
                 const LatencyHistogram& latency) {
  const double own_share = (server.own_cpu_end - server.own_cpu_start) / seconds;
  if (const auto cpu = server_cpu_seconds(server)) {
    std::cout << "  server CPU       " << fixed(*cpu, 2) << " s (" << fixed(100 * *cpu / seconds, 1)
              << "% of a core): " << with_commas(*cpu > 0 ? static_cast<double>(count) / *cpu : 0)
              << " " << unit << " per server CPU-second\n";
  } else {
    std::cout << "  server CPU       unknown (pass --server-pid)\n";
  }
  std::cout << "  generator CPU    " << fixed(100 * own_share, 1) << "% of a core"
            << (own_share > 0.95 ? " (saturated: the generator may be the limit)" : "") << "\n";
  std::cout << "  latency (us)     p50 " << micros(latency.quantile(0.5)) << "  p90 "
            << micros(latency.quantile(0.9)) << "  p99 " << micros(latency.quantile(0.99))
            << "  p99.9 " << micros(latency.quantile(0.999)) << "  max " << micros(latency.max())
            << "\n";
}

void print_errors(uint64_t errors, const std::vector<std::string>& samples) {
  std::cout << "  errors           " << errors << "\n";
  for (const std::string& e : samples) std::cout << "    " << e << "\n";
}

// The server's CPU figures for the --json line, with `count` things done in the window.
std::string server_cpu_json(const ServerSamples& server, double seconds, uint64_t count,
                            const char* per_cpu_key) {
  const auto cpu = server_cpu_seconds(server);
  if (!cpu) return "";
  return ",\"server_cpu_seconds\":" + fixed(*cpu, 3) +
         ",\"server_cpu_share\":" + fixed(*cpu / seconds, 4) + ",\"" + per_cpu_key +
         "\":" + fixed(*cpu > 0 ? static_cast<double>(count) / *cpu : 0, 1);
}

void print_report(const BenchFlags& flags, const LoadOptions& options, const LoadResult& result,
                  const ServerSamples& server) {
  const LoadWindow& w = result.window;
  const double seconds = w.seconds > 0 ? w.seconds : 1;
  const double rate = static_cast<double>(w.messages) / seconds;
  const double mb_per_s = static_cast<double>(w.bytes) / seconds / 1e6;
  const double own_share = (server.own_cpu_end - server.own_cpu_start) / seconds;
  std::optional<double> rss_per_connection;
  const int measured_connections = result.opened - result.baseline_opened;
  if (server.rss_before && server.rss_after && measured_connections > 0) {
    rss_per_connection =
        static_cast<double>(*server.rss_after - *server.rss_before) / measured_connections;
  }

  if (flags.json) {
    std::ostringstream out;
    out << "{\"label\":" << json_string(flags.label)
        << ",\"url\":" << json_string(options.target.url.to_string())
        << ",\"connections\":" << options.connections << ",\"opened\":" << result.opened;
    if (!options.event_stream_target.empty()) {
      out << ",\"mode\":\"sse\",\"stream_target\":" << json_string(options.event_stream_target);
    } else if (options.socketio) {
      out << ",\"mode\":\"socketio\",\"transport\":\"websocket\"";
    } else if (options.sockjs) {
      out << ",\"mode\":\"sockjs\",\"transport\":\"websocket\"";
    } else if (options.stomp) {
      out << ",\"mode\":\"stomp\"";
    }
    if (flags.idle) {
      out << ",\"idle_seconds\":" << fixed(flags.duration, 3)
          << ",\"baseline_connections\":" << result.baseline_opened;
      if (server.rss_before) out << ",\"server_rss_before\":" << *server.rss_before;
      if (server.rss_after) out << ",\"server_rss_after\":" << *server.rss_after;
      if (rss_per_connection) {
        out << ",\"server_rss_per_connection\":" << fixed(*rss_per_connection, 1);
      }
    } else {
      out << ",\"size\":" << options.message_size
          << ",\"binary\":" << (options.binary ? "true" : "false")
          << ",\"deflate\":" << (options.deflate ? "true" : "false")
          << ",\"inflight\":" << options.inflight << ",\"seconds\":" << fixed(seconds, 3)
          << ",\"messages\":" << w.messages << ",\"msg_per_s\":" << fixed(rate, 1)
          << ",\"mb_per_s\":" << fixed(mb_per_s, 2);
      out << server_cpu_json(server, seconds, w.messages, "msg_per_server_cpu_s")
          << ",\"generator_cpu_share\":" << fixed(own_share, 4) << "," << latency_json(w.latency);
    }
    out << "," << errors_json(result.errors, result.first_errors) << "}";
    std::cout << out.str() << std::endl;
    return;
  }

  std::cout << "duplex bench " << describe_load(flags, options) << "\n";
  std::cout << "  connections      " << with_commas(result.opened) << " open of "
            << with_commas(options.connections) << "\n";
  if (flags.idle) {
    if (rss_per_connection) {
      std::cout << "  server RSS       " << with_commas(*server.rss_before / 1024.0) << " KiB -> "
                << with_commas(*server.rss_after / 1024.0)
                << " KiB: " << with_commas(*rss_per_connection) << " B per "
                << (!options.event_stream_target.empty()                  ? "stream"
                    : options.socketio || options.sockjs || options.stomp ? "client"
                                                                          : "connection")
                << "\n";
    } else {
      std::cout << "  server RSS       unknown (pass --server-pid)\n";
    }
  } else {
    std::cout << "  messages         " << with_commas(static_cast<double>(w.messages)) << " in "
              << fixed(seconds, 2) << " s: " << with_commas(rate) << " msg/s, "
              << fixed(mb_per_s, 1) << " MB/s\n";
    print_costs(server, seconds, w.messages, "msg", w.latency);
  }
  print_errors(result.errors, result.first_errors);
}

void print_pubsub_report(const BenchFlags& flags, const PubsubOptions& options,
                         const PubsubResult& result, const ServerSamples& server) {
  const double seconds = result.seconds > 0 ? result.seconds : 1;
  const double rate = static_cast<double>(result.deliveries) / seconds;
  const double publish_rate = static_cast<double>(result.publishes) / seconds;
  const double mb_per_s = static_cast<double>(result.delivered_bytes) / seconds / 1e6;
  const int per_topic = options.subscribers / options.topics;
  const int connections = options.subscribers + options.publishers;
  const SubscriberKind kind = options.subscriber_kind;
  const char* mode = kind == SubscriberKind::event_stream  ? "sse"
                     : kind == SubscriberKind::long_poll   ? "poll"
                     : kind == SubscriberKind::socketio    ? "socketio_room"
                     : kind == SubscriberKind::sockjs      ? "sockjs_fanout"
                     : kind == SubscriberKind::stomp_topic ? "stomp_topic"
                     : kind == SubscriberKind::stomp_queue ? "stomp_queue"
                                                           : "pubsub";
  if (flags.json) {
    const double own_share = (server.own_cpu_end - server.own_cpu_start) / seconds;
    std::ostringstream out;
    out << "{\"label\":" << json_string(flags.label)
        << ",\"url\":" << json_string(options.target.url.to_string()) << ",\"mode\":\"" << mode
        << "\"";
    if (kind == SubscriberKind::event_stream || kind == SubscriberKind::long_poll) {
      out << ",\"" << mode << "_path\":" << json_string(options.subscriber_path);
    } else if (kind == SubscriberKind::socketio || kind == SubscriberKind::sockjs) {
      out << ",\"transport\":\"websocket\"";
    }
    out << ",\"subscribers\":" << options.subscribers << ",\"publishers\":" << options.publishers
        << ",\"topics\":" << options.topics << ",\"subscribers_per_topic\":" << per_topic
        << ",\"connections\":" << connections << ",\"opened\":" << result.opened
        << ",\"size\":" << options.data_size << ",\"inflight\":" << options.inflight
        << ",\"seconds\":" << fixed(seconds, 3) << ",\"publishes\":" << result.publishes
        << ",\"deliveries\":" << result.deliveries << ",\"undelivered\":" << result.undelivered
        << (kind == SubscriberKind::long_poll
                ? ",\"poll_answers\":" + std::to_string(result.poll_answers)
                : "")
        << ",\"deliveries_per_s\":" << fixed(rate, 1)
        << ",\"publishes_per_s\":" << fixed(publish_rate, 1)
        << ",\"mb_per_s\":" << fixed(mb_per_s, 2)
        << server_cpu_json(server, seconds, result.deliveries, "deliveries_per_server_cpu_s")
        << ",\"generator_cpu_share\":" << fixed(own_share, 4) << "," << latency_json(result.latency)
        << "," << errors_json(result.errors, result.first_errors) << "}";
    std::cout << out.str() << std::endl;
    return;
  }
  std::string subscribers = " subscribers";
  if (kind == SubscriberKind::event_stream) {
    subscribers = " SSE streams (GET " + options.subscriber_path + "?topic=tK)";
  } else if (kind == SubscriberKind::long_poll) {
    subscribers = " long polls (GET " + options.subscriber_path + "?topic=tK&cursor=C)";
  } else if (kind == SubscriberKind::socketio) {
    subscribers = " Socket.IO clients (WebSocket)";
  } else if (kind == SubscriberKind::sockjs) {
    subscribers = " SockJS clients (websocket transport)";
  } else if (kind == SubscriberKind::stomp_topic) {
    subscribers = " STOMP subscribers of /topic/tK";
  } else if (kind == SubscriberKind::stomp_queue) {
    subscribers = " STOMP consumers (client-individual acks) of /queue/tK";
  }
  const bool rooms = kind == SubscriberKind::socketio;
  std::cout << "duplex bench --"
            << (kind == SubscriberKind::socketio      ? "socketio room"
                : kind == SubscriberKind::sockjs      ? "sockjs fanout"
                : kind == SubscriberKind::stomp_topic ? "stomp topic"
                : kind == SubscriberKind::stomp_queue ? "stomp queue"
                                                      : mode)
            << " " << options.target.url.to_string() << ": " << with_commas(options.subscribers)
            << subscribers;
  if (kind == SubscriberKind::sockjs) {
    std::cout << " in one chat (with the publishers, "
              << with_commas(options.subscribers + options.publishers)
              << " sessions, each sent every message), ";
  } else {
    std::cout << " on " << with_commas(options.topics)
              << (rooms                                 ? " rooms ("
                  : kind == SubscriberKind::stomp_queue ? " queues ("
                                                        : " topics (")
              << with_commas(per_topic) << " each), ";
  }
  std::cout << with_commas(options.publishers)
            << (rooms ? " emitters of \"broadcast\" x " : " publishers x ") << options.inflight
            << " in flight, " << with_commas(static_cast<double>(options.data_size)) << " B data, "
            << fixed(flags.duration, 0) << " s after " << fixed(flags.warmup, 0) << " s warm-up\n";
  std::cout << "  connections      " << with_commas(result.opened) << " open of "
            << with_commas(connections) << "\n";
  std::cout << "  publishes        " << with_commas(static_cast<double>(result.publishes)) << " in "
            << fixed(seconds, 2) << " s: " << with_commas(publish_rate) << " publishes/s\n";
  std::cout << "  deliveries       " << with_commas(static_cast<double>(result.deliveries)) << ": "
            << with_commas(rate) << " deliveries/s, " << fixed(mb_per_s, 1) << " MB/s";
  if (result.undelivered > 0) {
    std::cout << ", " << with_commas(static_cast<double>(result.undelivered)) << " missing";
  }
  std::cout << "\n";
  if (kind == SubscriberKind::long_poll) {
    const double answers = static_cast<double>(result.poll_answers);
    std::cout << "  polls answered   " << with_commas(answers) << ": "
              << with_commas(answers / seconds) << " answers/s, "
              << fixed(answers > 0 ? static_cast<double>(result.deliveries) / answers : 0, 2)
              << " messages each\n";
  }
  print_costs(server, seconds, result.deliveries, "deliveries", result.latency);
  print_errors(result.errors, result.first_errors);
}

// Spreads connections over 127.0.0.1, .2, ... when one source address would run out of ports.
std::vector<io::SocketAddress> source_addresses(const BenchFlags& flags, int connections,
                                                const io::SocketAddress& target) {
  int count = flags.source_addresses;
  const bool loopback4 =
      target.storage.ss_family == AF_INET &&
      (ntohl(reinterpret_cast<const sockaddr_in*>(&target.storage)->sin_addr.s_addr) >> 24) == 127;
  if (count == 0 && loopback4 && connections > kConnectionsPerSource) {
    count = (connections + kConnectionsPerSource - 1) / kConnectionsPerSource;
  }
  if (count > 0 && !loopback4) {
    throw std::invalid_argument("--source-addresses needs an IPv4 loopback target (127.x.x.x)");
  }
  std::vector<io::SocketAddress> sources(count);
  for (int i = 0; i < count; ++i) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&sources[i].storage);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl((127u << 24) | static_cast<uint32_t>(i + 1));
    sources[i].length = sizeof(sockaddr_in);
  }
  return sources;
}

// Parses `text` into `url`: 0, or 2 (a bad argument) after printing why behind `prefix`.
int parse_url(const std::string& text, const std::string& prefix, core::WebSocketUrl& url) {
  auto parsed = core::parse_websocket_url(text);
  if (auto* error = std::get_if<std::string>(&parsed)) {
    std::cerr << prefix << *error << "\n";
    return 2;
  }
  url = std::get<core::WebSocketUrl>(parsed);
  return 0;
}

// Resolves the URL's host into `address` (the first answer): 0, or 1 after printing why.
int resolve_url(const core::WebSocketUrl& url, const std::string& prefix,
                io::SocketAddress& address) {
  std::string resolve_error;
  const auto addresses = io::resolve_tcp(url.host, url.port, resolve_error);
  if (addresses.empty()) {
    std::cerr << prefix << resolve_error << "\n";
    return 1;
  }
  address = addresses.front();
  return 0;
}

// Parses and resolves the URL, sets up TLS and the source addresses, checks --server-pid and
// raises the descriptor limit. Returns 0, or the exit status after printing why.
int prepare_target(const BenchFlags& flags, int connections, ClientTarget& target) {
  if (const int status = parse_url(flags.url, "duplex bench: ", target.url)) return status;
  if (target.url.secure) {
    try {
      target.tls =
          io::TlsClientContext::get({.ca_file = flags.ca_file, .insecure = flags.insecure});
    } catch (const std::runtime_error& e) {
      std::cerr << "duplex bench: " << e.what() << "\n";
      return 1;
    }
  }
  if (const int status = resolve_url(target.url, "duplex bench: ", target.address)) return status;
  try {
    target.sources = source_addresses(flags, connections, target.address);
  } catch (const std::invalid_argument& e) {
    std::cerr << "duplex bench: " << e.what() << "\n";
    return 2;
  }
  for (const pid_t pid : flags.server_pids) {
    if (pid <= 0 || !process_cpu_seconds(pid)) {
      std::cerr << "duplex bench: no process " << pid << " (--server-pid)\n";
      return 2;
    }
  }
  // Many connections need many descriptors: raise the soft limit to the hard one.
  raise_descriptor_limit();
  return 0;
}

// Samples the server around the phases (into `server`) and prints a progress line every
// second; `unit` names the rate shown ("msg/s", "deliveries/s").
ProgressCallback progress_printer(const BenchFlags& flags, ServerSamples& server,
                                  ProgressLine& line, const char* unit) {
  double last_elapsed = 0;
  uint64_t last_messages = 0;
  std::optional<double> last_cpu;
  // RSS is the first server's; CPU time is every server's, summed.
  const pid_t pid = flags.server_pids.empty() ? 0 : flags.server_pids.front();
  const std::vector<pid_t> pids = flags.server_pids;
  return [=, &server, &line](const Progress& p, ProgressMoment moment) mutable {
    const auto cpu_now = [&pids]() -> std::optional<double> {
      if (pids.empty()) return std::nullopt;
      double sum = 0;
      for (const pid_t each : pids) {
        const auto cpu = process_cpu_seconds(each);
        if (!cpu) return std::nullopt;
        sum += *cpu;
      }
      return sum;
    };
    if (moment == ProgressMoment::started) {
      last_elapsed = 0;
      last_messages = 0;
      last_cpu = cpu_now();
      if (p.phase == Progress::Phase::connecting && pid > 0) {
        server.rss_before = process_rss_bytes(pid);
      }
      if (p.phase == Progress::Phase::measuring) {
        server.cpu_start = last_cpu;
        server.own_cpu_start = own_cpu_seconds();
      }
      if (p.phase == Progress::Phase::done) line.finish();
      return;
    }
    if (moment == ProgressMoment::ended) {
      // Sampled before the connections close, so closing them is not part of the window.
      if (p.phase == Progress::Phase::measuring) {
        server.cpu_end = cpu_now();
        server.own_cpu_end = own_cpu_seconds();
      }
      if (p.phase == Progress::Phase::holding && pid > 0) {
        server.rss_after = process_rss_bytes(pid);
      }
      if (p.phase == Progress::Phase::baseline && pid > 0) {
        server.rss_before = process_rss_bytes(pid);
      }
      return;
    }
    std::ostringstream text;
    text << "bench: " << phase_name(p.phase) << " " << fixed(p.elapsed, 0);
    if (p.phase_seconds > 0) text << "/" << fixed(p.phase_seconds, 0);
    text << " s, " << with_commas(p.open) << " open";
    if (p.phase == Progress::Phase::subscribing) {
      text << ", " << with_commas(static_cast<double>(p.messages)) << " subscribed";
    }
    const double span = p.elapsed - last_elapsed;
    if (span > 0 &&
        (p.phase == Progress::Phase::warming_up || p.phase == Progress::Phase::measuring)) {
      text << ", " << with_commas(static_cast<double>(p.messages - last_messages) / span) << " "
           << unit;
      if (const auto cpu = cpu_now(); cpu && last_cpu) {
        text << ", server CPU " << fixed(100 * (*cpu - *last_cpu) / span, 0) << "%";
        last_cpu = cpu;
      }
    }
    last_elapsed = p.elapsed;
    last_messages = p.messages;
    line.show(text.str());
  };
}

// The Socket.IO echo's packet: the event "echo" with one small JSON object, its text padded so
// that the whole packet is `size` bytes; empty when it cannot be that small.
std::string socketio_echo_packet(size_t size) {
  static constexpr std::string_view kHead = "42[\"echo\",{\"text\":\"";
  static constexpr std::string_view kText = "abcdefghijklmnopqrstuvwxyz0123456789 ";
  const std::string tail = "\",\"n\":" + std::to_string(size) + "}]";
  if (size < kHead.size() + tail.size()) return "";
  std::string packet(kHead);
  for (size_t i = 0; packet.size() + tail.size() < size; ++i) packet += kText[i % kText.size()];
  return packet + tail;
}

int run_echo(const BenchFlags& flags) {
  if (!flags.nodes.empty()) {
    std::cerr << "duplex bench: --node needs a publish/subscribe load (--pubsub, --sse, "
                 "--poll, --socketio room, --stomp)\n";
    return 2;
  }
  LoadOptions options;
  if (const int status = prepare_target(flags, flags.connections, options.target)) return status;
  if (!flags.socketio.empty()) {
    options.socketio = true;
    options.payload = socketio_echo_packet(flags.size);
    if (options.payload.empty()) {
      size_t least = flags.size;
      while (socketio_echo_packet(least).empty()) ++least;
      std::cerr << "duplex bench: --socketio echo needs -s of at least " << least
                << " (the packet's size)\n";
      return 2;
    }
  }
  if (!flags.sockjs.empty()) {
    options.sockjs = true;
    if (flags.size < kSockjsLeast) {
      std::cerr << "duplex bench: --sockjs echo needs -s of at least " << kSockjsLeast
                << " (each message starts with 8 hex digits)\n";
      return 2;
    }
  }
  options.stomp = !flags.stomp.empty();  // held idle only
  if (!flags.payload_file.empty()) {
    std::ifstream in(flags.payload_file, std::ios::binary);
    if (!in) {
      std::cerr << "duplex bench: cannot read " << flags.payload_file << "\n";
      return 1;
    }
    options.payload.assign(std::istreambuf_iterator<char>(in), {});
    if (options.payload.empty()) {
      std::cerr << "duplex bench: " << flags.payload_file << " is empty\n";
      return 1;
    }
  }
  options.connections = flags.connections;
  options.message_size = options.payload.empty() ? flags.size : options.payload.size();
  options.binary = flags.binary;
  options.deflate = flags.deflate;
  options.inflight = flags.inflight;
  options.warmup_seconds = flags.warmup;
  options.duration_seconds = flags.duration;
  options.max_messages = flags.messages;
  options.idle = flags.idle;
  if (flags.sse) options.event_stream_target = flags.sse_path + "?topic=t0";
  // Memory per connection is the growth past a first 1% (one-time costs land there).
  if (flags.idle) options.baseline_connections = std::max(1, flags.connections / 100);

  ServerSamples server;
  ProgressLine line(!flags.quiet);
  LoadGenerator generator(options);
  generator.on_progress = progress_printer(flags, server, line, "msg/s");
  const LoadResult result = generator.run();
  print_report(flags, options, result, server);
  return result.errors > 0 ? 1 : 0;
}

int run_pubsub(const BenchFlags& flags) {
  PubsubOptions options;
  options.subscribers = flags.subscribers;
  options.publishers = flags.publishers;
  options.topics = flags.topics;
  options.data_size = flags.size;
  options.inflight = flags.inflight;
  options.warmup_seconds = flags.warmup;
  options.duration_seconds = flags.duration;
  if (flags.sse) {
    options.subscriber_kind = SubscriberKind::event_stream;
    options.subscriber_path = flags.sse_path;
  } else if (flags.poll) {
    options.subscriber_kind = SubscriberKind::long_poll;
    options.subscriber_path = flags.poll_path;
  } else if (!flags.socketio.empty()) {
    options.subscriber_kind = SubscriberKind::socketio;
  } else if (!flags.sockjs.empty()) {
    options.subscriber_kind = SubscriberKind::sockjs;
  } else if (!flags.stomp.empty()) {
    options.subscriber_kind =
        flags.stomp == "queue" ? SubscriberKind::stomp_queue : SubscriberKind::stomp_topic;
  }
  if (flags.binary || flags.deflate || flags.idle || !flags.payload_file.empty() ||
      flags.messages > 0) {
    std::cerr << "duplex bench: "
              << (flags.sse                ? "--sse"
                  : flags.poll             ? "--poll"
                  : !flags.sockjs.empty()  ? "--sockjs fanout"
                  : !flags.stomp.empty()   ? "--stomp"
                  : flags.socketio.empty() ? "--pubsub"
                                           : "--socketio room")
              << " takes none of --binary, --deflate, " << (flags.sse ? "" : "--idle, ")
              << "--payload-file, --messages\n";
    return 2;
  }
  if (const int status =
          prepare_target(flags, flags.subscribers + flags.publishers, options.target)) {
    return status;
  }
  for (const std::string& node : flags.nodes) {
    const std::string prefix = "duplex bench: --node " + node + ": ";
    core::WebSocketUrl url;
    if (const int status = parse_url(node, prefix, url)) return status;
    if (url.secure || url.resource != options.target.url.resource) {
      std::cerr << prefix << "must be ws:// with the URL's path and query ("
                << options.target.url.resource << ")\n";
      return 2;
    }
    if (const int status = resolve_url(url, prefix, options.other_nodes.emplace_back())) {
      return status;
    }
  }
  ServerSamples server;
  ProgressLine line(!flags.quiet);
  PubsubGenerator generator(options);
  generator.on_progress = progress_printer(flags, server, line, "deliveries/s");
  PubsubResult result;
  try {
    result = generator.run();
  } catch (const std::invalid_argument& e) {
    std::cerr << "duplex bench: " << e.what() << "\n";
    return 2;
  }
  print_pubsub_report(flags, options, result, server);
  return result.errors > 0 ? 1 : 0;
}

bool is_path(const std::string& path) {
  return !path.empty() && path[0] == '/' && path.find_first_of("?# ") == std::string::npos;
}

int run_bench(const BenchFlags& flags) {
  if (flags.sse && !is_path(flags.sse_path)) {
    std::cerr << "duplex bench: --sse-path must be a path such as /sse\n";
    return 2;
  }
  if (flags.poll && !is_path(flags.poll_path)) {
    std::cerr << "duplex bench: --poll-path must be a path such as /poll\n";
    return 2;
  }
  if (flags.poll && (flags.sse || flags.pubsub)) {
    std::cerr << "duplex bench: --poll takes neither --sse nor --pubsub\n";
    return 2;
  }
  if (!flags.stomp.empty()) {
    if (flags.pubsub || flags.sse || flags.poll || !flags.socketio.empty() ||
        !flags.sockjs.empty()) {
      std::cerr << "duplex bench: --stomp takes none of --pubsub, --sse, --poll, --socketio, "
                   "--sockjs\n";
      return 2;
    }
    if (!flags.idle) return run_pubsub(flags);
    if (flags.binary || flags.deflate || !flags.payload_file.empty()) {
      std::cerr << "duplex bench: --stomp --idle takes none of --binary, --deflate, "
                   "--payload-file\n";
      return 2;
    }
    return run_echo(flags);
  }
  if (!flags.sockjs.empty()) {
    if (flags.pubsub || flags.sse || flags.poll || !flags.socketio.empty()) {
      std::cerr << "duplex bench: --sockjs takes none of --pubsub, --sse, --poll, --socketio\n";
      return 2;
    }
    if (flags.sockjs == "fanout") return run_pubsub(flags);
    if (flags.binary || flags.deflate || !flags.payload_file.empty() || flags.idle) {
      std::cerr << "duplex bench: --sockjs echo takes none of --binary, --deflate, "
                   "--payload-file, --idle\n";
      return 2;
    }
    return run_echo(flags);
  }
  if (!flags.socketio.empty()) {
    if (flags.pubsub || flags.sse || flags.poll) {
      std::cerr << "duplex bench: --socketio takes none of --pubsub, --sse, --poll\n";
      return 2;
    }
    if (flags.socketio == "room") return run_pubsub(flags);
    if (flags.binary || flags.deflate || !flags.payload_file.empty()) {
      std::cerr << "duplex bench: --socketio echo takes none of --binary, --deflate, "
                   "--payload-file\n";
      return 2;
    }
    return run_echo(flags);
  }
  if (flags.sse && flags.idle) {
    if (flags.pubsub || flags.binary || flags.deflate || !flags.payload_file.empty()) {
      std::cerr << "duplex bench: --sse --idle takes none of --pubsub, --binary, --deflate, "
                   "--payload-file\n";
      return 2;
    }
    return run_echo(flags);
  }
  return flags.pubsub || flags.sse || flags.poll ? run_pubsub(flags) : run_echo(flags);
}

}  // namespace

void add_bench_command(CLI::App& cli, int& exit_status) {
  auto flags = std::make_shared<BenchFlags>();
  CLI::App* cmd = cli.add_subcommand(
      "bench",
      "Load generator: opens N connections to a WebSocket echo server, keeps K messages in "
      "flight on each (K=1: send, wait for the echo, send again) and reports msg/s, MB/s, "
      "latency percentiles, its own CPU share and, with --server-pid, the server's CPU time and "
      "messages per server CPU-second. With --idle it holds the connections open without "
      "traffic and reports the server's RSS growth per connection. With --pubsub it drives a "
      "publish/subscribe server (the /pubsub protocol of duplex serve) instead: subscribers, "
      "publishers and topics, reporting deliveries/s and publish-to-receive latency. With --sse "
      "the subscribers are Server-Sent Events streams (GET /sse?topic=tK on the same host and "
      "port) and the publishers /pubsub WebSockets; --sse --idle holds N idle streams and "
      "reports the server's RSS growth per stream. With --poll the subscribers are long polls "
      "(keep-alive HTTP/1.1 connections, each polling GET /poll?topic=tK&cursor=C again as soon "
      "as an answer's batch is read). With --socketio echo the connections are Socket.IO clients "
      "(Engine.IO v4 over WebSocket at the URL's path, as socket.io-client's `path`) emitting "
      "\"echo\" events that the server emits back (duplex serve's Socket.IO app, "
      "docs/socketio.md); with --socketio room, subscribers join rooms (\"join\", with an ack) "
      "and publishers emit \"broadcast\" events that the server emits to the room; --socketio "
      "echo --idle holds N idle Socket.IO clients. With --sockjs echo the connections are SockJS "
      "clients (its websocket transport, at <the URL's path>/<server>/<session>/websocket) "
      "whose messages the server sends back (duplex serve's /sockjs/echo); with --sockjs fanout "
      "they are sessions of one chat (duplex serve's /sockjs/chat), every message of the "
      "publishers sent to every session, theirs too. With --stomp topic the connections are "
      "STOMP 1.2 clients (the URL being the broker's WebSocket, e.g. duplex serve's /stomp or "
      "RabbitMQ's /ws): subscribers of /topic/tK and publishers SENDing to it; with --stomp "
      "queue, consumers of /queue/tK acknowledging each message (client-individual) and "
      "producers; --stomp topic --idle holds N CONNECTed STOMP clients. Exit "
      "status 0 when every connection and message went right, 1 when any failed (the report "
      "still prints), 2 for a bad argument.");
  cmd->add_option("url", flags->url,
                  "Echo server ws://host:port/path or wss://... (with --pubsub, --sse or --poll: "
                  "its /pubsub endpoint; with --socketio: its Socket.IO path, /socket.io/)")
      ->capture_default_str();
  CLI::Option* connections =
      cmd->add_option("-c,--connections", flags->connections,
                      "Connections to open (--socketio echo: 500 by default)")
          ->capture_default_str()
          ->check(CLI::Range(1, 1'000'000));
  cmd->add_option("-s,--size", flags->size,
                  "Message payload size in bytes (with --pubsub, --sse, --poll or --socketio "
                  "room: of the data string, at least 16; --socketio echo: of the whole packet)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{0}, size_t{1} << 30));
  cmd->add_flag("--binary", flags->binary, "Send binary messages (default: text)");
  cmd->add_flag("--deflate", flags->deflate,
                "Offer permessage-deflate (client_no_context_takeover) and send every message "
                "compressed; the server's compressed echoes are counted, not inflated");
  cmd->add_option("--payload-file", flags->payload_file,
                  "Send this file's bytes as every message instead of generated ones (e.g. JSON, "
                  "for compression); --size is then the file's size");
  CLI::Option* inflight =
      cmd->add_option("-k,--inflight", flags->inflight,
                      "Messages in flight per connection (1 = non-pipelined echo); with --pubsub, "
                      "--sse, --poll or --socketio room, publishes in flight per publisher, not "
                      "yet delivered to "
                      "every subscriber (default 16; with --poll, keep it within the server's "
                      "history)")
          ->capture_default_str()
          ->check(CLI::Range(1, 65536));
  cmd->add_option("-d,--duration", flags->duration, "Seconds measured (or held, with --idle)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option("-n,--messages", flags->messages,
                  "End the measured window after this many echoes (or --duration, whichever "
                  "comes first): a fixed amount of work, e.g. for instruction counts");
  cmd->add_option("-w,--warmup", flags->warmup, "Seconds of traffic before measuring")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--server-pid", flags->server_pids,
                  "The server's process id: its CPU time (and RSS with --idle) is read from "
                  "/proc. Repeatable (several nodes, their Redis): the CPU times are summed, "
                  "RSS is the first one's")
      ->allow_extra_args(false);
  cmd->add_option("--node", flags->nodes,
                  "With --pubsub, --socketio room or --stomp topic: another server of the same "
                  "cluster (ws://host:port with the URL's path; repeatable): the subscribers "
                  "are spread over the URL and these nodes in turn, the publishers stay on the "
                  "URL, so every delivery to another node crosses the cluster's backplane")
      ->allow_extra_args(false);
  cmd->add_flag("--idle", flags->idle,
                "Open the connections and hold them for --duration seconds without traffic; "
                "report the server's RSS growth per connection past the first 1% of them (so "
                "one-time costs are left out; needs --server-pid)");
  cmd->add_flag("--pubsub", flags->pubsub,
                "Publish/subscribe load (docs/pubsub-protocol.md): --subscribers connections each "
                "subscribe to one of --topics topics (spread evenly, every answer awaited), "
                "--publishers connections publish -s bytes of data round the topics; every "
                "delivery is checked and timed from its publish");
  cmd->add_flag("--sse", flags->sse,
                "Server-Sent Events: as --pubsub, but the subscribers are event streams, each "
                "one HTTP/1.1 connection sending GET <--sse-path>?topic=tK to the URL's host and "
                "port; each event's data must be the delivery a /pubsub subscriber would get "
                "(checked and timed the same way; --json says \"mode\":\"sse\"). With --idle: "
                "-c streams of topic t0 held open, the server's RSS growth per stream reported");
  cmd->add_option("--sse-path", flags->sse_path, "With --sse: the event streams' path")
      ->capture_default_str();
  cmd->add_flag("--poll", flags->poll,
                "Long polling: as --pubsub, but the subscribers are long polls, each one "
                "keep-alive HTTP/1.1 connection to the URL's host and port sending GET "
                "<--poll-path>?topic=tK, then, as soon as each answer's batch "
                "({\"cursor\":...,\"messages\":[...],\"lost\":[...]}) is read, the next GET with "
                "&cursor=<its cursor>; each message must be the delivery a /pubsub subscriber "
                "would get (checked and timed the same way), and a lost topic or a cursor that "
                "goes back is an error (--json says \"mode\":\"poll\")");
  cmd->add_option("--poll-path", flags->poll_path, "With --poll: the long polls' path")
      ->capture_default_str();
  cmd->add_option("--socketio", flags->socketio,
                  "Socket.IO (v4, over WebSocket; the URL's path is the Engine.IO path, e.g. "
                  "ws://host:port/socket.io/): 'echo': -c clients (default 500) each keep -k "
                  "emits of the event \"echo\" with a JSON object ({\"text\":...,\"n\":...}, the "
                  "whole packet -s bytes) in flight, each emitted back to the sender and compared "
                  "with it; with --idle, the clients connected and held. 'room': as --pubsub, "
                  "topics being rooms: --subscribers clients join room tK (\"join\", acked), "
                  "--publishers clients emit \"broadcast\" (room, -s bytes of string data), which "
                  "the server emits to the room; every delivery checked, timed, counted in order "
                  "(--json says \"mode\":\"socketio\" or \"socketio_room\")")
      ->check(CLI::IsMember({"echo", "room"}));
  cmd->add_option("--sockjs", flags->sockjs,
                  "SockJS 0.3 over its websocket transport (the URL's path is the service's "
                  "prefix, e.g. ws://host:port/sockjs/echo): 'echo': -c clients (default 500) "
                  "each keep -k messages of -s bytes of text in flight, sent as [\"...\"]; each "
                  "echo (from a[\"...\"] frames) must be the message sent, in order, and every "
                  "one still in flight when the window ends must come back. 'fanout': "
                  "--subscribers and --publishers clients are sessions of one chat (ws://host:"
                  "port/sockjs/chat; --topics 1), each publisher sends -s bytes of data that "
                  "every session gets, the publishers too: every delivery checked whole, timed, "
                  "counted in order (--json says \"mode\":\"sockjs\" or \"sockjs_fanout\")")
      ->check(CLI::IsMember({"echo", "fanout"}));
  cmd->add_option("--stomp", flags->stomp,
                  "STOMP 1.2 over WebSocket (subprotocol v12.stomp; CONNECT with login and "
                  "passcode guest, no heart-beats; the URL is the broker's WebSocket): 'topic': as "
                  "--pubsub, --subscribers clients SUBSCRIBE to /topic/tK (each with a receipt, "
                  "awaited) and --publishers clients SEND -s bytes of data to the topics (with a "
                  "content-length); every MESSAGE body checked whole, timed, counted in order. "
                  "'queue': the same over /queue/tK, each message to one consumer "
                  "(ack:client-individual, prefetch-count:16), which ACKs it. With --idle "
                  "(either): -c clients CONNECTed and held, the server's RSS growth per client "
                  "reported (--json says \"mode\":\"stomp\", \"stomp_topic\" or \"stomp_queue\")")
      ->check(CLI::IsMember({"topic", "queue"}));
  cmd->add_option(
         "--subscribers", flags->subscribers,
         "With --pubsub, --sse, --poll, --socketio room or --stomp: subscriber connections "
         "(streams, polls, Socket.IO or STOMP clients)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  cmd->add_option("--publishers", flags->publishers,
                  "With --pubsub, --sse, --poll, --socketio room or --stomp: publisher connections "
                  "(/pubsub WebSockets, or Socket.IO or STOMP clients)")
      ->capture_default_str()
      ->check(CLI::Range(1, 65535));
  cmd->add_option("--topics", flags->topics,
                  "With --pubsub, --sse, --poll, --socketio room or --stomp: topics (rooms, STOMP "
                  "destinations /topic/tK or /queue/tK) t0, t1, ...; must divide --subscribers")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  cmd->add_option("--source-addresses", flags->source_addresses,
                  "Spread connections over 127.0.0.1..127.0.0.N (default: enough of them for "
                  "the connection count, 20,000 each)")
      ->check(CLI::Range(1, 250));
  cmd->add_option("--ca-file", flags->ca_file,
                  "For wss://: trust only the CA certificates in this PEM file (default: the "
                  "system's CA store)")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--insecure", flags->insecure,
                "For wss://: do not verify the server's certificate (tests only; prints a "
                "warning)");
  cmd->add_option("--label", flags->label, "A name copied into the --json output");
  cmd->add_flag("--json", flags->json, "Print the report as one JSON line");
  cmd->add_flag("-q,--quiet", flags->quiet, "No progress line on stderr");
  cmd->callback([flags, inflight, connections, &exit_status] {
    const bool fan_out = flags->pubsub || flags->sse || flags->poll || flags->socketio == "room" ||
                         flags->sockjs == "fanout" || !flags->stomp.empty();
    if (fan_out && inflight->count() == 0) flags->inflight = 16;
    if ((flags->socketio == "echo" || flags->sockjs == "echo") && connections->count() == 0) {
      flags->connections = 500;
    }
    exit_status = run_bench(*flags);
  });
}

}  // namespace duplex::app
