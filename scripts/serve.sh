#!/usr/bin/env bash
# Sets up, builds and runs `duplex serve` (extra arguments are passed on, e.g. --port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh serve >/dev/null
exec build/serve/duplex serve "$@"
