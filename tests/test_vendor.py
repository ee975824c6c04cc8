"""pygeoapi's HTML pages load their libraries from this server (/vendor), never from a CDN, on
both stores: every page type names no CDN host, every library it names answers with its media
type and a day of cache, the whitelist serves nothing else, and in headless Chromium the items
page draws its Leaflet map and markers with no request to another host but the OSM base map."""
from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from services import vendor

CDN_HOSTS = ("unpkg.com", "cdn.jsdelivr.net", "cdnjs.cloudflare.com")
NO_LIBRARIES = f"the web libraries are installed by `{vendor.SETUP_COMMAND}` (scripts/setup.sh)"
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png",
               ".svg": "image/svg+xml", ".map": "application/json"}
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
OSM_TILES = "https://tile.openstreetmap.org/"


@pytest.fixture(scope="module", autouse=True)
def libraries_installed():
    if not vendor.installed():
        pytest.skip(NO_LIBRARIES)


@pytest.fixture(scope="module")
def html_pages(server) -> list[str]:
    """One page of each type pygeoapi renders for our collections, processes and jobs."""
    friche = server.json("/collections/friches/items?f=json&limit=1")["features"][0]["id"]
    return ["/?f=html", "/conformance?f=html", "/collections?f=html",
            "/collections/friches?f=html", "/collections/friches/items?f=html",
            f"/collections/friches/items/{friche}?f=html", "/collections/friches/queryables?f=html",
            "/collections/surchauffe?f=html", "/openapi?f=html", "/processes?f=html",
            "/processes/mutability?f=html", "/jobs?f=html"]


def _local_library_urls(server, html: str) -> set[str]:
    urls = set(re.findall(r'(?:src|href)="([^"]+)"', html))
    return {u for u in urls if u.startswith(server.url + vendor.PREFIX + "/")}


def test_every_listed_file_is_installed():
    missing = [f"{package}/{name}" for package, names in vendor.FILES.items() for name in names
               if not (vendor.NODE_MODULES / package / name).is_file()]
    assert missing == []


def test_html_pages_name_no_cdn_and_their_libraries_are_served(server, html_pages):
    checked: dict[str, str] = {}
    for path in html_pages:
        r = server.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("text/html"), path
        for host in CDN_HOSTS:
            assert host not in r.text, (path, host)
        libraries = _local_library_urls(server, r.text)
        # every pygeoapi page has Bootstrap (its base template) or Swagger UI
        assert libraries, path
        for url in libraries - checked.keys():
            lib = server.http.get(url, timeout=30)
            suffix = Path(urlsplit(url).path).suffix
            assert lib.status_code == 200, (path, url, lib.status_code)
            assert lib.headers["content-type"].split(";")[0] == MEDIA_TYPES[suffix], url
            assert suffix in (".png", ".svg") or lib.headers["content-type"].startswith(
                ("text/javascript", "text/css")), url
            assert "max-age=86400" in lib.headers["cache-control"], url
            checked[url] = path
    names = {urlsplit(u).path for u in checked}
    for expected in ("/vendor/leaflet/dist/leaflet.js", "/vendor/leaflet/dist/leaflet.css",
                     "/vendor/leaflet.markercluster/dist/leaflet.markercluster-src.js",
                     "/vendor/swagger-ui-dist/swagger-ui-bundle.js",
                     "/vendor/bootstrap/dist/css/bootstrap.min.css"):
        assert expected in names, expected


@pytest.mark.parametrize("path", [
    "/vendor/leaflet/package.json",                 # in the package, not in the whitelist
    "/vendor/leaflet/dist/",                        # no listing
    "/vendor/leaflet/",
    "/vendor/leaflet/dist/../package.json",
    "/vendor/leaflet/dist/%2e%2e/package.json",
    "/vendor/leaflet/dist/..%2fpackage.json",
    "/vendor/..%2f..%2fpyproject.toml/x",
    "/vendor/maplibre-gl/dist/maplibre-gl.mjs",     # served by /map/vendor, not here
    "/vendor/unknown/dist/leaflet.js",
])
def test_only_whitelisted_files_are_served(server, path):
    r = server.get(path)
    assert r.status_code == 404, (path, r.status_code)
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["code"] == "NotFound"


def test_head_and_revalidation(server):
    url = "/vendor/leaflet/dist/leaflet.js"
    head = server.http.head(server.url + url, timeout=30)
    assert head.status_code == 200 and head.headers["content-type"].startswith("text/javascript")
    full = server.get(url)
    assert full.content.startswith(b"/* @preserve\n * Leaflet 1.9.4")
    again = server.get(url, headers={"If-None-Match": full.headers["etag"]})
    assert again.status_code == 304


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is installed by scripts/setup.sh --test-tools")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_items_page_draws_its_leaflet_map_from_this_server(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    problems: list[str] = []
    other_hosts: list[str] = []
    base_tiles: list[str] = []

    def offline_base_map(route):  # the OSM base map is data, not a library: not fetched here
        base_tiles.append(route.request.url)
        route.fulfill(status=204, body=b"")

    page.route(OSM_TILES + "**", offline_base_map)
    page.on("console", lambda m: problems.append(f"console {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed {r.url} {r.failure}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}")
            if r.status >= 400 else None)
    page.on("request", lambda r: other_hosts.append(r.url)
            if not r.url.startswith((server.url, OSM_TILES, "data:")) else None)
    try:
        page.set_default_timeout(30_000)
        page.goto(f"{server.url}/collections/friches/items?f=html&limit=50")
        page.wait_for_selector("#items-map .leaflet-marker-icon")
        page.wait_for_load_state("networkidle")
        assert page.evaluate("() => L.version") == "1.9.4"
        assert page.evaluate("() => typeof L.markerClusterGroup") == "function"
        markers = page.locator("#items-map .leaflet-marker-icon").count()
        assert markers >= 1
        # the default marker image and the Leaflet CSS come from /vendor too
        assert page.evaluate("() => getComputedStyle(document.querySelector('.leaflet-container'))"
                             ".position") == "relative"
        assert base_tiles, "the base map was not even asked for"
        assert other_hosts == []
        assert problems == []
    finally:
        page.close()
