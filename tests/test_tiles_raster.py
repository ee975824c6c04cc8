"""Raster map tiles of `surchauffe` (titiler-core), the legend, /point, WMTS and GeoTIFF coverage
subsets, over real HTTP on both stores. Expected values are read from the COG files with
rasterio and coloured with the ramp file independently of the server code."""
from __future__ import annotations

import json
import math
import warnings
import xml.etree.ElementTree as ET

import numpy as np
import pytest
import rasterio
from pyproj import Transformer
from rasterio.errors import NotGeoreferencedWarning
from rasterio.io import MemoryFile
from rasterio.windows import from_bounds

from conftest import PROJECT
from qgis_runner import requires_qgis, run_client
from services.tiles import tms as tms_registry

RAMP = json.loads((PROJECT / "styles" / "surchauffe.ramp.json").read_text(encoding="utf-8"))
TILES = "/collections/surchauffe/map/tiles"
# points inside the territory (Béthune, Lens, the Ternois countryside), CRS84
POINTS = [(2.6402, 50.5301), (2.8310, 50.4290), (2.3550, 50.3920)]
TMS_IDS = ["WebMercatorQuad", "LAMB93"]


def cog(manifest, year: int) -> str:
    return manifest["surchauffe"]["files"][str(year)]


def decode(body: bytes) -> np.ndarray:
    """(bands, rows, cols) of a PNG/WebP/GeoTIFF body, read by GDAL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # PNG/WebP: no georeference
        with MemoryFile(body) as mem, mem.open() as ds:
            return ds.read()


def expected_colour(value: float) -> np.ndarray:
    """The ramp colour titiler gives a value: rescaled to 0-255, truncated, then the stop
    colours interpolated at that index."""
    lo, hi = RAMP["rescale"]
    index = math.floor((min(max(value, lo), hi) - lo) / (hi - lo) * 255)
    at = lo + (hi - lo) * index / 255
    stops = [s["value"] for s in RAMP["stops"]]
    rgb = [[int(s["color"][i:i + 2], 16) for i in (1, 3, 5)] for s in RAMP["stops"]]
    return np.array([np.interp(at, stops, [c[k] for c in rgb]) for k in range(3)])


def tile_for(tms_id: str, lon: float, lat: float, z: int):
    tms = tms_registry.get(tms_id)
    return tms, tms.tile(lon, lat, z)


def assert_ogc_error(r, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert body["description_fr"] and body["description_en"], body
    return body


# ---------------------------------------------------------------------------- colours
@pytest.mark.parametrize("tms_id", TMS_IDS)
def test_tile_pixels_have_the_ramp_colour_of_the_cog_value(server, manifest, tms_id):
    z = 14
    path = cog(manifest, 2024)
    with rasterio.open(path) as src:
        data = src.read(1)
        checked, agree = 0, 0
        for lon, lat in POINTS:
            tms, tile = tile_for(tms_id, lon, lat, z)
            r = server.get(f"{TILES}/{tms_id}/{z}/{tile.y}/{tile.x}", params={"f": "png"})
            assert r.status_code == 200, r.text[:300]
            assert r.headers["content-type"] == "image/png"
            img = decode(r.content)
            assert img.shape == (4, 256, 256)
            left, bottom, right, top = tms.xy_bounds(tile)
            to_2154 = Transformer.from_crs(tms.rasterio_crs, "EPSG:2154", always_xy=True)
            for row in range(8, 256, 16):
                for col in range(8, 256, 16):
                    x = left + (col + 0.5) * (right - left) / 256
                    y = top - (row + 0.5) * (top - bottom) / 256
                    ex, ny = to_2154.transform(x, y)
                    r_, c_ = src.index(ex, ny)
                    if not (0 <= r_ < src.height and 0 <= c_ < src.width):
                        continue
                    value = float(data[r_, c_])
                    checked += 1
                    if value == src.nodata:
                        agree += int(img[3, row, col] == 0)
                        continue
                    colour = img[:3, row, col].astype(float)
                    agree += int(img[3, row, col] == 255 and
                                 np.abs(colour - expected_colour(value)).max() <= 4)
    assert checked > 500
    # nearest resampling: only a cell edge falling on a pixel centre may differ
    assert agree / checked >= 0.97, (agree, checked)


def test_png_and_webp_decode(server):
    tms, tile = tile_for("LAMB93", *POINTS[0], 13)
    for fmt, mime in (("png", "image/png"), ("webp", "image/webp")):
        r = server.get(f"{TILES}/LAMB93/13/{tile.y}/{tile.x}", params={"f": fmt})
        assert r.status_code == 200 and r.headers["content-type"] == mime
        img = decode(r.content)
        assert img.shape[1:] == (256, 256) and img.shape[0] in (3, 4)
        assert len(np.unique(img[0])) > 10  # a coloured ramp, not a flat image


def test_datetime_selects_the_summer(server, manifest):
    tms, tile = tile_for("WebMercatorQuad", *POINTS[1], 13)
    url = f"{TILES}/WebMercatorQuad/13/{tile.y}/{tile.x}"
    by_year = {y: server.get(url, params={"datetime": str(y)}).content for y in (2022, 2023, 2024)}
    assert len(set(by_year.values())) == 3
    assert server.get(url).content == by_year[2024]  # default: the latest summer
    for query, year in (("2023-07-14", 2023), ("2022-06-01T12:00:00Z", 2022),
                        ("2023-06-15/2023-07-15", 2023), ("../2022-07-01", 2022),
                        ("2024-08-01/..", 2024)):
        assert server.get(url, params={"datetime": query}).content == by_year[year], query
    assert_ogc_error(server.get(url, params={"datetime": "2019"}), 404)
    assert_ogc_error(server.get(url, params={"datetime": "2023-12-25"}), 404)
    assert_ogc_error(server.get(url, params={"datetime": "2022/2024"}), 400)
    assert_ogc_error(server.get(url, params={"datetime": "l'été dernier"}), 400)


def test_tiles_are_revalidated_without_rendering(server):
    tms, tile = tile_for("LAMB93", *POINTS[0], 13)
    url = f"{TILES}/LAMB93/13/{tile.y}/{tile.x}"
    first = server.get(url, params={"datetime": "2023"})
    etag = first.headers["ETag"]
    again = server.get(url, params={"datetime": "2023"}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["ETag"] == etag and not again.content
    other = server.get(url, params={"datetime": "2024"}, headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["ETag"] != etag
    assert other.content != first.content


def test_rescale_and_colormap_override_within_limits(server):
    tms, tile = tile_for("LAMB93", *POINTS[0], 13)
    url = f"{TILES}/LAMB93/13/{tile.y}/{tile.x}"
    default = server.get(url).content
    assert server.get(url, params={"rescale": "-4,8"}).content == default
    assert server.get(url, params={"rescale": "0,4"}).content != default
    assert server.get(url, params={"colormap_name": "viridis"}).content != default
    assert_ogc_error(server.get(url, params={"rescale": "0,10000"}), 400)
    assert_ogc_error(server.get(url, params={"rescale": "8,-4"}), 400)
    assert_ogc_error(server.get(url, params={"colormap_name": "nope"}), 400)
    assert_ogc_error(server.get(url, params={"tilesize": "8192"}), 400)


def test_point_matches_rasterio(server, manifest):
    to_2154 = Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
    for year in (2022, 2024):
        with rasterio.open(cog(manifest, year)) as src:
            for lon, lat in POINTS:
                expected = float(next(src.sample([to_2154.transform(lon, lat)]))[0])
                body = server.json("/collections/surchauffe/point",
                                   params={"lon": lon, "lat": lat, "datetime": year})
                assert body["values"][0] == pytest.approx(expected, abs=1e-4), (year, lon, lat)
    assert_ogc_error(server.get("/collections/surchauffe/point", params={"lon": 7, "lat": 45}),
                     404)
    assert_ogc_error(server.get("/collections/surchauffe/point", params={"lon": "x"}), 400)


# ---------------------------------------------------------------------------- metadata
def test_tilesets_tileset_tilejson_and_links(server):
    sets = server.json(TILES)["tilesets"]
    assert {s["links"][0]["href"].rsplit("/", 1)[-1] for s in sets} == set(TMS_IDS)
    for tms_id in TMS_IDS:
        ts = server.json(f"{TILES}/{tms_id}", params={"datetime": "2023"})
        assert ts["dataType"] == "map"
        assert ts["tileMatrixSetLimits"], ts
        template = next(link["href"] for link in ts["links"]
                        if link["rel"] == "item" and link["type"] == "image/png")
        assert "{tileMatrix}/{tileRow}/{tileCol}" in template and "datetime=2023" in template
        assert "{z}" not in template
        tj = server.json(f"{TILES}/{tms_id}/tilejson.json")
        assert tj["tilejson"] == "3.0.0" and tj["minzoom"] <= tj["maxzoom"]
        minx, miny, maxx, maxy = tj["bounds"]
        assert 1.5 < minx < maxx < 3.2 and 50.0 < miny < maxy < 50.8
        lim = next(li for li in ts["tileMatrixSetLimits"] if li["tileMatrix"] == str(tj["maxzoom"]))
        assert tj["tiles"][0].startswith(server.url)
        r = server.get(tj["tiles"][0][len(server.url):].format(
            z=tj["maxzoom"], y=(lim["minTileRow"] + lim["maxTileRow"]) // 2,
            x=(lim["minTileCol"] + lim["maxTileCol"]) // 2))
        assert r.status_code == 200, r.text[:300]  # (transparent if it falls in a gap)
    coll = server.json("/collections/surchauffe")
    rels = {link["rel"] for link in coll["links"]}
    assert "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map" in rels
    assert "http://www.opengis.net/def/rel/ogc/1.0/legend" in rels
    communes = server.json("/collections/communes")
    assert not any("/map/tiles" in link["href"] for link in communes["links"])
    conf = server.json("/conformance")["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/png" in conf


def test_legend_json_and_png(server):
    legend = server.json("/collections/surchauffe/legend")
    assert legend["stops"] == RAMP["stops"] and legend["rescale"] == RAMP["rescale"]
    r = server.get("/collections/surchauffe/legend", params={"f": "png"})
    assert r.status_code == 200 and r.headers["content-type"] == "image/png"
    img = decode(r.content)
    first = [int(RAMP["stops"][0]["color"][i:i + 2], 16) for i in (1, 3, 5)]
    last = [int(RAMP["stops"][-1]["color"][i:i + 2], 16) for i in (1, 3, 5)]
    assert list(img[:3, 0, 0]) == first and list(img[:3, 0, -1]) == last


def test_wmts_capabilities_declare_both_matrix_sets(server):
    r = server.get(f"{TILES}/WMTSCapabilities.xml")
    assert r.status_code == 200 and "xml" in r.headers["content-type"]
    ns = {"w": "http://www.opengis.net/wmts/1.0", "ows": "http://www.opengis.net/ows/1.1"}
    root = ET.fromstring(r.content)
    sets = {s.find("ows:Identifier", ns).text: s for s in root.iter(f"{{{ns['w']}}}TileMatrixSet")
            if s.find("ows:Identifier", ns) is not None}
    assert set(sets) == set(TMS_IDS)
    assert sets["LAMB93"].find("ows:SupportedCRS", ns).text.endswith("2154")
    layers = [e.find("ows:Identifier", ns).text for e in root.iter(f"{{{ns['w']}}}Layer")]
    assert layers == ["surchauffe", "surchauffe-2022", "surchauffe-2023", "surchauffe-2024"]


# ---------------------------------------------------------------------------- errors
def test_bad_requests_are_json_ogc_exceptions(server):
    tms, tile = tile_for("LAMB93", *POINTS[0], 13)
    good = f"{TILES}/LAMB93/13/{tile.y}/{tile.x}"
    assert_ogc_error(server.get(f"{TILES}/LAMB93/13/a/1"), 400)
    assert_ogc_error(server.get(f"{TILES}/LAMB93/13/-1/5"), 404)
    assert_ogc_error(server.get(f"{TILES}/LAMB93/40/1/1"), 404)
    assert_ogc_error(server.get(f"{TILES}/LAMB93/13/99999/1"), 404)
    empty = server.get(f"{TILES}/LAMB93/13/1/1")  # in the matrix, no data: a transparent tile
    assert empty.status_code == 200 and empty.headers["content-type"] == "image/png"
    assert_ogc_error(server.get(f"{TILES}/WorldCRS84Quad/3/1/1"), 404)
    assert_ogc_error(server.get(f"{TILES}/Nope"), 404)
    assert_ogc_error(server.get(good, params={"f": "jpeg"}), 400)
    assert_ogc_error(server.get(f"/collections/nope/map/tiles/LAMB93/13/{tile.y}/{tile.x}"), 404)
    assert_ogc_error(server.get(f"/collections/communes/map/tiles/LAMB93/13/{tile.y}/{tile.x}"),
                     404)
    assert_ogc_error(server.get("/collections/communes/map/tiles"), 404)
    assert_ogc_error(server.get("/collections/nope/legend"), 404)


@pytest.mark.parametrize("query", [
    "url=file:///etc/passwd", "url=/work/main/var/store/communes.gpkg",
    "url=http://169.254.169.254/latest/meta-data/", "src_path=/etc/passwd"])
def test_no_dataset_url_is_accepted(server, query):
    tms, tile = tile_for("LAMB93", *POINTS[0], 13)
    for path in (f"{TILES}/LAMB93/13/{tile.y}/{tile.x}", "/collections/surchauffe/titiler/info",
                 f"/collections/surchauffe/titiler/tiles/LAMB93/13/{tile.x}/{tile.y}.png",
                 "/collections/surchauffe/point?lon=2.6&lat=50.5"):
        sep = "&" if "?" in path else "?"
        assert_ogc_error(server.get(f"{path}{sep}{query}"), 400)


def test_no_file_outside_the_store_can_be_read(server):
    for cid in ("..%2F..%2Fetc%2Fpasswd", "%2Fetc%2Fpasswd", "..", "communes", "surchauffe_2024.tif"):
        for path in (f"/collections/{cid}/map/tiles/LAMB93/13/756/102",
                     f"/collections/{cid}/titiler/info", f"/collections/{cid}/legend"):
            r = server.get(path)
            assert r.status_code in (400, 404), (path, r.status_code)
            assert r.headers["content-type"].startswith("application/json")
    info = server.json("/collections/surchauffe/titiler/info")
    assert info["crs"].endswith("2154") and info["dtype"] == "float32"


# ---------------------------------------------------------------------------- coverage subset
def read_subset(body: bytes):
    with MemoryFile(body) as mem, mem.open() as ds:
        return ds.read(1), ds.bounds, ds.crs, ds.nodata


def test_coverage_subset_in_lambert93_has_the_bounds_and_the_values(server, manifest):
    bbox = (640000, 7030000, 642000, 7031500)
    r = server.get("/collections/surchauffe/coverage", params={
        "bbox": ",".join(map(str, bbox)), "bbox-crs": "http://www.opengis.net/def/crs/EPSG/0/2154",
        "datetime": "2022", "f": "GTiff"})
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("image/tiff")
    data, bounds, crs, nodata = read_subset(r.content)
    assert crs.to_epsg() == 2154 and tuple(bounds) == pytest.approx(bbox)
    with rasterio.open(cog(manifest, 2022)) as src:
        expected = src.read(1, window=from_bounds(*bbox, transform=src.transform))
    np.testing.assert_array_equal(data, expected)
    with rasterio.open(cog(manifest, 2024)) as src:
        assert not np.array_equal(data, src.read(1, window=from_bounds(*bbox,
                                                                        transform=src.transform)))


def test_coverage_subset_reprojected(server, manifest):
    lonlat = (2.62, 50.50, 2.66, 50.53)
    with rasterio.open(cog(manifest, 2024)) as src:
        window_values = set(np.unique(src.read(1)).tolist())
    for crs, epsg in (("EPSG:3857", 3857), ("http://www.opengis.net/def/crs/EPSG/0/4326", 4326)):
        r = server.get("/collections/surchauffe/coverage", params={
            "bbox": ",".join(map(str, lonlat)), "crs": crs, "f": "GTiff"})
        assert r.status_code == 200, r.text[:300]
        data, bounds, out_crs, nodata = read_subset(r.content)
        assert out_crs.to_epsg() == epsg
        if epsg == 4326:  # the output covers the requested box
            assert tuple(bounds) == pytest.approx(lonlat, abs=5e-4)
        else:
            to_3857 = Transformer.from_crs("OGC:CRS84", "EPSG:3857", always_xy=True)
            x0, y0 = to_3857.transform(lonlat[0], lonlat[1])
            x1, y1 = to_3857.transform(lonlat[2], lonlat[3])
            assert bounds.left <= x0 + 50 and bounds.right >= x1 - 50
            assert bounds.bottom <= y0 + 50 and bounds.top >= y1 - 50
        valid = data[data != nodata]
        assert valid.size > 1000
        assert set(np.unique(valid).tolist()) <= window_values  # nearest: values kept


def test_coverage_subset_limits_and_fallback(server):
    cov = "/collections/surchauffe/coverage"
    assert_ogc_error(server.get(cov, params={"bbox": "1.7,50.1,3.0,50.7", "f": "GTiff"}), 400)
    assert_ogc_error(server.get(cov, params={"bbox": "1,2,3", "f": "GTiff"}), 400)
    assert_ogc_error(server.get(cov, params={"bbox": "2.6,50.4,2.7,50.5", "crs": "EPSG:32631"}),
                     400)
    assert_ogc_error(server.get(cov, params={"bbox": "2.6,50.4,2.7,50.5", "datetime": "2010"}),
                     404)
    assert_ogc_error(server.get(cov, params={"bbox": "5,45,5.1,45.1", "f": "GTiff"}), 404)
    assert_ogc_error(server.get(cov, params={"datetime": "2023", "f": "json"}), 400)
    # without our parameters, pygeoapi's own coverage answer (CoverageJSON)
    r = server.get(cov, params={"bbox": "2.6,50.4,2.61,50.41", "f": "json"})
    assert r.status_code == 200 and r.json()["type"] == "Coverage"


# ---------------------------------------------------------------------------- QGIS
@requires_qgis
def test_qgis_renders_xyz_and_lambert93_wmts(server, tmp_path):
    seen = run_client("qgis_raster_tiles.py", server.url, tmp_path)
    for name in ("xyz", "wmts_lamb93"):
        info = seen[name]
        assert info["valid"], (name, info)
        assert info["opaque_share"] > 0.3, (name, info)   # not blank
        assert info["colours"] > 20, (name, info)         # coloured by the ramp
        assert info["reddish_or_bluish"] > 0.05, (name, info)
    assert seen["wmts_lamb93"]["crs"] == "EPSG:2154"


def test_text_coverages_are_bounded(server):
    """CoverageJSON and HTML write every cell as text: the whole coverage (~6 million cells,
    92 MB of HTML) is refused with a 400 that says what to do; a small bbox is served."""
    for fmt in ("json", "html"):
        r = server.get("/collections/surchauffe/coverage", params={"f": fmt})
        assert r.status_code == 400, (fmt, r.status_code, len(r.content))
        body = r.json()
        assert "f=GTiff" in body["description_en"] and "f=GTiff" in body["description_fr"]
    small = server.get("/collections/surchauffe/coverage",
                       params={"f": "json", "bbox": "2.62,50.52,2.64,50.54"})
    assert small.status_code == 200 and small.json()["type"] == "Coverage"
    tif = server.get("/collections/surchauffe/coverage", params={"f": "GTiff"})
    assert tif.status_code == 200 and tif.content[:4] in (b"II*\x00", b"MM\x00*")


def test_coveragejson_names_lambert93_by_its_epsg_uri(server):
    """pygeoapi wrote `…/def/crs/OGC/1.3/2154` (no such CRS; CoverageJSON readers refuse it)."""
    cov = server.json("/collections/surchauffe/coverage",
                      params={"f": "json", "bbox": "2.62,50.52,2.64,50.54"})
    systems = [r["system"] for r in cov["domain"]["referencing"]]
    ids = {s.get("id") for s in systems}
    assert "http://www.opengis.net/def/crs/EPSG/0/2154" in ids, systems
    assert not any("OGC/1.3/2154" in str(i) for i in ids)
