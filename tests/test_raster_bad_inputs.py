"""Issue 13: odd inputs to the raster routes (titiler /point and /tiles, the OGC map tiles, /point,
/coverage, the legend) are clean 4xx bilingual OGC exceptions, never a 5xx or a library
message; titiler's parameters are bounded. Over real HTTP, on both stores."""
from __future__ import annotations

import re
import time
import warnings

import pytest
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile

from services.tiles import tms as tms_registry

COLL = "/collections/surchauffe"
TILES = f"{COLL}/map/tiles"
BETHUNE = (2.6402, 50.5301)
LIBRARY_WORDS = ("PROJ", "out of range (not in", "Traceback", "rasterio", "rio_tiler",
                 "cannot convert", "band index")


def data_tile(tms_id: str = "LAMB93", z: int = 13):
    tile = tms_registry.get(tms_id).tile(*BETHUNE, z)
    return tile.z, tile.y, tile.x  # tileMatrix, tileRow, tileCol


def assert_ogc_error(r, status: int) -> dict:
    assert r.status_code == status, (r.request.url, r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert body["code"] and body["description_fr"] and body["description_en"], body
    for word in LIBRARY_WORDS:  # our own words, not a library's message
        assert word not in body["description_en"], body
    return body


def image_shape(body: bytes) -> tuple[int, ...]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with MemoryFile(body) as mem, mem.open() as ds:
            return ds.read().shape


# ---------------------------------------------------------------------------- 1. /point
@pytest.mark.parametrize("coords", ["1e308,1e308", "200,95", "-180.5,50", "2.6,90.5",
                                    "inf,50", "2.6,nan", "-inf,-inf", "1e400,50"])
def test_titiler_point_outside_the_crs_range_is_400(server, coords):
    body = assert_ogc_error(server.get(f"{COLL}/titiler/point/{coords}"), 400)
    assert re.search(r"\b(lon|lat|coordinates)\b", body["description_en"]), body
    assert re.search(r"\b(lon|lat|coordonnées)\b", body["description_fr"]), body


def test_titiler_point_in_range_but_off_the_data_is_404(server):
    for coords in ("0,-90", "7,45", "-180,0", "179.9,-89.9"):
        assert_ogc_error(server.get(f"{COLL}/titiler/point/{coords}"), 404)


def test_titiler_point_coord_crs_is_bounded_and_works(server):
    ours = server.json(f"{COLL}/point", params={"lon": BETHUNE[0], "lat": BETHUNE[1]})
    from pyproj import Transformer
    x, y = Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True).transform(*BETHUNE)
    lambert = server.json(f"{COLL}/titiler/point/{x!r},{y!r}", params={"coord_crs": "EPSG:2154"})
    assert lambert["values"] == ours["values"]
    assert_ogc_error(server.get(f"{COLL}/titiler/point/1e9,7e6",
                                params={"coord_crs": "EPSG:2154"}), 400)
    assert_ogc_error(server.get(f"{COLL}/titiler/point/{x!r},{y!r}",
                                params={"coord_crs": "EPSG:32631"}), 400)
    assert_ogc_error(server.get(f"{COLL}/titiler/point/{x!r},{y!r}",
                                params={"coord_crs": "not a crs"}), 400)


@pytest.mark.parametrize("params", [{"lon": "1e308", "lat": "1e308"}, {"lon": "nan", "lat": "50"},
                                    {"lon": "2.6", "lat": "inf"}, {"lon": "-500", "lat": "50"},
                                    {"lon": "2.6"}, {"lon": "x", "lat": "y"}])
def test_ogc_point_odd_coordinates_are_400(server, params):
    assert_ogc_error(server.get(f"{COLL}/point", params=params), 400)


# ---------------------------------------------------------------------------- 2. bidx
def _bidx_urls():
    z, row, col = data_tile()
    return [f"{TILES}/LAMB93/{z}/{row}/{col}", f"{COLL}/point?lon={BETHUNE[0]}&lat={BETHUNE[1]}",
            f"{COLL}/titiler/point/{BETHUNE[0]},{BETHUNE[1]}",
            f"{COLL}/titiler/tiles/LAMB93/{z}/{col}/{row}.png",
            f"{COLL}/titiler/tiles/LAMB93/{z}/{col}/{row}",
            f"{COLL}/titiler/LAMB93/tilejson.json"]


@pytest.mark.parametrize("bidx", ["99", "0", "-1", "2"])
def test_a_band_that_does_not_exist_is_400_naming_the_valid_bands(server, bidx):
    for url in _bidx_urls():
        sep = "&" if "?" in url else "?"
        body = assert_ogc_error(server.get(f"{url}{sep}bidx={bidx}"), 400)
        assert "valid bands: 1" in body["description_en"], (url, body)
        assert "bandes valides : 1" in body["description_fr"], (url, body)


def test_bidx_repeated_or_not_a_number_is_400_and_band_1_works(server):
    for url in _bidx_urls()[:4]:
        sep = "&" if "?" in url else "?"
        assert_ogc_error(server.get(f"{url}{sep}bidx=1&bidx=1"), 400)
        assert_ogc_error(server.get(f"{url}{sep}bidx=abc"), 400)
        default, band1 = server.get(url), server.get(f"{url}{sep}bidx=1")
        assert default.status_code == band1.status_code == 200, (url, band1.text[:300])
        assert default.content == band1.content


# ---------------------------------------------------------------------------- 3. bounds
def _tile_urls():
    z, row, col = data_tile()
    return [f"{TILES}/LAMB93/{z}/{row}/{col}", f"{COLL}/titiler/tiles/LAMB93/{z}/{col}/{row}.png"]


@pytest.mark.parametrize("query", [
    "buffer=20000", "buffer=64.5", "buffer=0.3", "buffer=-1", "buffer=0", "buffer=nan",
    "buffer=inf", "padding=20000", "padding=65", "padding=0", "padding=-3", "padding=1.5",
    "tilesize=20000", "tilesize=1025", "tilesize=0", "tilesize=-256",
    "rescale=0,1e300", "rescale=nan,1", "rescale=1,2&rescale=3,4",
    "expression=b1*2", "expression=b1;b1", "algorithm=hillshade", "algorithm=contours",
    "algorithm_params=%7B%7D", "color_formula=gamma%20r%202", "colormap=%7B%221%22:%22red%22%7D",
    "colormap_name=nope", "resampling=nope", "reproject=nope", "nodata=abc",
    "return_mask=maybe", "unscale=maybe", "url=/etc/passwd"])
def test_titiler_parameters_are_bounded(server, query):
    for url in _tile_urls():
        started = time.monotonic()
        body = assert_ogc_error(server.get(f"{url}?{query}"), 400)
        assert time.monotonic() - started < 10, (url, query)  # refused before reading
        name = query.split("=")[0]
        assert name in body["description_en"] and name in body["description_fr"], (query, body)


def test_bounded_parameters_inside_their_limits_render(server):
    for url in _tile_urls():
        assert image_shape(server.get(f"{url}?buffer=64").content)[1:] == (384, 384)
        assert image_shape(server.get(f"{url}?buffer=0.5").content)[1:] == (257, 257)
        assert image_shape(server.get(f"{url}?padding=64").content)[1:] == (256, 256)
        r = server.get(f"{url}?tilesize=1024")
        assert r.status_code == 200 and image_shape(r.content)[1:] == (1024, 1024)
        for query in ("resampling=bilinear", "nodata=nan", "return_mask=false",
                      "colormap_name=viridis", "rescale=0,4"):
            assert server.get(f"{url}?{query}").status_code == 200, query


def test_titiler_metadata_parameters_are_bounded(server):
    z, row, col = data_tile()
    for path, query in ((f"{COLL}/titiler/tiles/LAMB93", "maxzoom=3000"),
                        (f"{COLL}/titiler/tiles/LAMB93", "minzoom=-1"),
                        (f"{COLL}/titiler/tiles/LAMB93", "minzoom=9&maxzoom=3"),
                        (f"{COLL}/titiler/LAMB93/tilejson.json", "maxzoom=100000"),
                        (f"{COLL}/titiler/LAMB93/tilejson.json", "tilesize=99999"),
                        (f"{COLL}/titiler/LAMB93/tilejson.json", "tile_format=jp2"),
                        (f"{COLL}/titiler/LAMB93/tilejson.json", "buffer=500"),
                        (f"{COLL}/titiler/tiles", "crs=EPSG:4978"),
                        (f"{COLL}/titiler/tiles", "f=xyz"),
                        (f"{COLL}/titiler/tiles/LAMB93/{z}/{col}/{row}.tif", ""),
                        (f"{COLL}/titiler/tiles/LAMB93/{z}/{col}/{row}.npy", ""),
                        (f"{COLL}/titiler/tiles/LAMB93/{z}/{col}/{row}.jp2", ""),
                        (f"{COLL}/titiler/tiles/LAMB93/{z}/{col}/{row}.xyz", "")):
        assert_ogc_error(server.get(f"{path}?{query}"), 400)
    assert server.json(f"{COLL}/titiler/tiles/LAMB93", params={"minzoom": 8, "maxzoom": 10})
    assert server.json(f"{COLL}/titiler/tiles", params={"crs": "EPSG:2154"})["tilesets"]
    webp = server.get(f"{COLL}/titiler/tiles/LAMB93/{z}/{col}/{row}.webp")
    assert webp.status_code == 200 and webp.headers["content-type"] == "image/webp"


# ---------------------------------------------------------------------------- 4. coverage bbox
BAD_BBOXES = ["a,b,c,d", "2.6,50.4,2.61,x", "nan,50.4,2.61,50.41", "2.6,50.4,inf,50.41",
              "2.6,50.4,1e400,50.41", "2.6,-inf,2.61,50.41", "2.6,50.4,2.61",
              "2.6,50.4,2.61,50.41,3",
              "2.6", "", "2.61,50.4,2.6,50.41", "2.6,50.41,2.61,50.4", "2.6,50.4,2.6,50.41",
              "-200,50.4,2.61,50.41", "2.6,50.4,2.61,91"]


@pytest.mark.parametrize("extra", [{}, {"f": "json"}, {"f": "html"}, {"f": "GTiff"},
                                   {"datetime": "2023"}, {"bbox-crs": "EPSG:4326"}])
def test_coverage_bad_bbox_is_400(server, extra):
    for bbox in BAD_BBOXES:
        assert_ogc_error(server.get(f"{COLL}/coverage", params={"bbox": bbox, **extra}), 400)


def test_coverage_unknown_crs_is_400_and_outside_the_data_404(server):
    cov = f"{COLL}/coverage"
    good = "2.6,50.4,2.61,50.41"
    for params in ({"bbox": good, "bbox-crs": "EPSG:9999"}, {"bbox": good, "crs": "foo"},
                   {"bbox": good, "bbox-crs": "EPSG:32631", "f": "GTiff"},
                   {"bbox": good, "crs": "http://www.opengis.net/def/crs/EPSG/0/9999"},
                   {"bbox-crs": "nope"}):
        assert_ogc_error(server.get(cov, params=params), 400)
    for params in ({"bbox": "5,45,5.1,45.1", "f": "json"}, {"bbox": "5,45,5.1,45.1"},
                   {"bbox": "5,45,5.1,45.1", "f": "GTiff"},
                   {"bbox": "0,0,10,10", "bbox-crs": "EPSG:2154", "f": "GTiff"}):
        assert_ogc_error(server.get(cov, params=params), 404)


def test_coverage_odd_but_valid_bboxes_are_served(server):
    cov = f"{COLL}/coverage"
    # 6 values (z ignored) through pygeoapi: was a 500
    r = server.get(cov, params={"bbox": "2.6,50.4,0,2.61,50.41,10", "f": "json"})
    assert r.status_code == 200 and r.json()["type"] == "Coverage"
    # huge projected boxes are cut to the data before any reprojection: too large, not a 500
    for crs in ("EPSG:3857", "EPSG:2154"):
        r = server.get(cov, params={"bbox": "-9e8,-9e8,9e8,9e8", "bbox-crs": crs})
        assert_ogc_error(r, 400)
        assert "subset too large" in r.json()["description_en"]
    r = server.get(cov, params={"bbox": "640000,7030000,642000,7031500", "bbox-crs": "EPSG:2154",
                                "f": "GTiff"})
    assert r.status_code == 200 and r.content[:4] in (b"II*\x00", b"MM\x00*")


# ---------------------------------------------------------------------------- sweep
@pytest.mark.parametrize("path", [
    f"{TILES}/LAMB93/13/755/102?datetime=abc", f"{TILES}/LAMB93/13/755/102?datetime=99999",
    f"{TILES}/LAMB93/13/755/102?datetime=0000", f"{TILES}/LAMB93/13/755/102?datetime=2024/2022",
    f"{TILES}/LAMB93/13/755/102?datetime=2022/2023/2024", f"{TILES}/LAMB93/13/755/102?f=xyz",
    f"{TILES}/LAMB93/13/a/102", f"{TILES}/LAMB93/1.5/755/102", f"{TILES}/LAMB93?f=xyz",
    f"{TILES}?f=xyz", f"{TILES}/LAMB93/tilejson.json?f=xyz", f"{TILES}?datetime=abc",
    f"{TILES}/WMTSCapabilities.xml?f=xyz", f"{COLL}/legend?f=xyz",
    f"{COLL}/point?lon=2.6&lat=50.5&datetime=abc", f"{COLL}/titiler/info?datetime=99999",
    f"{COLL}/titiler/point/2.6,50.5?datetime=abc", f"{COLL}/titiler/tiles/LAMB93/a/1/1.png",
    f"{COLL}/coverage?datetime=abc", f"{COLL}/coverage?datetime=99999&f=GTiff"])
def test_odd_values_are_400(server, path):
    assert_ogc_error(server.get(path), 400)


@pytest.mark.parametrize("path", [
    f"{TILES}/LAMB93/13/755/102?datetime=9999-12-31", f"{TILES}/LAMB93/13/755/102?datetime=9999",
    f"{TILES}/LAMB93/13/755/102?datetime=9999-12-31T23:59:59.999999Z",
    f"{TILES}/LAMB93/-1/755/102", f"{TILES}/LAMB93/22/755/102",
    f"{TILES}/LAMB93/99999999999999999999/1/1",
    f"{TILES}/LAMB93/13/-1/102", f"{TILES}/LAMB93/13/755/-1", f"{TILES}/LAMB93/13/916/102",
    f"{TILES}/LAMB93/13/755/199", f"{TILES}/LAMB93/13/99999999999999999999999/1",
    f"{TILES}/WebMercatorQuad/25/1/1", f"{TILES}/WebMercatorQuad/3/8/1",
    f"{COLL}/titiler/tiles/LAMB93/-5/0/0.png", f"{COLL}/titiler/tiles/LAMB93/13/99999/1.png",
    f"{COLL}/titiler/tiles/LAMB93/13/1/-1", f"{COLL}/titiler/tiles/WorldCRS84Quad/3/1/1.png"])
def test_outside_the_set_or_the_summers_is_404(server, path):
    assert_ogc_error(server.get(path), 404)


def test_head_is_answered_like_get(server):
    z, row, col = data_tile()
    for path, status in ((f"{TILES}/LAMB93/{z}/{row}/{col}", 200), (f"{TILES}/LAMB93/13/1/1", 200),
                         (f"{COLL}/point?lon=2.6402&lat=50.5301", 200),
                         (f"{COLL}/titiler/info", 200), (f"{COLL}/legend?f=png", 200)):
        head = server.http.head(server.url + path, timeout=60)
        assert head.status_code == status and not head.content, (path, head.status_code)
        get = server.get(path)
        assert get.status_code == status
        assert head.headers.get("content-type") == get.headers.get("content-type"), path
