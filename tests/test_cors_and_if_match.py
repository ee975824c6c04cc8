"""Browser writes from another origin (CORS, services/cors.py) and ARTOIS_REQUIRE_IF_MATCH=false,
over real HTTP on both stores.

A web map on https://carto.example.org (Lizmap, MapLibre) edits the way a browser does: a
preflight OPTIONS, then the write with the ETag it read from the exposed ETag header.
Each store gets its private copy and server (test_transactions.open_stack); tests that need
other settings restart that server with them (`serve_with`).
"""
from __future__ import annotations

import contextlib
import json
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import morecantile
import pytest
import requests

from conftest import start_server
from test_browser import ARGS, CHROMIUM
from test_transactions import (BETHUNE, EDITOR, GEOJSON, STORES, Stack, assert_bilingual,
                               create, new_zae, open_stack, square)

ORIGIN = "https://carto.example.org"
WRITE_HEADERS = "authorization, content-type, if-match, x-api-key"


@pytest.fixture(scope="module", params=STORES)
def stack(request, tmp_path_factory):
    with open_stack(request, tmp_path_factory) as s:
        s.settings = {}
        yield s
        s.server.stop()  # the last one started by serve_with (a no-op if it is the first)


def serve_with(stack: Stack, **settings: str) -> None:
    """Run the stack's server with these settings over its own environment (restart if needed)."""
    if stack.settings == settings:
        return
    stack.server.stop()
    stack.server = start_server({**stack.env, **settings},
                                f"cors-{stack.kind}-{len(settings)}")
    stack.settings = settings


# ---------------------------------------------------------------------------- helpers
def preflight(stack: Stack, path: str, method: str, origin: str = ORIGIN,
              headers: str = WRITE_HEADERS) -> requests.Response:
    return stack.request("OPTIONS", path, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers})


def names(value: str | None) -> set[str]:
    return {n.strip().lower() for n in (value or "").split(",") if n.strip()}


def cors_header(r: requests.Response, name: str) -> str | None:
    """The one value of an Access-Control-* header; fails if it is sent twice."""
    values = r.raw.headers.getlist(name)
    assert len(values) <= 1, (name, values)
    return values[0] if values else None


def assert_preflight_allows(r: requests.Response, method: str, origin: str = "*") -> None:
    assert r.status_code in (200, 204), (r.status_code, r.text[:300])
    assert cors_header(r, "Access-Control-Allow-Origin") == origin
    assert method.lower() in names(cors_header(r, "Access-Control-Allow-Methods"))
    assert names(WRITE_HEADERS) <= names(cors_header(r, "Access-Control-Allow-Headers"))


def assert_readable(r: requests.Response, origin: str = "*", *exposed: str) -> None:
    """A page on another origin may read this answer (and these headers of it)."""
    assert cors_header(r, "Access-Control-Allow-Origin") == origin, dict(r.headers)
    expose = names(cors_header(r, "Access-Control-Expose-Headers"))
    assert {h.lower() for h in exposed} <= expose, (exposed, expose)


def first_id(stack: Stack, cid: str) -> str:
    return stack.server.json(f"/collections/{cid}/items", params={"limit": 1})["features"][0]["id"]


# ---------------------------------------------------------------------------- any origin
def test_preflight_of_every_write_on_editable_collections(stack):
    serve_with(stack)
    for cid in ("zae", "friches"):
        fid = first_id(stack, cid)
        for method in ("PUT", "PATCH", "DELETE"):
            assert_preflight_allows(preflight(stack, f"/collections/{cid}/items/{fid}", method),
                                    method)
        assert_preflight_allows(preflight(stack, f"/collections/{cid}/items", "POST"), "POST")
    # QGIS's OPTIONS (no Origin: not a preflight) still gets Transactions' Allow
    r = stack.request("OPTIONS", f"/collections/zae/items/{first_id(stack, 'zae')}")
    assert r.status_code == 204 and cors_header(r, "Access-Control-Allow-Methods") is None
    assert names(r.headers["Allow"]) >= {"get", "put", "patch", "delete", "options"}


def test_browser_edit_cycle_with_the_exposed_etag(stack):
    """Preflight, POST, GET, PUT, PATCH, DELETE as fetch() from another origin sends them,
    each next If-Match taken from the ETag header the page was allowed to read."""
    serve_with(stack)
    page = {"Origin": ORIGIN}
    assert_preflight_allows(preflight(stack, "/collections/zae/items", "POST"), "POST")
    r = create(stack, "zae", new_zae(stack), headers=page)
    assert r.status_code == 201, r.text[:500]
    assert_readable(r, "*", "ETag", "Location")
    location, etag = r.headers["Location"], r.headers["ETag"]
    path = location[len(stack.url):] if location.startswith(stack.url) else \
        "/collections/zae/items/" + location.rsplit("/", 1)[1]

    r = stack.request("GET", path, headers=page)
    assert r.status_code == 200
    assert_readable(r, "*", "ETag")
    assert r.headers["ETag"] == etag
    feature = r.json()

    assert_preflight_allows(preflight(stack, path, "PUT"), "PUT")
    feature["properties"]["nom"] = "Zone éditée depuis le navigateur"
    r = stack.request("PUT", path, data=json.dumps(feature),
                      headers={**page, **GEOJSON, **EDITOR, "If-Match": etag})
    assert r.status_code == 200, r.text[:500]
    assert_readable(r, "*", "ETag")
    assert r.headers["ETag"] != etag
    assert r.json()["properties"]["nom"] == "Zone éditée depuis le navigateur"

    assert_preflight_allows(preflight(stack, path, "PATCH"), "PATCH")
    r = stack.request("PATCH", path, data=json.dumps({"geometry": square(*BETHUNE, half=0.001)}),
                      headers={**page, "Content-Type": "application/merge-patch+json",
                               "X-API-Key": EDITOR["Authorization"].split()[1],
                               "If-Match": r.headers["ETag"]})
    assert r.status_code == 200, r.text[:500]
    assert_readable(r, "*", "ETag")

    assert_preflight_allows(preflight(stack, path, "DELETE"), "DELETE")
    r = stack.request("DELETE", path, headers={**page, **EDITOR, "If-Match": r.headers["ETag"]})
    assert r.status_code == 204, r.text[:500]
    assert_readable(r)
    assert stack.request("GET", path, headers=page).status_code == 404


@contextlib.contextmanager
def page_origin():
    """A web page on another origin (another host name and port than the API's)."""
    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            body = b"<!doctype html><title>carte</title><p>carte</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://localhost:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


EDIT_IN_PAGE = """async ({api, feature, key}) => {
  const auth = {'Authorization': 'Bearer ' + key};
  const created = await fetch(api + '/collections/zae/items', {method: 'POST',
      headers: {...auth, 'Content-Type': 'application/geo+json'}, body: JSON.stringify(feature)});
  const location = created.headers.get('Location');
  const read = await fetch(location);
  const etag = read.headers.get('ETag');
  const current = await read.json();
  current.properties.nom = 'Modifiée dans Chromium';
  const put = await fetch(location, {method: 'PUT', body: JSON.stringify(current),
      headers: {...auth, 'Content-Type': 'application/geo+json', 'If-Match': etag}});
  const stale = await fetch(location, {method: 'DELETE', headers: {...auth, 'If-Match': etag}});
  const del = await fetch(location, {method: 'DELETE',
      headers: {...auth, 'If-Match': put.headers.get('ETag')}});
  return {created: created.status, location, etag, put: put.status,
          nom: (await put.json()).properties.nom, stale: stale.status,
          staleCode: (await stale.json()).code, deleted: del.status};
}"""


@pytest.mark.skipif(not shutil.which("chromium"),
                    reason="chromium is installed by scripts/setup.sh --test-tools")
def test_chromium_page_on_another_origin_edits(stack):
    """Real fetch() calls from a page on another origin: Chromium's own CORS checks."""
    from playwright.sync_api import sync_playwright
    serve_with(stack)
    with page_origin() as origin, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(origin + "/")
            out = page.evaluate(EDIT_IN_PAGE, {"api": stack.url, "feature": new_zae(stack),
                                               "key": EDITOR["Authorization"].split()[1]})
        finally:
            browser.close()
    # the deliberate stale DELETE is logged; nothing else (no "blocked by CORS policy")
    assert [e for e in errors if "412" not in e] == [], errors
    assert out["created"] == 201 and out["location"].startswith(stack.url), out
    assert out["etag"] and out["etag"].startswith('"'), out
    assert (out["put"], out["nom"]) == (200, "Modifiée dans Chromium"), out
    assert (out["stale"], out["staleCode"]) == (412, "PreconditionFailed"), out
    assert out["deleted"] == 204, out
    assert stack.request("GET", out["location"][len(stack.url):]).status_code == 404


def test_errors_of_writes_are_readable_by_the_page(stack):
    """A refused write from another origin is an OGC exception the page can show."""
    serve_with(stack)
    fid = first_id(stack, "zae")
    r = stack.request("PUT", f"/collections/zae/items/{fid}", data="{}",
                      headers={"Origin": ORIGIN, **GEOJSON})
    assert_bilingual(r, 401)
    assert_readable(r, "*", "WWW-Authenticate")
    r = stack.request("PUT", f"/collections/zae/items/{fid}", data="{}",
                      headers={"Origin": ORIGIN, **GEOJSON, **EDITOR})
    assert_bilingual(r, 428)
    assert_readable(r)


def test_preflight_of_an_unknown_collection_or_feature(stack):
    serve_with(stack)
    for path in ("/collections/nope/items/1", "/collections/nope/items",
                 "/collections/zae/items/no-such-zae"):
        r = preflight(stack, path, "PUT" if path.count("/") == 4 else "POST")
        assert r.status_code in (200, 204), (path, r.status_code)
    # the real request then says what is wrong, readably
    r = stack.request("PUT", "/collections/nope/items/1", data="{}",
                      headers={"Origin": ORIGIN, **GEOJSON, **EDITOR, "If-Match": '"x"'})
    assert_bilingual(r, 404)
    assert_readable(r)
    r = stack.request("DELETE", "/collections/communes/items/62119",
                      headers={"Origin": ORIGIN, **EDITOR, "If-Match": '"x"'})
    assert_bilingual(r, 405)
    assert_readable(r)


def test_reads_from_any_origin_without_duplicate_headers(stack):
    """pygeoapi's own CORS (server.cors) is replaced, not doubled; tiles (matched before
    pygeoapi) and 304 revalidations carry the headers too."""
    serve_with(stack)
    tile = morecantile.tms.get("WebMercatorQuad").tile(*BETHUNE, 12)
    for origin in (ORIGIN, "http://localhost:8080", "null"):
        for path in ("/collections", "/collections/zae/items?limit=2",
                     f"/collections/zae/items/{first_id(stack, 'zae')}",
                     f"/collections/zae/tiles/WebMercatorQuad/12/{tile.y}/{tile.x}",
                     "/collections/nope"):
            r = stack.request("GET", path, headers={"Origin": origin})
            assert r.status_code in (200, 204, 404), (path, r.status_code)
            assert_readable(r, "*", "ETag")
    r = stack.request("GET", "/collections/zae", headers={"Origin": ORIGIN})
    again = stack.request("GET", "/collections/zae",
                          headers={"Origin": ORIGIN, "If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    assert_readable(again, "*", "ETag")
    # a preflight for a read with a header pygeoapi's CORS did not allow
    assert_preflight_allows(preflight(stack, "/collections/zae/items", "GET",
                                      headers="accept-language, " + WRITE_HEADERS), "GET")


def test_if_match_is_required_by_default(stack):
    serve_with(stack)
    r = create(stack, "zae", new_zae(stack))
    assert r.status_code == 201
    path = "/collections/zae/items/" + r.headers["Location"].rsplit("/", 1)[1]
    r = stack.request("DELETE", path, headers=EDITOR)
    assert_bilingual(r, 428)


# ---------------------------------------------------------------------------- other settings
# The two tests below need settings other than the defaults: one server per store runs with
# both (they do not meet: the origins test sends no write, the If-Match test no Origin), so
# that the module restarts each store's server once instead of three times.
OTHER_SETTINGS = {
    "ARTOIS_CORS_ORIGINS": "https://carto.example.org, https://lizmap.example.org/",
    "ARTOIS_REQUIRE_IF_MATCH": "false",
}


# ---------------------------------------------------------------------------- ARTOIS_CORS_ORIGINS
def test_origins_can_be_restricted(stack):
    serve_with(stack, **OTHER_SETTINGS)
    path = f"/collections/zae/items/{first_id(stack, 'zae')}"
    for origin in (ORIGIN, "https://lizmap.example.org"):
        r = preflight(stack, path, "PUT", origin=origin)
        assert_preflight_allows(r, "PUT", origin=origin)
        assert "origin" in names(r.headers.get("Vary"))
        r = stack.request("GET", path, headers={"Origin": origin})
        assert_readable(r, origin, "ETag")
        assert "origin" in names(r.headers.get("Vary"))
    r = preflight(stack, path, "PUT", origin="https://evil.example.net")
    assert_bilingual(r, 403)
    assert cors_header(r, "Access-Control-Allow-Origin") is None
    # the server answers, the browser keeps the answer from that page
    r = stack.request("GET", path, headers={"Origin": "https://evil.example.net"})
    assert r.status_code == 200 and cors_header(r, "Access-Control-Allow-Origin") is None
    assert "origin" in names(r.headers.get("Vary"))


# ---------------------------------------------------------------------------- ARTOIS_REQUIRE_IF_MATCH
def test_if_match_optional_when_disabled_but_stale_still_refused(stack):
    """QGIS sends no If-Match: accepted; a stale If-Match is still a 412."""
    serve_with(stack, **OTHER_SETTINGS)
    feature = new_zae(stack)
    r = create(stack, "zae", feature)
    assert r.status_code == 201, r.text[:500]
    path = "/collections/zae/items/" + r.headers["Location"].rsplit("/", 1)[1]
    stale = r.headers["ETag"]

    feature["properties"]["nom"] = "Remplacée sans If-Match"
    r = stack.request("PUT", path, data=json.dumps(feature), headers={**GEOJSON, **EDITOR})
    assert r.status_code == 200, r.text[:500]
    assert r.json()["properties"]["nom"] == "Remplacée sans If-Match"
    current = r.headers["ETag"]
    assert current != stale

    patch = {"Content-Type": "application/merge-patch+json", **EDITOR}
    r = stack.request("PATCH", path, data=json.dumps({"properties": {"nom": "Corrigée"}}),
                      headers=patch)
    assert r.status_code == 200, r.text[:500]
    assert r.json()["properties"]["nom"] == "Corrigée"
    current = r.headers["ETag"]

    for method, body, headers in (("PUT", json.dumps(feature), {**GEOJSON, **EDITOR}),
                                  ("PATCH", json.dumps({"properties": {"nom": "Perdue"}}), patch),
                                  ("DELETE", None, EDITOR)):
        r = stack.request(method, path, data=body, headers={**headers, "If-Match": stale})
        assert_bilingual(r, 412, "PreconditionFailed")
    assert stack.request("GET", path).json()["properties"]["nom"] == "Corrigée"

    # the current ETag still works, and so does "*"
    r = stack.request("PATCH", path, data=json.dumps({"properties": {"nom": "À jour"}}),
                      headers={**patch, "If-Match": current})
    assert r.status_code == 200, r.text[:500]
    r = stack.request("PATCH", path, data=json.dumps({"properties": {"nom": "Étoile"}}),
                      headers={**patch, "If-Match": "*"})
    assert r.status_code == 200, r.text[:500]

    r = stack.request("DELETE", path, headers=EDITOR)
    assert r.status_code == 204, r.text[:500]
    assert stack.request("GET", path).status_code == 404
    # deleting again without If-Match: not found, not a silent success
    assert_bilingual(stack.request("DELETE", path, headers=EDITOR), 404)
