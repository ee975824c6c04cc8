"""Operations endpoints and HTTP caching, over real HTTP on both stores."""
from __future__ import annotations

import json
import re
import socket
import threading
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from conftest import start_server


def test_health_is_alive(server):
    r = server.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"
    queue = r.json()["queue"]  # the job queue, for a load balancer's eyes
    assert {"queued", "running", "workers"} == set(queue) and queue["workers"] >= 1
    assert r.headers["cache-control"] == "no-store"


def test_ready_checks_the_store_and_the_job_manager(server):
    body = server.json("/ready")
    assert body["status"] == "ok"
    store = body["checks"]["database"]["store"]
    assert store == ("postgis" if "postgis" in server.log.name else "embedded")
    jobs = body["checks"]["jobs"]
    assert jobs["status"] == "ok" and jobs["queue"] == body["queue"]
    assert body["queue"]["queued"] >= 0 and body["queue"]["workers"] >= 1


class TCPRelay:
    """A loopback TCP relay to PostgreSQL that the test can cut and restore."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open = True
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.open:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self.pairs.append((client, upstream))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def cut(self) -> None:
        self.open = False
        for a, b in self.pairs:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        self.pairs.clear()

    def restore(self) -> None:
        self.open = True

    def close(self) -> None:
        self.cut()
        self.listener.close()


def test_ready_follows_the_database(database_url, manifest):
    """Alive (/health 200) but not ready (/ready 503) while PostgreSQL is unreachable, and
    ready again once it is back, without a restart."""
    url = urlsplit(database_url)
    relay = TCPRelay(url.port)
    relayed = urlunsplit(url._replace(netloc=f"{url.username}:{url.password}@127.0.0.1:"
                                             f"{relay.port}"))
    srv = start_server({"DATABASE_URL": relayed, "ARTOIS_QUERY_TIMEOUT": "3"}, "ready-relay")
    try:
        assert srv.get("/ready").status_code == 200
        relay.cut()
        r = srv.get("/ready")
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["status"] == "down" and body["checks"]["database"]["status"] == "down"
        assert srv.get("/health").status_code == 200
        relay.restore()
        deadline = time.monotonic() + 30
        while srv.get("/ready").status_code != 200:
            assert time.monotonic() < deadline, "still not ready 30 s after the database came back"
            time.sleep(0.5)
    finally:
        srv.stop()
        relay.close()


def test_metrics_count_requests_of_every_worker(server):
    for _ in range(6):  # two workers: some requests land on each
        server.get("/collections/communes/items", params={"limit": 1})
    text = server.get("/metrics").text
    assert "# TYPE artois_http_requests_total counter" in text
    counts = [float(m.group(1)) for m in re.finditer(
        r'artois_http_requests_total\{method="GET",route="/collections/\{id\}/items",'
        r'status="200"\} ([0-9.e+]+)', text)]
    assert counts and sum(counts) >= 6
    assert "artois_http_request_duration_seconds_bucket" in text
    assert re.search(r'artois_jobs\{[^}]*status="', text), "job gauges missing"


def test_access_log_is_one_json_object_per_request(server):
    # a path holding characters line readers take for line breaks (U+2028, NEL) stays on one
    # line: every line of the log below must parse on its own
    assert server.get("/collections/x%E2%80%A8y%C2%85z/items").status_code == 404
    server.get("/collections", params={"_": "access-log"})  # the accepted cache-buster
    deadline = time.monotonic() + 10  # the line is written once the answer has left
    while True:
        lines = [json.loads(line) for line in server.log.read_text().splitlines()
                 if line.startswith("{") and '"artois_geo.access"' in line]
        probe = [entry for entry in lines if entry.get("path") == "/collections"]
        if probe or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert probe, "no JSON access line for /collections"
    entry = probe[-1]
    assert entry["status"] == 200 and entry["method"] == "GET" and entry["duration_ms"] >= 0
    assert {"time", "level", "logger", "pid"} <= set(entry)


@pytest.mark.parametrize("path, params", [
    ("/collections/friches/items", {"limit": 5}),
    ("/collections/friches", {}),
    ("/collections", {}),
    ("/collections/communes/items/62119", {}),
])
def test_repeated_request_with_the_etag_gets_304(server, path, params):
    first = server.get(path, params=params)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "no-cache"
    vary = {v.strip().lower() for v in first.headers["vary"].split(",")}
    assert {"accept", "accept-language", "accept-encoding"} <= vary
    again = server.get(path, params=params, headers={"If-None-Match": etag})
    assert again.status_code == 304, again.text[:300]
    assert again.content == b"" and again.headers["etag"] == etag
    # a list and a weak/strong variant of the tag match too (weak comparison)
    listed = server.get(path, params=params,
                        headers={"If-None-Match": f'"nope", {etag.removeprefix("W/")}'})
    assert listed.status_code == 304


def test_changed_representation_has_another_etag(server):
    a = server.get("/collections/friches/items", params={"limit": 5})
    b = server.get("/collections/friches/items", params={"limit": 6})
    html = server.get("/collections/friches/items", params={"limit": 5, "f": "html"})
    assert len({a.headers["etag"], b.headers["etag"], html.headers["etag"]}) == 3
    stale = server.get("/collections/friches/items", params={"limit": 6},
                       headers={"If-None-Match": a.headers["etag"]})
    assert stale.status_code == 200 and stale.json()["features"]


def test_304_also_through_gzip(server):
    url = server.url + "/collections/communes/items?limit=50"
    first = requests.get(url, headers={"Accept-Encoding": "gzip"}, timeout=30)
    assert first.headers.get("content-encoding") == "gzip"
    again = requests.get(url, headers={"Accept-Encoding": "gzip",
                                       "If-None-Match": first.headers["etag"]}, timeout=30)
    assert again.status_code == 304


def test_errors_and_jobs_are_not_cached(server):
    r = server.get("/collections/nope/items")
    assert r.status_code == 404 and "etag" not in r.headers
    jobs = server.get("/jobs")
    assert jobs.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path, params, cache_control", [
    ("/collections/communes/tiles/WebMercatorQuad/12/1379/2078", {}, "public, max-age=300"),
    ("/tiles/LAMB93/12/377/51", {}, "public, max-age=300"),
    ("/collections/friches/styles/default", {"f": "qml"}, "public, max-age=86400"),
    ("/tileMatrixSets/LAMB93", {}, "public, max-age=86400"),
])
def test_tiles_styles_and_tile_matrix_sets_are_cacheable(server, path, params, cache_control):
    first = server.get(path, params=params)
    assert first.status_code == 200, (path, first.status_code, first.text[:200])
    assert first.content and first.headers["cache-control"] == cache_control
    again = server.get(path, params=params, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_landing_page_links_tiles_styles_map_and_project(server):
    links = server.json("/", params={"f": "json"})["links"]
    paths = {urlsplit(link["href"]).path for link in links}
    for path in ("/tiles", "/styles", "/map", "/qgis/artois.qgs", "/TileMatrixSets"):
        assert path in paths, (path, sorted(paths))
    # the links answer; pygeoapi's /TileMatrixSets lists the server's two sets
    for path in ("/tiles", "/styles", "/map", "/qgis/artois.qgs"):
        assert server.get(path).status_code == 200, path
    about = next(link for link in links if link["rel"] == "about")
    assert about["href"] == server.url + "/map"
    ids = {s["id"] for s in server.json("/TileMatrixSets")["tileMatrixSets"]}
    assert ids == {"WebMercatorQuad", "LAMB93"}


def test_gzip_where_it_helps(server):
    """Vector tiles and JSON are compressed; PNG tiles (already compressed) are not."""
    gz = {"Accept-Encoding": "gzip"}
    mvt = requests.get(server.url + "/tiles/WebMercatorQuad/12/1379/2078", headers=gz, timeout=30)
    assert mvt.status_code == 200 and mvt.headers.get("content-encoding") == "gzip"
    png = requests.get(server.url + "/collections/surchauffe/map/tiles/WebMercatorQuad/12/1379/2078",
                       params={"f": "png"}, headers=gz, timeout=30)
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert "content-encoding" not in png.headers


def test_openapi_documents_the_front_routes(server):
    oas = server.json("/openapi", params={"f": "json"})
    for path in ("/collections/{collectionId}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
                 "/collections/{collectionId}/map/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
                 "/collections/{collectionId}/styles/{styleId}", "/map", "/health", "/ready",
                 "/metrics", "/tileMatrixSets"):
        assert path in oas["paths"], path
    tile = oas["paths"]["/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"]["get"]
    tms = next(p for p in tile["parameters"] if p["name"] == "tileMatrixSetId")
    assert tms["schema"]["enum"] == ["WebMercatorQuad", "LAMB93"]
    # pygeoapi's own paths are still there
    assert "/collections/friches/items" in oas["paths"]


def test_labels_and_policies_come_from_the_matched_route():
    """One match per request against the routes (services/routes.py): the metric label is the
    route's template (canonical parameter names, never the raw path) and its kind the cache
    policy; pygeoapi's `{collection_id:path}` and the front modules' names give one label."""
    from starlette.routing import Mount, Route

    from services.caching import CachePolicy, policy_for
    from services.routes import SCOPE_KEY, RouteTable, route_of

    def endpoint(request):  # never called: only the patterns are used
        raise AssertionError

    table = RouteTable([
        Route("/health", endpoint),
        Route("/collections/{cid}/tiles/{tms}/{z}/{row}/{col}", endpoint),
        Route("/collections/{collectionId}/styles/{styleId}", endpoint),
        Route("/jobs/{job_id}", endpoint),
        Mount("", routes=[  # as pygeoapi mounts its own
            Route("/TileMatrixSets/{tileMatrixSetId}", endpoint),
            Route("/collections/{collection_id:path}/items", endpoint),
            Route("/collections/{collection_id:path}/items/{item_id:path}", endpoint),
            Route("/collections/{collection_id:path}", endpoint)]),
    ])
    policy = CachePolicy()
    expected = {
        "/health": ("/health", "no-store"),
        "/jobs/7f3a": ("/jobs/{id}", "no-store"),
        "/collections/communes/tiles/WebMercatorQuad/12/1379/2078":
            ("/collections/{id}/tiles/{tms}/{z}/{y}/{x}", policy.tiles),
        "/collections/friches/styles/default": ("/collections/{id}/styles/{styleId}",
                                                policy.static),
        "/TileMatrixSets/LAMB93": ("/TileMatrixSets/{tms}", policy.static),
        "/collections/friches/items": ("/collections/{id}/items", "no-cache"),
        "/collections/communes/items/62119": ("/collections/{id}/items/{fid}", "no-cache"),
        "/collections/friches": ("/collections/{id}", "no-cache"),
        "/somewhere/else": ("other", "no-cache"),
    }
    for path, (template, cache_control) in expected.items():
        info = table.match(path)
        assert (info.template, policy_for(info.kind, policy)) == (template, cache_control), path
        assert info.template in table.templates()
    # found once: the layers inside read it from the scope
    scope = {"type": "http", "path": "/collections/friches/items"}
    first = route_of(scope, table)
    assert scope[SCOPE_KEY] is first and route_of(scope, RouteTable([])) is first


def test_metric_labels_are_route_templates(server):
    for path, params in (("/collections/communes/tiles/WebMercatorQuad/12/1379/2078", {}),
                         ("/collections/friches/styles/default", {"f": "qml"}),
                         ("/collections/communes/items/62119", {})):
        assert server.get(path, params=params).status_code == 200, path
    routes = set(re.findall(r'artois_http_requests_total\{[^}]*route="([^"]*)"',
                            server.get("/metrics").text))
    assert {"/collections/{id}/tiles/{tms}/{z}/{y}/{x}", "/collections/{id}/styles/{styleId}",
            "/collections/{id}/items/{fid}"} <= routes, sorted(routes)
    # never a raw path: no id, tile index or style name of the requests above (a template
    # may name a collection of its own, e.g. /collections/friches/items/{fid}/fiche)
    raw_parts = ("62119", "1379", "2078", "/collections/communes/", "/styles/default")
    assert not any(raw in label for label in routes for raw in raw_parts), sorted(routes)
