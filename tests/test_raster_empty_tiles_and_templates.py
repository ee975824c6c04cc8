"""Issue 13: a raster map tile inside the tile matrix set but off the data is a transparent image
(QGIS logged the former 404s as transfer errors, and a 204 as a flawed image), a tile outside the
set is a 404; the tile URL templates name the OGC API Tiles variables. Over real HTTP, on both stores."""
from __future__ import annotations

import collections
import re
import warnings

import pytest
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

from qgis_runner import requires_qgis, run_client
from services.tiles import tms as tms_registry

COLL = "/collections/surchauffe"
TILES = f"{COLL}/map/tiles"
OGC_VARIABLES = "{tileMatrix}/{tileRow}/{tileCol}"


def off_data_tiles():
    """Tiles inside each set, far from the Pas-de-Calais (Brittany, the Alps, Corsica)."""
    found = []
    for tms_id in ("WebMercatorQuad", "LAMB93"):
        tms = tms_registry.get(tms_id)
        for lon, lat, z in ((-4.5, 48.4, 6), (6.8, 45.8, 12), (9.0, 42.2, 14)):
            tile = tms.tile(lon, lat, z)
            found.append((tms_id, z, tile.y, tile.x))
    return found


def transparent(r, media_type: str, size: int) -> bool:
    """The answer is an image of the tile's size whose every pixel is fully transparent."""
    assert r.headers["content-type"] == media_type, r.headers
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile(r.content) as mem, mem.open() as image:
            alpha = image.read(image.count)  # the last band is the alpha (PNG LA, WebP RGBA)
            return (image.width, image.height) == (size, size) and int(alpha.max()) == 0


@pytest.mark.parametrize("tms_id,z,row,col", off_data_tiles())
def test_tile_inside_the_set_off_the_data_is_a_transparent_image(server, tms_id, z, row, col):
    size = tms_registry.get(tms_id).matrix(z).tileWidth
    r = server.get(f"{TILES}/{tms_id}/{z}/{row}/{col}", params={"f": "png"})
    assert r.status_code == 200, (r.status_code, r.text[:300])
    assert transparent(r, "image/png", size) and len(r.content) < 1000
    webp = server.get(f"{TILES}/{tms_id}/{z}/{row}/{col}", params={"f": "webp"})
    assert webp.status_code == 200 and transparent(webp, "image/webp", size)
    plain = server.get(f"{TILES}/{tms_id}/{z}/{row}/{col}")
    assert plain.status_code == 200 and transparent(plain, "image/png", size)
    # titiler's own route, the same
    t = server.get(f"{COLL}/titiler/tiles/{tms_id}/{z}/{col}/{row}.png")
    assert t.status_code == 200 and transparent(t, "image/png", size)


def test_empty_raster_tile_is_cached_and_revalidated_like_any_tile(server):
    tms = tms_registry.get("WebMercatorQuad")
    tile = tms.tile(-30.0, 45.0, 12)  # the Atlantic: no data
    url = f"{TILES}/WebMercatorQuad/12/{tile.y}/{tile.x}"
    raster = server.get(url, params={"f": "png"})
    assert raster.status_code == 200 and transparent(raster, "image/png", 256)
    assert raster.headers["ETag"].startswith('W/"') and "max-age" in raster.headers["Cache-Control"]
    again = server.get(url, params={"f": "png"}, headers={"If-None-Match": raster.headers["ETag"]})
    assert again.status_code == 304
    # the vector tiles keep the MVT convention of an empty 204
    vector = server.get(f"/collections/communes/tiles/WebMercatorQuad/12/{tile.y}/{tile.x}")
    assert vector.status_code == 204


def test_tile_with_data_keeps_its_etag_and_cache_control(server):
    tile = tms_registry.get("LAMB93").tile(2.6402, 50.5301, 13)
    url = f"{TILES}/LAMB93/13/{tile.y}/{tile.x}"
    r = server.get(url)
    assert r.status_code == 200 and r.headers["ETag"].startswith('W/"')
    assert "max-age" in r.headers["Cache-Control"]
    again = server.get(url, headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == r.headers["ETag"]
    assert server.get(url, headers={"If-None-Match": "*"}).status_code == 304


@pytest.mark.parametrize("tms_id,z,row,col", [
    ("LAMB93", 22, 0, 0), ("LAMB93", -1, 0, 0), ("LAMB93", 13, 916, 0), ("LAMB93", 13, 0, 199),
    ("LAMB93", 13, -1, 0), ("LAMB93", 0, 1, 0), ("WebMercatorQuad", 25, 0, 0),
    ("WebMercatorQuad", 2, 4, 0), ("WebMercatorQuad", 2, 0, 4), ("WebMercatorQuad", 0, 0, -1)])
def test_tile_outside_the_set_is_404(server, tms_id, z, row, col):
    r = server.get(f"{TILES}/{tms_id}/{z}/{row}/{col}")
    assert r.status_code == 404, (r.status_code, r.text[:300])
    body = r.json()
    assert body["description_fr"] and body["description_en"]
    assert server.get(f"{COLL}/titiler/tiles/{tms_id}/{z}/{col}/{row}.png").status_code == 404


# ---------------------------------------------------------------------------- templates
def _expand(template: str, server, z: int, row: int, col: int) -> str:
    assert template.startswith(server.url)
    return (template[len(server.url):].replace("{tileMatrix}", str(z))
            .replace("{tileRow}", str(row)).replace("{tileCol}", str(col)))


def test_tileset_and_collection_templates_use_ogc_variables(server):
    for tms_id in ("WebMercatorQuad", "LAMB93"):
        ts = server.json(f"{TILES}/{tms_id}", params={"datetime": "2023"})
        items = [link for link in ts["links"] if link["rel"] == "item"]
        assert {link["type"] for link in items} == {"image/png", "image/webp"}
        for link in items:
            assert link["templated"] is True
            assert OGC_VARIABLES in link["href"] and "datetime=2023" in link["href"]
            assert not re.search(r"\{[xyz]\}", link["href"]), link
        listed = server.json(TILES)["tilesets"]
        for tileset in listed:
            for link in tileset["links"]:
                assert not re.search(r"\{[xyz]\}", link["href"]), link
        # the template leads to the tile
        tile = tms_registry.get(tms_id).tile(2.6402, 50.5301, 13)
        png = next(link["href"] for link in items if link["type"] == "image/png")
        r = server.get(_expand(png, server, 13, tile.y, tile.x))
        assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    coll = server.json(COLL)
    item = next(link for link in coll["links"] if link["rel"] == "item"
                and link.get("type") == "image/png")
    assert OGC_VARIABLES in item["href"] and not re.search(r"\{[xyz]\}", item["href"])
    tile = tms_registry.get("WebMercatorQuad").tile(2.6402, 50.5301, 12)
    assert server.get(_expand(item["href"], server, 12, tile.y, tile.x)).status_code == 200


def test_tilejson_keeps_the_xyz_template(server):
    tj = server.json(f"{TILES}/WebMercatorQuad/tilejson.json")
    assert "{z}/{y}/{x}" in tj["tiles"][0] and "{tileMatrix}" not in tj["tiles"][0]
    tile = tms_registry.get("WebMercatorQuad").tile(2.6402, 50.5301, 12)
    url = tj["tiles"][0][len(server.url):].format(z=12, y=tile.y, x=tile.x)
    assert server.get(url).status_code == 200


# ------------------------------------------------------------------ QGIS panning (issue 13)
@requires_qgis
def test_qgis_pans_over_the_overheating_layer_without_transfer_errors(server, tmp_path):
    """Headless QGIS pans the XYZ and the LAMB93 WMTS layers from Béthune across the data's edge
    to the Channel, Belgium and the Alps (tests/clients/qgis_raster_tiles.py): every tile reply
    is a 200 (an image, transparent off the data), QGIS logs no network or provider error, and
    the views over the data are drawn, the ones far from it empty."""
    seen = run_client("qgis_raster_tiles.py", server.url, tmp_path)
    tiles = [r for r in seen["replies"] if "/map/tiles/" in r["url"]
             and "WMTSCapabilities" not in r["url"]]
    statuses = collections.Counter(r["status"] for r in tiles)
    # the pan asked for tiles on the data and off it, and each got an image without error
    assert statuses[200] > 40 and set(statuses) == {200}, statuses
    failed = [r for r in seen["replies"] if r["error"] or not 200 <= (r["status"] or 0) < 300]
    assert not failed, failed[:10]
    warnings_logged = [m for m in seen["logged"] if m["level"] >= 1]  # Qgis.Warning and above
    assert not warnings_logged, warnings_logged[:10]
    for name in ("xyz", "wmts_lamb93"):
        pan = seen[name]["pan"]
        for view, info in pan.items():
            assert not info["errors"], (name, view, info)
        assert pan["bethune"]["opaque_share"] > 0.5, (name, pan)
        assert pan["alps"]["opaque_share"] == 0, (name, pan)
