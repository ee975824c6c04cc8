#!/usr/bin/env bash
# Set up artois-geo on a fresh Debian 12/13 machine: find Python >= 3.12, create .venv,
# install the project. With --test-tools, also install (as root, from Debian packages)
# what the test suite drives as real clients and servers: GDAL's command-line tools, QGIS
# (python3-qgis, run headless), Chromium (driven by Playwright with executable_path, no
# browser download) and
# PostgreSQL + PostGIS (the tests start a private cluster with scripts/postgis.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

TEST_TOOLS=0
for arg in "$@"; do
  case "$arg" in
    --test-tools) TEST_TOOLS=1 ;;
    *) echo "usage: $0 [--test-tools]" >&2; exit 2 ;;
  esac
done

python_ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; }

find_python() {
  local candidates=()
  [ -n "${ARTOIS_PYTHON:-}" ] && candidates+=("$ARTOIS_PYTHON")
  candidates+=(python3.13 python3.12)
  local root
  root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  for v in $(ls -d "$root"/versions/3.13.* "$root"/versions/3.12.* 2>/dev/null | sort -rV); do
    candidates+=("$v/bin/python")
  done
  candidates+=(python3)
  for c in "${candidates[@]}"; do
    local path
    path=$(command -v "$c" 2>/dev/null || true)
    [ -n "$path" ] || continue
    # pyenv shims may point at a version that is not installed: ask the interpreter itself
    if python_ok "$path" && "$path" -c 'import venv, ensurepip' 2>/dev/null; then
      echo "$path"; return 0
    fi
  done
  return 1
}

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    echo "Please install with root rights: apt-get install ${missing[*]}" >&2; return 1
  fi
  echo "Installing Debian packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

PYTHON=$(find_python) || { echo "No Python >= 3.12 found (python3.12/3.13 or pyenv)." >&2; exit 1; }
if [ ! -x .venv/bin/python ] || ! python_ok .venv/bin/python; then
  rm -rf .venv
  echo "Creating .venv with $PYTHON ($("$PYTHON" --version))"
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
if [ "$TEST_TOOLS" = 1 ]; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test,pdf]'
  apt_install gdal-bin python3-qgis chromium nginx  # nginx: tests/test_proxy.py (replicas behind a cache)
  bash scripts/postgis.sh install
else
  .venv/bin/python -m pip install -q --disable-pip-version-check -e '.[pdf]'
fi
# The half-hour territory's demo street network (.osm.pbf) and GTFS feed, seeded and labelled
# demo, under var/half_hour (README: how to use the real OSM extract and GTFS instead)
.venv/bin/python -m processes.half_hour.routing build-demo \
  || echo "Half-hour demo network not built: .venv/bin/python -m processes.half_hour.routing build-demo" >&2
# PDF of the brownfield sheets (services/fiche.py): WeasyPrint draws text with Debian's pango;
# without it the server runs and ?f=pdf answers 503 with this command
apt_install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
  || echo "PDF sheets disabled: apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core" >&2
# The web map's front-end libraries (MapLibre GL JS) come from npm and are served by the
# server itself (services/webmap.py), never from a CDN.
if [ -f package-lock.json ]; then
  command -v npm >/dev/null 2>&1 || apt_install nodejs npm
  npm ci --omit=dev --no-audit --no-fund --loglevel=error
fi
echo "Set-up done: $(.venv/bin/python --version), $(.venv/bin/artois-geo --help | head -1)"
