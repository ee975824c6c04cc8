"""ETags from data versions (issue 20, point 2): for a collection's metadata, items,
queryables and schema the weak ETag is computed from the collection's data version and the
request before the application runs (services/caching.py, services/store/versions.py).

On both stores, over real HTTP, on a private copy of the store with its own server
(test_transactions.open_stack): the ETag is stable across requests and restarts while the
data does not change; it changes after a Part 4 write, an `artois-geo import`, and a direct
write that bypasses the server (psycopg on PostGIS, sqlite3 on the GeoPackage); it differs
between views, formats, languages and queries; a matching If-None-Match is answered without
running the query (the table is locked meanwhile); and an unknown version (the PostGIS
listener cut, a GeoPackage writer mid-transaction) falls back to hashing bodies, never to a
stale tag.
"""
from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from conftest import ARTIFACTS, PROJECT
from services.store.sqlite.tables import register_gpkg_functions
from test_transactions import EDITOR, GEOJSON, READER, STORES, open_stack

FRICHES, PROP = "friches", "projet_epci_description"   # a property for readers only
READ_ACCESS = f"{FRICHES}.{PROP}=reader"
VERSIONED = 'W/"v'
ITEMS = f"/collections/{FRICHES}/items"
ROUTES = [(ITEMS, {"limit": 5}), (f"/collections/{FRICHES}", {}),
          (f"/collections/{FRICHES}/queryables", {}), (f"/collections/{FRICHES}/schema", {})]


@pytest.fixture(scope="module", params=STORES)
def stack(request, tmp_path_factory):
    with open_stack(request, tmp_path_factory,
                    extra_env={"ARTOIS_READ_ACCESS": READ_ACCESS}) as s:
        yield s


# ---------------------------------------------------------------------------- helpers
def fresh_get(stack, path: str, params: dict | None = None, headers: dict | None = None,
              timeout: float = 60) -> requests.Response:
    """A GET on a new connection: any of the server's worker processes may answer it."""
    return requests.get(stack.url + path, params=params, headers=headers or {},
                        timeout=timeout)


def settled_etag(stack, path: str, params: dict | None = None, headers: dict | None = None,
                 differs_from: str | None = None, wait: float = 30.0) -> str:
    """The versioned ETag once it has settled: four answers in a row on new connections give
    the same versioned tag (and, with `differs_from`, another one). PostGIS versions arrive
    by notification, a few milliseconds after the commit, in each worker process."""
    deadline = time.monotonic() + wait
    seen: list[str] = []
    while time.monotonic() < deadline:
        r = fresh_get(stack, path, params, headers)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        tag = r.headers["etag"]
        seen = seen + [tag] if seen and seen[-1] == tag else [tag]
        if tag.startswith(VERSIONED) and tag != differs_from and len(seen) >= 4:
            return tag
        time.sleep(0.05)
    raise AssertionError(f"no settled versioned ETag for {path}: last {seen}")


def conditional(stack, path: str, etag: str, params: dict | None = None,
                headers: dict | None = None, timeout: float = 60) -> requests.Response:
    return fresh_get(stack, path, params, {**(headers or {}), "If-None-Match": etag}, timeout)


def first_feature(stack) -> dict:
    return stack.server.json(ITEMS, params={"limit": 1})["features"][0]


def gpkg(stack) -> str:
    manifest = json.loads((stack.var / "store" / "manifest.json").read_text())
    return manifest[FRICHES]["data"]


def direct_write(stack) -> None:
    """A change that bypasses the server (what QGIS editing the store does): the first
    feature's identifier set to itself, one statement, committed."""
    if stack.kind == "postgis":
        import psycopg
        with psycopg.connect(stack.database_url, autocommit=True) as conn:
            conn.execute(f'UPDATE "{stack.schema}"."{FRICHES}" SET site_id = site_id '
                         f'WHERE fid = (SELECT min(fid) FROM "{stack.schema}"."{FRICHES}")')
    else:
        with sqlite3.connect(gpkg(stack), timeout=30) as conn:
            register_gpkg_functions(conn)  # GDAL's R*Tree triggers call them
            conn.execute(f'UPDATE "{FRICHES}" SET site_id = site_id '
                         f'WHERE fid = (SELECT min(fid) FROM "{FRICHES}")')
        conn.close()


# ---------------------------------------------------------------------------- stable, 304
@pytest.mark.parametrize("path, params", ROUTES)
def test_versioned_etag_is_stable_and_answers_304(stack, path, params):
    etag = settled_etag(stack, path, params)
    bodies = [fresh_get(stack, path, params) for _ in range(4)]
    assert {b.headers["etag"] for b in bodies} == {etag}
    if path == ITEMS:  # the same features each time
        assert len({json.dumps(b.json()["features"], sort_keys=True) for b in bodies}) == 1
    again = conditional(stack, path, etag, params)
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["cache-control"] == "no-cache"
    vary = {v.strip().lower() for v in again.headers["vary"].split(",")}
    assert {"accept", "accept-language", "authorization", "x-api-key"} <= vary
    listed = conditional(stack, path, f'"nope", {etag.removeprefix("W/")}', params)
    assert listed.status_code == 304


def test_one_feature_of_a_read_only_collection_is_versioned_and_part4_keeps_its_own(stack):
    commune = stack.server.json("/collections/communes/items", params={"limit": 1})
    path = f"/collections/communes/items/{commune['features'][0]['id']}"
    etag = settled_etag(stack, path)
    assert conditional(stack, path, etag).status_code == 304
    # an editable collection's feature: Part 4's strong ETag, which If-Match compares
    fid = first_feature(stack)["id"]
    own = fresh_get(stack, f"{ITEMS}/{fid}")
    assert own.status_code == 200 and not own.headers["etag"].startswith("W/")
    assert conditional(stack, f"{ITEMS}/{fid}", own.headers["etag"]).status_code == 304


def test_etag_differs_between_queries_formats_languages_and_views(stack):
    variants = {
        "limit 5": ({"limit": 5}, {}),
        "limit 6": ({"limit": 6}, {}),
        "html": ({"limit": 5, "f": "html"}, {}),
        "accept html": ({"limit": 5}, {"Accept": "text/html"}),
        "english": ({"limit": 5}, {"Accept-Language": "en"}),
        "french": ({"limit": 5}, {"Accept-Language": "fr"}),
        "lang=en": ({"limit": 5, "lang": "en"}, {}),
        "reader": ({"limit": 5}, READER),
    }
    tags = {name: settled_etag(stack, ITEMS, params, headers)
            for name, (params, headers) in variants.items()}
    assert len(set(tags.values())) == len(tags), tags
    # a tag never matches another variant: each answers 200 with a body
    for name, (params, headers) in variants.items():
        other = tags["limit 6" if name != "limit 6" else "limit 5"]
        r = conditional(stack, ITEMS, other, params, headers)
        assert r.status_code == 200 and r.content, name


def test_a_fuller_view_never_gives_a_304_to_a_narrower_one(stack):
    reader_tag = settled_etag(stack, ITEMS, {"limit": 5}, READER)
    shown = fresh_get(stack, ITEMS, {"limit": 5}, READER).json()["features"]
    assert any(PROP in f["properties"] for f in shown)
    anonymous = conditional(stack, ITEMS, reader_tag, {"limit": 5})
    assert anonymous.status_code == 200, anonymous.status_code
    assert all(PROP not in f["properties"] for f in anonymous.json()["features"])
    anonymous_tag = anonymous.headers["etag"]
    assert anonymous_tag != reader_tag
    reader = conditional(stack, ITEMS, anonymous_tag, {"limit": 5}, READER)
    assert reader.status_code == 200
    assert any(PROP in f["properties"] for f in reader.json()["features"])
    # the schema and queryables of each view differ too
    for path in (f"/collections/{FRICHES}/queryables", f"/collections/{FRICHES}/schema"):
        tag = settled_etag(stack, path, None, READER)
        r = conditional(stack, path, tag)
        assert r.status_code == 200 and PROP not in r.text


# ---------------------------------------------------------------------------- no query
def test_304_is_answered_without_running_the_query(stack):
    """While the collection's table is locked by another connection, a plain read waits for
    the lock, but a matching If-None-Match is answered at once: the query never ran."""
    etag = settled_etag(stack, ITEMS, {"limit": 7})
    if stack.kind == "postgis":
        import psycopg
        conn = psycopg.connect(stack.database_url)
        conn.execute(f'LOCK TABLE "{stack.schema}"."{FRICHES}" IN ACCESS EXCLUSIVE MODE')
    else:
        conn = sqlite3.connect(gpkg(stack), timeout=30, isolation_level=None)
        conn.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(requests.exceptions.ReadTimeout):  # the query waits for the lock
            fresh_get(stack, ITEMS, {"limit": 7, "offset": 1}, timeout=1.5)
        for _ in range(4):  # on new connections: every worker process
            started = time.monotonic()
            r = conditional(stack, ITEMS, etag, {"limit": 7}, timeout=10)
            assert r.status_code == 304, r.status_code
            assert time.monotonic() - started < 1.5
    finally:
        conn.rollback() if stack.kind == "postgis" else conn.execute("ROLLBACK")
        conn.close()
    assert conditional(stack, ITEMS, etag, {"limit": 7}).status_code == 304


# ---------------------------------------------------------------------------- changes
def test_a_part4_write_changes_the_etag(stack):
    before = settled_etag(stack, ITEMS, {"limit": 5})
    base = first_feature(stack)
    feature = {"type": "Feature", "geometry": base["geometry"],
               "properties": {**base["properties"], "site_id": f"DV-{uuid.uuid4().hex[:8]}"}}
    created = stack.request("POST", ITEMS, data=json.dumps(feature),
                            headers={**GEOJSON, **EDITOR})
    assert created.status_code == 201, created.text[:500]
    after = settled_etag(stack, ITEMS, {"limit": 5}, differs_from=before)
    assert conditional(stack, ITEMS, before, {"limit": 5}).status_code == 200
    location = created.headers["location"].removeprefix(stack.url)
    gone = stack.request("DELETE", location,
                         headers={**EDITOR, "If-Match": created.headers["etag"]})
    assert gone.status_code == 204, gone.text[:300]
    settled_etag(stack, ITEMS, {"limit": 5}, differs_from=after)
    assert conditional(stack, ITEMS, after, {"limit": 5}).status_code == 200


def test_an_import_changes_the_etag(stack, tmp_path):
    before = settled_etag(stack, ITEMS, {"limit": 5})
    base = first_feature(stack)
    feature = {"type": "Feature", "geometry": base["geometry"],
               "properties": {**base["properties"], "site_id": f"DI-{uuid.uuid4().hex[:8]}"}}
    path = tmp_path / "one.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    out = stack.cli("import", FRICHES, str(path), "--json")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    settled_etag(stack, ITEMS, {"limit": 5}, differs_from=before)
    assert conditional(stack, ITEMS, before, {"limit": 5}).status_code == 200
    hit = stack.server.json(ITEMS, params={"site_id": feature["properties"]["site_id"]})
    assert hit["numberMatched"] == 1


@pytest.mark.parametrize("path, params", ROUTES)
def test_a_direct_write_in_the_store_changes_the_etag(stack, path, params):
    before = settled_etag(stack, path, params)
    direct_write(stack)
    settled_etag(stack, path, params, differs_from=before)
    assert conditional(stack, path, before, params).status_code == 200


# ---------------------------------------------------------------------------- restarts
def _serve(env: dict, port: int, name: str) -> subprocess.Popen:
    log = ARTIFACTS / f"server-versions-{name}-{os.environ.get('PYTEST_XDIST_WORKER', 'm')}.log"
    ARTIFACTS.mkdir(exist_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", "--port", str(port), "--workers", "2",
         "--workers-jobs", "0"],
        cwd=PROJECT, env={**os.environ, **env}, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if requests.get(f"http://127.0.0.1:{port}/conformance", timeout=10).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.3)
    process.terminate()
    process.wait(timeout=30)
    raise AssertionError(f"server did not start: {log.read_text()[-3000:]}")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def test_etag_survives_a_restart_with_unchanged_data(stack):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    tags = []
    for run in range(2):
        process = _serve(stack.env, port, f"{stack.kind}-{run}")
        try:
            own = type("Own", (), {"url": f"http://127.0.0.1:{port}"})()
            tags.append([settled_etag(own, path, params) for path, params in ROUTES])
        finally:
            _stop(process)
    assert tags[0] == tags[1]


# ---------------------------------------------------------------------------- fallback
def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry.name))
    return out


def test_unknown_version_falls_back_to_body_hashes(stack):
    """PostGIS: the listeners of the server's processes cut (their connections ended by the
    database) → bodies hashed until they reconnect, and a change made meanwhile is seen.
    Embedded: a writer in the middle of a transaction (its journal) → bodies hashed."""
    before = settled_etag(stack, ITEMS, {"limit": 5})
    hashed = None
    if stack.kind == "postgis":
        import psycopg
        names = [f"artois-geo data versions {pid}" for pid in _children(stack.server.process.pid)]
        assert names
        with psycopg.connect(stack.database_url, autocommit=True) as conn:
            deadline = time.monotonic() + 20
            while hashed is None and time.monotonic() < deadline:
                conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                             "application_name = ANY(%s)", (names,))
                for _ in range(5):
                    tag = fresh_get(stack, ITEMS, {"limit": 5}).headers["etag"]
                    if not tag.startswith(VERSIONED):
                        hashed = tag
                        break
                    time.sleep(0.05)
        direct_write(stack)  # while (some of) the listeners are away
    else:  # a writer in the middle of its transaction: its journal holds the old pages
        conn = sqlite3.connect(gpkg(stack), timeout=30, isolation_level=None)
        register_gpkg_functions(conn)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(f'UPDATE "{FRICHES}" SET site_id = site_id '
                         f'WHERE fid = (SELECT min(fid) FROM "{FRICHES}")')
            r = fresh_get(stack, ITEMS, {"limit": 5})
            hashed = r.headers["etag"]
            assert conditional(stack, ITEMS, hashed, {"limit": 5}).status_code == 304
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        assert settled_etag(stack, ITEMS, {"limit": 5}) == before  # rolled back: unchanged
        direct_write(stack)
    assert hashed is not None and not hashed.startswith(VERSIONED)
    # back to versioned tags, and never the one of before the change
    settled_etag(stack, ITEMS, {"limit": 5}, differs_from=before, wait=90)
    assert conditional(stack, ITEMS, before, {"limit": 5}).status_code == 200
