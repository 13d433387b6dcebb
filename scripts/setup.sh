#!/usr/bin/env bash
# Installs what Duplex needs on Debian 12, only what is missing: `setup.sh` for building and
# serving (with Node's npm for the socket.io-client files `duplex serve` serves), `setup.sh
# --test` also for the test suites (clang for fuzzing, Python websockets, every npm package of
# package-lock.json), `setup.sh --bench` for bench/run and its
# reference servers (Boost.Beast, websocketpp, libwebsockets, liburing, Node ws, Python websockets,
# RabbitMQ, redis-server).
set -euo pipefail
cd "$(dirname "$0")/.."

# ca-certificates: the system CA store that wss:// clients trust by default. liburing-dev: the
# event loop's io_uring backend (`duplex serve --io io_uring`). libhiredis-dev: the Redis client
# protocol and async API under `duplex serve --redis` (driven by our event loop).
packages=(g++ cmake ninja-build pkg-config libssl-dev libcli11-dev zlib1g-dev nlohmann-json3-dev
  liburing-dev libhiredis-dev ca-certificates)
mode="${1:-}"
if [[ "$mode" == "--test" ]]; then
  # openssl: the command that makes the TLS tests' certificates; curl: the SSE and newcomer runs;
  # redis-server: the real Redis the cluster tests start on a loopback port.
  packages+=(googletest libgtest-dev libbenchmark-dev clang libclang-rt-14-dev python3
             python3-websockets chromium openssl curl redis-server)
fi
if [[ "$mode" == "--bench" ]]; then
  # rabbitmq-server: the reference STOMP broker (its web STOMP plugin ships in the package).
  packages+=(python3 python3-websockets util-linux libboost-dev libwebsocketpp-dev
             libwebsockets-dev liburing-dev openssl rabbitmq-server redis-server)
fi
# Node and npm: for the test clients and reference servers, and in every mode for the
# socket.io-client files `duplex serve` embeds and serves at /socket.io/socket.io.js.
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The npm packages from package-lock.json, again only when the lockfile changed: all of them
# for tests and benchmarks, the served socket.io-client alone (`--omit=dev`) for serving.
if [[ "$mode" == "--test" || "$mode" == "--bench" ]]; then
  if ! cmp -s package-lock.json node_modules/.duplex-lock 2>/dev/null; then
    echo "setup: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.duplex-lock
  fi
elif ! cmp -s package-lock.json node_modules/.duplex-lock 2>/dev/null &&
     ! cmp -s package-lock.json node_modules/.duplex-lock-serve 2>/dev/null; then
  echo "setup: npm ci --omit=dev (socket.io-client)"
  npm ci --omit=dev --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.duplex-lock-serve
fi
