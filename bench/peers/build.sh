#!/usr/bin/env bash
# Builds the reference echo servers and the C load generator into build/bench-peers/, first
# installing the Debian packages they need when missing (Boost, websocketpp, libwebsockets).
set -euo pipefail
cd "$(dirname "$0")/../.."

packages=(g++ cmake ninja-build pkg-config libssl-dev libboost-dev libwebsocketpp-dev
          libwebsockets-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "bench/peers: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

out=build/bench-peers
cmake -S bench/peers -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$out" -j2 >/dev/null
echo "bench/peers: built in $out/:"
for b in floor_echo beast_echo websocketpp_echo lws_echo loadgen; do echo "  $out/$b"; done
echo "  node bench/peers/ws_echo.mjs PORT (Node ws)"
