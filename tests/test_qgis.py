"""Headless QGIS (Debian python3-qgis) reads every collection through its OAPIF provider.

QGIS runs in a child process: 3.22 (Debian 12) can crash on a 404 or at exit.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from reference import CATALOG, FEATURE_COLLECTIONS, reference

QGIS_PYTHON = "/usr/bin/python3"
CLIENT = Path(__file__).parent / "clients" / "qgis_oapif.py"


def qgis_available() -> bool:
    if not shutil.which(QGIS_PYTHON):
        return False
    return subprocess.run([QGIS_PYTHON, "-c", "import qgis.core"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not qgis_available(),
                                reason="python3-qgis is installed by scripts/setup.sh --test-tools")


def run_qgis(base_url: str, layers: dict[str, str]) -> dict:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": "/tmp"}
    proc = subprocess.run([QGIS_PYTHON, str(CLIENT), base_url, json.dumps(layers)],
                          capture_output=True, text=True, timeout=600, env=env)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, f"QGIS gave no result (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(lines[-1][len("RESULT "):])


def test_qgis_loads_every_collection(server):
    seen = run_qgis(server.url, {cid: "" for cid in FEATURE_COLLECTIONS})
    for cid in FEATURE_COLLECTIONS:
        info = seen[cid]
        assert info["valid"], cid
        assert info["count"] == len(reference(cid)), cid
        assert info["crs"] == "OGC:CRS84" or info["crs"] == "EPSG:4326", info["crs"]
        minx, miny, maxx, maxy = info["extent"]
        assert 1.5 < minx < maxx < 3.3 and 50.1 < miny < maxy < 50.8, (cid, info["extent"])


def test_qgis_filter_is_applied(server):
    """QGIS sends its subset string as CQL2 because /conformance declares the filter classes."""
    ref = reference("friches")
    log_start = len(server.log.read_text())
    seen = run_qgis(server.url, {"friches": "\"site_statut\" = 'friche sans projet'"})
    assert seen["friches"]["subset_accepted"]
    assert seen["friches"]["count"] == int((ref.site_statut == "friche sans projet").sum())
    access_log = server.log.read_text()[log_start:]
    item_requests = [line for line in access_log.splitlines() if "/collections/friches/items" in line]
    assert item_requests
    if seen["_qgis_version"] >= 32800:  # QGIS 3.28+ (Debian 13) translates subsets to CQL2
        assert any("filter=" in u or "site_statut=" in u for u in item_requests), item_requests
    # QGIS 3.22 (Debian 12) has no server-side OAPIF filtering: it filters what it pages in
