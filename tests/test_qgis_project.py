"""The QGIS/Lizmap project served at /qgis/artois.qgs: headless QGIS 3.22 opens it, every layer
(OGC API - Features vectors, the overheating XYZ raster) is valid and draws, on both stores.

QGIS runs in a child process: 3.22 (Debian 12) can crash on a 404 or at exit.
"""
from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from reference import CATALOG
from qgis_runner import requires_qgis, run_client
from services.qgis_project import GROUPS, HIDDEN
from services.style_encodings import load_index

PROJECT = Path(__file__).resolve().parent.parent


def open_in_qgis(path: Path) -> dict:
    return run_client("qgis_project.py", path, timeout=900)


@pytest.fixture(scope="module")
def served_project(server, tmp_path_factory) -> tuple[str, Path]:
    r = server.get("/qgis/artois.qgs")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("application/x-qgis-project")
    path = tmp_path_factory.mktemp("qgis") / "artois.qgs"
    path.write_bytes(r.content)
    return server.url, path


def test_project_xml_names_every_layer_with_its_style(served_project):
    base, path = served_project
    root = ET.fromstring(path.read_text(encoding="utf-8").split("\n", 1)[1])
    layers = {m.findtext("shortname"): m for m in root.iter("maplayer")}
    assert set(layers) == set(CATALOG)
    for cid, layer in layers.items():
        source = layer.findtext("datasource")
        if CATALOG[cid].kind == "coverage":
            assert layer.findtext("provider") == "wms"
            assert source.startswith(f"type=xyz&url={base}/collections/{cid}/map/tiles/"
                                     "WebMercatorQuad/%7Bz%7D/%7By%7D/%7Bx%7D?f%3Dpng")
            assert layer.find("pipe/rasterrenderer") is not None
        else:
            assert layer.findtext("provider") == "OAPIF"
            assert f"url='{base}'" in source and f"typename='{cid}'" in source
            assert "restrictToRequestBBOX='1'" in source
            assert "pageSize='1000'" in source  # 3.22 asks for 100 a page without it
            assert layer.find("renderer-v2") is not None
        names = [s.get("name") for s in layer.iter("map-layer-style")]
        assert names == list(load_index()[cid]), cid
    assert root.findtext("projectCrs/spatialrefsys/authid") == "EPSG:2154"


@requires_qgis
def test_qgis_opens_the_served_project_and_draws_every_layer(served_project):
    base, path = served_project
    seen = open_in_qgis(path)
    assert seen["read"] and seen["crs"] == "EPSG:2154"
    wms = seen["wms"]
    assert wms["WMSServiceTitle"].startswith("Artois")
    assert {"EPSG:2154", "EPSG:3857"} <= set(wms["WMSCrsList"]) and wms["WMSUseLayerIDs"]
    xmin, ymin, xmax, ymax = (float(v) for v in wms["WMSExtent"])
    assert 600_000 < xmin < xmax < 710_000 and 7_000_000 < ymin < ymax < 7_070_000
    assert seen["extent"] == pytest.approx([xmin, ymin, xmax, ymax])

    by_name = {info["shortname"]: info for info in seen["layers"].values()}
    assert set(by_name) == set(CATALOG)
    groups = {name: [seen["layers"][lid]["shortname"] for lid in ids]
              for name, ids in seen["groups"].items()}
    assert groups == GROUPS
    for cid, info in by_name.items():
        assert info["valid"], cid
        assert info["render"]["painted"] > 50, (cid, info["render"])
        assert info["render"]["errors"] == [], (cid, info["render"])
        if CATALOG[cid].kind == "coverage":
            assert info["provider"] == "wms" and info["crs"] == "EPSG:3857"
            assert info["render"]["colours"] > 20  # the ramp, not one flat colour
            continue
        assert info["provider"] == "OAPIF"
        styles = load_index()[cid]
        assert info["styles"] == sorted(styles)
        for sid, style in styles.items():
            labels = [c.label["fr"] for c in style.classes]
            if style.classes[0].kind != "single":
                assert info["style_legends"][sid] == labels, (cid, sid)
    assert seen["all_visible"]["painted"] > 1000
    assert HIDDEN < set(CATALOG)


def test_command_line_writes_the_same_layers(served_project, tmp_path):
    """`python -m services.qgis_project` gives the same layers and sources as the server."""
    base, path = served_project
    out = tmp_path / "cli.qgs"
    subprocess.run([sys.executable, "-m", "services.qgis_project", "--base-url", base,
                    "-o", str(out)], cwd=PROJECT, check=True, capture_output=True)

    def sources(p: Path) -> dict:
        root = ET.fromstring(p.read_text(encoding="utf-8").split("\n", 1)[1])
        return {m.findtext("id"): m.findtext("datasource") for m in root.iter("maplayer")}

    assert sources(out) == sources(path)
