#!/usr/bin/env bash
# The external conformance tools of the CI gates (tests/test_conformance.py), in their own
# venv var/conformance-venv, never in .venv: `ogctests` (a port of the OGC ETS for OGC API -
# Features) pins pytest<9 and httpx<0.28, which the project's venv has outgrown.
#   scripts/conformance-tools.sh          create or update the venv (idempotent: a second run
#                                         with the same pins only checks a stamp and exits)
#   scripts/conformance-tools.sh --print  also print the venv's bin directory on the last line
# Python: $ARTOIS_CONFORMANCE_PYTHON, else python3.12 or pyenv's 3.12.*, else 3.11, else
# 3.13 (ogctests declares Python >= 3.11; its pyarrow 17 pin has no 3.13 wheel, but
# ogctests never imports pyarrow, so it is installed without its declared dependencies and
# with the ones it does import, listed below).
# ogctests' features/filtering tests are patched right after it is installed, with
# tests/conformance/ogctests-0.1.15-filtering.patch (its header says why, hunk by hunk); the
# patch's hash is in the venv's stamp, so a changed patch reinstalls ogctests and reapplies it.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${ARTOIS_CONFORMANCE_VENV:-var/conformance-venv}
PRINT=0
for arg in "$@"; do
  case "$arg" in
    --print) PRINT=1 ;;
    *) echo "usage: $0 [--print]" >&2; exit 2 ;;
  esac
done

# Pins that work together (checked on Python 3.11, 3.12 and 3.13); pip resolves the rest
# (numpy, pandas, ...) for the interpreter. ogctests 0.1.15 (2024-08) is its last release;
# what it imports at run time: pytest, httpx, PyYAML, openapi-schema-validator, referencing,
# jsonschema, geopandas (with pyogrio), shapely. Not pyarrow, respx, python-dotenv.
OGCTESTS=(ogctests==0.1.15)
OGCTESTS_PATCH=tests/conformance/ogctests-0.1.15-filtering.patch
REQUIREMENTS=(
  schemathesis==4.32.5
  pytest==8.4.2
  httpx==0.27.2
  openapi-schema-validator==0.6.3
  pyyaml==6.0.4
  geopandas==1.2.0
  pyogrio==0.13.0
  shapely==2.2.0
)

python_fits() {
  "$1" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] <= (3, 13) else 1)' \
    2>/dev/null && "$1" -c 'import venv, ensurepip' 2>/dev/null
}

find_python() {
  local candidates=()
  [ -n "${ARTOIS_CONFORMANCE_PYTHON:-}" ] && candidates+=("$ARTOIS_CONFORMANCE_PYTHON")
  local root minor v
  root=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
  for minor in 12 11 13; do
    candidates+=("python3.$minor")
    for v in $(ls -d "$root"/versions/3.$minor.* 2>/dev/null | sort -rV); do
      candidates+=("$v/bin/python")
    done
  done
  candidates+=(python3)
  local c path
  for c in "${candidates[@]}"; do
    path=$(command -v "$c" 2>/dev/null || true)
    [ -n "$path" ] || continue
    # pyenv shims may point at a version that is not installed: ask the interpreter itself
    if python_fits "$path"; then echo "$path"; return 0; fi
  done
  return 1
}

base_stamp_of() {  # what the venv was made from: the pins and the interpreter's version
  printf '%s\n' "${OGCTESTS[@]}" "${REQUIREMENTS[@]}" "$("$1" -c 'import sys; print(sys.version)')"
}

stamp_of() {  # ... and the patch applied to ogctests (always the last line)
  base_stamp_of "$1"
  echo "patch $(sha256sum "$OGCTESTS_PATCH" | cut -d' ' -f1)"
}

need_patch_tool() {
  command -v patch >/dev/null 2>&1 && return 0
  # A minimal Debian has no `patch`: add it when we may.
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing patch (Debian)" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends patch >/dev/null
  fi
  command -v patch >/dev/null 2>&1 || { echo "The 'patch' tool is needed (apt-get install patch)." >&2; exit 1; }
}

install_ogctests() {  # a pristine ogctests, then the patch (so a second application cannot happen)
  local site
  "${PIP[@]}" --force-reinstall --no-deps "${OGCTESTS[@]}"
  site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  patch -p1 --batch --forward --quiet -d "$site" < "$OGCTESTS_PATCH"
  find "$site/ogctests" -name __pycache__ -type d -prune -exec rm -rf {} +
}

ready() {
  [ -x "$VENV/bin/python" ] && [ -f "$VENV/.stamp" ] \
    && [ "$(stamp_of "$VENV/bin/python")" = "$(cat "$VENV/.stamp")" ] \
    && [ -x "$VENV/bin/st" ] && "$VENV/bin/python" -c 'import ogctests.features' 2>/dev/null
}

PIP=("$VENV/bin/python" -m pip install -q --disable-pip-version-check)
if ! ready && [ -x "$VENV/bin/python" ] && [ -f "$VENV/.stamp" ] \
    && [ "$(base_stamp_of "$VENV/bin/python")" = "$(sed '$d' "$VENV/.stamp")" ]; then
  # same pins and interpreter, another patch: reinstall ogctests and apply this one
  need_patch_tool
  echo "Reapplying $OGCTESTS_PATCH to ogctests in $VENV"
  rm -f "$VENV/.stamp"
  install_ogctests
  "$VENV/bin/python" -c 'import ogctests.features.core.conftest, ogctests.features.filtering.utils'
  stamp_of "$VENV/bin/python" > "$VENV/.stamp"
fi
if ! ready; then
  need_patch_tool
  PYTHON=$(find_python) || {
    # A fresh Debian 12 has python3 (3.11) without its venv module: add it when we may.
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "Installing python3-venv (Debian)" >&2
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        python3-venv >/dev/null
    fi
    find_python
  } || {
    echo "No Python 3.11-3.13 with venv found (python3.12, python3.11, pyenv, python3.13)." >&2
    echo "Set ARTOIS_CONFORMANCE_PYTHON to one." >&2
    exit 1
  }
  echo "Creating $VENV with $PYTHON ($("$PYTHON" --version 2>&1))"
  rm -rf "$VENV"
  mkdir -p "$(dirname "$VENV")"
  "$PYTHON" -m venv "$VENV"
  "${PIP[@]}" --upgrade pip >/dev/null
  "${PIP[@]}" "${REQUIREMENTS[@]}"
  install_ogctests
  "$VENV/bin/python" -c 'import ogctests.features.core.conftest, ogctests.features.filtering.utils, geopandas, schemathesis'
  stamp_of "$VENV/bin/python" > "$VENV/.stamp"
  echo "Conformance tools: $("$VENV/bin/st" --version 2>&1 | head -1)," \
    "ogctests $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("ogctests"))')"
fi
if [ "$PRINT" = 1 ]; then
  (cd "$VENV/bin" && pwd)
fi
