#!/usr/bin/env bash
# One-time set-up for bench/run.py and bench/profile.py on Debian 12, from a fresh clone:
#   - the project's .venv (scripts/setup.sh) when it is not there yet,
#   - wrk (load generator), qgis-server + lighttpd + python3-qgis (the QGIS Server peer), as root,
#   - PostgreSQL + PostGIS for the private cluster (scripts/postgis.sh install),
#   - the virtualenvs of stock pygeoapi, tipg and py-spy under var/bench/ (pinned:
#     bench/requirements-{pygeoapi,tipg,profile}.txt), so nothing enters the project's .venv
#     (bench/run.py and bench/profile.py also make them on first use).
# Then:  .venv/bin/python bench/run.py
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x .venv/bin/python ] || [ ! -x .venv/bin/artois-geo ]; then
  echo "== the project's .venv (scripts/setup.sh)"
  bash scripts/setup.sh
fi

PACKAGES=(wrk qgis-server lighttpd python3-qgis)
if [ "$(id -u)" -eq 0 ]; then
  echo "== Debian packages: ${PACKAGES[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PACKAGES[@]}"; then
    apt-get update  # a fresh machine may have no (or stale) package lists
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PACKAGES[@]}"
  fi
else
  echo "not root: install ${PACKAGES[*]} with apt-get yourself" >&2
fi

echo "== PostgreSQL + PostGIS (scripts/postgis.sh install)"
bash scripts/postgis.sh install

echo "== virtualenvs under var/bench/"
.venv/bin/python - <<'PY'
import sys
sys.path.insert(0, "bench")
from peers import BENCH_VAR, HERE, PygeoapiStock, Tipg, Unavailable, ensure_venv
failed = []
for venv, req in ((PygeoapiStock.venv, "requirements-pygeoapi.txt"),
                  (Tipg.venv, "requirements-tipg.txt"),
                  (BENCH_VAR / "venv-profile", "requirements-profile.txt")):
    try:
        print(ensure_venv(venv, HERE / req))
    except Unavailable as e:  # go on with the others, fail at the end
        print(f"FAILED: {e}", file=sys.stderr)
        failed.append(req)
sys.exit(f"could not install {', '.join(failed)}" if failed else 0)
PY
echo "bench set up: now .venv/bin/python bench/run.py (see bench/README.md)"
