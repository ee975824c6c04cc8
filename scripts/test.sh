#!/usr/bin/env bash
# Set up (with the real clients the tests drive), build the store, run every test with pytest.
# Arguments are passed to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
bash scripts/setup.sh --test-tools
# the OGC test suite port (ogctests) and schemathesis, in their own venv (their pins clash
# with the project's pytest/httpx): tests/test_conformance.py runs them against the servers
bash scripts/conformance-tools.sh
.venv/bin/artois-geo build
echo "Set-up and build took $(( $(date +%s) - started )) s"
# Two pytest processes, each test file in one of them: most tests wait on servers, QGIS or
# Chromium, so two files at a time fill the two cores.
exec .venv/bin/python -m pytest -q --durations=25 -n 2 --dist loadfile "$@"
