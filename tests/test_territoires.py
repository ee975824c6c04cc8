"""The territory pages (GET /territoires/{code}, GET /territoires: services/territoires.py) on
both stores, over real HTTP: for a commune, its EPCI and the whole territory, in French and in
English, every indicator of the definitions shows the value of the collection `chiffres-cles`
(read here from /collections/chiffres-cles/items/{id}, formatted here with babel from the
definitions' decimals), with its label, unit and demonstration flag; the sources' data dates;
the links to the parent and child territories (the children found here with a property
filter on the items); 404 and 400 as the other routes answer them. In Debian's Chromium at
360 × 740: no console error, no horizontal scroll, every chart drawn (non-zero shapes, several
colours in its screenshot), and the web map's commune panel leading to the page."""
from __future__ import annotations

import datetime as dt
import io
import math
from pathlib import Path

import pytest
from babel.dates import format_date
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from lxml import html as lxml_html

from conftest import ARTIFACTS, PROJECT

COMMUNE = "62119"  # Béthune: friches, business parks, cycle facilities, risks
LOCALES = {"fr": "fr_FR", "en": "en_GB"}
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--use-gl=angle", "--use-angle=swiftshader",
        "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]
PHONE = {"width": 360, "height": 740}


def catalogue(domain: str, lang: str) -> dict[str, str]:
    path = PROJECT / "services" / "locale" / lang / "LC_MESSAGES" / f"{domain}.po"
    with path.open("rb") as fp:
        return {m.id: m.string for m in read_po(fp, locale=lang) if m.id}


def item(server, code: str) -> dict:
    return server.json(f"/collections/chiffres-cles/items/{code}?f=json")


def expected_text(value, decimals: int, lang: str) -> str:
    if value is None:
        return catalogue("messages", lang)["territoire_na"]
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, format=pattern, locale=LOCALES[lang])


@pytest.fixture(scope="module")
def codes(server) -> dict[str, str]:
    commune = item(server, COMMUNE)
    return {"commune": COMMUNE, "epci": commune["properties"]["epci_siren"],
            "territoire": "artois"}


def page(server, code: str, lang: str):
    r = server.get(f"/territoires/{code}?lang={lang}")
    assert r.status_code == 200, (code, r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("text/html")
    assert r.headers["content-language"] == lang
    return lxml_html.fromstring(r.content)


@pytest.mark.parametrize("lang", ["fr", "en"])
@pytest.mark.parametrize("level", ["commune", "epci", "territoire"])
def test_page_shows_the_collection_figures(server, codes, level, lang):
    code = codes[level]
    feature = item(server, code)
    props = feature["properties"]
    defs = server.json(f"/chiffres-cles/indicateurs?lang={lang}")
    doc = page(server, code, lang)
    assert doc.get("lang") == lang
    assert doc.xpath("string(//h1)").strip() == props["nom"]
    assert props["niveau"] == level
    level_text = catalogue("messages", lang)[f"territoire_level_{level}"]
    assert level_text in doc.xpath("string(//p[@class='level'])")
    rows = {r.get("data-indicator"): r for r in doc.xpath("//tr[@data-indicator]")}
    assert set(rows) == {i["id"] for i in defs["indicateurs"]}
    demo_word = catalogue("messages", lang)["territoire_demo"]
    for ind in defs["indicateurs"]:
        row, value = rows[ind["id"]], props[ind["id"]]
        raw = row.get("data-value")
        if value is None:
            assert raw == "", ind["id"]
        else:
            assert math.isclose(float(raw), float(value), rel_tol=1e-12, abs_tol=1e-12), \
                (ind["id"], raw, value)
        shown = row.xpath("string(.//span[@class='value'])")
        assert shown == expected_text(value, ind["decimales"] or 0, lang), (ind["id"], shown)
        assert row.xpath("string(./th)").startswith(ind["label"])
        if value is not None:
            assert row.xpath("string(.//span[@class='unit'])") == ind["unit"]
        assert (row.get("data-demo") == "true") == ind["demo"]
        assert (demo_word in row.xpath("string(.//span[@class='badge'])")) == ind["demo"]
    # the themes of the definitions, in their language
    headings = [h.xpath("string(.)") for h in doc.xpath("//section[@data-theme]/h2")]
    for theme in defs["themes"]:
        if any(i["theme"] == theme["id"] for i in defs["indicateurs"]):
            assert any(h.startswith(theme["label"]) for h in headings), theme
    # every source with the date of its data as stored with the figures
    for src in defs["sources"]:
        li = doc.xpath(f"//li[@data-source='{src['id']}']")
        assert li, src["id"]
        date = props.get(f"date_donnees_{src['id']}")
        text = li[0].xpath("string(.)")
        assert src[f"source_{lang}"] in text
        if date:
            assert format_date(dt.date.fromisoformat(date[:10]), format="long",
                               locale=LOCALES[lang]) in text, (src["id"], text)
    # the charts and the locator map are inline SVG
    charts = {s.get("data-chart") for s in doc.xpath("//*[local-name()='svg']")}
    assert "locator" in charts
    assert "radar" in charts


def test_links_to_parent_and_child_territories(server, codes):
    epci = codes["epci"]
    commune_doc = page(server, COMMUNE, "fr")
    parents = [a.get("data-code") for a in commune_doc.xpath("//ul[@class='parents']//a")]
    assert parents == [epci, "artois"]
    members = server.json("/collections/chiffres-cles/items?f=json&skipGeometry=true&limit=400"
                          f"&niveau=commune&epci_siren={epci}")["features"]
    assert members and all(f["properties"]["epci_siren"] == epci for f in members)
    epci_doc = page(server, epci, "en")
    children = {a.get("data-code") for a in epci_doc.xpath("//ul[@class='children']//a")}
    assert children == {f["id"] for f in members}
    assert [a.get("data-code") for a in epci_doc.xpath("//ul[@class='parents']//a")] == ["artois"]
    epcis = server.json("/collections/chiffres-cles/items?f=json&skipGeometry=true&limit=10"
                        "&niveau=epci")["features"]
    top = page(server, "artois", "fr")
    assert {a.get("data-code") for a in top.xpath("//ul[@class='children']//a")} == \
        {f["id"] for f in epcis}
    assert len(epcis) == 4
    # every link leads to a page
    for a in commune_doc.xpath("//ul[@class='parents']//a"):
        assert server.get(a.get("href")[len(server.url):]).status_code == 200


def test_index_lists_every_territory(server):
    all_codes = {f["id"] for f in server.json(
        "/collections/chiffres-cles/items?f=json&skipGeometry=true&limit=400")["features"]}
    r = server.get("/territoires?lang=en")
    assert r.status_code == 200 and r.headers["content-language"] == "en"
    doc = lxml_html.fromstring(r.content)
    listed = {a.get("data-code") for a in doc.xpath("//a[@data-code]")}
    assert listed == all_codes and len(all_codes) == 305 + 4 + 1


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_unknown_territory_is_404_in_both_languages(server, lang):
    errors = {x: catalogue("errors", x)["territoire_not_found"] for x in ("fr", "en")}
    for code in ("99999", "nope", "a b", "x" * 300):
        r = server.get(f"/territoires/{code}?lang={lang}")
        assert r.status_code == 404, (code, r.status_code)
        assert r.headers["content-type"].startswith("text/html")
        body = r.text
        for other in ("fr", "en"):  # the reader's language first, then the other one
            head = errors[other].split("{territory}")[0]
            assert head.replace("'", "&#39;").replace('"', "&#34;") in body or head in body
        assert body.index("<h1>") < body.index('class="other"')
    r = server.get("/territoires/99999", headers={"Accept": "application/json",
                                                  "Accept-Language": lang})
    assert r.status_code == 404
    body = r.json()
    assert body["description_fr"] == errors["fr"].format(territory="99999")
    assert body["description_en"] == errors["en"].format(territory="99999")


def test_bad_parameters_are_400(server):
    for query in ("foo=1", "f=json", "limit=3"):
        for path in (f"/territoires/{COMMUNE}", "/territoires"):
            r = server.get(f"{path}?{query}")
            assert r.status_code == 400, (path, query, r.status_code)
            body = r.json()
            assert body["description_fr"] and body["description_en"]
    assert server.get(f"/territoires/{COMMUNE}?f=html&lang=en&_=1").status_code == 200


def test_openapi_documents_the_pages(server):
    paths = server.json("/openapi?f=json")["paths"]
    for path in ("/territoires", "/territoires/{code}"):
        assert "get" in paths[path] and "200" in paths[path]["get"]["responses"]
    assert "404" in paths["/territoires/{code}"]["get"]["responses"]


# ---------------------------------------------------------------------------- Chromium
@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is installed by scripts/setup.sh --test-tools")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


DRAWN = """svg => [...svg.querySelectorAll('rect.bar, path.slice, polygon.series, path.focus')]
    .map(e => { const b = e.getBBox(); return [e.tagName, b.width, b.height]; })"""


@pytest.mark.parametrize("level", ["commune", "epci", "territoire"])
def test_phone_width_page_draws_every_chart(server, browser, codes, level):
    from PIL import Image
    code = codes[level]
    page_ = browser.new_page(viewport=PHONE, locale="fr-FR")
    problems: list[str] = []
    page_.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page_.on("pageerror", lambda e: problems.append(str(e)))
    page_.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}")
             if r.status >= 400 else None)
    page_.goto(f"{server.url}/territoires/{code}")
    assert page_.evaluate("document.documentElement.lang") == "fr"
    width = page_.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], width
    charts = page_.locator("svg.chart")
    names = charts.evaluate_all("l => l.map(s => s.dataset.chart)")
    assert "locator" in names and "radar" in names and len(names) >= 5, names
    store = server.log.stem.removeprefix("server-")
    ARTIFACTS.mkdir(exist_ok=True)
    for i, name in enumerate(names):
        svg = charts.nth(i)
        svg.scroll_into_view_if_needed()
        drawn = svg.evaluate(DRAWN)
        assert drawn and all(w > 0 and h > 0 for _, w, h in drawn), (name, drawn)
        box = svg.bounding_box()
        assert box["width"] > 100 and box["height"] > 50, (name, box)
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, (name, box)
        shot = svg.screenshot()
        colours = Image.open(io.BytesIO(shot)).convert("RGB").getcolors(maxcolors=1 << 20)
        assert colours is not None and len(colours) >= 4, (name, colours and len(colours))
    page_.screenshot(path=str(ARTIFACTS / f"territoire-{level}-{store}.png"), full_page=True)
    # the print stylesheet hides the navigation
    page_.emulate_media(media="print")
    assert page_.locator("header.top nav").is_hidden()
    page_.close()
    assert not problems, problems


def test_web_map_commune_panel_links_to_the_page(server, browser):
    from services import webmap
    if not webmap.maplibre_installed():
        pytest.skip(f"MapLibre GL JS is installed by `{webmap.SETUP_COMMAND}`")
    from test_webmap import MapPage, inside_point, open_panel
    mp = MapPage(server, browser, viewport={"width": 1280, "height": 800})
    mp.show_only("communes", "epci")
    mp.show(*inside_point(server, "communes", COMMUNE), 12)
    mp.click_centre()
    panel = open_panel(mp, "commune")
    link = panel.locator("p.territory-link a")
    assert link.get_attribute("href").startswith(f"{server.url}/territoires/{COMMUNE}?lang=fr")
    with mp.page.context.expect_page() as opened:
        link.click()
    target = opened.value
    target.wait_for_load_state()
    assert target.locator("h1").inner_text() == item(server, COMMUNE)["properties"]["nom"]
    assert target.evaluate("document.body.dataset.code") == COMMUNE
    target.close()
    mp.close()
    assert not mp.problems, mp.problems
