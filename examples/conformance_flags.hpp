// The command line of the conformance servers (engineio_echo_server, socketio_protocol_server,
// sockjs_protocol_server): `--port P` (3000 by default, 0 picks a free one) and `--threads N`
// (1); with `sockjs`, also `--heartbeat-delay S` and `--disconnect-delay S` (seconds, fractions
// allowed), which shorten SockJS's timers for tests, and `--sockjs-url URL` (the client the
// iframe page loads).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>

struct ConformanceFlags {
  uint16_t port = 3000;
  size_t threads = 1;
  std::optional<double> heartbeat_delay;   // seconds
  std::optional<double> disconnect_delay;  // seconds
  std::optional<std::string> sockjs_url;
};

/// The flags, or nullopt (after printing the usage) when they do not parse.
inline std::optional<ConformanceFlags> parse_conformance_flags(int argc, char** argv,
                                                               bool sockjs = false) {
  ConformanceFlags flags;
  for (int i = 1; i < argc; i += 2) {
    const bool has_value = i + 1 < argc;
    if (has_value && std::strcmp(argv[i], "--port") == 0) {
      flags.port = static_cast<uint16_t>(std::atoi(argv[i + 1]));
    } else if (has_value && std::strcmp(argv[i], "--threads") == 0) {
      flags.threads = static_cast<size_t>(std::atoi(argv[i + 1]));
    } else if (sockjs && has_value && std::strcmp(argv[i], "--sockjs-url") == 0) {
      flags.sockjs_url = argv[i + 1];
    } else if (sockjs && has_value && std::strcmp(argv[i], "--heartbeat-delay") == 0) {
      flags.heartbeat_delay = std::atof(argv[i + 1]);
    } else if (sockjs && has_value && std::strcmp(argv[i], "--disconnect-delay") == 0) {
      flags.disconnect_delay = std::atof(argv[i + 1]);
    } else {
      std::fprintf(
          stderr, "usage: %s [--port P] [--threads N]%s\n", argv[0],
          sockjs ? " [--heartbeat-delay S] [--disconnect-delay S] [--sockjs-url URL]" : "");
      return std::nullopt;
    }
  }
  return flags;
}
