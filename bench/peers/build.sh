#!/usr/bin/env bash
# Builds the reference servers (echo, publish/subscribe) and the C load generator into
# build/bench-peers/, first installing what they need when missing (scripts/setup.sh --bench).
set -euo pipefail
cd "$(dirname "$0")/../.."

bash scripts/setup.sh --bench

out=build/bench-peers
cmake -S bench/peers -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$out" -j2 >/dev/null
echo "bench/peers: built in $out/:"
for b in floor_echo floor_uring floor_pubsub beast_echo websocketpp_echo lws_echo loadgen; do echo "  $out/$b"; done
echo "  node bench/peers/ws_echo.mjs PORT (Node ws)"
echo "  node bench/peers/ws_pubsub.mjs PORT (Node ws, /pubsub)"
