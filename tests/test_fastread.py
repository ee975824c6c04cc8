"""The fast read path (services/fastread.py, issue 20): JSON items pages and single items
answered in one hop give exactly pygeoapi's answer.

On each store two servers run with the same keys and read tiers (those of
tests/test_access_tiers.py): one with the fast path (the default), one with
`ARTOIS_FAST_READS=false` (pygeoapi's own route). Every request of the matrix goes to both,
over HTTP, for each caller; the answers must have the same status, the same body (as JSON,
the server's own URL replaced, `timeStamp` aside) and the same relevant headers. `next`
links are followed on both.
"""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest

from conftest import STORES, start_server

HIDDEN = "amenagements-cyclables"     # metier group
EDITABLE = "equipements"              # readers
FRICHES, PROP = "friches", "projet_epci_description"  # property for readers
READ_ACCESS = f"{HIDDEN}=metier,{EDITABLE}=reader,{FRICHES}.{PROP}=reader"
KEYS = "fr-reader:reader:rita,fr-member:reader:mia:metier,fr-admin:admin:ada"
CALLERS = {
    "anonymous": {},
    "reader": {"X-API-Key": "fr-reader"},
    "member": {"Authorization": "Bearer fr-member"},
    "admin": {"X-API-Key": "fr-admin"},
}
HEADERS = ("content-type", "content-language", "content-crs", "link", "cache-control",
           "vary", "retry-after", "allow", "content-encoding", "access-control-allow-origin",
           "access-control-expose-headers")
CRS_4326 = "http://www.opengis.net/def/crs/EPSG/0/4326"
CRS_2154 = "http://www.opengis.net/def/crs/EPSG/0/2154"


class Pair:
    def __init__(self, kind: str, fast, slow):
        self.kind, self.fast, self.slow = kind, fast, slow

    def both(self, path: str, caller: str = "anonymous", method: str = "GET",
             headers: dict | None = None):
        hdrs = {**CALLERS[caller], **(headers or {})}
        a = self.fast.http.request(method, self.fast.url + path, headers=hdrs, timeout=60)
        b = self.slow.http.request(method, self.slow.url + path, headers=hdrs, timeout=60)
        return a, b


@pytest.fixture(scope="module", params=STORES)
def pair(request):
    kind = request.param
    env = {"ARTOIS_API_KEYS": KEYS, "ARTOIS_READ_ACCESS": READ_ACCESS, "DATABASE_URL": ""}
    if kind == "postgis":
        env["DATABASE_URL"] = request.getfixturevalue("database_url")
    else:
        request.getfixturevalue("manifest")
    fast = start_server({**env, "ARTOIS_FAST_READS": "true"}, f"fastread-{kind}")
    try:
        slow = start_server({**env, "ARTOIS_FAST_READS": "false"}, f"fastread-off-{kind}")
    except Exception:
        fast.stop()
        raise
    yield Pair(kind, fast, slow)
    fast.stop()
    slow.stop()


def _doc(response, base: str):
    text = response.text.replace(base, "BASE")
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    if isinstance(doc, dict):
        doc.pop("timeStamp", None)
    return doc


def same(pair: Pair, path: str, caller: str = "anonymous", method: str = "GET",
         headers: dict | None = None):
    """Both servers answer `path` alike; returns the fast answer's document."""
    a, b = pair.both(path, caller, method, headers)
    where = f"{pair.kind} {caller} {method} {path}"
    assert a.status_code == b.status_code, where
    for name in HEADERS:
        va, vb = a.headers.get(name), b.headers.get(name)
        if va is not None:
            va = va.replace(pair.fast.url, "BASE")
        if vb is not None:
            vb = vb.replace(pair.slow.url, "BASE")
        assert va == vb, f"{where}: header {name}"
    assert ("etag" in a.headers) == ("etag" in b.headers), where
    if method == "HEAD":
        assert a.content == b.content == b"", where
        return None
    da, db = _doc(a, pair.fast.url), _doc(b, pair.slow.url)
    assert da == db, where
    return da


def _first_ids(pair: Pair, cid: str, caller: str = "anonymous", n: int = 2) -> list:
    doc = same(pair, f"/collections/{cid}/items?limit={n}", caller)
    ids = [f["id"] for f in doc["features"]]
    assert len(ids) == n
    return ids


PAGES = [
    "", "?f=json", "?limit=5", "?limit=5&offset=3", "?limit=3&offset=100000",
    "?bbox=2.5,50.2,3.0,50.6&limit=20",
    f"?bbox=640000,7010000,700000,7060000&bbox-crs={quote(CRS_2154, safe='')}&limit=7",
    f"?crs={quote(CRS_4326, safe='')}&limit=4",
    f"?crs={quote(CRS_2154, safe='')}&limit=4&offset=2",
    "?properties=site_statut,site_type&limit=6",
    "?sortby=-site_statut,site_type&limit=6", "?sortby=site_type&limit=6&offset=6",
    "?filter=" + quote("site_statut = 'friche sans projet'") + "&filter-lang=cql2-text&limit=5",
    "?filter=" + quote("S_INTERSECTS(geom, BBOX(2.6,50.3,2.9,50.5))") + "&limit=5",
    "?skipGeometry=true&limit=5", "?site_statut=" + quote("friche sans projet") + "&limit=5",
    "?datetime=2000-01-01T00:00:00Z/..&limit=5", "?lang=en&limit=3", "?lang=fr&limit=3",
    "?resulttype=hits", "?limit=3&offset=244", "?limit=3&offset=246", "?limit=4&cursor=3",
    "?bbox=2.5,50.2,3.0,50.6&limit=5&offset=5", "?bbox=-10,-10,-9,-9",
    # errors: pygeoapi's own answers, whichever route
    "?limit=abc", "?limit=0", "?offset=-1", "?bbox=1,2", "?sortby=nope", "?properties=nope",
    "?filter=" + quote("site_statut ==== 1"), "?crs=EPSG:99999", "?nope=1",
    "?bbox-crs=" + quote(CRS_2154, safe=""), "?f=html", "?f=jsonld", "?f=csv",
]


@pytest.mark.parametrize("query", PAGES)
def test_pages_of_friches_are_pygeoapis(pair, query):
    same(pair, f"/collections/{FRICHES}/items{query}")


@pytest.mark.parametrize("accept", ["application/geo+json", "application/json", "*/*",
                                    "text/html", "application/ld+json",
                                    "text/html;q=0.5,application/json"])
def test_content_negotiation(pair, accept):
    same(pair, f"/collections/{FRICHES}/items?limit=3", headers={"Accept": accept})
    fid = _first_ids(pair, FRICHES, n=1)[0]
    same(pair, f"/collections/{FRICHES}/items/{quote(str(fid), safe='')}",
         headers={"Accept": accept})


def test_next_links_followed(pair):
    """Walk three pages by their `next` links (keyset on PostGIS integer keys, offsets
    elsewhere), on both servers, and the pages agree; the walk really moves."""
    for query in ("?limit=4", "?limit=4&sortby=site_type", "?limit=4&bbox=2.5,50.2,3.0,50.6"):
        path = f"/collections/{FRICHES}/items{query}"
        seen: list = []
        for _ in range(3):
            doc = same(pair, path)
            ids = [f["id"] for f in doc["features"]]
            assert not set(ids) & set(seen), query
            seen += ids
            nxt = [link["href"] for link in doc["links"] if link["rel"] == "next"]
            if not nxt:
                break
            assert nxt[0].startswith("BASE/")
            path = nxt[0][len("BASE"):]
        if "bbox" not in query:  # friches has more than 8 features
            assert len(seen) >= 8, query


def test_single_items_and_unknown_ids(pair):
    for cid in (FRICHES, "communes", "arrets-transport"):
        for fid in _first_ids(pair, cid):
            item = f"/collections/{cid}/items/{quote(str(fid), safe='')}"
            doc = same(pair, item)
            assert doc["id"] == fid
            same(pair, item + "?f=json")
            same(pair, item + f"?crs={quote(CRS_4326, safe='')}")
            same(pair, item + "?lang=en")
            same(pair, item + "?f=html")
            same(pair, item, method="HEAD")
        for unknown in ("nope-404", "999999999", "%C3%A9t%C3%A9"):
            same(pair, f"/collections/{cid}/items/{unknown}")
    same(pair, f"/collections/{FRICHES}/items", method="HEAD")


def test_feature_etags_of_editable_items(pair):
    """Part 4 ETags of single items (services/transactions.py) are those of pygeoapi's route:
    the same feature, the same ETag on both servers."""
    for caller in ("reader", "admin"):
        for fid in _first_ids(pair, EDITABLE, caller):
            path = f"/collections/{EDITABLE}/items/{quote(str(fid), safe='')}"
            a, b = pair.both(path, caller)
            assert a.status_code == b.status_code == 200
            assert a.headers.get("etag") and a.headers["etag"] == b.headers.get("etag")
    fid = _first_ids(pair, FRICHES, "anonymous", 1)[0]
    path = f"/collections/{FRICHES}/items/{quote(str(fid), safe='')}"
    for caller in ("anonymous", "reader"):  # anonymous' view hides a property: salted ETag
        a, b = pair.both(path, caller)
        assert a.headers.get("etag") and a.headers["etag"] == b.headers.get("etag")


@pytest.mark.parametrize("caller", list(CALLERS))
def test_access_tiers_on_the_fast_path(pair, caller):
    """Hidden collections (404 as unknown) and properties (absent, unknown to properties=,
    sortby and filters) behave on the fast path exactly as on pygeoapi's route."""
    sees_prop = caller != "anonymous"
    doc = same(pair, f"/collections/{FRICHES}/items?limit=5", caller)
    assert doc["features"]
    assert all((PROP in f["properties"]) == sees_prop for f in doc["features"])
    fid = doc["features"][0]["id"]
    item = same(pair, f"/collections/{FRICHES}/items/{quote(str(fid), safe='')}", caller)
    assert (PROP in item["properties"]) == sees_prop
    for query in (f"?properties={PROP}", f"?sortby={PROP}",
                  "?filter=" + quote(f"{PROP} IS NULL"), f"?{PROP}=x"):
        d = same(pair, f"/collections/{FRICHES}/items{query}&limit=2", caller)
        assert ("features" in d) == sees_prop, query
    for cid in (HIDDEN, EDITABLE):
        d = same(pair, f"/collections/{cid}/items?limit=3", caller)
        visible = caller in ("member", "admin") if cid == HIDDEN else sees_prop
        assert ("features" in d) == visible, cid
    same(pair, f"/collections/{HIDDEN}/items/1", caller)
    same(pair, "/collections/no-such-collection/items")
    same(pair, "/collections/no-such-collection/items/1")


def test_the_fast_path_is_the_one_answering(pair):
    """The fast server's log says its workers served JSON reads in one hop; the other
    server's (ARTOIS_FAST_READS=false) never does, and HTML went to pygeoapi on both."""
    same(pair, f"/collections/{FRICHES}/items?limit=2")
    fid = _first_ids(pair, FRICHES, n=1)[0]
    for _ in range(4):  # both workers
        same(pair, f"/collections/{FRICHES}/items/{quote(str(fid), safe='')}")
    assert "fast reads:" in pair.fast.log.read_text()
    assert "fast reads:" not in pair.slow.log.read_text()


@pytest.mark.parametrize("headers", [
    {"Origin": "https://carto.example.org"}, {"Accept-Language": "en"},
    {"Accept-Language": "de, en;q=0.5"}, {"Accept-Encoding": "identity"},
    {"Accept-Encoding": "gzip"}, {"Accept": "application/geo+json"}])
def test_hot_reads_answer_as_every_layer_does(pair, headers):
    """PostGIS reads of the anonymous caller are answered on the event loop by
    services/hotread.py, which adds the headers of the layers it skips itself (CORS, ETag,
    Cache-Control, Vary, Content-Language): the same answers with each request header that
    changes them, and the hot path did answer (its log line) on the fast PostGIS server."""
    for path in (f"/collections/{FRICHES}/items?limit=3", f"/collections/{FRICHES}/items",
                 "/collections/communes/items?limit=2&offset=3&bbox=2.5,50.2,3.0,50.6"):
        same(pair, path, headers=headers)
    fid = _first_ids(pair, "communes", n=1)[0]
    same(pair, f"/collections/communes/items/{quote(str(fid), safe='')}", headers=headers)
    assert ("hot reads:" in pair.fast.log.read_text()) == (pair.kind == "postgis")
    assert "hot reads:" not in pair.slow.log.read_text()


def same_tile(pair: Pair, path: str, caller: str = "anonymous",
              headers: dict | None = None) -> tuple[int, bytes, str | None]:
    """Both servers answer a tile alike: status, headers, ETag and the very bytes."""
    a, b = pair.both(path, caller, headers=headers)
    where = f"{pair.kind} {caller} {path} {headers}"
    assert a.status_code == b.status_code, where
    for name in (*HEADERS, "etag", "content-length"):
        assert a.headers.get(name) == b.headers.get(name), f"{where}: header {name}"
    if a.headers.get("content-type", "").startswith("application/json"):  # an exception
        assert _doc(a, pair.fast.url) == _doc(b, pair.slow.url), where
    else:
        assert a.content == b.content, where
    return a.status_code, a.content, a.headers.get("etag")


def _populated_tile(pair: Pair, cid: str, z: int) -> tuple[int, int, int]:
    """The WebMercatorQuad tile (z, row, col) of the first vertex of a feature of `cid`."""
    import morecantile
    doc = same(pair, f"/collections/{cid}/items?limit=1")
    coords = doc["features"][0]["geometry"]["coordinates"]
    while isinstance(coords[0], list):
        coords = coords[0]
    t = morecantile.tms.get("WebMercatorQuad").tile(coords[0], coords[1], z)
    return t.z, t.y, t.x


@pytest.mark.parametrize("headers", [
    {}, {"Origin": "https://carto.example.org"}, {"Accept-Encoding": "gzip"},
    {"Accept-Encoding": "identity"}, {"Accept-Language": "en"}])
def test_vector_tiles_answer_as_every_layer_does(pair, headers):
    """Anonymous vector tiles of the PostGIS store are answered by services/hottiles.py
    (its log line) with the bytes, status and headers of the tile route and the layers
    around it: a tile with features, an empty one (204), the dataset tile; and what it
    leaves to the route answers as before: a query string, HEAD, invalid addresses (400),
    unknown sets and collections (404), a coverage (400), hidden collections."""
    z, row, col = _populated_tile(pair, FRICHES, 12)
    status, body, etag = same_tile(pair, f"/collections/{FRICHES}/tiles/WebMercatorQuad/"
                                         f"{z}/{row}/{col}", headers=headers)
    assert status == 200 and body and etag
    status, body, _ = same_tile(pair, f"/tiles/WebMercatorQuad/{z}/{row}/{col}",
                                headers=headers)
    assert status == 200 and body
    for path, expected in (
            (f"/collections/{FRICHES}/tiles/WebMercatorQuad/12/0/0", 204),
            (f"/collections/{FRICHES}/tiles/WebMercatorQuad/{z}/{row}/{col}?f=mvt", 200),
            (f"/collections/{FRICHES}/tiles/WebMercatorQuad/3/9/9", 404),
            (f"/collections/{FRICHES}/tiles/WebMercatorQuad/99/0/0", 404),
            (f"/collections/{FRICHES}/tiles/NoSuchSet/{z}/{row}/{col}", 404),
            (f"/collections/no-such-collection/tiles/WebMercatorQuad/{z}/{row}/{col}", 404),
            (f"/collections/surchauffe/tiles/WebMercatorQuad/{z}/{row}/{col}?f=mvt", None),
            (f"/collections/{HIDDEN}/tiles/WebMercatorQuad/{z}/{row}/{col}", 404),
            ("/tiles/WebMercatorQuad/12/0/0", 204)):
        got, _, _ = same_tile(pair, path, headers=headers)
        assert expected is None or got == expected, path
    a, b = pair.both(f"/collections/{FRICHES}/tiles/WebMercatorQuad/{z}/{row}/{col}",
                     method="HEAD", headers=headers)
    assert a.status_code == b.status_code and a.content == b.content == b""
    # a member of the group sees the hidden collection: its tile as the route renders it
    same_tile(pair, f"/collections/{HIDDEN}/tiles/WebMercatorQuad/{z}/{row}/{col}",
              caller="member", headers=headers)
    # If-None-Match with the tile's ETag: the route's 304 on both
    a, b = pair.both(f"/collections/{FRICHES}/tiles/WebMercatorQuad/{z}/{row}/{col}",
                     headers={**headers, "If-None-Match": etag})
    assert a.status_code == b.status_code == 304
    for _ in range(4):  # both workers
        same_tile(pair, f"/collections/{FRICHES}/tiles/WebMercatorQuad/{z}/{row}/{col}")
    assert ("hot tiles:" in pair.fast.log.read_text()) == (pair.kind == "postgis")
    assert "hot tiles:" not in pair.slow.log.read_text()


READS_SCRIPT = r"""
import json, sys
from psycopg.pq import TransactionStatus as T
from services.store.postgis import pool as db
from services.store.postgis.features import _GuardedConnection
TIMEOUT = "SELECT setting FROM pg_settings WHERE name = 'statement_timeout'"
out = {}
with _GuardedConnection() as conn:
    conn.execute("SELECT 1").fetchone()
    out["read_status"] = T(conn.pgconn.transaction_status).name   # no transaction opened
    out["read_timeout"] = conn.execute(TIMEOUT).fetchone()[0]
    out["read_autocommit"] = conn.autocommit
with db.pool().connection() as conn:  # as the writers and the job queue take them
    out["writer_autocommit"] = conn.autocommit
    conn.execute("SELECT 1").fetchone()
    out["writer_status"] = T(conn.pgconn.transaction_status).name  # an implicit transaction
    out["writer_timeout"] = conn.execute(TIMEOUT).fetchone()[0]
out["expected_timeout_ms"] = db.query_timeout_ms()
db.close_pools()
print(json.dumps(out))
"""


def test_reads_open_no_transaction_and_writers_keep_theirs(database_url):
    """A PostGIS read runs in autocommit (no BEGIN/COMMIT round trips), under the same
    statement timeout; the pool hands writers their connections in transaction mode."""
    import os
    import subprocess
    import sys

    from conftest import PROJECT
    env = {**os.environ, "DATABASE_URL": database_url, "ARTOIS_DB_POOL_SIZE": "1"}
    done = subprocess.run([sys.executable, "-c", READS_SCRIPT], cwd=PROJECT, env=env,
                          capture_output=True, text=True, timeout=120, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["read_autocommit"] is True and out["read_status"] == "IDLE"
    assert out["writer_autocommit"] is False and out["writer_status"] == "INTRANS"
    assert out["read_timeout"] == out["writer_timeout"] == str(out["expected_timeout_ms"])
