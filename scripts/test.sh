#!/usr/bin/env bash
# Set up (with the real clients the tests drive), build the store, run every test with pytest.
# Arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
bash scripts/setup.sh --test-tools
.venv/bin/artois-geo build
echo "Set-up and build took $(( $(date +%s) - started )) s"
exec .venv/bin/python -m pytest -q --durations=25 "$@"
