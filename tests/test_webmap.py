"""The agency's web map (/map) in headless Chromium, on both stores: every layer loads from the
server's own tiles and styles with no console error and no failed request, and a click on a
friche, a commune, a building or a SAFN point shows the process result or the sheet, in French
and in English, on a desktop and on a phone-sized screen."""
from __future__ import annotations

from pathlib import Path

import pytest
from shapely.geometry import shape
from starlette.applications import Starlette
from starlette.testclient import TestClient

from conftest import ARTIFACTS, PROJECT

from services import webmap
from services.catalog import load_spec

CHROMIUM = "/usr/bin/chromium"
# WebGL without a GPU: ANGLE on SwiftShader, the software renderer shipped with Chromium
ARGS = ["--headless", "--no-sandbox", "--use-gl=angle", "--use-angle=swiftshader",
        "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
NO_MAPLIBRE = f"MapLibre GL JS is installed by `{webmap.SETUP_COMMAND}` (scripts/setup.sh)"

WAIT_IDLE = """() => new Promise((resolve) => {
    const map = window.artoisMap;
    if (map.loaded() && map.areTilesLoaded()) resolve(true);
    else map.once('idle', () => resolve(true));
})"""


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is installed by scripts/setup.sh --test-tools")
    if not webmap.maplibre_installed():
        pytest.skip(NO_MAPLIBRE)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


class MapPage:
    """A page on /map that records every console error, page error and failed request."""

    def __init__(self, server, browser, viewport=DESKTOP, locale="fr-FR", query=""):
        self.page = browser.new_page(viewport=viewport, locale=locale)
        self.problems: list[str] = []
        self.responses: list[tuple[int, str, str]] = []
        page = self.page
        page.on("console", lambda m: self.problems.append(f"console {m.text}")
                if m.type == "error" else None)
        page.on("pageerror", lambda e: self.problems.append(f"page error {e}"))
        page.on("requestfailed", lambda r: self.problems.append(f"failed {r.url} {r.failure}"))
        page.on("response", self._response)
        page.set_default_timeout(30_000)
        page.goto(f"{server.url}/map{query}")
        page.wait_for_selector("body[data-ready=true]")
        self.idle()

    def _response(self, response) -> None:
        self.responses.append((response.status, response.url,
                               response.headers.get("content-type", "")))
        if response.status >= 400:
            self.problems.append(f"HTTP {response.status} {response.url}")

    def idle(self) -> None:
        self.page.evaluate(WAIT_IDLE)

    def show(self, lon: float, lat: float, zoom: float) -> None:
        self.page.evaluate("([lon, lat, zoom]) => window.artoisMap.jumpTo({center: [lon, lat], zoom})",
                           [lon, lat, zoom])
        self.idle()

    def show_only(self, *collections: str) -> None:
        """Tick only these collections in the layer list, as a reader would."""
        for row in self.page.locator("#layer-list > li").all():
            box = row.locator("input[type=checkbox]")
            box.set_checked(row.get_attribute("data-collection") in collections)
        self.idle()

    def click_centre(self) -> None:
        box = self.page.locator("#map").bounding_box()
        self.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)

    def screenshot(self, name: str, server) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        store = server.log.stem.removeprefix("server-")
        self.page.screenshot(path=str(ARTIFACTS / f"webmap-{name}-{store}.png"))

    def close(self) -> None:
        self.page.close()


def inside_point(server, collection: str, fid: str) -> tuple[float, float]:
    feature = server.json(f"/collections/{collection}/items/{fid}?f=json")
    point = shape(feature["geometry"]).representative_point()
    return point.x, point.y


def friche_without_safn(server) -> dict:
    """A brownfield with no SAFN sheet on it (a click there must open the friche)."""
    on_friches = {f["properties"]["friche_site_id"] for f in server.json(
        "/collections/safn/items?f=json&limit=1000&skipGeometry=true")["features"]}
    friches = server.json("/collections/friches/items?f=json&limit=50")["features"]
    return next(f for f in friches if f["id"] not in on_friches)


def open_panel(mp: MapPage, kind: str):
    mp.page.wait_for_selector(f"#panel[data-view={kind}][aria-busy=false] .result")
    return mp.page.locator("#panel")


def test_every_layer_loads_from_tiles_and_styles(server, browser):
    collections = [c["id"] for c in server.json("/collections?f=json")["collections"]]
    # every collection file of the project is published (a count that follows the catalogue)
    assert sorted(collections) == sorted(p.stem for p in (PROJECT / "collections").glob("*.yml"))
    mp = MapPage(server, browser)
    # the reader switches every layer on in the layer list
    for box in mp.page.locator("#layer-list input[type=checkbox]").all():
        if not box.is_checked():
            box.check()
    mp.idle()
    state = mp.page.evaluate("""(ids) => {
        const map = window.artoisMap;
        const layers = map.getStyle().layers;
        return Object.fromEntries(ids.map((id) => [id, {
            source: Boolean(map.getSource('src:' + id)),
            loaded: map.isSourceLoaded('src:' + id),
            layers: layers.filter((l) => l.id.startsWith(id + '::')).map((l) => l.id),
            visible: layers.filter((l) => l.id.startsWith(id + '::'))
                           .every((l) => map.getLayoutProperty(l.id, 'visibility') === 'visible'),
            features: map.getSource('src:' + id).type === 'vector'
                ? map.querySourceFeatures('src:' + id, {sourceLayer: id}).length : null,
        }]));
    }""", collections)
    zoom = mp.page.evaluate("window.artoisMap.getZoom()")
    for cid in collections:
        assert state[cid]["source"] and state[cid]["loaded"], (cid, state[cid])
        assert state[cid]["layers"] and state[cid]["visible"], (cid, state[cid])
        min_zoom = load_spec(PROJECT / "collections" / f"{cid}.yml").tile_min_zoom
        if cid != "surchauffe" and min_zoom <= zoom:  # drawn from tile_min_zoom only
            assert state[cid]["features"] > 0, (cid, state[cid])  # the tiles carried data
    # buildings are drawn from zoom 13 (their tiles hold them from there): the legend says so
    assert zoom < 13
    hint = mp.page.locator("li[data-collection=batiments] .zoom-hint")
    assert hint.is_visible() and "13" in hint.inner_text()
    mp.show(2.8317, 50.4328, 14.5)  # Lens
    buildings = mp.page.evaluate("window.artoisMap.querySourceFeatures('src:batiments', "
                                 "{sourceLayer: 'batiments'}).length")
    assert buildings > 0 and not hint.is_visible()
    # every layer came from the server's tiles, the raster from its map tiles
    for cid in collections:
        marker = (f"/collections/{cid}/map/tiles/WebMercatorQuad/" if cid == "surchauffe"
                  else f"/collections/{cid}/tiles/WebMercatorQuad/")
        tiles = [(status, ctype) for status, url, ctype in mp.responses if marker in url]
        if load_spec(PROJECT / "collections" / f"{cid}.yml").tile_min_zoom <= zoom:
            assert any(status == 200 for status, _ in tiles), (cid, tiles[:5])
        else:  # drawn from a closer zoom: its tiles in the views shown may all be empty
            assert all(status in (200, 204) for status, _ in tiles), (cid, tiles[:5])
    legend_rows = mp.page.locator("#layer-list > li").count()
    assert legend_rows == len(collections)
    assert mp.page.locator("li[data-collection=surchauffe] .legend li").count() >= 3
    # another summer of the overheating raster
    mp.page.select_option("#year", "2022")
    mp.idle()
    assert any("datetime=2022" in url and status == 200 for status, url, _ in mp.responses)
    mp.screenshot("all-layers", server)
    mp.show_only("surchauffe", "communes")  # the raster alone, to see it in the screenshot
    mp.screenshot("surchauffe-2022", server)
    mp.close()
    assert not mp.problems, mp.problems


def test_friche_panel_shows_mutability_per_use(server, browser):
    friche = friche_without_safn(server)
    expected = server.post("/processes/mutability/execution",
                           json={"inputs": {"friche": friche["id"]}}).json()["result"]
    mp = MapPage(server, browser)
    mp.show(*friche["geometry"]["coordinates"], 16)
    mp.click_centre()
    panel = open_panel(mp, "friche")
    assert friche["properties"]["site_nom"] in panel.locator("h2").inner_text()
    rows = panel.locator("tbody tr")
    assert rows.count() == 7
    shown = [rows.nth(i).get_attribute("data-use") for i in range(7)]
    assert shown == [r["use"] for r in sorted(expected["results"], key=lambda r: r["rank"])]
    first = rows.nth(0).inner_text()
    best = min(expected["results"], key=lambda r: r["rank"])
    assert f"{best['index']:.1f}".replace(".", ",").removesuffix(",0") in first, first
    assert panel.locator(".bar").count() == 7
    assert "Fiabilité" in panel.locator(".reliability").inner_text()
    assert expected["reliability"]["label"] in panel.locator(".reliability").inner_text()
    mp.screenshot("friche", server)
    mp.close()
    assert not mp.problems, mp.problems


def test_commune_panel_shows_the_risk_grid(server, browser):
    expected = server.post("/processes/risk-matrix/execution",
                           json={"inputs": {"commune": "62119"}}).json()
    mp = MapPage(server, browser)
    mp.show_only("communes", "epci")
    mp.show(*inside_point(server, "communes", "62119"), 12)
    mp.click_centre()
    panel = open_panel(mp, "commune")
    assert "Béthune" in panel.locator("h2").inner_text()
    mp.page.wait_for_function("document.querySelector('img.risk-grid').complete")
    size = mp.page.evaluate("[document.querySelector('img.risk-grid').naturalWidth,"
                            " document.querySelector('img.risk-grid').naturalHeight]")
    assert size[0] > 100 and size[1] > 100, size  # the SVG document was decoded
    ids = panel.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.risk)")
    assert ids == [r["id"] for r in expected["risks"]]
    assert expected["risks"][0]["label"] in panel.inner_text()
    mp.screenshot("commune", server)
    mp.close()
    assert not mp.problems, mp.problems


def test_building_click_shows_solar_potential(server, browser):
    expected = server.post("/processes/solar-potential/execution",
                           json={"inputs": {"batiments": ["BATI-000001"]}}).json()
    roof = expected["features"][0]["properties"]
    mp = MapPage(server, browser)
    mp.show(*inside_point(server, "batiments", "BATI-000001"), 18)
    mp.click_centre()
    panel = open_panel(mp, "building")
    text = panel.inner_text()
    assert "BATI-000001" in text
    for label in ("Surface utile", "Puissance crête", "Production annuelle", "Classe"):
        assert label in text or label in panel.locator(".solar").inner_text(), label
    assert roof["class_label_fr"] in text
    production = f"{roof['production_kwh_yr']:,.0f}".replace(",", "\u202f")
    assert production in text.replace("\xa0", "\u202f"), (production, text)
    mp.screenshot("building", server)
    mp.close()
    assert not mp.problems, mp.problems


def test_safn_point_shows_its_sheet(server, browser):
    sheet = server.json("/collections/safn/items/SAFN-001?f=json")
    mp = MapPage(server, browser)
    mp.show(*sheet["geometry"]["coordinates"], 17)
    mp.click_centre()
    popup = mp.page.locator(".safn-popup .fields")
    popup.wait_for()
    text = mp.page.locator(".safn-popup").inner_text()
    assert sheet["properties"]["nom"] in text
    for label in ("Type de solution", "Bénéfices", "Limites", "Financements mobilisables",
                  "Coût minimal (€/m²)", "Année de réalisation"):
        assert label in text, label
    mp.page.click("#lang-toggle")
    text = mp.page.locator(".safn-popup").inner_text()
    assert "Benefits" in text and "Funding sources" in text, text
    mp.screenshot("safn", server)
    mp.close()
    assert not mp.problems, mp.problems


def test_english_toggle_and_language_negotiation(server, browser):
    mp = MapPage(server, browser)  # a French browser
    page = mp.page
    assert page.locator("h1").inner_text() == "Carte de l'Artois"
    assert "Communes de l'Artois" in page.locator("li[data-collection=communes]").inner_text()
    friche = friche_without_safn(server)
    mp.show(*friche["geometry"]["coordinates"], 16)
    mp.click_centre()
    panel = open_panel(mp, "friche")
    assert "Usage" in panel.locator("thead").inner_text()
    page.click("#lang-toggle")
    assert page.locator("h1").inner_text() == "Artois map"
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "lang=en" in page.url
    assert "Artois municipalities" in page.locator("li[data-collection=communes]").inner_text()
    assert "Use" in panel.locator("thead").inner_text()
    assert "Reliability" in panel.locator(".reliability").inner_text()
    page.click("#lang-toggle")
    assert page.locator("h1").inner_text() == "Carte de l'Artois"
    mp.close()
    assert not mp.problems, mp.problems
    # ?lang=en and an English browser open the map in English
    for query, locale in (("?lang=en", "fr-FR"), ("", "en-GB")):
        mp = MapPage(server, browser, locale=locale, query=query)
        assert mp.page.locator("h1").inner_text() == "Artois map"
        assert "Français" in mp.page.locator("#lang-toggle").inner_text()
        mp.close()
        assert not mp.problems, mp.problems


def test_process_error_is_shown_in_both_languages(server, browser):
    mp = MapPage(server, browser)
    page = mp.page
    # a brownfield the server does not know: its bilingual OGC exception reaches the reader
    page.evaluate("import('./map/static/panels.js').then((m) => m.openFriche({site_id: 'inconnue'}))")
    page.wait_for_selector("#panel[aria-busy=false] .error")
    assert "aucune friche inconnue" in page.locator("#panel .error").inner_text()
    page.click("#lang-toggle")
    assert "no brownfield site inconnue" in page.locator("#panel .error").inner_text()
    mp.close()
    expected = [p for p in mp.problems
                if "/processes/mutability/execution" in p or "status of 400" in p]
    assert expected and len(expected) == len(mp.problems), mp.problems


def test_phone_sized_screen(server, browser):
    mp = MapPage(server, browser, viewport=PHONE)
    page = mp.page
    canvas = page.locator("#map canvas").bounding_box()
    assert canvas["width"] == PHONE["width"] and canvas["height"] > 600, canvas
    layers = page.locator("#layers")
    assert layers.bounding_box()["x"] < 0  # the layer list is a drawer, closed
    page.click("#layers-toggle")
    page.wait_for_function("document.getElementById('layers').getBoundingClientRect().x >= 0")
    mp.screenshot("phone-layers", server)
    mp.show_only("communes")
    page.click("#layers-toggle")
    page.wait_for_function("document.getElementById('layers').getBoundingClientRect().right <= 0")
    mp.show(*inside_point(server, "communes", "62119"), 12)
    mp.click_centre()
    panel = open_panel(mp, "commune")
    box = panel.bounding_box()
    assert box["width"] == PHONE["width"] and box["y"] > PHONE["height"] / 3, box
    assert box["y"] + box["height"] <= PHONE["height"] + 1, box
    assert page.locator("img.risk-grid").is_visible()
    mp.screenshot("phone-commune", server)
    page.click("#panel-close")
    assert page.locator("#panel").is_hidden()
    mp.close()
    assert not mp.problems, mp.problems


# --- the page, its files and its set-up message (no browser needed) -------------------------

def test_page_files_and_catalog(server):
    if not webmap.maplibre_installed():
        pytest.skip(NO_MAPLIBRE)
    r = server.get("/map", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert r.status_code == 200 and '<html lang="en">' in r.text
    assert '<html lang="fr">' in server.get("/map").text
    assert server.get("/map/vendor/maplibre-gl.mjs").headers["content-type"].startswith(
        "text/javascript")
    assert server.get("/map/vendor/maplibre-gl.css").status_code == 200
    assert server.get("/map/static/app.js").status_code == 200
    for path in ("/map/vendor/..%2Fpackage.json", "/map/vendor/index.html",
                 "/map/static/../webmap.py", "/map/static/nothing.js"):
        r = server.get(path)
        assert r.status_code == 404, (path, r.status_code)
        assert r.json()["description_fr"], path
    catalog = server.json("/map/catalog.json")
    assert catalog["safn"]["fields"]["benefices"] == {"fr": "Bénéfices", "en": "Benefits"}
    assert catalog["communes"]["title"]["en"] == "Artois municipalities"


def test_without_node_modules_the_map_says_to_run_the_set_up(tmp_path, monkeypatch):
    monkeypatch.setattr(webmap, "MAPLIBRE_DIST", tmp_path / "nothing")
    client = TestClient(Starlette(routes=webmap.routes()))
    page = client.get("/map")
    assert page.status_code == 503
    assert webmap.SETUP_COMMAND in page.text and "scripts/setup.sh" in page.text
    vendor = client.get("/map/vendor/maplibre-gl.mjs")
    assert vendor.status_code == 503 and webmap.SETUP_COMMAND in vendor.json()["description_en"]

