"""GDAL's OAPIF driver (Debian gdal-bin) as a real client of the server."""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import shapely

from reference import CATALOG, FEATURE_COLLECTIONS, box_in_2154, ids_intersecting, reference

pytestmark = pytest.mark.skipif(shutil.which("ogrinfo") is None,
                                reason="gdal-bin is installed by scripts/setup.sh --test-tools")


def run(*args: str) -> str:
    out = subprocess.run(args, capture_output=True, text=True, timeout=300,
                         env={"CPL_DEBUG": "OFF", "GDAL_HTTP_TIMEOUT": "60", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def oapif_supports_crs() -> bool:
    return 'name="CRS"' in run("ogrinfo", "--format", "OAPIF")


def test_ogrinfo_lists_every_collection_with_counts(server):
    summary = run("ogrinfo", "-ro", "-so", "-al", f"OAPIF:{server.url}")
    counts = dict(re.findall(r"Layer name: (\S+).*?Feature Count: (\d+)", summary, re.S))
    for cid in FEATURE_COLLECTIONS:
        assert int(counts[cid]) == len(reference(cid)), cid


def test_opening_the_whole_server_prints_no_error(server):
    """The coverage is not taken for a feature collection (no /items asked, no ERROR): it says
    itemType coverage (and layerDataType Coverage, read by GDAL < 3.7) and has no queryables
    or schema links."""
    out = subprocess.run(["ogrinfo", "-ro", "-so", f"OAPIF:{server.url}"], capture_output=True,
                         text=True, timeout=300, env={"CPL_DEBUG": "OFF", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0 and "ERROR" not in out.stderr + out.stdout, out.stderr[-2000:]
    assert "surchauffe" not in out.stdout
    assert all(cid in out.stdout for cid in FEATURE_COLLECTIONS)
    coverage = server.json("/collections/surchauffe")
    assert coverage["itemType"] == "coverage"
    rels = {link["rel"] for link in coverage["links"]}
    assert not rels & {"http://www.opengis.net/def/rel/ogc/1.0/queryables",
                       "http://www.opengis.net/def/rel/ogc/1.0/schema"}
    assert "http://www.opengis.net/def/rel/ogc/1.0/coverage" in rels


@pytest.mark.parametrize("cid", FEATURE_COLLECTIONS)
def test_ogr2ogr_reads_all_features_following_next(server, cid, tmp_path):
    """GDAL pages 10 at a time by default; it must still get every feature once."""
    out = tmp_path / f"{cid}.geojson"
    run("ogr2ogr", "-f", "GeoJSON", str(out), f"OAPIF:{server.url}", cid)
    feats = json.loads(out.read_text())["features"]
    id_field = CATALOG[cid].id_field
    ref_ids = {str(v) for v in reference(cid)[id_field]}
    got = {str(f["properties"].get(id_field, f.get("id"))) for f in feats}
    assert len(feats) == len(ref_ids) and got == ref_ids


def test_gdal_bbox_and_filter_subsets(server, tmp_path):
    bbox = (2.58, 50.49, 2.70, 50.56)
    out = tmp_path / "bbox.geojson"
    run("ogr2ogr", "-f", "GeoJSON", "-spat", *map(str, bbox), str(out),
        f"OAPIF:{server.url}", "friches")
    got = {f["properties"]["site_id"] for f in json.loads(out.read_text())["features"]}
    assert got == ids_intersecting("friches", box_in_2154(*bbox)) and got
    out = tmp_path / "where.geojson"
    run("ogr2ogr", "-f", "GeoJSON", "-where", "site_statut = 'friche sans projet'", str(out),
        f"OAPIF:{server.url}", "friches")
    got = {f["properties"]["site_id"] for f in json.loads(out.read_text())["features"]}
    ref = reference("friches")
    assert got == set(ref[ref.site_statut == "friche sans projet"].site_id) and got


def test_gdal_reads_lambert93(server, tmp_path):
    out = tmp_path / "l93.geojson"
    lambert = "http://www.opengis.net/def/crs/EPSG/0/2154"
    if oapif_supports_crs():  # GDAL >= 3.7 (Debian 13)
        run("ogr2ogr", "-f", "GeoJSON", "-lco", "RFC7946=NO", str(out), f"OAPIF:{server.url}",
            "communes", "-oo", "CRS=EPSG:2154")
    else:  # GDAL 3.6 (Debian 12): its GeoJSON driver on the items URL with crs=
        run("ogr2ogr", "-f", "GeoJSON", "-lco", "RFC7946=NO", str(out),
            f"{server.url}/collections/communes/items?limit=10000&crs={lambert}")
    feats = json.loads(out.read_text())["features"]
    assert len(feats) == len(reference("communes"))
    ref = reference("communes").set_index("insee")
    for f in feats[:20]:
        geom = shapely.geometry.shape(f["geometry"])
        minx, miny, maxx, maxy = geom.bounds
        assert 550_000 < minx < maxx < 720_000 and 6_950_000 < miny < maxy < 7_100_000
        expected = ref.loc[f["properties"]["insee"]].geometry
        assert abs(geom.area - expected.area) / expected.area < 1e-4
