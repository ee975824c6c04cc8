"""Read access tiers (issue 18, point 1): anonymous, reader, group member and admin each see
exactly their collections, properties and processes on every route, on both stores, and the
HTTP caches never mix tiers.

The servers of this module run with their own keys and `ARTOIS_READ_ACCESS`:
`amenagements-cyclables` and the coverage `surchauffe` are for the `metier` group, the
editable `equipements` and the property `friches.projet_epci_description` for readers,
the process `zonal-statistics` for readers. A second pair of servers hides `friches` itself
(its fiche, photos and history routes exist only for friches).
"""
from __future__ import annotations

import json
import re
import sqlite3
from urllib.parse import quote

import mapbox_vector_tile
import morecantile
import pytest
from shapely.geometry import shape

from conftest import PROJECT, STORES, VAR, start_server

HIDDEN = "amenagements-cyclables"     # metier group
COVERAGE = "surchauffe"               # metier group
EDITABLE = "equipements"              # readers
FRICHES, PROP = "friches", "projet_epci_description"  # property for readers
PROCESS = "zonal-statistics"          # readers
READ_ACCESS = (f"{HIDDEN}=metier,{COVERAGE}=metier,{EDITABLE}=reader,"
               f"{FRICHES}.{PROP}=reader,{PROCESS}=reader")
KEYS = ("h4-reader:reader:rita,h4-member:reader:mia:metier+cabbalr,h4-admin:admin:ada,"
        "h4-editor:editor:eddie")
CALLERS = {
    "anonymous": {},
    "reader": {"X-API-Key": "h4-reader"},
    "member": {"Authorization": "Bearer h4-member"},
    "admin": {"X-API-Key": "h4-admin"},
}
HOLDS = {"anonymous": {"public"}, "reader": {"public", "reader"},
         "member": {"public", "reader", "metier", "cabbalr"},
         "admin": {"public", "reader", "editor", "admin", "metier"}}
TIER = {HIDDEN: "metier", COVERAGE: "metier", EDITABLE: "reader", PROP: "reader",
        PROCESS: "reader"}


def sees(caller: str, thing: str) -> bool:
    return caller == "admin" or TIER[thing] in HOLDS[caller]


class Stack:
    def __init__(self, kind: str, server):
        self.kind, self.server = kind, server

    def get(self, caller: str, path: str, headers: dict | None = None, **kwargs):
        return self.server.get(path, headers={**CALLERS[caller], **(headers or {})}, **kwargs)


def _start(request, read_access: str, name: str):
    kind = request.param
    env = {"ARTOIS_API_KEYS": KEYS, "ARTOIS_READ_ACCESS": read_access, "DATABASE_URL": ""}
    if kind == "postgis":
        env["DATABASE_URL"] = request.getfixturevalue("database_url")
    else:
        request.getfixturevalue("manifest")
    return start_server(env, f"{name}-{kind}")


@pytest.fixture(scope="module", params=STORES)
def stack(request):
    server = _start(request, READ_ACCESS, "access")
    yield Stack(request.param, server)
    server.stop()


@pytest.fixture(scope="module", params=STORES)
def friches_hidden(request):
    server = _start(request, f"{FRICHES}=metier", "access-friches")
    yield Stack(request.param, server)
    server.stop()


# ---------------------------------------------------------------------------- helpers
def first_feature(stack: Stack, cid: str) -> dict:
    return stack.get("admin", f"/collections/{cid}/items", params={"limit": 1}).json()[
        "features"][0]


def tile_of(feature: dict, z: int = 15) -> tuple[int, int, int]:
    point = shape(feature["geometry"]).representative_point()
    t = morecantile.tms.get("WebMercatorQuad").tile(point.x, point.y, z)
    return t.z, t.y, t.x


def without_id(body: str, ident: str) -> str:
    return body.replace(ident, "<id>").replace(quote(ident, safe=""), "<id>")


def assert_vary(r) -> None:
    vary = {v.strip().lower() for v in r.headers.get("vary", "").split(",")}
    assert {"authorization", "x-api-key"} <= vary, (r.url, r.headers.get("vary"))


def assert_like_unknown(stack: Stack, caller: str, path: str, ident: str, method="GET",
                        **kwargs) -> None:
    """A hidden thing answers exactly what an unknown one answers (status and body)."""
    unknown = "zz" + ident[2:]
    hidden = stack.server.http.request(method, stack.server.url + path, timeout=60,
                                       headers={**CALLERS[caller], **kwargs.pop("headers", {})},
                                       **kwargs)
    other = stack.server.http.request(method, stack.server.url + path.replace(ident, unknown),
                                      timeout=60, headers=CALLERS[caller], **kwargs)
    assert hidden.status_code == 404, (caller, path, hidden.status_code, hidden.text[:200])
    assert other.status_code == 404
    assert without_id(hidden.text, ident) == without_id(other.text, unknown), (path, caller)


def collection_routes(stack: Stack) -> list[tuple[str, str]]:
    """(path, thing deciding its visibility) of every route under a collection."""
    cyc = first_feature(stack, HIDDEN)
    z, y, x = tile_of(cyc, 14)
    eq = first_feature(stack, EDITABLE)
    tiles = f"/collections/{HIDDEN}/tiles"
    paths = [
        f"/collections/{HIDDEN}", f"/collections/{HIDDEN}?f=html",
        f"/collections/{HIDDEN}/items?limit=2", f"/collections/{HIDDEN}/items?limit=2&f=html",
        f"/collections/{HIDDEN}/items?limit=2&f=csv",
        f"/collections/{HIDDEN}/items/{quote(str(cyc['id']), safe='')}",
        f"/collections/{HIDDEN}/queryables", f"/collections/{HIDDEN}/schema",
        tiles, f"{tiles}/WebMercatorQuad", f"{tiles}/WebMercatorQuad/tilejson.json",
        f"{tiles}/WebMercatorQuad/{z}/{y}/{x}",
        f"/collections/{HIDDEN}/styles", f"/collections/{HIDDEN}/styles/default/metadata",
        f"/collections/{HIDDEN}/aggregate",
    ]
    out = [(p, HIDDEN) for p in paths]
    out += [(p, COVERAGE) for p in (
        f"/collections/{COVERAGE}",
        f"/collections/{COVERAGE}/coverage?bbox=2.60,50.50,2.66,50.54&f=GTiff",
        f"/collections/{COVERAGE}/map/tiles", f"/collections/{COVERAGE}/legend",
        f"/collections/{COVERAGE}/point?lon=2.63&lat=50.52",
        f"/collections/{COVERAGE}/styles")]
    fid = quote(str(eq["id"]), safe="")
    out += [(p, EDITABLE) for p in (
        f"/collections/{EDITABLE}/items?limit=1", f"/collections/{EDITABLE}/items/{fid}",
        f"/collections/{EDITABLE}/items/{fid}/history")]
    return out


# ---------------------------------------------------------------------------- collections
@pytest.mark.parametrize("caller", CALLERS)
def test_collection_routes_are_404_like_unknown_ones_unless_the_tier_is_held(stack, caller):
    for path, thing in collection_routes(stack):
        r = stack.get(caller, path)
        if sees(caller, thing):
            assert r.status_code in (200, 204), (caller, path, r.status_code, r.text[:300])
            if r.status_code == 200:
                assert_vary(r)
                assert "private" in r.headers["cache-control"], (path, r.headers)
        else:
            assert_like_unknown(stack, caller, path, thing)


@pytest.mark.parametrize("caller,method,cid", [
    ("anonymous", "POST", HIDDEN), ("reader", "POST", HIDDEN), ("anonymous", "PUT", EDITABLE)])
def test_writes_to_a_hidden_collection_are_404(stack, caller, method, cid):
    body = json.dumps({"type": "Feature", "properties": {}, "geometry": None})
    path = f"/collections/{cid}/items" + ("/1" if method == "PUT" else "")
    assert_like_unknown(stack, caller, path, cid, method=method, data=body,
                        headers={"Content-Type": "application/geo+json"})


@pytest.mark.parametrize("caller", CALLERS)
def test_lists_show_exactly_the_collections_of_the_tier(stack, caller):
    from services.catalog import load_catalog
    built = json.loads((VAR / "store" / ("manifest-postgis.json" if stack.kind == "postgis"
                                         else "manifest.json")).read_text())
    every = {s.id for s in load_catalog(PROJECT / "collections") if s.id in built}
    hidden = {c for c in (HIDDEN, COVERAGE, EDITABLE) if not sees(caller, c)}
    expected = every - hidden

    r = stack.get(caller, "/collections", params={"f": "json"})
    assert_vary(r)
    assert {c["id"] for c in r.json()["collections"]} == expected
    html = stack.get(caller, "/collections", params={"f": "html"}).text
    for cid in (HIDDEN, COVERAGE, EDITABLE):
        assert (f"/collections/{cid}\"" in html) == (cid in expected), (caller, cid)

    oas = stack.get(caller, "/openapi", params={"f": "json"}).json()
    named = {m.group(1) for p in oas["paths"] for m in [re.match(r"^/collections/([^/{]+)", p)]
             if m}
    assert named <= every and named & hidden == set(), (caller, named & hidden)
    assert (f"/processes/{PROCESS}" in oas["paths"]) == sees(caller, PROCESS)
    assert (PROP in json.dumps(oas)) == sees(caller, PROP)

    styles = stack.get(caller, "/styles").json()["styles"]
    assert {s["collection"] for s in styles} & hidden == set()
    assert (HIDDEN in {s["collection"] for s in styles}) == sees(caller, HIDDEN)

    catalog = stack.get(caller, "/map/catalog.json")
    assert_vary(catalog)
    assert set(catalog.json()) == expected
    qgs = stack.get(caller, "/qgis/artois.qgs").text
    for cid in (HIDDEN, COVERAGE, EDITABLE):
        assert (f"<shortname>{cid}</shortname>" in qgs) == (cid in expected), (caller, cid)

    tilejson = stack.get(caller, "/tiles/WebMercatorQuad/tilejson.json").json()
    layers = {layer["id"] for layer in tilejson["vector_layers"]}
    assert (HIDDEN in layers) == sees(caller, HIDDEN) and (EDITABLE in layers) == \
        sees(caller, EDITABLE)
    # the dataset tile where a cycle facility lies carries its layer only for the group
    z, y, x = tile_of(first_feature(stack, HIDDEN), 14)
    tile = stack.get(caller, f"/tiles/WebMercatorQuad/{z}/{y}/{x}")
    names = set(mapbox_vector_tile.decode(tile.content)) if tile.status_code == 200 else set()
    assert (HIDDEN in names) == sees(caller, HIDDEN), (caller, names)

    for path in ("/", "/?f=html"):
        r = stack.get(caller, path)
        assert r.status_code == 200 and all(c not in r.text for c in
                                            (f"/collections/{h}" for h in hidden))
    # conformance does not depend on the caller
    assert stack.get(caller, "/conformance").json() == \
        stack.get("anonymous", "/conformance").json()


@pytest.mark.parametrize("caller", CALLERS)
def test_processes_of_the_tier(stack, caller):
    listed = {p["id"] for p in stack.get(caller, "/processes").json()["processes"]}
    assert (PROCESS in listed) == sees(caller, PROCESS)
    assert "risk-matrix" in listed  # a public process stays listed
    if sees(caller, PROCESS):
        assert stack.get(caller, f"/processes/{PROCESS}").status_code == 200
        r = stack.server.post(f"/processes/{PROCESS}/execution", json={"inputs": {}},
                              headers=CALLERS[caller])
        assert r.status_code != 404 and r.status_code < 500, (r.status_code, r.text[:200])
    else:
        assert_like_unknown(stack, caller, f"/processes/{PROCESS}", PROCESS)
        assert_like_unknown(stack, caller, f"/processes/{PROCESS}/execution", PROCESS,
                            method="POST", data=b'{"inputs": {}}',
                            headers={"Content-Type": "application/json"})


def test_an_unknown_credential_is_401_and_groups_come_from_keys(stack):
    r = stack.server.get("/collections", headers={"X-API-Key": "nobody"})
    assert r.status_code == 401 and "www-authenticate" in {k.lower() for k in r.headers}
    # the editor holds no group: the metier collection stays hidden from them
    assert stack.server.get(f"/collections/{HIDDEN}",
                            headers={"X-API-Key": "h4-editor"}).status_code == 404
    assert stack.server.get(f"/collections/{EDITABLE}",
                            headers={"X-API-Key": "h4-editor"}).status_code == 200


# ---------------------------------------------------------------------------- properties
def gpkg_values() -> dict[str, object]:
    """The property as the build stored it (the embedded store's file: same build source
    for PostGIS), by site_id."""
    entry = json.loads((VAR / "store" / "manifest.json").read_text())[FRICHES]
    with sqlite3.connect(entry["data"]) as conn:
        return {str(k): v for k, v in conn.execute(
            f'SELECT site_id, "{PROP}" FROM "{entry["table"]}"')}


@pytest.mark.parametrize("caller", CALLERS)
def test_a_restricted_property_is_dropped_everywhere(stack, caller):
    shown = sees(caller, PROP)
    items = stack.get(caller, f"/collections/{FRICHES}/items", params={"limit": 1000})
    assert items.status_code == 200 and items.headers.get("cache-control")
    assert_vary(items)
    feats = items.json()["features"]
    assert feats and all((PROP in f["properties"]) == shown for f in feats)
    if shown:
        stored = gpkg_values()
        assert {str(f["id"]): f["properties"][PROP] for f in feats} == \
            {k: v for k, v in stored.items() if k in {str(f["id"]) for f in feats}}
        assert "private" in items.headers["cache-control"]
    else:
        assert "private" not in items.headers["cache-control"]
    html = stack.get(caller, f"/collections/{FRICHES}/items", params={"limit": 5, "f": "html"})
    assert (PROP in html.text) == shown
    csv = stack.get(caller, f"/collections/{FRICHES}/items", params={"limit": 5, "f": "csv"})
    assert csv.status_code == 200 and (PROP in csv.text.splitlines()[0]) == shown
    fid = quote(str(feats[0]["id"]), safe="")
    one = stack.get(caller, f"/collections/{FRICHES}/items/{fid}").json()
    assert (PROP in one["properties"]) == shown
    for path in ("queryables", "schema"):
        doc = stack.get(caller, f"/collections/{FRICHES}/{path}").json()
        assert (PROP in doc["properties"]) == shown, path
    tilejson = stack.get(caller, f"/collections/{FRICHES}/tiles/WebMercatorQuad/tilejson.json")
    assert (PROP in tilejson.json()["vector_layers"][0]["fields"]) == shown
    z, y, x = tile_of(feats[0], 15)
    tile = stack.get(caller, f"/collections/{FRICHES}/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert tile.status_code == 200
    props = [f["properties"] for f in mapbox_vector_tile.decode(tile.content)[FRICHES]["features"]]
    assert props and all("site_id" in p for p in props)
    stored = gpkg_values()  # MVT leaves null values out
    expected = {str(p["site_id"]): stored[str(p["site_id"])] for p in props
                if shown and stored.get(str(p["site_id"])) is not None}
    assert {str(p["site_id"]): p[PROP] for p in props if PROP in p} == expected
    versions = stack.get(caller, f"/collections/{FRICHES}/items/{fid}/history").json()[
        "versions"]
    assert versions and all((PROP in v["properties"]) == shown for v in versions
                            if v["properties"] is not None)
    assert all(PROP not in v["changes"] for v in versions) or shown
    catalog = stack.get(caller, "/map/catalog.json").json()
    assert (PROP in catalog[FRICHES]["fields"]) == shown


@pytest.mark.parametrize("caller", CALLERS)
def test_the_friche_sheet_follows_the_view(stack, caller):
    """The sheet lists a restricted property of friches only for callers of its tier, and
    draws no layer of a collection hidden from the caller."""
    feats = stack.get(caller, f"/collections/{FRICHES}/items", params={"limit": 1}).json()[
        "features"]
    fid = quote(str(feats[0]["id"]), safe="")
    page = stack.get(caller, f"/collections/{FRICHES}/items/{fid}/fiche",
                     params={"lang": "fr"})
    assert page.status_code == 200, page.text[:300]
    assert (f'data-field="{PROP}"' in page.text) == sees(caller, PROP)
    assert 'data-field="projet_epci_statut"' in page.text  # a public field of the same block


@pytest.mark.parametrize("caller", CALLERS)
def test_a_restricted_property_cannot_be_filtered_sorted_or_grouped(stack, caller):
    shown = sees(caller, PROP)
    uses = [{"filter": f"{PROP} IS NULL"}, {"sortby": PROP}, {"sortby": f"-{PROP}"},
            {"properties": PROP}, {PROP: "x"}]
    for params in uses:
        r = stack.get(caller, f"/collections/{FRICHES}/items", params={"limit": 2, **params})
        if shown:
            assert r.status_code == 200, (params, r.text[:300])
        else:
            fake = "zz_" + PROP[3:]
            other = stack.get(caller, f"/collections/{FRICHES}/items", params={"limit": 2, **{
                k.replace(PROP, fake): v.replace(PROP, fake) for k, v in params.items()}})
            assert r.status_code == other.status_code == 400, (params, r.text[:200])
            assert without_id(r.text, PROP) == without_id(other.text, fake), params
    # the same through a CQL2 JSON search body (POST …/items)
    def search(name: str):
        body = {"op": "isNull", "args": [{"property": name}]}
        return stack.server.post(f"/collections/{FRICHES}/items?limit=2", data=json.dumps(body),
                                 headers={**CALLERS[caller],
                                          "Content-Type": "application/query-cql-json"})
    r = search(PROP)
    if shown:
        assert r.status_code == 200 and all(f["properties"].get(PROP) is None
                                            for f in r.json()["features"])
    else:
        other = search("zz_" + PROP[3:])
        assert r.status_code == other.status_code == 400
        assert without_id(r.text, PROP) == without_id(other.text, "zz_" + PROP[3:])
    agg = stack.get(caller, f"/collections/{FRICHES}/aggregate", params={"groupby": PROP})
    if shown:
        stored = gpkg_values()
        assert agg.status_code == 200 and agg.json()["numberMatched"] == len(stored)
        expected = {}
        for value in stored.values():
            expected[value] = expected.get(value, 0) + 1
        assert {g["key"][PROP]: g["count"] for g in agg.json()["groups"]} == expected
    else:
        fake = "zz_" + PROP[3:]
        other = stack.get(caller, f"/collections/{FRICHES}/aggregate", params={"groupby": fake})
        assert agg.status_code == other.status_code == 400
        assert without_id(agg.text, PROP) == without_id(other.text, fake)


# ---------------------------------------------------------------------------- caches
def test_caches_never_mix_tiers(stack):
    fid = quote(str(first_feature(stack, FRICHES)["id"]), safe="")
    for path in (f"/collections/{FRICHES}/items/{fid}", f"/collections/{FRICHES}/items?limit=5",
                 f"/collections/{FRICHES}/queryables", "/collections", "/map/catalog.json",
                 "/tiles/WebMercatorQuad/tilejson.json", "/openapi?f=json"):
        seen: dict[str, str] = {}
        for caller in ("member", "reader", "admin"):
            r = stack.get(caller, path)
            assert r.status_code == 200 and "private" in r.headers["cache-control"], path
            seen[caller] = r.headers["etag"]
        anon = stack.get("anonymous", path)
        assert anon.status_code == 200 and "private" not in anon.headers["cache-control"]
        for caller, etag in seen.items():
            again = stack.get("anonymous", path, headers={"If-None-Match": etag})
            if etag != anon.headers["etag"]:
                assert again.status_code == 200, (path, caller)
                assert again.content == anon.content or path.startswith("/openapi") or \
                    "timeStamp" in anon.text
        # its own ETag revalidates; a member's own ETag too
        assert stack.get("anonymous", path, headers={
            "If-None-Match": anon.headers["etag"]}).status_code == 304
        assert stack.get("member", path, headers={
            "If-None-Match": seen["member"]}).status_code == 304
    # the feature's ETag (Part 4) differs between a view without the property and one with it
    one_anon = stack.get("anonymous", f"/collections/{FRICHES}/items/{fid}")
    one_reader = stack.get("reader", f"/collections/{FRICHES}/items/{fid}")
    assert one_anon.headers["etag"] != one_reader.headers["etag"]
    assert PROP not in one_anon.json()["properties"]


# ---------------------------------------------------------------------------- friches hidden
@pytest.mark.parametrize("caller", CALLERS)
def test_fiche_photos_and_history_of_a_hidden_collection(friches_hidden, caller):
    stack = friches_hidden
    feature = stack.get("admin", f"/collections/{FRICHES}/items", params={"limit": 1}).json()[
        "features"][0]
    fid = quote(str(feature["id"]), safe="")
    for path in (f"/collections/{FRICHES}/items/{fid}/fiche",
                 f"/collections/{FRICHES}/items/{fid}/photos",
                 f"/collections/{FRICHES}/items/{fid}/history",
                 f"/collections/{FRICHES}/items/{fid}"):
        r = stack.get(caller, path)
        if caller in ("member", "admin"):
            assert r.status_code == 200, (path, r.status_code, r.text[:200])
        else:
            assert_like_unknown(stack, caller, path, FRICHES)


# ---------------------------------------------------------------------------- the core
def test_declared_tiers_from_files_metadata_and_settings():
    from services.access import declared, view_of
    from services.auth import Principal

    class Spec:
        def __init__(self, access, fields):
            self.access, self.fields = access, fields
    specs = {"solaire": Spec(None, {"classe": {}, "surface": {"access": "metier"}}),
             "zae-lots": Spec("reader", {"prix": {}}), "x": Spec("Bad Tier!", {})}
    tiers = declared(specs, {"p": {"access": {"read": "reader"}}, "q": {}},
                     "zae-lots.prix=metier,q=cabbalr,solaire.classe=reader")
    assert tiers.collections == {"zae-lots": "reader", "x": "admin"}
    assert tiers.fields == {"solaire": {"surface": "metier", "classe": "reader"},
                            "zae-lots": {"prix": "metier"}}
    assert tiers.processes == {"p": "reader", "q": "cabbalr"}
    anon = view_of(tiers, None)
    assert anon.hidden("solaire") == {"surface", "classe"} and not anon.sees("zae-lots")
    member = view_of(tiers, Principal("m", "reader", frozenset({"metier"})))
    assert member.hidden("solaire") == set() and member.sees("zae-lots")
    assert not member.sees_process("q") and member.sees_process("p") and not member.sees("x")
    assert view_of(tiers, Principal("a", "admin")).full


def test_issue_a_scoped_key():
    import subprocess
    import sys
    out = subprocess.run([sys.executable, "-m", "services.auth", "issue", "dora", "reader",
                          "metier", "cabbalr"], cwd=PROJECT, capture_output=True, text=True,
                         check=True).stdout
    env = re.search(r"ARTOIS_API_KEYS entry: (\S+)", out).group(1)
    from services.auth import KeyStore, token_hash
    token = env.split(":")[0]
    principal = KeyStore(env).authenticate(token)
    assert principal.user == "dora" and principal.role == "reader"
    assert principal.groups == {"metier", "cabbalr"}
    assert token_hash(token) in out  # the keys-file line carries only the hash
    line = json.loads(re.search(r"keys file entry \(under keys:\): - (.+)", out).group(1))
    assert token not in json.dumps(line) and line["groups"] == ["cabbalr", "metier"]
