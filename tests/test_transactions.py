"""OGC API Features Part 4 over real HTTP, on both stores: create/replace/update/delete,
API keys and roles, ETag/If-Match optimistic concurrency, validation, audit and restore.

Each store gets its own copy (embedded: a temp var dir; PostGIS: a scratch schema) and its
own server: the shared servers of conftest.py must keep the source data intact.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

import pyproj
import pytest
import requests
import shapely
from shapely.geometry import mapping, shape

from conftest import PROJECT, VAR, Server, start_server
from services.catalog import load_spec

STORES = ["embedded", "postgis"]
KEYS = "ed-token-alice:editor:alice,adm-token-bob:admin:bob,rd-token-carol:reader:carol"
EDITOR = {"Authorization": "Bearer ed-token-alice"}
ADMIN = {"X-API-Key": "adm-token-bob"}
READER = {"Authorization": "Bearer rd-token-carol"}
GEOJSON = {"Content-Type": "application/geo+json"}
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
PART4 = "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/"
# A place in Béthune (lon, lat) and two squares of about 100 m around it
BETHUNE = (2.6400, 50.5300)
TO_L93 = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)


@dataclass
class Stack:
    """One store with its own server."""
    kind: str
    env: dict
    server: Server
    var: Path
    schema: str | None = None
    database_url: str | None = None

    @property
    def url(self) -> str:
        return self.server.url

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.server.http.request(method, self.url + path, timeout=60, **kwargs)

    def cli(self, *args: str, check: bool = False) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=PROJECT,
                              env={**os.environ, **self.env}, capture_output=True,
                              text=True, check=check, timeout=300)

    def count(self, cid: str) -> int:
        return self.server.json(f"/collections/{cid}/items",
                                params={"limit": 1, "resulttype": "hits"})["numberMatched"]

    def snapshot(self, cid: str) -> list[dict]:
        body = self.server.json(f"/collections/{cid}/items", params={"limit": 10000})
        return sorted(body["features"], key=lambda f: str(f["id"]))


def _editable_ids() -> list[str]:
    from services.catalog import load_catalog
    return [s.id for s in load_catalog(PROJECT / "collections") if s.editable]


@contextlib.contextmanager
def open_stack(request, tmp_path_factory, keys: str | None = None,
               extra_env: dict[str, str] | None = None):
    """A private copy of the store and a server on it, for one test module (its API keys:
    `keys`, else this module's KEYS; more settings of the server: `extra_env`)."""
    kind = request.param
    var = tmp_path_factory.mktemp(f"tx-{kind}") / "var"
    store = var / "store"
    store.mkdir(parents=True)
    env = {"ARTOIS_VAR_DIR": str(var), "ARTOIS_API_KEYS": keys or KEYS, "DATABASE_URL": "",
           **(extra_env or {})}
    schema = url = None
    if kind == "embedded":
        request.getfixturevalue("manifest")  # the shared store is built
        manifest = json.loads((VAR / "store" / "manifest.json").read_text())
        for cid, entry in manifest.items():
            if str(entry.get("data", "")).endswith(".gpkg"):
                shutil.copy(entry["data"], store / Path(entry["data"]).name)
                entry["data"] = str(store / Path(entry["data"]).name)
        (store / "manifest.json").write_text(json.dumps(manifest))
    else:
        url = request.getfixturevalue("database_url")
        schema = f"test_tx_{uuid.uuid4().hex[:8]}"
        env.update(DATABASE_URL=url, ARTOIS_DB_SCHEMA=schema)
        # the editable collections and what they require (communes: the territory) go to the
        # scratch schema; the others stay the shared read-only tables and rasters
        shutil.copy(VAR / "store" / "manifest-postgis.json", store / "manifest-postgis.json")
        built = subprocess.run([sys.executable, "-m", "services.cli", "build", *_editable_ids()],
                               cwd=PROJECT, env={**os.environ, **env}, capture_output=True,
                               text=True)
        assert built.returncode == 0, f"build failed: {built.stderr[-3000:]}"
    server = start_server(env, f"tx-{kind}-{request.module.__name__}")
    try:
        yield Stack(kind, env, server, var, schema, url)
    finally:
        server.process.terminate()
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
        if schema:
            import psycopg
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module", params=STORES)
def stack(request, tmp_path_factory):
    with open_stack(request, tmp_path_factory) as s:
        yield s


# ---------------------------------------------------------------------------- helpers
def square(lon: float, lat: float, half: float = 0.0007) -> dict:
    return mapping(shapely.box(lon - half, lat - half, lon + half, lat + half))


def new_friche(stack: Stack, **changes) -> dict:
    """A valid friches feature (CRS84): an existing one under a new identifier."""
    base = stack.server.json("/collections/friches/items", params={"limit": 1})["features"][0]
    props = {**base["properties"], "site_id": f"T-{uuid.uuid4().hex[:10]}", **changes}
    return {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": list(BETHUNE)}}


def new_zae(stack: Stack, **changes) -> dict:
    """A new park like the first one, without its derived figures (read-only: computed from
    the lots, the sales and the friches; services/zae.py)."""
    base = stack.server.json("/collections/zae/items", params={"limit": 1})["features"][0]
    derived = {name for name, field in load_spec(PROJECT / "collections" / "zae.yml")
               .fields.items() if field.get("readonly")}
    props = {**{k: v for k, v in base["properties"].items() if k not in derived},
             "id": f"ZAE-T-{uuid.uuid4().hex[:8]}", **changes}
    return {"type": "Feature", "properties": props, "geometry": square(*BETHUNE)}


def create(stack: Stack, cid: str, feature: dict, headers: dict | None = None) -> requests.Response:
    return stack.request("POST", f"/collections/{cid}/items", data=json.dumps(feature),
                         headers={**GEOJSON, **EDITOR, **(headers or {})})


def get_item(stack: Stack, cid: str, fid: str, crs: str | None = None) -> requests.Response:
    return stack.request("GET", f"/collections/{cid}/items/{fid}",
                         params={"crs": crs} if crs else None)


def assert_bilingual(r: requests.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:800])
    body = r.json()
    assert body["description_fr"] and body["description_en"], body
    assert body["description_fr"] != body["description_en"], body
    assert body["status"] == status
    if code:
        assert body["code"] == code, body
    return body


# ---------------------------------------------------------------------------- discovery
def test_conformance_declares_part4(stack):
    conf = set(stack.server.json("/conformance")["conformsTo"])
    for cls in ("create-replace-delete", "update", "features"):
        assert PART4 + cls in conf


def test_options_allow_like_qgis_expects(stack):
    """QGIS asks OPTIONS on /items and on one item: POST, PUT/PATCH/DELETE make it editable."""
    for cid in ("friches", "zae"):
        r = stack.request("OPTIONS", f"/collections/{cid}/items")
        assert r.status_code in (200, 204)
        allow = [m.strip() for m in r.headers["Allow"].split(",")]
        assert allow == ["GET", "POST", "OPTIONS"] and "POST" in allow
        fid = stack.server.json(f"/collections/{cid}/items", params={"limit": 1})["features"][0]["id"]
        r = stack.request("OPTIONS", f"/collections/{cid}/items/{fid}")
        assert [m.strip() for m in r.headers["Allow"].split(",")] == \
            ["GET", "PUT", "PATCH", "DELETE", "OPTIONS"]
    r = stack.request("OPTIONS", "/collections/communes/items")
    assert "POST" not in r.headers["Allow"] and "GET" in r.headers["Allow"]
    r = stack.request("OPTIONS", "/collections/communes/items/62119")
    assert "PUT" not in r.headers["Allow"] and "DELETE" not in r.headers["Allow"]
    assert stack.request("OPTIONS", "/collections/nope/items").status_code == 404


def test_item_etag_does_not_depend_on_the_output_crs(stack):
    fid = stack.server.json("/collections/friches/items", params={"limit": 1})["features"][0]["id"]
    a = get_item(stack, "friches", fid)
    b = get_item(stack, "friches", fid, crs=EPSG + "2154")
    assert a.status_code == b.status_code == 200
    assert a.headers["ETag"].startswith('"') and len(a.headers["ETag"]) == 66
    assert a.headers["ETag"] == b.headers["ETag"]
    assert a.json()["type"] == "Feature"  # the body stays pygeoapi's
    # a read-only collection's item gets only the caching layer's weak tag (not for If-Match)
    commune = get_item(stack, "communes", "62119")
    assert commune.status_code == 200 and commune.headers["ETag"].startswith('W/"')


# ---------------------------------------------------------------------------- auth
def test_writes_need_an_editor(stack):
    feature = new_friche(stack)
    path = "/collections/friches/items"
    r = stack.request("POST", path, data=json.dumps(feature), headers=GEOJSON)
    assert_bilingual(r, 401)
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    r = stack.request("POST", path, data=json.dumps(feature),
                      headers={**GEOJSON, "Authorization": "Bearer not-a-token"})
    assert_bilingual(r, 401)
    assert "invalid_token" in r.headers["WWW-Authenticate"]
    r = stack.request("POST", path, data=json.dumps(feature), headers={**GEOJSON, **READER})
    body = assert_bilingual(r, 403)
    assert "reader" in body["description_en"]
    assert stack.request("GET", f"{path}/{feature['properties']['site_id']}").status_code == 404
    r = stack.request("POST", path, data=json.dumps(feature), headers={**GEOJSON, **EDITOR})
    assert r.status_code == 201, r.text
    r = stack.request("POST", path, data=json.dumps(new_friche(stack)), headers={**GEOJSON, **ADMIN})
    assert r.status_code == 201, r.text
    # a DELETE without a credential is refused before anything else
    fid = feature["properties"]["site_id"]
    assert_bilingual(stack.request("DELETE", f"{path}/{fid}"), 401)


def test_keys_file_holds_hashes_only(tmp_path):
    from services.auth import AuthError, KeyStore, require, token_hash
    keys = tmp_path / "keys.yml"
    keys.write_text(f"keys:\n  - {{user: dora, role: editor, sha256: {token_hash('s3cret')}}}\n"
                    f"  - {{user: eve, role: reader, sha256: 'sha256:{token_hash('r3ad')}'}}\n")
    store = KeyStore(None, str(keys))
    assert store.authenticate("s3cret").user == "dora"
    assert store.authenticate("s3cre") is None
    assert require(store, [(b"x-api-key", b"s3cret")], "editor").role == "editor"
    with pytest.raises(AuthError) as err:
        require(store, [(b"authorization", b"Bearer r3ad")], "editor")
    assert err.value.status == 403
    with pytest.raises(AuthError) as err:
        require(store, [], "editor")
    assert err.value.status == 401


def test_non_editable_collection_answers_405(stack):
    feature = {"type": "Feature", "properties": {"insee": "99999"},
               "geometry": square(*BETHUNE)}
    r = stack.request("POST", "/collections/communes/items", data=json.dumps(feature),
                      headers={**GEOJSON, **EDITOR})
    assert_bilingual(r, 405)
    r = stack.request("PUT", "/collections/communes/items/62119", data=json.dumps(feature),
                      headers={**GEOJSON, **EDITOR, "If-Match": '"x"'})
    assert_bilingual(r, 405)
    r = stack.request("DELETE", "/collections/communes/items/62119", headers=EDITOR)
    assert_bilingual(r, 405)
    assert stack.count("communes") == 305


def test_post_items_keeps_the_415_guard_and_cql2_json(stack):
    r = stack.request("POST", "/collections/friches/items", data="site_id=1",
                      headers={"Content-Type": "text/plain", **EDITOR})
    assert_bilingual(r, 415)
    r = stack.request("POST", "/collections/friches/items",
                      data=json.dumps({"op": "=", "args": [{"property": "site_statut"},
                                                           "friche avec projet"]}),
                      headers={"Content-Type": "application/query-cql-json"})
    assert r.status_code == 200 and r.json()["type"] == "FeatureCollection"


# ---------------------------------------------------------------------------- round trip
def test_round_trip_crs84_and_lambert93(stack):
    feature = new_friche(stack, site_nom="Friche de test")
    fid = feature["properties"]["site_id"]
    r = create(stack, "friches", feature)
    assert r.status_code == 201, r.text
    assert r.headers["Location"].endswith(f"/collections/friches/items/{fid}")
    created_etag = r.headers["ETag"]
    got = get_item(stack, "friches", fid, crs=EPSG + "2154")
    assert got.status_code == 200 and got.headers["ETag"] == created_etag
    x, y = TO_L93.transform(*BETHUNE)
    gx, gy = got.json()["geometry"]["coordinates"]
    assert abs(gx - x) < 0.02 and abs(gy - y) < 0.02
    assert got.json()["properties"]["site_nom"] == "Friche de test"

    # PUT in Lambert-93 (Content-Crs), every property replaced
    props = dict(feature["properties"], site_nom="Remplacée", site_statut="friche avec projet")
    body = {"type": "Feature", "properties": props,
            "geometry": {"type": "Point", "coordinates": [681000.0, 7041000.0]}}
    r = stack.request("PUT", f"/collections/friches/items/{fid}", data=json.dumps(body),
                      headers={**GEOJSON, **EDITOR, "If-Match": created_etag,
                               "Content-Crs": f"<{EPSG}2154>"})
    assert r.status_code == 200, r.text
    put_etag = r.headers["ETag"]
    assert put_etag != created_etag
    got = get_item(stack, "friches", fid, crs=EPSG + "2154")
    assert got.json()["geometry"]["coordinates"] == [681000.0, 7041000.0]
    assert got.json()["properties"]["site_nom"] == "Remplacée"
    assert got.headers["ETag"] == put_etag
    # the spatial index follows the move (GeoPackage: R*Tree triggers; PostGIS: GIST)
    near = {"bbox": "680990,7040990,681010,7041010", "bbox-crs": EPSG + "2154", "limit": 100}
    assert fid in {f["id"] for f in stack.server.json("/collections/friches/items",
                                                      params=near)["features"]}
    old = {"bbox": f"{x - 5},{y - 5},{x + 5},{y + 5}", "bbox-crs": EPSG + "2154", "limit": 100}
    assert fid not in {f["id"] for f in stack.server.json("/collections/friches/items",
                                                          params=old)["features"]}

    # PATCH (merge patch): one property, and a geometry in EPSG:4326 (latitude first)
    r = stack.request("PATCH", f"/collections/friches/items/{fid}",
                      data=json.dumps({"properties": {"site_nom": None, "bati_nombre": 3},
                                       "geometry": {"type": "Point",
                                                    "coordinates": [BETHUNE[1], BETHUNE[0]]}}),
                      headers={"Content-Type": "application/merge-patch+json", **EDITOR,
                               "If-Match": put_etag, "Content-Crs": f"<{EPSG}4326>"})
    assert r.status_code == 200, r.text
    patched = get_item(stack, "friches", fid, crs=EPSG + "2154").json()
    assert patched["properties"]["site_nom"] is None and patched["properties"]["bati_nombre"] == 3
    assert patched["properties"]["site_statut"] == "friche avec projet"  # kept
    gx, gy = patched["geometry"]["coordinates"]
    assert abs(gx - x) < 0.02 and abs(gy - y) < 0.02

    # DELETE
    r = stack.request("DELETE", f"/collections/friches/items/{fid}",
                      headers={**EDITOR, "If-Match": r.headers["ETag"]})
    assert r.status_code == 204
    assert get_item(stack, "friches", fid).status_code == 404


def test_polygon_is_promoted_to_multipolygon(stack):
    feature = new_zae(stack)
    fid = feature["properties"]["id"]
    r = create(stack, "zae", feature)
    assert r.status_code == 201, r.text
    got = get_item(stack, "zae", fid).json()
    assert got["geometry"]["type"] == "MultiPolygon"
    area = shape(got["geometry"]).area
    assert area == pytest.approx(shapely.box(0, 0, 0.0014, 0.0014).area, rel=1e-3)


# ---------------------------------------------------------------------------- concurrency
def test_if_match_missing_428_stale_412(stack):
    feature = new_friche(stack)
    fid = feature["properties"]["site_id"]
    etag = create(stack, "friches", feature).headers["ETag"]
    path = f"/collections/friches/items/{fid}"
    patch = json.dumps({"properties": {"site_nom": "A"}})
    mp = {"Content-Type": "application/merge-patch+json", **EDITOR}
    assert_bilingual(stack.request("PATCH", path, data=patch, headers=mp), 428)
    assert_bilingual(stack.request("PUT", path, data=json.dumps(feature),
                                   headers={**GEOJSON, **EDITOR}), 428)
    assert_bilingual(stack.request("DELETE", path, headers=EDITOR), 428)
    r = stack.request("PATCH", path, data=patch, headers={**mp, "If-Match": etag})
    assert r.status_code == 200
    new_etag = r.headers["ETag"]
    # the old ETag is stale now
    assert_bilingual(stack.request("PATCH", path, data=patch, headers={**mp, "If-Match": etag}), 412)
    assert_bilingual(stack.request("DELETE", path, headers={**EDITOR, "If-Match": etag}), 412)
    assert get_item(stack, "friches", fid).headers["ETag"] == new_etag
    assert_bilingual(stack.request("PATCH", "/collections/friches/items/no-such-id", data=patch,
                                   headers={**mp, "If-Match": etag}), 404)


def test_concurrent_puts_exactly_one_wins(stack):
    feature = new_friche(stack)
    fid = feature["properties"]["site_id"]
    etag = create(stack, "friches", feature).headers["ETag"]
    n = 6
    barrier = threading.Barrier(n)
    results: dict[int, requests.Response] = {}

    def edit(i: int) -> None:
        body = dict(feature, properties=dict(feature["properties"], site_nom=f"writer {i}"))
        with requests.Session() as http:
            barrier.wait()
            results[i] = http.put(f"{stack.url}/collections/friches/items/{fid}",
                                  data=json.dumps(body), timeout=60,
                                  headers={**GEOJSON, **EDITOR, "If-Match": etag})
    threads = [threading.Thread(target=edit, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [200] + [412] * (n - 1), [(r.status_code, r.text[:200])
                                                 for r in results.values()]
    winner = next(i for i, r in results.items() if r.status_code == 200)
    got = get_item(stack, "friches", fid)
    assert got.json()["properties"]["site_nom"] == f"writer {winner}"
    assert got.headers["ETag"] == results[winner].headers["ETag"]
    history = json.loads(stack.cli("history", "friches", fid, "--json", check=True).stdout)
    assert [e["action"] for e in history] == ["insert", "replace"]  # no lost second write


# ---------------------------------------------------------------------------- validation
def test_bad_features_get_400_with_both_languages(stack):
    # invalid geometry (a bow tie)
    bowtie = {"type": "Polygon", "coordinates": [[[2.640, 50.530], [2.642, 50.532], [2.642, 50.530],
                                                 [2.640, 50.532], [2.640, 50.530]]]}
    body = assert_bilingual(create(stack, "zae", dict(new_zae(stack), geometry=bowtie)), 400)
    assert [e["code"] for e in body["errors"]] == ["geometry_invalid"]
    assert "Self-intersection" in body["description_en"]
    # wrong geometry type
    line = {"type": "LineString", "coordinates": [[2.64, 50.53], [2.65, 50.54]]}
    body = assert_bilingual(create(stack, "friches", dict(new_friche(stack), geometry=line)), 400)
    assert [e["code"] for e in body["errors"]] == ["geometry_type"]
    # outside the territory (Paris)
    paris = {"type": "Point", "coordinates": [2.35, 48.85]}
    body = assert_bilingual(create(stack, "friches", dict(new_friche(stack), geometry=paris)), 400)
    assert [e["code"] for e in body["errors"]] == ["geometry_outside"]
    assert "Artois" in body["description_fr"] and "territory" in body["description_en"]
    # bad code-list value, bad type, unknown property, missing identifier: all reported
    feature = new_friche(stack, site_statut="friche imaginaire", bati_nombre="beaucoup",
                         couleur="bleu")
    feature["properties"]["site_id"] = None
    body = assert_bilingual(create(stack, "friches", feature), 400)
    codes = {(e["code"], e["field"]) for e in body["errors"]}
    assert codes == {("field_enum", "site_statut"), ("field_not_integer", "bati_nombre"),
                     ("field_unknown", "couleur"), ("field_required", "site_id")}
    assert "liste de codes" in body["description_fr"] and "code list" in body["description_en"]
    # English on request
    r = stack.request("POST", "/collections/friches/items", data=json.dumps(feature),
                      headers={**GEOJSON, **EDITOR, "Accept-Language": "en"})
    assert r.json()["description"] == r.json()["description_en"]
    # unreadable JSON, not a feature, an unknown Content-Crs, an existing identifier
    r = stack.request("POST", "/collections/friches/items", data="{oops",
                      headers={**GEOJSON, **EDITOR})
    assert_bilingual(r, 400)
    assert_bilingual(create(stack, "friches", {"type": "FeatureCollection", "features": []}), 400)
    r = create(stack, "friches", new_friche(stack), headers={"Content-Crs": f"<{EPSG}27572>"})
    assert_bilingual(r, 400)
    existing = stack.server.json("/collections/friches/items", params={"limit": 1})["features"][0]
    dup = new_friche(stack, site_id=existing["id"])
    assert_bilingual(create(stack, "friches", dup), 409)
    # PUT with the wrong media type
    r = stack.request("PUT", f"/collections/friches/items/{existing['id']}", data="x",
                      headers={"Content-Type": "text/plain", **EDITOR, "If-Match": '"x"'})
    assert_bilingual(r, 415)


# ---------------------------------------------------------------------------- audit
def test_audit_history_and_restore(stack):
    feature = new_zae(stack, nom="Version 1")
    fid = feature["properties"]["id"]
    r = create(stack, "zae", feature)
    etag1 = r.headers["ETag"]
    mp = {"Content-Type": "application/merge-patch+json", **EDITOR}
    path = f"/collections/zae/items/{fid}"
    r = stack.request("PATCH", path, data=json.dumps({"properties": {"nom": "Version 2"}}),
                      headers={**mp, "If-Match": etag1})
    etag2 = r.headers["ETag"]
    r = stack.request("PATCH", path, data=json.dumps({"properties": {"nom": "Version 3"},
                                                      "geometry": square(2.65, 50.53)}),
                      headers={**mp, "If-Match": etag2})
    assert r.status_code == 200

    history = json.loads(stack.cli("history", "zae", fid, "--json", check=True).stdout)
    assert [e["action"] for e in history] == ["insert", "patch", "patch"]
    for e in history:
        assert e["username"] == "alice" and e["role"] == "editor" and e["source"] == "api"
        assert e["at"].endswith("Z") and e["collection"] == "zae" and e["feature_id"] == fid
    assert history[0]["previous"] is None and history[0]["etag_after"] == etag1
    assert history[1]["previous"]["properties"]["nom"] == "Version 1"
    assert history[1]["new"]["properties"]["nom"] == "Version 2"
    assert history[2]["new"]["crs"]["properties"]["name"].endswith("2154")
    x, _ = history[2]["new"]["geometry"]["coordinates"][0][0][0]
    assert 600000 < x < 800000  # Lambert-93 metres
    text = stack.cli("history", "zae", fid, check=True).stdout
    assert "alice (editor)" in text and "nom" in text

    # restore the version before the first patch: the original feature, same ETag
    out = stack.cli("restore", "zae", fid, "--audit-id", str(history[1]["id"]), "--user", "ops")
    assert out.returncode == 0, out.stderr
    got = get_item(stack, "zae", fid)
    assert got.json()["properties"]["nom"] == "Version 1"
    assert got.headers["ETag"] == etag1
    # delete, then bring the feature back
    r = stack.request("DELETE", path, headers={**EDITOR, "If-Match": etag1})
    assert r.status_code == 204 and get_item(stack, "zae", fid).status_code == 404
    history = json.loads(stack.cli("history", "zae", fid, "--json", check=True).stdout)
    assert [e["action"] for e in history][-2:] == ["restore", "delete"]
    assert history[-2]["username"] == "ops" and history[-2]["source"] == "restore"
    out = stack.cli("restore", "zae", fid, "--audit-id", str(history[-1]["id"]))
    assert out.returncode == 0, out.stderr
    got = get_item(stack, "zae", fid)
    assert got.status_code == 200 and got.headers["ETag"] == etag1
    # an audit entry of another feature is refused, in both languages
    out = stack.cli("restore", "zae", "ZAE-62-CABBALR-001", "--audit-id", str(history[0]["id"]))
    assert out.returncode != 0 and "introuvable" in out.stderr and "not found" in out.stderr


def test_audit_rows_are_in_the_store(stack):
    """The audit lives beside the data: a table of the GeoPackage, or <schema>.audit."""
    assert create(stack, "zae", new_zae(stack)).status_code == 201
    if stack.kind == "embedded":
        import sqlite3
        with sqlite3.connect(stack.var / "store" / "zae.gpkg") as conn:
            rows = conn.execute("SELECT username, role, action, previous, new FROM audit").fetchall()
    else:
        import psycopg
        with psycopg.connect(stack.database_url) as conn:
            rows = conn.execute(f'SELECT username, role, action, previous::text, new::text FROM '
                                f'"{stack.schema}".audit WHERE collection = %s', ("zae",)).fetchall()
    assert rows and all(r[0] and r[2] for r in rows)
    assert any(r[3] is None and r[4] for r in rows)  # an insert has no previous version
