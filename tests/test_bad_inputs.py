"""A corpus of bad requests across every route family, on both stores: no answer is a 5xx,
and every 4xx is a bilingual OGC exception (JSON with code, description_fr, description_en).

Route families: features (parameters, CQL2 text and JSON by GET and POST), collections and
items, queryables and schemas, vector tiles, raster map tiles, points, coverages, legends,
styles, processes (execution bodies), jobs, Features Part 4 writes (anonymous, and an editor
sending bodies that cannot be features: nothing can be written), static files (path tricks),
odd headers. The corpus is generated from fixed lists (no randomness): a failure names the
request.
"""
from __future__ import annotations

import json

import pytest
import requests

from conftest import EDITOR

FEATURES = ["friches", "communes", "zae", "amenagements-cyclables"]
NUMBERS = ["-1", "abc", "1e3", "99999999999999999999", "", "1.5", "0x10", "%00", "NaN"]
BBOXES = ["", "1,2,3", "a,b,c,d", "nan,0,1,1", "inf,0,1,1", "-inf,-inf,inf,inf", "1e400,0,1,1",
          "0,0,1,1,2", "-1e308,-1e308,1e308,1e308", "2,50,3,51,4,5,6", "1,,2,3", "1;2;3;4",
          "2.6,50.2,2.9,50.4,0", "2.6,50.4,2.9,50.2"]
CRSS = ["EPSG:9999", "http://www.opengis.net/def/crs/EPSG/0/999999", "nope", "%00",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS99", "x" * 300]
DATETIMES = ["abc", "2020-13-45", "../..", "9999999-01-01", "2020-01-01/abc", "2020/2019",
             "-1", "2020-01-01T25:00:00Z"]
CQL2_TEXT = ["(", "a = ", "INTERSECTS(geometry,POINT(1e400 1e400))",
             "BBOX(geometry,-1e400,0,1,1)", "nope = 1", "S_INTERSECTS(geometry, POLYGON((0 0, 1 1)))",
             "site_statut LIKE", "geometry = 3", "é" * 50, "site_statut IN (" +
             ",".join(f"'{i}'" for i in range(3000)) + ")", "1 = 1 AND (" * 300,
             "S_INTERSECTS(geometry, POINT(nan nan))", "T_AFTER(x, TIMESTAMP('abc'))",
             "site_surface > 1e400", "site_surface BETWEEN 'a' AND 3", "CASEI(site_nom) = 1",
             "S_WITHIN(geometry, ENVELOPE(1,2))"]
CQL2_JSON = [None, [], "x", 3, {"op": "="}, {"op": "=", "args": [{"property": "nope"}, 1]},
             {"op": "in", "args": [{"property": "site_statut"}, list(range(40_000))]},
             {"op": "s_intersects", "args": [{"property": "geometry"},
                                             {"type": "Point", "coordinates": [1e400, 1e400]}]},
             {"op": "s_intersects", "args": [{"property": "geometry"},
                                             {"type": "Polygon", "coordinates": [[[0, 0]]]}]},
             {"op": "and", "args": [{"op": "and", "args": []}]},
             {"op": "like", "args": [{"property": "site_nom"}, "a\u0000b"]},
             {"op": "t_after", "args": [{"property": "x"}, {"timestamp": "abc"}]},
             {"op": "bbox", "args": [{"property": "geometry"}, [1e400, 0, 1, 1]]}]


def _deep(n: int) -> str:
    return "[" * n + "]" * n


def corpus() -> list[tuple]:
    """(method, path, kwargs) of every bad request."""
    out: list[tuple] = []

    def get(path, **params):
        out.append(("GET", path, {"params": params} if params else {}))

    for cid in FEATURES[:2]:
        items = f"/collections/{cid}/items"
        for v in NUMBERS:
            get(items, limit=v)
            get(items, offset=v)
        get(items, cursor="100000000000000000000")
        get(items, cursor="abc")
        for v in BBOXES:
            get(items, bbox=v)
        for v in CRSS:
            get(items, **{"bbox-crs": v, "bbox": "600000,7000000,700000,7100000"})
            get(items, crs=v)
            get(items, **{"filter-crs": v, "filter": "S_INTERSECTS(geometry,POINT(1 1))"})
        for v in DATETIMES:
            get(items, datetime=v)
        for v in CQL2_TEXT:
            get(items, filter=v)
        get(items, filter="site_statut = 'x'", **{"filter-lang": "cql3"})
        get(items, filter="site_statut = 'x'", **{"filter-lang": "cql2-json"})
        get(items, filter='{"op": "="', **{"filter-lang": "cql2-json"})
        for v in ["+nope", "-", ",,,", "x" * 3000, "+geometry"]:
            get(items, sortby=v)
        for v in ["nope", "," * 500, "%00"]:
            get(items, properties=v)
        get(items, skipGeometry="maybe")
        get(items, q=",".join(["a"] * 3000))
        get(items, q="x" * 5000)
        for v in ["xyz", "html%00", "json,html"]:
            get(items, f=v)
        get(items, ooga="booga")
        get(items, limit="10", offset="1e20")
        for body, ctype in [(b"\xff\xfe{", "application/query-cql-json"),
                            (b"null", "application/query-cql-json"),
                            (_deep(100_000).encode(), "application/query-cql-json"),
                            (b"{}", "text/plain"), (b"{}", "application/xml")]:
            out.append(("POST", items, {"data": body, "headers": {"Content-Type": ctype}}))
        for body in CQL2_JSON:
            out.append(("POST", items, {"data": json.dumps(body),
                                        "headers": {"Content-Type": "application/query-cql-json"}}))
        for fid in ["%00", "no-such-id", "x" * 5000, "..%2F..%2Fetc%2Fpasswd", "1 OR 1=1",
                    "'; DROP TABLE friches; --"]:
            get(f"{items}/{fid}")
        get(f"{items}/1", crs="nope")
        get(f"/collections/{cid}/queryables", f="xyz")
        get(f"/collections/{cid}/schema", f="xyz")
        get(f"/collections/{cid}", f="xyz")
        get(f"/collections/{cid}", ooga="1")
    for path in ["/collections/nope", "/collections/%00", "/collections/nope/items",
                 "/collections/" + "x" * 3000, "/collections/friches/nope", "/nope",
                 "/collections/friches/items/", "/conformance/x"]:
        get(path)
    for path in ["/", "/conformance", "/collections"]:
        get(path, f="xyz")
        get(path, ooga="booga")
        get(path, lang="x" * 500)
    get("/", f="jsonld", lang="fr")

    # vector tiles
    for tms in ["WebMercatorQuad", "LAMB93", "Nope"]:
        for z, y, x in [(99, 0, 0), (1, 5, 5), (-1, 0, 0), (1, -1, 0), ("a", 0, 0),
                        (99999999999999999999, 0, 0), (0, 99999999999999999999, 0)]:
            get(f"/tiles/{tms}/{z}/{y}/{x}")
            get(f"/collections/friches/tiles/{tms}/{z}/{y}/{x}")
        get(f"/collections/friches/tiles/{tms}/tilejson.json", f="xyz")
    get("/tileMatrixSets/Nope")
    get("/collections/nope/tiles/WebMercatorQuad/1/0/0")
    get("/collections/surchauffe/tiles/WebMercatorQuad/1/0/0")
    # raster map tiles, points, coverages, legend
    raster = "/collections/surchauffe"
    for z, y, x in [(99, 0, 0), (1, 5, 5), (-1, 0, 0), ("a", 0, 0), (25, 0, 0)]:
        get(f"{raster}/map/tiles/WebMercatorQuad/{z}/{y}/{x}", f="png")
    tile = f"{raster}/map/tiles/WebMercatorQuad/12/1379/2078"
    for params in [{"f": "xyz"}, {"f": "png", "datetime": "abc"}, {"f": "png", "datetime": "1999"},
                   {"f": "png", "bidx": "99"}, {"f": "png", "bidx": "abc"},
                   {"f": "png", "buffer": "20000"}, {"f": "png", "padding": "9999"},
                   {"f": "png", "rescale": "a,b"}, {"f": "png", "colormap_name": "nope"},
                   {"f": "png", "expression": "b1/0"}, {"f": "png", "url": "http://127.0.0.1/x.tif"},
                   {"f": "png", "resampling": "nope"}]:
        get(tile, **params)
    for params in [{"lon": "1e308", "lat": "1e308"}, {"lon": "abc", "lat": "1"}, {},
                   {"lon": "nan", "lat": "nan"}, {"lon": "2.6", "lat": "50.5", "datetime": "abc"},
                   {"lon": "2.6", "lat": "50.5", "bidx": "99"}]:
        get(f"{raster}/point", **params)
    for rest in ["point/1e308,1e308", "point/abc,def", "tiles/WebMercatorQuad/99/0/0",
                 "info?bidx=99", "../../../etc/passwd", "statistics?max_size=999999"]:
        get(f"{raster}/titiler/{rest}")
    for params in [{"bbox": "a,b,c,d"}, {"bbox": "nan,0,1,1"}, {"bbox": "1,2,3"},
                   {"bbox": "3,3,1,1"}, {"bbox": "1e400,0,1,1"}, {"crs": "nope"},
                   {"bbox-crs": "nope", "bbox": "2.6,50.4,2.7,50.5"}, {"datetime": "abc"},
                   {"datetime": "1999"}, {"f": "xyz"}, {"subset": "x(abc)"},
                   {"bbox": "-180,-90,180,90", "f": "json"}]:
        get(f"{raster}/coverage", **params)
    get(f"{raster}/legend", f="xyz")
    get(f"{raster}/map/tiles/Nope")
    # styles
    for path, params in [("/collections/friches/styles/nope", {}),
                         ("/collections/friches/styles/default", {"f": "xyz"}),
                         ("/collections/nope/styles", {}), ("/styles/nope", {}),
                         ("/collections/friches/styles/%00", {})]:
        get(path, **params)
    # processes and jobs
    execute = "/processes/mutability/execution"
    bodies = [b"", b"null", b"[]", b'"x"', b"{", b"\xff\xfe{}", _deep(100_000).encode(),
              json.dumps({"inputs": None}).encode(), json.dumps({"inputs": []}).encode(),
              json.dumps({"inputs": {"friche": "a\u0000b"}}).encode(),
              json.dumps({"inputs": {"friche": 1e308}}).encode(),
              json.dumps({"inputs": {"criteria": _deep_obj(200)}}).encode(),
              json.dumps({"inputs": {"friche": "62846_8397"}, "outputs": "x"}).encode(),
              json.dumps({"inputs": {"friche": "62846_8397"}, "subscriber": ["x"]}).encode(),
              json.dumps({"inputs": {"friche": "62846_8397"},
                          "subscriber": {"successUri": "http://127.0.0.1:9\\@a.example/"}}
                         ).encode()]
    for body in bodies:
        out.append(("POST", execute, {"data": body,
                                      "headers": {"Content-Type": "application/json"}}))
    for pid, inputs in [("risk-matrix", {"commune": "99999"}), ("risk-matrix", {"commune": 1}),
                        ("solar-potential", {"roofs": {"type": "FeatureCollection",
                                                       "features": [{"type": "Feature"}]}}),
                        ("solar-potential", {"batiments": ["%00"]}),
                        ("zonal-statistics", {"geometry": {"type": "Polygon",
                                                           "coordinates": [[[1e400, 0]]]}}),
                        ("zonal-statistics", {"commune": "2A00"}), ("nope", {})]:
        out.append(("POST", f"/processes/{pid}/execution",
                    {"data": json.dumps({"inputs": inputs}),
                     "headers": {"Content-Type": "application/json"}}))
    out.append(("POST", execute, {"data": "{}", "headers": {"Content-Type": "text/plain"}}))
    get("/processes/nope")
    get("/processes", limit="abc")
    for params in [{"limit": "abc"}, {"offset": "100000000000000000000"}, {"status": "nope"},
                   {"f": "xyz"}, {"limit": "0"}]:
        get("/jobs", **params)
    for job in ["%00", "nope", "x" * 5000]:
        get(f"/jobs/{job}")
        get(f"/jobs/{job}/results")
        out.append(("DELETE", f"/jobs/{job}", {}))
    # Features Part 4: anonymous writes, and an editor's bodies that cannot be features
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        path = "/collections/friches/items" + ("" if method == "POST" else "/no-such-id")
        out.append((method, path, {"data": "{}", "headers": {
            "Content-Type": "application/geo+json"}}))
        for body in [b"\xff\xfe", b"null", b"[]", _deep(100_000).encode(), b'{"type": 3}',
                     json.dumps({"type": "Feature", "geometry": {
                         "type": "Point", "coordinates": [1e400, 0]}, "properties": None})
                     .encode()]:
            out.append((method, path, {"data": body, "headers": {
                "Content-Type": "application/geo+json", "X-API-Key": EDITOR,
                "If-Match": '"nope"'}}))
    out.append(("POST", "/collections/communes/items", {"data": "{}", "headers": {
        "Content-Type": "text/plain", "X-API-Key": EDITOR}}))
    out.append(("PUT", "/collections", {}))
    out.append(("DELETE", "/collections/friches", {}))
    # static files and path tricks
    for path in ["/vendor/../../etc/passwd", "/vendor/%2e%2e/%2e%2e/etc/passwd",
                 "/vendor/leaflet/nope.js", "/vendor/nope/x.js", "/vendor/leaflet/%00",
                 "/map/../../etc/passwd", "/map/%2e%2e/pyproject.toml", "/map/nope.js",
                 "/qgis/nope.qgs", "/static/../../etc/passwd", "/openapi?f=xyz",
                 "/collections/friches/items/..%2f..%2f..%2fetc%2fpasswd"]:
        get(path)
    # odd headers
    for headers in [{"Accept-Language": "x" * 5000}, {"Accept": "application/nope"},
                    {"If-None-Match": "x" * 5000}, {"Accept-Language": ";;;q=abc"},
                    {"Authorization": "Bearer " + "x" * 5000}, {"X-Job-Token": "x" * 5000}]:
        out.append(("GET", "/collections/friches/items", {"headers": headers,
                                                          "params": {"limit": "1"}}))
        out.append(("GET", "/jobs", {"headers": headers}))
    return out


def _deep_obj(n: int) -> dict:
    d: dict = {}
    for _ in range(n):
        d = {"a": d}
    return d


CORPUS = corpus()


def test_the_corpus_is_large_enough():
    assert len(CORPUS) >= 300, len(CORPUS)


def test_no_bad_request_gets_a_server_error(server):
    failures = []
    session = requests.Session()
    for method, path, kwargs in CORPUS:
        url = server.url + (path if path.startswith("/") else "/" + path)
        try:
            r = session.request(method, url, timeout=60, allow_redirects=False, **kwargs)
        except requests.RequestException as err:
            failures.append((method, path[:120], str(kwargs)[:160], f"no answer: {err}"))
            continue
        if r.status_code >= 500:
            failures.append((method, path[:120], str(kwargs)[:160], r.status_code,
                             r.text[:200]))
        elif r.status_code >= 400:
            try:
                body = r.json()
                ok = bool(body.get("code")) and bool(body.get("description_fr")) and \
                    bool(body.get("description_en"))
            except ValueError:
                ok = False
            if not ok:
                failures.append((method, path[:120], str(kwargs)[:160], r.status_code,
                                 "not a bilingual OGC exception: " + r.text[:200]))
    assert not failures, f"{len(failures)} of {len(CORPUS)}:\n" + "\n".join(
        map(str, failures[:60]))


@pytest.mark.parametrize("path", ["/", "/conformance", "/collections", "/collections/friches",
                                  "/collections/friches/items",
                                  "/collections/friches/items/62846_8397",
                                  "/collections/friches/queryables"])
def test_unknown_parameters_are_refused_on_the_ogc_routes(server, path):
    """The OGC test suite asks for a 400 on an unknown parameter; `_`, the cache-buster of
    jQuery-based clients, and (on /items) the collection's properties are accepted."""
    r = server.get(path, params={"ooga": "booga"})
    assert r.status_code == 400, (path, r.status_code)
    body = r.json()
    assert "ooga" in body["description_fr"] and "ooga" in body["description_en"]
    assert server.get(path, params={"_": "1700000000"}).status_code == 200
    if path.endswith("/items"):
        r = server.get(path, params={"site_statut": "friche sans projet", "limit": 1})
        assert r.status_code == 200, r.text[:300]


@pytest.mark.parametrize("path, media", [
    ("/collections", "application/json"),
    ("/collections/friches/items", "application/geo+json|application/json"),
    ("/collections/friches/items?ooga=1", "application/json"),
    ("/collections/friches/queryables", "application/schema+json"),
    ("/collections/friches/items?f=html", "text/html; charset=utf-8"),
    ("/collections/friches/items?f=csv", "text/csv; charset=utf-8")])
def test_json_is_served_without_a_charset_and_text_with_one(server, path, media):
    """RFC 8259 defines no charset parameter for JSON (the OGC suite refuses one); text types
    name theirs."""
    r = server.get(path, headers={"Accept-Encoding": "identity"})
    assert r.headers["Content-Type"] in media.split("|"), r.headers["Content-Type"]
