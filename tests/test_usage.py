"""Usage statistics of the solar cadastre (issue 18 point 3), over real HTTP on both stores:
the cadastre requests (items, item, tiles of cadastre-solaire; solar-potential executions)
are counted per month and EPCI, and served to admins at /admin/usage?f=json|csv.

Each store gets a private server whose counts go to a table of its own (embedded: a temp var
dir, so its own usage.sqlite; PostGIS: a scratch schema), so that no other test's requests
mix in. The expected EPCI of each request is found here with geopandas from the epci layer
(the polygon holding the roof's point, the bbox's centre or the tile's centre).
"""
from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import sqlite3
import time
import uuid
from collections import Counter
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import requests
import shapely

from conftest import VAR, start_server

CID = "cadastre-solaire"
L93 = "http://www.opengis.net/def/crs/EPSG/0/2154"
KEYS = "us-reader-key:reader:rita,us-editor-key:editor:eddie,us-admin-key:admin:ada"
READER, EDITOR, ADMIN = ({"X-API-Key": f"us-{r}-key"} for r in ("reader", "editor", "admin"))
WAIT = 120  # seconds: counts are written every second here (ARTOIS_USAGE_FLUSH_SECONDS)


@contextlib.contextmanager
def private_server(kind: str, request, tmp_path_factory):
    var = tmp_path_factory.mktemp(f"usage-{kind}") / "var"
    store = var / "store"
    store.mkdir(parents=True)
    env = {"ARTOIS_VAR_DIR": str(var), "DATABASE_URL": "", "ARTOIS_API_KEYS": KEYS,
           "ARTOIS_USAGE_FLUSH_SECONDS": "1"}
    schema = url = None
    if kind == "embedded":
        request.getfixturevalue("manifest")
        name = "manifest.json"
    else:
        import psycopg
        url = request.getfixturevalue("database_url")
        schema = f"test_usage_{uuid.uuid4().hex[:8]}"
        env.update(DATABASE_URL=url, ARTOIS_DB_SCHEMA=schema)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        name = "manifest-postgis.json"
    # the collections are read where the shared store has them; the counts go here
    (store / name).write_text((VAR / "store" / name).read_text())
    srv = start_server(env, f"usage-{kind}")
    srv.kind, srv.var, srv.schema, srv.database_url = kind, var, schema, url
    try:
        yield srv
    finally:
        srv.stop()
        if schema:
            import psycopg
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module", params=["embedded", "postgis"])
def srv(request, tmp_path_factory):
    with private_server(request.param, request, tmp_path_factory) as s:
        yield s


def layer(srv, cid: str) -> gpd.GeoDataFrame:
    r = srv.get(f"/collections/{cid}/items", params={"limit": 10000, "crs": L93},
                headers=ADMIN)
    assert r.status_code == 200, r.text[:300]
    feats = r.json()["features"]
    gdf = gpd.GeoDataFrame.from_features(feats, crs=2154)
    gdf["_id"] = [str(f["id"]) for f in feats]
    return gdf.set_index("_id", drop=False)


def epci_at(epci: gpd.GeoDataFrame, x: float, y: float, crs: str) -> str | None:
    """The EPCI whose polygon holds the point (x, y) given in `crs`."""
    x2, y2 = pyproj.Transformer.from_crs(crs, 2154, always_xy=True).transform(x, y)
    hit = epci[epci.contains(shapely.Point(x2, y2))]
    return str(hit["epci_siren"].iloc[0]) if len(hit) else None


def usage(srv, headers=ADMIN, **params) -> requests.Response:
    return srv.get("/admin/usage", params=params, headers=headers)


def assert_bilingual(r: requests.Response, status: int) -> None:
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()
    assert body["description_fr"] and body["description_en"]
    assert body["description_fr"] != body["description_en"]


def test_counts_per_epci_match_the_requests(srv):
    month = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m")
    assert usage(srv).json()["rows"] == []  # a fresh table
    epci = layer(srv, "epci")
    communes = layer(srv, "communes")
    roofs = layer(srv, CID)
    expected: Counter = Counter({(None, "items"): 1})  # that reading: no view, no EPCI
    points = gpd.GeoDataFrame(geometry=roofs.geometry.representative_point(), crs=2154)
    hit = gpd.sjoin(points, epci[["epci_siren", "geometry"]].reset_index(drop=True),
                    predicate="within", how="left")
    roofs["epci_point"] = hit[~hit.index.duplicated()]["epci_siren"]
    # the roofs inside an EPCI polygon (a few on a boundary of the simplified outlines are not)
    assert roofs["epci_point"].notna().mean() > 0.95
    rng = np.random.default_rng(18)
    wgs = roofs.geometry.centroid.to_crs(4326)
    webmerc = pyproj.Transformer.from_crs(3857, 4326, always_xy=True)
    import morecantile
    quad = morecantile.tms.get("WebMercatorQuad")
    sirens = sorted(epci["epci_siren"].astype(str))
    assert len(sirens) == 4
    for rank, siren in enumerate(sirens):
        members = sorted(roofs.index[roofs["epci_point"] == siren])
        fid = members[int(rng.integers(len(members)))]
        # item: rank + 1 times, the roof's EPCI
        for _ in range(rank + 1):
            assert srv.get(f"/collections/{CID}/items/{fid}").status_code == 200
            expected[(siren, "item")] += 1
        # a map view around the roof: its centre's EPCI (CRS84, then Lambert-93)
        c = wgs.loc[fid]
        bbox = f"{c.x - 0.002},{c.y - 0.001},{c.x + 0.002},{c.y + 0.001}"
        assert srv.get(f"/collections/{CID}/items", params={"bbox": bbox}).status_code == 200
        expected[(epci_at(epci, c.x, c.y, "OGC:CRS84"), "items")] += 1
        p = roofs.loc[fid].geometry.centroid
        bbox93 = f"{p.x - 150},{p.y - 100},{p.x + 150},{p.y + 100}"
        r = srv.get(f"/collections/{CID}/items", params={"bbox": bbox93, "bbox-crs": L93})
        assert r.status_code == 200, r.text[:300]
        expected[(epci_at(epci, p.x, p.y, "EPSG:2154"), "items")] += 1
        # a tile holding the roof: the tile centre's EPCI
        tile = quad.tile(c.x, c.y, 15)
        r = srv.get(f"/collections/{CID}/tiles/WebMercatorQuad/{tile.z}/{tile.y}/{tile.x}")
        assert r.status_code in (200, 204), r.text[:300]
        b = quad.xy_bounds(tile)
        lon, lat = webmerc.transform((b.left + b.right) / 2, (b.bottom + b.top) / 2)
        expected[(epci_at(epci, lon, lat, "OGC:CRS84"), "tiles")] += 1
        # the solar process on the building: its EPCI
        r = srv.post("/processes/solar-potential/execution",
                     data=json.dumps({"inputs": {"batiments": [fid]}}),
                     headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text[:300]
        expected[(siren, "solar-potential")] += 1
    # the process on a commune (the smallest one): the commune's EPCI
    small = communes.assign(n=communes["insee"].map(roofs["insee"].value_counts()))
    insee = small.sort_values(["n", "insee"]).iloc[0]["insee"]
    r = srv.post("/processes/solar-potential/execution",
                 data=json.dumps({"inputs": {"commune": insee}}),
                 headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text[:300]
    expected[(str(communes.set_index("insee").loc[insee, "epci_siren"]), "solar-potential")] += 1
    # no view: no EPCI
    assert srv.get(f"/collections/{CID}/items", params={"limit": 3}).status_code == 200
    expected[(None, "items")] += 1
    # not counted: errors, other collections, other processes' refusals
    assert srv.get(f"/collections/{CID}/items/NOPE-0").status_code == 404
    assert srv.get(f"/collections/{CID}/items", params={"bbox": "1,2,3"}).status_code == 400
    assert srv.get("/collections/batiments/items", params={"limit": 1}).status_code == 200
    assert srv.post("/processes/solar-potential/execution",
                    data=json.dumps({"inputs": {"commune": "99999"}}),
                    headers={"Content-Type": "application/json"}).status_code == 404
    deadline = time.monotonic() + WAIT
    while True:
        doc = usage(srv).json()
        got = Counter({(r["epci_siren"], r["requete"]): r["nombre"] for r in doc["rows"]
                       if r["mois"] == month})
        if got == expected or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert got == expected, (got, expected)
    # totals per EPCI, names from the epci layer
    names = dict(zip(epci["epci_siren"].astype(str), epci["epci_nom"]))
    for t in doc["totaux"]:
        assert t["nombre"] == sum(n for (s, _), n in expected.items() if s == t["epci_siren"])
        assert t["epci_nom"] == names.get(t["epci_siren"])
    # CSV: the same rows
    r = usage(srv, f="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["cache-control"] == "no-store"
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert Counter({(row["epci_siren"] or None, row["requete"]): int(row["nombre"])
                    for row in rows if row["mois"] == month}) == expected
    # one month only
    assert usage(srv, mois=month).json()["rows"] == [r for r in doc["rows"]
                                                      if r["mois"] == month]
    assert usage(srv, mois="2001-01").json()["rows"] == []


def test_no_personal_data_is_stored(srv):
    """The table holds month, EPCI, kind and count: no address, key, user or time."""
    if srv.kind == "embedded":
        with sqlite3.connect(Path(srv.var) / "store" / "usage.sqlite") as conn:
            cols = [r[1] for r in conn.execute("PRAGMA table_info(cadastre_usage)")]
    else:
        import psycopg
        with psycopg.connect(srv.database_url) as conn:
            cols = [r[0] for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = 'cadastre_usage' ORDER BY ordinal_position", (srv.schema,))]
    assert cols == ["mois", "epci_siren", "requete", "nombre"]


def test_admins_only_and_bad_parameters(srv):
    assert_bilingual(usage(srv, headers={}), 401)
    assert_bilingual(usage(srv, headers={"X-API-Key": "nope"}), 401)
    assert_bilingual(usage(srv, headers=READER), 403)
    assert_bilingual(usage(srv, headers=EDITOR), 403)
    assert_bilingual(usage(srv, f="xml"), 400)
    assert_bilingual(usage(srv, mois="2026-13"), 400)
    assert_bilingual(usage(srv, mois="march"), 400)
    assert_bilingual(usage(srv, nope="1"), 400)
    r = usage(srv)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"


def test_openapi_documents_the_endpoint(srv):
    doc = srv.json("/openapi", params={"f": "json"})
    op = doc["paths"]["/admin/usage"]["get"]
    assert {p["name"] for p in op["parameters"]} == {"f", "mois"}
    assert {"200", "401", "403", "400"} <= set(op["responses"])
    assert op["security"]
