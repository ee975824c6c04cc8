#!/usr/bin/env bash
# Set up, build the embedded store, and serve the OGC API at http://127.0.0.1:5000
# (arguments are passed to `artois-geo serve`, e.g. --port 8080 --workers 4).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/artois-geo build
exec .venv/bin/artois-geo serve "$@"
