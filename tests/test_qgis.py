"""Headless QGIS (Debian python3-qgis) reads every collection through its OAPIF provider.

QGIS runs in a child process: 3.22 (Debian 12) can crash on a 404 or at exit.
"""
from __future__ import annotations

import json


from reference import FEATURE_COLLECTIONS, reference
from qgis_runner import requires_qgis, run_client

pytestmark = requires_qgis


def run_qgis(base_url: str, layers: dict[str, str]) -> dict:
    return run_client("qgis_oapif.py", base_url, json.dumps(layers))


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
