"""OGC API Tiles, vector (MVT), on both stores, over real HTTP.

Every vector collection, in WebMercatorQuad and LAMB93: a z14 tile decodes and holds exactly
the features the Features API finds in the tile's box (and no feature outside its buffered
box), with the same properties, drawn where they are. Tileset metadata, TileJSON and the
dataset tile; errors; headless QGIS draws the Web Mercator tiles.
"""
from __future__ import annotations

import math
import subprocess
from pathlib import Path

import mapbox_vector_tile
import pytest
import shapely
from shapely.geometry import shape

from reference import CATALOG, COVERAGES, FEATURE_COLLECTIONS
from services.tiles import tms as registry
from qgis_runner import QGIS_PYTHON, requires_qgis, run_client

MVT = "application/vnd.mapbox-vector-tile"
EXTENT, BUFFER = 4096, 64
TMS_IDS = ["WebMercatorQuad", "LAMB93"]
ZOOM = 14
QGIS_CLIENT = Path(__file__).parent / "clients" / "qgis_vector_tiles.py"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def decode(content: bytes) -> dict:
    return mapbox_vector_tile.decode(content, default_options={"y_coord_down": True})


def sample_tile(server, cid: str, tms_id: str, z: int = ZOOM) -> tuple[int, int, int]:
    """The tile at zoom z holding a point of the collection's first feature."""
    feature = server.json(f"/collections/{cid}/items?limit=1")["features"][0]
    point = shape(feature["geometry"]).representative_point()
    tile = registry.get(tms_id).tile(point.x, point.y, z)
    return z, tile.y, tile.x


def tile_bounds(tms_id: str, z: int, row: int, col: int, pad_units: float = 0) -> list[float]:
    import morecantile
    b = registry.get(tms_id).xy_bounds(morecantile.Tile(col, row, z))
    pad = (b.right - b.left) * pad_units / EXTENT
    return [b.left - pad, b.bottom - pad, b.right + pad, b.top + pad]


def items_in(server, cid: str, tms_id: str, box: list[float]) -> dict[str, dict]:
    crs = registry.get(tms_id).crs.srs
    doc = server.json(f"/collections/{cid}/items", params={
        "bbox": ",".join(f"{v:.3f}" for v in box), "bbox-crs": crs, "crs": crs,
        "limit": 10000})
    id_field = CATALOG[cid].id_field
    return {str(f["properties"].get(id_field, f["id"])): f for f in doc["features"]}


def to_tile_units(geom, bounds: list[float]):
    x0, _, x1, y1 = bounds
    scale = EXTENT / (x1 - x0)
    return shapely.transform(geom, lambda c: (c - (x0, y1)) * (scale, -scale))


@pytest.mark.parametrize("tms_id", TMS_IDS)
@pytest.mark.parametrize("cid", FEATURE_COLLECTIONS)
def test_tile_holds_the_features_of_its_box(server, cid, tms_id):
    first = int(server.json(f"/collections/{cid}/tiles/{tms_id}")["layers"][0]["minTileMatrix"])
    z, row, col = sample_tile(server, cid, tms_id, max(ZOOM, first))
    r = server.get(f"/collections/{cid}/tiles/{tms_id}/{z}/{row}/{col}")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == MVT
    tile = decode(r.content)
    assert list(tile) == [cid]
    features = tile[cid]["features"]
    assert tile[cid]["extent"] == EXTENT
    id_field = CATALOG[cid].id_field
    in_tile = {str(f["properties"][id_field]): f for f in features}
    assert len(in_tile) == len(features)  # one MVT feature per feature
    exact = items_in(server, cid, tms_id, tile_bounds(tms_id, z, row, col))
    buffered = items_in(server, cid, tms_id, tile_bounds(tms_id, z, row, col, BUFFER))
    assert exact, "the sample tile holds the sample feature"
    assert set(exact) <= set(in_tile) <= set(buffered), (
        sorted(set(exact) - set(in_tile))[:5], sorted(set(in_tile) - set(buffered))[:5])

    bounds = tile_bounds(tms_id, z, row, col)
    clip_box = shapely.box(-BUFFER, -BUFFER, EXTENT + BUFFER, EXTENT + BUFFER)
    for fid, feature in in_tile.items():
        item = buffered[fid]
        # the attribute columns are the MVT properties, with the Features API's values
        for key, value in feature["properties"].items():
            if key in item["properties"] and item["properties"][key] is not None:
                expected = item["properties"][key]
                if isinstance(value, float) or isinstance(expected, float):
                    assert math.isclose(value, expected, rel_tol=1e-6, abs_tol=1e-6), key
                else:
                    assert value == expected, (key, value, expected)
        # the geometry lands where the feature is, in tile units (y down)
        expected_geom = shapely.clip_by_rect(to_tile_units(shape(item["geometry"]), bounds),
                                             *clip_box.bounds)
        got = shape(feature["geometry"])
        if got.geom_type.endswith("Point"):
            assert shapely.hausdorff_distance(got, expected_geom) <= 1.0, (fid, got.wkt[:200])
        else:  # quantization (0.5 unit) and simplification (a quarter pixel = 4 units)
            slack = 8
            for a, b in zip(got.bounds, expected_geom.bounds):
                assert abs(a - b) <= slack, (fid, got.bounds, expected_geom.bounds)


def test_tileset_metadata_and_tilejson(server):
    cid = "friches"
    listing = server.json(f"/collections/{cid}/tiles")
    assert {s["links"][0]["href"].rsplit("/", 1)[1] for s in listing["tilesets"]} == set(TMS_IDS)
    for tms_id in TMS_IDS:
        meta = server.json(f"/collections/{cid}/tiles/{tms_id}")
        assert meta["dataType"] == "vector"
        assert meta["crs"] == registry.get(tms_id).crs.srs
        rels = {link["rel"]: link for link in meta["links"]}
        assert rels["http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"]["href"].endswith(
            f"/tileMatrixSets/{tms_id}")
        (layer,) = meta["layers"]
        assert layer["id"] == cid and layer["geometryDimension"] == 0
        assert {"site_id", "site_statut"} <= set(layer["propertiesSchema"]["properties"])
        assert layer["propertiesSchema"]["properties"]["site_statut"]["enum"]
        lo, hi = meta["boundingBox"]["lowerLeft"], meta["boundingBox"]["upperRight"]
        assert 1.5 < lo[0] < hi[0] < 3.3 and 50.1 < lo[1] < hi[1] < 50.8
        z, row, col = sample_tile(server, cid, tms_id)
        item = rels["item"]
        assert item["templated"] and item["type"] == MVT
        url = item["href"].format(tileMatrix=z, tileRow=row, tileCol=col)
        by_template = server.http.get(url, timeout=60)
        assert by_template.status_code == 200 and decode(by_template.content)[cid]["features"]

        tilejson = server.json(f"/collections/{cid}/tiles/{tms_id}/tilejson.json")
        assert tilejson["tilejson"] == "3.0.0"
        assert [v["id"] for v in tilejson["vector_layers"]] == [cid]
        assert "site_statut" in tilejson["vector_layers"][0]["fields"]
        assert tilejson["minzoom"] == 0 and tilejson["maxzoom"] >= ZOOM
        west, south, east, north = tilejson["bounds"]
        assert 1.5 < west < east < 3.3 and 50.1 < south < north < 50.8
        url = tilejson["tiles"][0].format(z=z, y=row, x=col)
        assert server.http.get(url, timeout=60).content == by_template.content


def test_dataset_tile_has_every_layer(server):
    assert {s["links"][0]["href"].rsplit("/", 1)[1]
            for s in server.json("/tiles")["tilesets"]} == set(TMS_IDS)
    for tms_id in TMS_IDS:
        meta = server.json(f"/tiles/{tms_id}")
        assert {layer["id"] for layer in meta["layers"]} == set(FEATURE_COLLECTIONS)
        tilejson = server.json(f"/tiles/{tms_id}/tilejson.json")
        assert {v["id"] for v in tilejson["vector_layers"]} == set(FEATURE_COLLECTIONS)
        first = {layer["id"]: int(layer["minTileMatrix"]) for layer in meta["layers"]}
        assert first == {v["id"]: v["minzoom"] for v in tilejson["vector_layers"]}
        # Béthune at z10: every layer shown at that zoom has features there
        z = 10 if tms_id == "WebMercatorQuad" else 11
        tile = registry.get(tms_id).tile(2.64, 50.53, z)
        r = server.get(f"/tiles/{tms_id}/{z}/{tile.y}/{tile.x}")
        assert r.status_code == 200 and r.headers["content-type"] == MVT
        layers = decode(r.content)
        shown = {cid for cid in FEATURE_COLLECTIONS if first[cid] <= z}
        assert set(layers) == shown, shown ^ set(layers)
        single = decode(server.get(f"/collections/zae/tiles/{tms_id}/{z}/{tile.y}/{tile.x}").content)
        assert len(layers["zae"]["features"]) == len(single["zae"]["features"])


@pytest.mark.parametrize("tms_id, before, from_", [("WebMercatorQuad", 12, 13),
                                                    ("LAMB93", 13, 14)])
def test_buildings_appear_from_street_scale(server, tms_id, before, from_):
    """batiments (tile_min_zoom: 13 in its collection file) is left out of smaller-scale tiles,
    which stay small and fast; its tileset metadata says from which tile matrix it appears."""
    meta = server.json(f"/collections/batiments/tiles/{tms_id}")
    assert meta["layers"][0]["minTileMatrix"] == str(from_)
    for z, shown in ((before, False), (from_, True)):
        tile = registry.get(tms_id).tile(2.8317, 50.4328, z)  # Lens
        r = server.get(f"/tiles/{tms_id}/{z}/{tile.y}/{tile.x}")
        assert r.status_code == 200
        assert ("batiments" in decode(r.content)) is shown, z
        r = server.get(f"/collections/batiments/tiles/{tms_id}/{z}/{tile.y}/{tile.x}")
        assert r.status_code == (200 if shown else 204), z


def test_empty_tile_is_204(server):
    tile = registry.get("WebMercatorQuad").tile(-30.0, 45.0, 12)  # the Atlantic
    r = server.get(f"/collections/communes/tiles/WebMercatorQuad/12/{tile.y}/{tile.x}")
    assert r.status_code == 204 and r.content == b""
    r = server.get(f"/tiles/WebMercatorQuad/12/{tile.y}/{tile.x}")
    assert r.status_code == 204


def test_tile_matrix_sets(server):
    listed = server.json("/tileMatrixSets")["tileMatrixSets"]
    assert [s["id"] for s in listed] == TMS_IDS
    lamb93 = server.json("/tileMatrixSets/LAMB93")
    assert lamb93["crs"]["uri"] == "http://www.opengis.net/def/crs/EPSG/0/2154"
    assert len(lamb93["tileMatrices"]) == 22
    assert lamb93["tileMatrices"][0]["pointOfOrigin"] == [0.0, 12_000_000.0]
    wmq = server.json("/tileMatrixSets/WebMercatorQuad")
    assert wmq["uri"] == "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"


def test_collection_links_and_conformance(server):
    doc = server.json("/collections/friches?f=json")
    rels = {link["rel"]: link for link in doc["links"]}
    tilesets = rels["http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"]
    assert tilesets["href"].endswith("/collections/friches/tiles")
    assert server.http.get(tilesets["href"], timeout=60).status_code == 200
    # pygeoapi 0.24 drops `templated` from configured links; services.pygeoapi_compat (patch collection-links) restores it
    (template,) = [link for link in doc["links"] if link.get("type") == MVT]
    assert template["rel"] == "item" and template["templated"] is True
    z, row, col = sample_tile(server, "friches", "WebMercatorQuad")
    url = template["href"].format(tileMatrix=z, tileRow=row, tileCol=col)
    assert server.http.get(url, timeout=60).status_code == 200
    classes = server.json("/conformance")["conformsTo"]
    for name in ("core", "tileset", "tilesets-list", "geodata-tilesets", "dataset-tilesets", "mvt"):
        assert f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{name}" in classes


@pytest.mark.parametrize("path,status", [
    ("/collections/friches/tiles/WebMercatorQuad/14/a/1", 400),
    ("/collections/friches/tiles/WebMercatorQuad/1.5/0/0", 400),
    # outside the tile matrix set: 404, as the raster tiles (one check, services/tiles/tms.py)
    ("/collections/friches/tiles/WebMercatorQuad/25/0/0", 404),
    ("/collections/friches/tiles/WebMercatorQuad/2/4/0", 404),
    ("/collections/friches/tiles/WebMercatorQuad/2/0/-1", 404),
    ("/collections/friches/tiles/LAMB93/22/0/0", 404),
    ("/collections/friches/tiles/LAMB93/3/0/1", 404),      # LAMB93 z3 is one column wide
    ("/tiles/WebMercatorQuad/3/8/0", 404),
    ("/collections/friches/tiles/NoSuchSet/1/0/0", 404),
    ("/collections/friches/tiles/NoSuchSet", 404),
    ("/tiles/NoSuchSet/1/0/0", 404),
    ("/tileMatrixSets/NoSuchSet", 404),
    ("/collections/no-such-collection/tiles/WebMercatorQuad/1/0/0", 404),
    ("/collections/no-such-collection/tiles", 404),
])
def test_bad_requests(server, path, status):
    r = server.get(path)
    assert r.status_code == status, (path, r.status_code)
    body = r.json()
    assert body["description_fr"] and body["description_en"], body


@pytest.mark.parametrize("cid", COVERAGES)
def test_coverage_has_no_vector_tiles(server, cid):
    r = server.get(f"/collections/{cid}/tiles/WebMercatorQuad/10/340/520")
    assert r.status_code == 400
    assert "map/tiles" in r.json()["description_en"]


# --------------------------------------------------------------------------- QGIS

def run_qgis(uri: str, epsg: int, extent: list[float], name: str) -> dict:
    ARTIFACTS.mkdir(exist_ok=True)
    image = ARTIFACTS / f"qgis-vector-tiles-{name}.png"
    return run_client(QGIS_CLIENT, uri, epsg, *extent, image, timeout=300)


# Béthune-Lens, where every layer has features
AREA_3857 = [290000.0, 6505000.0, 320000.0, 6535000.0]
AREA_2154 = [640000.0, 7030000.0, 670000.0, 7060000.0]
NEEDS_QGIS = requires_qgis


@NEEDS_QGIS
@pytest.mark.parametrize("prefix", ["/collections/communes/tiles", "/tiles"])
def test_qgis_draws_web_mercator_tiles(server, prefix):
    """One collection's tiles, then the dataset tiles (every layer in one tile)."""
    url = f"{server.url}{prefix}/WebMercatorQuad/{{z}}/{{y}}/{{x}}"
    name = prefix.strip("/").replace("/", "-") + "-" + server.url.rsplit(":", 1)[1]
    seen = run_qgis(f"type=xyz&url={url}&zmin=0&zmax=16", 3857, AREA_3857, name)
    assert seen["valid"] and seen["crs"] == "EPSG:3857", seen
    assert not seen["errors"], seen["errors"]
    assert seen["drawn_pixels"] > 0.02 * seen["sampled_pixels"], seen


@NEEDS_QGIS
def test_qgis_draws_lambert93_tiles(server):
    """Lambert-93 vector tiles through the ArcGIS VectorTileServer description.

    QGIS reads a non-Mercator vector tile grid only from 3.26 on (QgsVectorTileMatrixSet and
    its fromEsriJson, added in 2022). QGIS 3.22 builds every vector tile layer on the Web
    Mercator grid: its QgsVectorTileLayer sets EPSG:3857 and, for serviceType=arcgis, reads
    only `tiles`, `maxzoom` and the style from the JSON, never tileInfo (origin, lods,
    spatialReference): libqgis_core 3.22 holds none of those keys and no
    QgsVectorTileMatrixSet symbol. On 3.22 the layer loads as EPSG:3857 and draws nothing.
    """
    seen_version = int(subprocess.run(
        [QGIS_PYTHON, "-c", "from qgis.core import Qgis; print(Qgis.QGIS_VERSION_INT)"],
        capture_output=True, text=True, check=True).stdout.split()[-1])
    if seen_version < 32600:
        pytest.skip(f"QGIS {seen_version} < 3.26 has no non-Web-Mercator vector tile grid "
                    "(QgsVectorTileMatrixSet::fromEsriJson arrived in 3.26): Lambert-93 vector "
                    "tiles cannot be drawn by this QGIS")
    uri = (f"type=xyz&serviceType=arcgis&url={server.url}/collections/communes/tiles/LAMB93/"
           "VectorTileServer")
    seen = run_qgis(uri, 2154, AREA_2154, f"lamb93-{server.url.rsplit(':', 1)[1]}")
    assert seen["valid"] and seen["crs"] == "EPSG:2154", seen
    assert seen["drawn_pixels"] > 0.02 * seen["sampled_pixels"], seen


def test_arcgis_service_describes_the_lambert93_grid(server):
    doc = server.json("/collections/communes/tiles/LAMB93/VectorTileServer")
    info = doc["tileInfo"]
    assert info["spatialReference"]["wkid"] == 2154
    assert info["origin"] == {"x": 0.0, "y": 12_000_000.0}
    assert info["lods"][0]["resolution"] * info["rows"] == pytest.approx(209_715.2 * 256)
    z, row, col = sample_tile(server, "communes", "LAMB93")
    by_service = server.get("/collections/communes/tiles/LAMB93/VectorTileServer/"
                            + doc["tiles"][0].format(z=z, y=row, x=col))
    assert by_service.status_code == 200
    assert by_service.content == server.get(
        f"/collections/communes/tiles/LAMB93/{z}/{row}/{col}").content
