"""Issue 13: a raster map tile inside the tile matrix set but off the data is 204 No Content (as
the vector tiles; QGIS logged the former 404s as transfer errors), a tile outside the set is a
404; the tile URL templates name the OGC API Tiles variables. Over real HTTP, on both stores."""
from __future__ import annotations

import re

import pytest

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


def caching_headers(r) -> dict[str, bool]:
    return {h: h in r.headers for h in ("etag", "cache-control", "content-type")}


@pytest.mark.parametrize("tms_id,z,row,col", off_data_tiles())
def test_tile_inside_the_set_off_the_data_is_204(server, tms_id, z, row, col):
    r = server.get(f"{TILES}/{tms_id}/{z}/{row}/{col}", params={"f": "png"})
    assert r.status_code == 204 and r.content == b"", (r.status_code, r.text[:300])
    for fmt in ("webp", None):
        assert server.get(f"{TILES}/{tms_id}/{z}/{row}/{col}",
                          params={"f": fmt} if fmt else {}).status_code == 204
    # titiler's own route, the same
    t = server.get(f"{COLL}/titiler/tiles/{tms_id}/{z}/{col}/{row}.png")
    assert t.status_code == 204 and t.content == b""


def test_empty_raster_tile_has_the_vector_tiles_headers(server):
    tms = tms_registry.get("WebMercatorQuad")
    tile = tms.tile(-30.0, 45.0, 12)  # the Atlantic: empty for both kinds of tile
    vector = server.get(f"/collections/communes/tiles/WebMercatorQuad/12/{tile.y}/{tile.x}")
    raster = server.get(f"{TILES}/WebMercatorQuad/12/{tile.y}/{tile.x}", params={"f": "png"})
    assert vector.status_code == raster.status_code == 204
    assert caching_headers(raster) == caching_headers(vector), (raster.headers, vector.headers)
    # If-None-Match: * asks whether there is a representation: none, so no 304 for either
    star = {"If-None-Match": "*"}
    assert server.get(f"{TILES}/WebMercatorQuad/12/{tile.y}/{tile.x}", headers=star
                      ).status_code == 204
    assert server.get(f"/collections/communes/tiles/WebMercatorQuad/12/{tile.y}/{tile.x}",
                      headers=star).status_code == 204


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
