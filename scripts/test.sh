#!/usr/bin/env bash
# Sets up, builds and runs every test: a micro-benchmark smoke pass, fuzz smoke runs, then the
# unit, conformance and interop suites under ctest in the release build and again under
# AddressSanitizer + UBSan.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test

mkdir -p build/logs
for flavour in release asan fuzz; do
  echo "== build: $flavour"
  bash scripts/build.sh "$flavour" >"build/logs/$flavour.log" 2>&1 ||
    { tail -60 "build/logs/$flavour.log"; echo "build: $flavour FAILED"; exit 1; }
done

# Micro-benchmarks: a short pass proves they build and run; their figures are not checked.
micro_log=build/logs/micro-benchmarks.log
build/release/bench/duplex_micro --benchmark_min_time=0.01 >"$micro_log" 2>&1 &&
  ! grep -q "ERROR OCCURRED" "$micro_log" ||
  { tail -40 "$micro_log"; echo "micro-benchmarks FAILED"; exit 1; }
echo "micro-benchmarks ok"

echo "== fuzz smoke (${FUZZ_SECONDS:=20} s per target)"
mkdir -p build/fuzz/corpus
for fuzzer in build/fuzz/fuzz/fuzz_*; do
  name=$(basename "$fuzzer")
  mkdir -p "build/fuzz/corpus/$name"
  "$fuzzer" -max_total_time="$FUZZ_SECONDS" -print_final_stats=0 "build/fuzz/corpus/$name" \
    >"build/fuzz/$name.log" 2>&1 || { tail -40 "build/fuzz/$name.log"; echo "fuzz: $name FAILED"; exit 1; }
  echo "fuzz: $name ok ($(grep -o 'DONE.*' "build/fuzz/$name.log" | head -1))"
done

echo "== tests: release"
ctest --test-dir build/release --output-on-failure -j2 --timeout 600
echo "== tests: asan + ubsan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build/asan --output-on-failure -j2 --timeout 900
