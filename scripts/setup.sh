#!/usr/bin/env bash
# Installs what Duplex needs on Debian 12, only what is missing: `setup.sh` for building and
# serving, `setup.sh --test` also for the test suites (clang for fuzzing, Python websockets,
# Node and the npm packages from package-lock.json), `setup.sh --bench` for bench/run and its
# reference servers (Boost.Beast, websocketpp, libwebsockets, liburing, Node ws, Python websockets).
set -euo pipefail
cd "$(dirname "$0")/.."

# ca-certificates: the system CA store that wss:// clients trust by default. liburing-dev: the
# event loop's io_uring backend (`duplex serve --io io_uring`).
packages=(g++ cmake ninja-build pkg-config libssl-dev libcli11-dev zlib1g-dev nlohmann-json3-dev
  liburing-dev ca-certificates)
mode="${1:-}"
if [[ "$mode" == "--test" ]]; then
  # openssl: the command that makes the TLS tests' certificates; curl: the SSE and newcomer runs.
  packages+=(googletest libgtest-dev libbenchmark-dev clang libclang-rt-14-dev python3
             python3-websockets chromium openssl curl)
fi
if [[ "$mode" == "--bench" ]]; then
  packages+=(python3 python3-websockets util-linux libboost-dev libwebsocketpp-dev
             libwebsockets-dev liburing-dev openssl)
fi
if [[ "$mode" == "--test" || "$mode" == "--bench" ]]; then
  command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
fi

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

if [[ "$mode" == "--test" || "$mode" == "--bench" ]]; then
  # Reinstall the npm packages only when the lockfile changed since the last install.
  if [[ ! -f node_modules/.package-lock.json ]] || ! cmp -s package-lock.json node_modules/.duplex-lock; then
    echo "setup: npm ci"
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.duplex-lock
  fi
fi
