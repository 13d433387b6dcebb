// The command line of the conformance servers (engineio_echo_server, socketio_protocol_server):
// `--port P` (3000 by default, 0 picks a free one) and `--threads N` (1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

struct ConformanceFlags {
  uint16_t port = 3000;
  size_t threads = 1;
};

/// The flags, or nullopt (after printing the usage) when they do not parse.
inline std::optional<ConformanceFlags> parse_conformance_flags(int argc, char** argv) {
  ConformanceFlags flags;
  for (int i = 1; i < argc; i += 2) {
    const bool has_value = i + 1 < argc;
    if (has_value && std::strcmp(argv[i], "--port") == 0) {
      flags.port = static_cast<uint16_t>(std::atoi(argv[i + 1]));
    } else if (has_value && std::strcmp(argv[i], "--threads") == 0) {
      flags.threads = static_cast<size_t>(std::atoi(argv[i + 1]));
    } else {
      std::fprintf(stderr, "usage: %s [--port P] [--threads N]\n", argv[0]);
      return std::nullopt;
    }
  }
  return flags;
}
