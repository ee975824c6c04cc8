#!/usr/bin/env bash
# One-time set-up for bench/run.py on Debian 12 (as root for apt-get):
#   - wrk (load generator), qgis-server + lighttpd + python3-qgis (the QGIS Server peer),
#   - PostgreSQL + PostGIS for the private cluster (scripts/postgis.sh install),
#   - the virtualenvs of stock pygeoapi and tipg under var/bench/ (run.py also makes them
#     on first use), so nothing is installed into the project's .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -eq 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    wrk qgis-server lighttpd python3-qgis
else
  echo "not root: install wrk qgis-server lighttpd python3-qgis with apt-get yourself" >&2
fi
bash scripts/postgis.sh install
.venv/bin/python - <<'PY'
import sys
sys.path.insert(0, "bench")
from peers import HERE, PygeoapiStock, Tipg, ensure_venv
for peer, req in ((PygeoapiStock, "requirements-pygeoapi.txt"), (Tipg, "requirements-tipg.txt")):
    print(ensure_venv(peer.venv, HERE / req))
PY
