// Reading Socket.IO event packets (core/socketio): the event name and each argument's JSON text
// out of `2["name",arg,...]` (`42[...]` on the wire, where 4 is Engine.IO's message type), by the
// hand-written scanner the decoder uses, against parsing the whole data with nlohmann (json and
// ordered_json, the value type), which yields values instead. Three typical packets: a small event
// with a short object (~60 B), three arguments (~200 B), and a ~2 KB event. The figures are in
// core/json/json_scanner.hpp.
#include <benchmark/benchmark.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "duplex/core/json/json_scanner.hpp"
#include "duplex/core/json/json_value.hpp"
#include "duplex/core/socketio/packet_decoder.hpp"

namespace {

using namespace duplex::core::json;
using namespace duplex::core::socketio;

std::string large_event() {
  std::string out = R"(2["table",{"rows":[)";
  for (int i = 0; i < 16; ++i) {
    if (i) out += ',';
    out += R"({"id":)" + std::to_string(1000 + i) + R"(,"name":"Player number )" +
           std::to_string(i) + R"(","score":)" + std::to_string(i * 37.5) +
           R"(,"tags":["red","blue"],"online":true,"note":null})";
  }
  out += R"(],"total":16,"title":"Scores \u2014 \"weekly\""}])";
  return out;
}

const std::string& packet(int64_t which) {
  static const std::string kPackets[] = {
      R"(2["chat message",{"text":"hi there, how are you?","room":"lobby"}])",
      R"(2["update",{"id":12345,"user":{"name":"Ada Lovelace","roles":["admin","editor"]},)"
      R"("active":true,"ratio":0.75},[1,2,3,4.5,-6e2,1.5E-3],)"
      R"("a longer string argument with \"escapes\", a tab\t and caf\u00e9 in it"])",
      large_event(),
  };
  return kPackets[which];
}

void label(benchmark::State& state) {
  state.SetLabel(std::to_string(packet(state.range(0)).size()) + " B");
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * packet(state.range(0)).size()));
}

// The decoder's hot path: header, strict validation, name unescaped, argument views.
void BM_SioDecodeEvent(benchmark::State& state) {
  const std::string& text = packet(state.range(0));
  PacketArgs args;
  for (auto _ : state) {
    const Decoded decoded = decode(text, args);
    benchmark::DoNotOptimize(decoded.error.data());
    benchmark::DoNotOptimize(args.args.data());
  }
  if (!decode(text, args).ok() || !args.name_is_string) state.SkipWithError("not decoded");
  label(state);
}

// The scanner alone, on the data after the type.
void BM_SioScanJson(benchmark::State& state) {
  const std::string_view data = std::string_view(packet(state.range(0))).substr(1);
  std::vector<std::string_view> elements;
  for (auto _ : state) {
    elements.clear();
    const JsonScan scan = scan_json(data, &elements, 1);
    benchmark::DoNotOptimize(scan.first.data());
    benchmark::DoNotOptimize(elements.data());
  }
  label(state);
}

// Parsing the whole data with nlohmann, then taking the name and the arguments (as values).
template <class Value>
void parse_whole(benchmark::State& state) {
  const std::string_view data = std::string_view(packet(state.range(0))).substr(1);
  std::string name;
  for (auto _ : state) {
    const Value value = Value::parse(data.begin(), data.end(), nullptr, false);
    if (!value.is_array() || value.empty() || !value[0].is_string()) {
      state.SkipWithError("not an event");
      break;
    }
    name = value[0].template get_ref<const std::string&>();
    for (size_t i = 1; i < value.size(); ++i) benchmark::DoNotOptimize(&value[i]);
    benchmark::DoNotOptimize(name.data());
  }
  label(state);
}

void BM_SioNlohmannJson(benchmark::State& state) { parse_whole<nlohmann::json>(state); }
void BM_SioNlohmannOrderedJson(benchmark::State& state) { parse_whole<Json>(state); }

// Decoding, then parsing every argument on demand (an application that wants them all).
void BM_SioDecodeAndParseArgs(benchmark::State& state) {
  const std::string& text = packet(state.range(0));
  PacketArgs args;
  for (auto _ : state) {
    decode(text, args);
    for (const auto arg : args.args) {
      const auto value = parse_json(arg);
      benchmark::DoNotOptimize(&value);
    }
  }
  label(state);
}

BENCHMARK(BM_SioDecodeEvent)->DenseRange(0, 2);
BENCHMARK(BM_SioScanJson)->DenseRange(0, 2);
BENCHMARK(BM_SioNlohmannJson)->DenseRange(0, 2);
BENCHMARK(BM_SioNlohmannOrderedJson)->DenseRange(0, 2);
BENCHMARK(BM_SioDecodeAndParseArgs)->DenseRange(0, 2);

}  // namespace
