"""Replicas behind the caching reverse proxy (issue 20 point 5), on loopback without Docker.

Two real server replicas on one store (each store: a private copy, as the Part 4 tests use:
embedded = a temporary var dir whose GeoPackages both replicas open, SQLite WAL across
processes as the uvicorn workers of one server already do; PostGIS = a scratch schema) behind
nginx rendered from deploy/proxy/nginx.conf.in (the configuration docker/compose.yml runs).
Checked over real HTTP: requests spread over both replicas (the proxy's access log names the
replica of each request), tiles and static metadata served from the proxy's cache, items
never cached, answers for a credential never cached nor served to anyone else, Part 4 writes
through the proxy seen at once, links written with the proxy's address, no 5xx while one
replica is stopped and then restarted, and the proxy's own errors as bilingual OGC exceptions.
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import mapbox_vector_tile
import morecantile
import pytest
import requests
import yaml
from shapely.geometry import shape

from conftest import ARTIFACTS, PROJECT, STORES, Server, free_port
from test_transactions import GEOJSON, new_friche, open_stack

_spec = importlib.util.spec_from_file_location("proxy_render",
                                               PROJECT / "deploy" / "proxy" / "render.py")
render = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(render)

EDITOR_KEY, READER_KEY = "px-editor", "px-reader"
KEYS = f"{EDITOR_KEY}:editor:eddie,{READER_KEY}:reader:rita"
EDITOR = {"X-API-Key": EDITOR_KEY}
READER = {"Authorization": f"Bearer {READER_KEY}"}
HIDDEN, PROP = "amenagements-cyclables", "projet_epci_description"   # readers only
READ_ACCESS = f"{HIDDEN}=reader,friches.{PROP}=reader"
TILES = "/collections/friches/tiles/WebMercatorQuad"


def nginx() -> str:
    path = shutil.which("nginx")
    assert path, "nginx is not installed: bash scripts/setup.sh --test-tools (Debian nginx)"
    return path


def start_replica(env: dict, port: int, name: str) -> Server:
    """`artois-geo serve` on a given port (a replica comes back on its own address)."""
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / f"server-{name}-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "services.cli", "serve", "--port", str(port), "--workers", "1",
         "--access-log", "--log-level", "info"],
        cwd=PROJECT, env={**os.environ, **env}, stdout=log.open("a"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"replica exited: {log.read_text()[-3000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url + "/ready", timeout=10).status_code == 200:
                return Server(url, process, log)
        time.sleep(0.3)
    process.terminate()
    process.wait(timeout=30)
    raise RuntimeError(f"replica did not start: {log.read_text()[-3000:]}")


class Proxy:
    """nginx in the foreground with its configuration, cache and logs under `prefix`."""

    def __init__(self, prefix: Path, upstreams: list[str], port: int):
        self.prefix, self.port = prefix, port
        self.url = f"http://127.0.0.1:{port}"
        render.write(prefix, upstreams, f"127.0.0.1:{port}", cache_size="64m",
                     worker_processes="1")
        self.log = prefix / "logs" / "access.log"
        self.process = subprocess.Popen(render.command(prefix), stdout=subprocess.DEVNULL,
                                        stderr=(prefix / "logs" / "stderr.log").open("w"))
        self.http = requests.Session()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (prefix / "logs" / "error.log").read_text()
            with contextlib.suppress(requests.ConnectionError):
                requests.get(self.url + "/health", timeout=10)
                return
            time.sleep(0.1)
        raise RuntimeError("nginx did not start")

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.http.get(self.url + path, timeout=60, **kwargs)

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.http.request(method, self.url + path, timeout=60, **kwargs)

    def lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    def upstreams_of(self, path: str, since: int, requests: int) -> list[str]:
        """The replicas (host:port) that answered the `requests` last GETs of `path` (nginx
        writes a line once the answer is sent: waited for), from line `since` of the log."""
        deadline = time.monotonic() + 10
        while True:
            lines = []
            for line in self.lines()[since:]:
                target = re.search(r'"GET (\S+) ', line)
                if target and (target.group(1) == path or "?" not in path and
                               target.group(1).startswith(path + "?")):
                    lines.append(line)
            if len(lines) >= requests or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert len(lines) == requests, lines
        found = []
        for line in lines:  # a request tried on two replicas: `upstream=a:1, b:2`
            found += re.search(r"upstream=(.*?) cache=", line).group(1).split(", ")
        return [u for u in found if u != "-"]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


class Replicas:
    def __init__(self, kind, stack, second: Server, port_b: int, proxy: Proxy):
        self.kind, self.stack, self.a, self.b = kind, stack, stack.server, second
        self.port_b, self.proxy = port_b, proxy

    @property
    def addresses(self) -> set[str]:
        return {self.a.url.removeprefix("http://"), self.b.url.removeprefix("http://")}


@pytest.fixture(scope="module", params=STORES)
def replicas(request, tmp_path_factory):
    nginx()
    proxy_port, port_b = free_port(), free_port()
    public = f"http://127.0.0.1:{proxy_port}"
    extra = {"ARTOIS_PUBLIC_URL": public, "ARTOIS_JOB_WORKERS": "0",
             "ARTOIS_READ_ACCESS": READ_ACCESS}
    with open_stack(request, tmp_path_factory, keys=KEYS, extra_env=extra) as stack:
        second = start_replica(stack.env, port_b, f"proxy-b-{request.param}")
        proxy = Proxy(tmp_path_factory.mktemp(f"proxy-{request.param}"),
                      [stack.server.url.removeprefix("http://"), f"127.0.0.1:{port_b}"],
                      proxy_port)
        group = Replicas(request.param, stack, second, port_b, proxy)
        try:
            yield group
        finally:
            proxy.stop()
            group.b.stop()


def friche_tile(replicas) -> tuple[str, str]:
    """A z14 tile holding a friche (from the first friche's geometry) and that friche's id."""
    feature = replicas.a.json("/collections/friches/items", params={"limit": 1})["features"][0]
    point = shape(feature["geometry"]).representative_point()
    tile = morecantile.tms.get("WebMercatorQuad").tile(point.x, point.y, 14)
    return f"{TILES}/{tile.z}/{tile.y}/{tile.x}", str(feature["id"])


# ---------------------------------------------------------------------------- spreading
def test_requests_spread_over_both_replicas(replicas):
    proxy = replicas.proxy
    start = len(proxy.lines())
    for _ in range(12):
        r = proxy.get("/collections/communes/items", params={"limit": 2})
        assert r.status_code == 200, r.text[:300]
    used = Counter(proxy.upstreams_of("/collections/communes/items?limit=2", start, 12))
    assert set(used) == replicas.addresses, used
    assert min(used.values()) >= 3, used  # least_conn: both take a share


# ---------------------------------------------------------------------------- caching
def test_a_tile_is_served_by_the_proxy_the_second_time(replicas):
    proxy = replicas.proxy
    path, fid = friche_tile(replicas)
    start = len(proxy.lines())
    first = proxy.get(path)
    assert first.status_code == 200 and first.headers["X-Cache-Status"] in ("MISS", "EXPIRED")
    assert "public" in first.headers["Cache-Control"] and "max-age" in first.headers[
        "Cache-Control"]
    second = proxy.get(path)
    assert second.status_code == 200 and second.headers["X-Cache-Status"] == "HIT"
    assert second.content == first.content
    assert second.headers["ETag"] == first.headers["ETag"]
    # the tile holds the friche it was computed from, and the replica saw only the first GET
    layers = mapbox_vector_tile.decode(second.content)
    assert "friches" in layers and layers["friches"]["features"]
    assert len(proxy.upstreams_of(path, start, 2)) == 1
    # a client's revalidation goes to a replica, which answers 304; nothing of it is stored
    start = len(proxy.lines())
    r = proxy.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert r.status_code == 304 and r.headers["X-Cache-Status"] == "BYPASS"
    assert len(proxy.upstreams_of(path, start, 1)) == 1
    r = proxy.get(path, headers={"If-None-Match": 'W/"other"'})
    assert r.status_code == 200 and r.content == first.content
    third = proxy.get(path)
    assert third.headers["X-Cache-Status"] == "HIT" and third.content == first.content


def test_static_metadata_is_cached_items_and_operations_are_not(replicas):
    proxy = replicas.proxy
    for path in ("/tileMatrixSets/WebMercatorQuad", "/collections/friches/styles"):
        proxy.get(path)
        r = proxy.get(path)
        assert r.status_code == 200 and r.headers["X-Cache-Status"] == "HIT", path
    # no-cache (items, collections) and no-store (operations): every request reaches a replica
    for path, directive in (("/collections/friches/items?limit=3", "no-cache"),
                            ("/collections/friches", "no-cache"), ("/ready", "no-store")):
        start = len(proxy.lines())
        statuses = [proxy.get(path) for _ in range(3)]
        assert all(r.status_code == 200 for r in statuses), path
        assert directive in statuses[0].headers["Cache-Control"], path
        assert [r.headers["X-Cache-Status"] for r in statuses] == ["MISS"] * 3, path
        assert len(proxy.upstreams_of(path, start, 3)) == 3, path


def test_a_revalidation_gets_its_304_from_either_replica(replicas):
    """An item page's ETag (`no-cache`: revalidated on every use) must not depend on which
    replica made it: the client's next If-None-Match may reach the other one."""
    proxy = replicas.proxy
    path = "/collections/friches/items?limit=3"
    tags = {replicas.a.get(path).headers["ETag"], replicas.b.get(path).headers["ETag"]}
    assert len(tags) == 1, f"the replicas tag the same page differently: {tags}"
    etag = tags.pop()
    start = len(proxy.lines())
    for _ in range(4):
        again = proxy.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.headers["X-Cache-Status"] == "BYPASS"
    assert set(proxy.upstreams_of(path, start, 4)) == replicas.addresses


def test_answers_for_a_credential_never_reach_another_caller(replicas):
    proxy = replicas.proxy
    # a property for readers: the reader's page has it, the anonymous page that follows not
    path = "/collections/friches/items?limit=5"
    keyed = proxy.get(path, headers=READER)
    assert keyed.status_code == 200 and keyed.headers["X-Cache-Status"] == "BYPASS"
    assert all(PROP in f["properties"] for f in keyed.json()["features"])
    anonymous = proxy.get(path)
    assert anonymous.headers["X-Cache-Status"] == "MISS"
    assert not any(PROP in f["properties"] for f in anonymous.json()["features"])
    assert [f["id"] for f in anonymous.json()["features"]] == \
        [f["id"] for f in keyed.json()["features"]]
    # a collection for readers: its tile for a reader first (it holds the reader's feature),
    # then anonymous gets 404 (twice: nothing of the reader's was kept)
    feature = replicas.a.json(f"/collections/{HIDDEN}/items", params={"limit": 1},
                              headers=READER)["features"][0]
    point = shape(feature["geometry"]).representative_point()
    t = morecantile.tms.get("WebMercatorQuad").tile(point.x, point.y, 14)
    hidden_tile = f"/collections/{HIDDEN}/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}"
    for _ in range(2):
        r = proxy.get(hidden_tile, headers=READER)
        assert r.status_code == 200 and r.headers["X-Cache-Status"] == "BYPASS"
        assert mapbox_vector_tile.decode(r.content)[HIDDEN]["features"]
    for _ in range(2):
        r = proxy.get(hidden_tile)
        assert r.status_code == 404 and r.headers["X-Cache-Status"] != "HIT", r.headers
    # the one tile of every layer: the reader's holds the hidden layer, the anonymous one
    # (cached, then a HIT) never does; a reader after it still gets their own
    combined = f"/tiles/WebMercatorQuad/{t.z}/{t.y}/{t.x}"
    start = len(proxy.lines())
    first = proxy.get(combined, headers=READER)
    assert HIDDEN in mapbox_vector_tile.decode(first.content)
    proxy.get(combined)
    cached = proxy.get(combined)
    assert cached.headers["X-Cache-Status"] == "HIT"
    assert HIDDEN not in mapbox_vector_tile.decode(cached.content)
    mine = proxy.get(combined, headers={"X-API-Key": READER_KEY})
    assert mine.status_code == 200 and mine.headers["X-Cache-Status"] == "BYPASS"
    assert mine.content == first.content
    # the replicas saw the reader twice and the anonymous caller once
    assert len(proxy.upstreams_of(combined, start, 4)) == 3


# ---------------------------------------------------------------------------- writes, links
def test_part4_writes_go_through_and_are_read_at_once(replicas):
    proxy = replicas.proxy
    feature = new_friche(replicas.stack, site_nom="Friche du proxy")
    fid = feature["properties"]["site_id"]
    r = proxy.request("POST", "/collections/friches/items", data=json.dumps(feature),
                      headers={**GEOJSON, **EDITOR})
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == f"{proxy.url}/collections/friches/items/{fid}"
    got = proxy.get(f"/collections/friches/items/{fid}")
    assert got.status_code == 200 and got.json()["properties"]["site_nom"] == "Friche du proxy"
    # the ETag of the editor's view (the anonymous one hides a property: another ETag)
    etag = proxy.get(f"/collections/friches/items/{fid}", headers=EDITOR).headers["ETag"]
    assert etag == r.headers["ETag"]
    for name in (f"Nom {n} {uuid.uuid4().hex[:6]}" for n in range(3)):
        r = proxy.request("PATCH", f"/collections/friches/items/{fid}",
                          data=json.dumps({"properties": {"site_nom": name}}),
                          headers={"Content-Type": "application/merge-patch+json", **EDITOR,
                                   "If-Match": etag})
        assert r.status_code == 200, r.text
        etag = r.headers["ETag"]
        # whichever replica answers, the next read shows the change
        for _ in range(2):
            read = proxy.get(f"/collections/friches/items/{fid}")
            assert read.json()["properties"]["site_nom"] == name
            assert read.headers["X-Cache-Status"] == "MISS"
            mine = proxy.get(f"/collections/friches/items/{fid}", headers=EDITOR)
            assert mine.headers["ETag"] == etag and mine.json()["properties"]["site_nom"] == name
    r = proxy.request("DELETE", f"/collections/friches/items/{fid}",
                      headers={**EDITOR, "If-Match": etag})
    assert r.status_code == 204
    assert proxy.get(f"/collections/friches/items/{fid}").status_code == 404


def test_links_use_the_proxy_address(replicas):
    proxy = replicas.proxy
    landing = proxy.get("/", params={"f": "json"}).json()
    hosts = {urlsplit(link["href"]).netloc for link in landing["links"]} - {""}
    assert hosts == {urlsplit(proxy.url).netloc}, hosts
    page = proxy.get("/collections/communes/items", params={"limit": 1}).json()
    following = [link["href"] for link in page["links"] if link["rel"] == "next"]
    assert following and following[0].startswith(proxy.url + "/collections/communes/items")


def test_too_large_bodies_get_the_proxy_bilingual_413(replicas):
    r = replicas.proxy.request("POST", "/collections/friches/items",
                               data=b"0" * (18 * 1024 * 1024), headers={**GEOJSON, **EDITOR})
    assert r.status_code == 413 and r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["code"] == "PayloadTooLarge" and body["status"] == 413
    assert body["description_fr"] and body["description_en"] and \
        body["description_fr"] != body["description_en"]


# ---------------------------------------------------------------------------- a replica down
def test_no_error_while_a_replica_is_stopped_and_restarted(replicas):
    proxy = replicas.proxy
    path = "/collections/communes/items?limit=1"
    replicas.b.stop()
    try:
        for n in range(20):
            r = proxy.get(path + f"&offset={n}")
            assert r.status_code == 200, (n, r.status_code, r.text[:300])
        writes = new_friche(replicas.stack)
        r = proxy.request("POST", "/collections/friches/items", data=json.dumps(writes),
                          headers={**GEOJSON, **EDITOR})
        assert r.status_code == 201, r.text
        proxy.request("DELETE", f"/collections/friches/items/{writes['properties']['site_id']}",
                      headers={**EDITOR, "If-Match": r.headers["ETag"]})
    finally:
        replicas.b = start_replica(replicas.stack.env, replicas.port_b,
                                   f"proxy-b-{replicas.kind}")
    # back in the rotation once its fail_timeout (5 s) has passed, still without errors
    back = f"127.0.0.1:{replicas.port_b}"
    deadline = time.monotonic() + 60
    seen = False
    while time.monotonic() < deadline and not seen:
        start = len(proxy.lines())
        for n in range(4):
            r = proxy.get(path + f"&offset={n}")
            assert r.status_code == 200, (r.status_code, r.text[:300])
        seen = back in proxy.upstreams_of("/collections/communes/items", start, 4)
        time.sleep(1)
    assert seen, "the restarted replica never answered again"


# ---------------------------------------------------------------------------- no store
def test_no_replica_answers_a_bilingual_503(tmp_path):
    nginx()
    closed = free_port()   # nothing listens there
    proxy = Proxy(tmp_path / "proxy", [f"127.0.0.1:{closed}"], free_port())
    try:
        r = proxy.get("/collections")
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"
        body = r.json()
        assert body["code"] == "ServiceUnavailable" and body["status"] == 503
        assert body["description_fr"] and body["description_en"] and \
            body["description_fr"] != body["description_en"]
    finally:
        proxy.stop()


def test_rendered_configuration_is_valid_and_bounded(tmp_path):
    conf = render.write(tmp_path, ["localhost:5000", "[::1]:5001"], "8080", user="root")
    check = subprocess.run([nginx(), "-t", "-p", f"{tmp_path}/", "-e",
                            str(tmp_path / "logs" / "error.log"), "-c", str(conf)],
                           capture_output=True, text=True)
    assert "test is successful" in check.stderr, check.stderr
    text = conf.read_text()
    for bound in ("max_size=1g", "client_max_body_size 17m", "proxy_read_timeout 90s",
                  "proxy_next_upstream_tries 2", "keepalive 64", "least_conn"):
        assert bound in text, bound
    with pytest.raises(ValueError):
        render.render(["server:5000; evil"], "8080")


def test_compose_puts_the_proxy_in_front_of_the_replicas():
    compose = yaml.safe_load((PROJECT / "docker" / "compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    proxy, server = services["proxy"], services["server"]
    assert proxy["build"]["dockerfile"] == "deploy/proxy/Dockerfile"
    assert "server" in proxy["depends_on"]
    assert any(str(p).endswith(":8080") for p in proxy["ports"])
    assert "ports" not in server   # the replicas are reached through the proxy only
    env = server["environment"]
    assert env["FORWARDED_ALLOW_IPS"]   # uvicorn trusts the proxy's X-Forwarded-For
    dockerfile = (PROJECT / "deploy" / "proxy" / "Dockerfile").read_text(encoding="utf-8")
    assert "apt-get install" in dockerfile and " nginx" in dockerfile
    assert "render.py" in dockerfile and "daemon off;" in dockerfile
