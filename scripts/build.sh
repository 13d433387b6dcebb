#!/usr/bin/env bash
# Configures and builds one flavour into build/<flavour>:
#   release  optimised, with tests        asan  AddressSanitizer + UBSan, with tests
#   tsan     ThreadSanitizer, with tests, no benchmarks (not run in CI; see DEVELOPERS.md)
#   fuzz     clang libFuzzer targets
set -euo pipefail
cd "$(dirname "$0")/.."
flavour="${1:-release}"
case "$flavour" in
  release) args=(-DCMAKE_BUILD_TYPE=Release) ;;
  asan) args=(-DCMAKE_BUILD_TYPE=Debug -DDUPLEX_SANITIZE=ON) ;;
  tsan) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DDUPLEX_TSAN=ON -DDUPLEX_BENCH=OFF) ;;
  fuzz) args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DDUPLEX_FUZZ=ON -DDUPLEX_TESTS=OFF
              -DCMAKE_CXX_COMPILER=clang++) ;;
  serve) args=(-DCMAKE_BUILD_TYPE=Release -DDUPLEX_TESTS=OFF -DDUPLEX_BENCH=OFF) ;;
  *) echo "build.sh: unknown flavour '$flavour' (release, asan, tsan, fuzz, serve)" >&2; exit 2 ;;
esac
cmake -S . -B "build/$flavour" -G Ninja "${args[@]}" >/dev/null
ninja -C "build/$flavour"
