// The server's opening handshake, step by step, on a typical browser upgrade request.
#include <benchmark/benchmark.h>

#include <string>
#include <string_view>
#include <variant>

#include "duplex/core/http/http1_parser.hpp"
#include "duplex/core/ws/handshake.hpp"

namespace {

using namespace duplex::core;

constexpr std::string_view kBrowserRequest =
    "GET /chat?room=42 HTTP/1.1\r\n"
    "Host: localhost:8080\r\n"
    "Connection: Upgrade\r\n"
    "Pragma: no-cache\r\n"
    "Cache-Control: no-cache\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36\r\n"
    "Upgrade: websocket\r\n"
    "Origin: http://localhost:8080\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "Accept-Language: en-US,en;q=0.9\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "\r\n";

HttpRequest parsed_request() {
  Http1RequestParser parser;
  HttpRequest req;
  parser.parse(kBrowserRequest, req);
  return req;
}

void BM_Http1ParseUpgradeRequest(benchmark::State& state) {
  Http1RequestParser parser;
  HttpRequest req;
  for (auto _ : state) {
    parser.reset();
    HttpParseResult r = parser.parse(kBrowserRequest, req);
    benchmark::DoNotOptimize(r);
    if (r.status != HttpParseStatus::complete) state.SkipWithError("not parsed");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kBrowserRequest.size()));
}
BENCHMARK(BM_Http1ParseUpgradeRequest);

void BM_ValidateUpgrade(benchmark::State& state) {
  const HttpRequest req = parsed_request();
  for (auto _ : state) {
    auto result = validate_upgrade(req);
    benchmark::DoNotOptimize(result);
    if (!std::holds_alternative<ValidatedUpgrade>(result)) state.SkipWithError("refused");
  }
}
BENCHMARK(BM_ValidateUpgrade);

void BM_AcceptKey(benchmark::State& state) {
  for (auto _ : state) {
    std::string accept = websocket_accept_key("dGhlIHNhbXBsZSBub25jZQ==");
    benchmark::DoNotOptimize(accept);
  }
}
BENCHMARK(BM_AcceptKey);

// Everything a server does from a complete request head to the bytes of its 101 response.
void BM_HandshakeWhole(benchmark::State& state) {
  Http1RequestParser parser;
  HttpRequest req;
  std::string response;
  for (auto _ : state) {
    parser.reset();
    parser.parse(kBrowserRequest, req);
    auto result = validate_upgrade(req);
    const auto* upgrade = std::get_if<ValidatedUpgrade>(&result);
    if (!upgrade) {
      state.SkipWithError("refused");
      break;
    }
    response.clear();
    write_upgrade_response(response, websocket_accept_key(upgrade->key), {}, {});
    benchmark::DoNotOptimize(response.data());
  }
}
BENCHMARK(BM_HandshakeWhole);

}  // namespace
