"""The brownfield sheet (GET /collections/friches/items/{id}/fiche, services/fiche.py) on both
stores, over real HTTP: French and English, every criterion of the algorithm version with
its source, informed weights that add up to the reliability, hazards within 500 m counted
again here with geopandas from the served layers, 404 and 400 as the other routes answer them,
a criterion stored by PATCH showing at once, the PDF; in Debian's Chromium: no console error,
a chart of 7 visible bars, a print style without navigation, the web map's friche panel
leading to the sheet; and the QGIS project's friches layer carrying the sheet's address (read
back by QGIS 3.22 itself when python3-qgis is there).

Expected values never come from the sheet's own code: the evaluation is the ``mutability``
process run through the API (a job worker), the texts are read from the catalogues, the
distances are computed with shapely from the layers served in EPSG:2154."""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import geopandas as gpd
import pytest
from babel.messages.pofile import read_po
from lxml import html as lxml_html
from shapely.geometry import Point, shape

from conftest import ARTIFACTS, EDITOR
from qgis_runner import requires_qgis, run_client
from services.qgis_project import SHEETS

PROJECT = Path(__file__).resolve().parent.parent
LOCALE = PROJECT / "services" / "locale"
L93 = "http://www.opengis.net/def/crs/EPSG/0/2154"
HAZARD_LAYERS = ["alea-inondation", "alea-argiles", "cavites-souterraines", "puits-miniers",
                 "sites-icpe", "bruit", "qualite-air"]


def catalogue(domain: str, lang: str) -> dict[str, str]:
    with (LOCALE / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as fp:
        return {m.id: m.string for m in read_po(fp, locale=lang) if m.id}


def sheet_path(fid: str) -> str:
    return f"/collections/friches/items/{fid}/fiche"


@pytest.fixture(scope="module")
def friche(server) -> dict:
    """A friche in the middle of the list (the first ones are the other tests' examples)."""
    page = server.json("/collections/friches/items?f=json&sortby=site_id&limit=1&offset=120")
    return page["features"][0]


@pytest.fixture(scope="module")
def edited(server) -> dict:
    """Another friche, for the tests that change one (a stored criterion, a photo), so that
    the tests reading ``friche`` see it unchanged whichever runs first."""
    page = server.json("/collections/friches/items?f=json&sortby=site_id&limit=1&offset=121")
    return page["features"][0]


@pytest.fixture(scope="module")
def evaluation(server, friche) -> dict:
    r = server.post("/processes/mutability/execution",
                    json={"inputs": {"friche": friche["id"]}})
    assert r.status_code == 200, r.text[:300]
    return r.json()["result"]


def parse(text: str):
    return lxml_html.fromstring(text)


def criteria_rows(doc) -> dict[str, dict]:
    rows = {}
    for tr in doc.xpath("//section[@id='criteria']//tr[@data-criterion]"):
        cid = tr.get("data-criterion")
        assert cid not in rows, f"{cid} listed twice"
        rows[cid] = {"source": tr.get("data-source"), "weight": float(tr.get("data-weight")),
                     "informed": tr.get("data-informed") == "true",
                     "table": tr.xpath("ancestor::table")[0].get("id"),
                     "text": tr.text_content()}
    return rows


def test_every_criterion_and_use_has_its_labels():
    """The sheet's labels file covers the method data: every criterion of every algorithm
    version in English (French: the method's own), the 7 uses, the process's labels."""
    import yaml
    from processes.mutability import core
    labels = yaml.safe_load((PROJECT / "services/templates/fiche_labels.yml").read_text())
    model = core._model()
    for version in model.versions.values():
        missing = set(version.criteria) - set(labels["criteria_en"])
        assert not missing, (version.id, missing)
    assert set(labels["uses"]) == {u["id"] for u in core.USES}
    assert all(set(v) == {"fr", "en"} for v in labels["uses"].values())
    process_labels = {label for _, label in model.potential_labels} | {model.excluded_label} \
        | {text for _, text in model.reliability_levels}
    assert process_labels <= set(labels["labels_en"])
    assert set(labels["hazard_criteria"]) <= set(model.versions[model.latest].criteria)


# ---------------------------------------------------------------------------- HTTP
@pytest.mark.parametrize("lang", ["fr", "en"])
def test_sheet_in_both_languages_lists_every_criterion(server, friche, evaluation, lang):
    headers = {"Accept": "text/html", "Accept-Language": "fr-FR,fr;q=0.9"}
    query = "?lang=en" if lang == "en" else ""  # French from the header, English from ?lang
    r = server.get(sheet_path(friche["id"]) + query, headers=headers)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert r.headers["content-language"] == lang
    doc = parse(r.text)
    assert doc.get("lang") == lang
    texts = catalogue("messages", lang)
    assert doc.xpath("string(//h1)").strip() == friche["properties"]["site_nom"]
    assert texts["fiche_criteria"] in r.text and texts["fiche_identity"] in r.text
    other = catalogue("messages", "en" if lang == "fr" else "fr")
    assert other["fiche_criteria"] not in r.text
    # every criterion of the version, once, with the process's source
    rows = criteria_rows(doc)
    expected = {c["id"]: c for c in evaluation["criteria"]}
    assert set(rows) == set(expected)
    from processes.mutability import core
    assert len(rows) == core.criteria_schema(evaluation["algorithm_version"])[
        "x-criteria-count"]
    for cid, row in rows.items():
        assert row["source"] == expected[cid]["source"], cid
        assert row["weight"] == pytest.approx(expected[cid]["weight"]), cid
        if expected[cid]["source"] == "derived" and expected[cid].get("layer"):
            assert expected[cid]["layer"] in row["text"], cid
    # the chart: the 7 uses in rank order with their index
    bars = doc.xpath("//svg[contains(@class, 'chart')]//*[@data-use]")
    ranked = sorted(evaluation["results"], key=lambda u: u["rank"])
    assert [b.get("data-use") for b in bars] == [u["use"] for u in ranked]
    for bar, use in zip(bars, ranked):
        assert float(bar.get("data-index")) == pytest.approx(use["index"], abs=0.05)
        assert (bar.get("data-excluded") == "true") == bool(use["excluded"])
    if "vocations" in evaluation:
        assert doc.xpath("//ul[@id='vocations']/li"), "vocations not shown"


def test_informed_weights_add_up_to_the_reliability(server, friche, evaluation):
    doc = parse(server.get(sheet_path(friche["id"])).text)
    rows = criteria_rows(doc)
    reliability = evaluation["reliability"]
    informed = [r for r in rows.values() if r["informed"]]
    assert sum(r["weight"] for r in informed) == pytest.approx(reliability["weight_informed"])
    assert len(informed) == reliability["criteria_informed"]
    assert sum(r["weight"] for r in rows.values()) == pytest.approx(reliability["weight_total"])
    to_fill = [r for r in rows.values() if r["table"] == "to-fill"]
    assert all(not r["informed"] for r in to_fill)
    assert {r["table"] for r in informed} == {"informed"}
    weights = [r["weight"] for r in to_fill]
    assert weights == sorted(weights, reverse=True), "criteria to fill in: heaviest first"
    unavailable = [r for r in to_fill if r["source"] == "unavailable"]
    word = catalogue("messages", "fr")["fiche_src_unavailable"]
    assert unavailable and all(word in r["text"] for r in unavailable)


def test_hazards_within_500_m_match_the_layers(server, friche):
    doc = parse(server.get(sheet_path(friche["id"])).text)
    shown = {tr.get("data-layer"): int(tr.get("data-count"))
             for tr in doc.xpath("//table[@id='hazards-nearby']//tr[@data-layer]")}
    site = server.json(f"/collections/friches/items/{friche['id']}?f=json&crs={L93}")
    point = shape(site["geometry"]).representative_point()
    box = ",".join(str(v) for v in (point.x - 600, point.y - 600, point.x + 600, point.y + 600))
    demo = {c["id"] for c in server.json("/collections?f=json")["collections"]
            if "démonstration" in (c.get("description") or "").lower()}
    for cid in HAZARD_LAYERS:
        page = server.json(f"/collections/{cid}/items?f=json&limit=10000&bbox={box}"
                           f"&bbox-crs={L93}&crs={L93}")
        frame = gpd.GeoDataFrame.from_features(page["features"], crs=2154) \
            if page["features"] else gpd.GeoDataFrame(geometry=[], crs=2154)
        expected = int((frame.geometry.distance(Point(point.x, point.y)) <= 500).sum())
        assert shown[cid] == expected, (cid, shown[cid], expected)
        row = doc.xpath(f"//table[@id='hazards-nearby']//tr[@data-layer='{cid}']")[0]
        flagged = bool(row.xpath(".//span[contains(@class, 'demo')]"))
        assert flagged == (cid in demo), cid


def test_unknown_friche_is_a_bilingual_404(server):
    errors_fr, errors_en = catalogue("errors", "fr"), catalogue("errors", "en")
    fid = "no-such-friche-0000"
    r = server.get(sheet_path(fid), headers={"Accept": "text/html,*/*;q=0.8"})
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    for template in (errors_fr["fiche_not_found"], errors_en["fiche_not_found"]):
        assert template.format(id=fid) in r.text
    r = server.get(sheet_path(fid) + "?lang=en", headers={"Accept": "application/json"})
    assert r.status_code == 404 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["code"] == "NotFound"
    assert body["description"] == body["description_en"] == \
        errors_en["fiche_not_found"].format(id=fid)
    assert body["description_fr"] == errors_fr["fiche_not_found"].format(id=fid)
    for odd in ("%00x", "x" * 300, "%C3%A9t%C3%A9%20%22%3Cb%3E"):  # NUL, long, quotes, markup
        r = server.get(sheet_path(odd), headers={"Accept": "text/html"})
        assert r.status_code == 404 and "<b>" not in r.text, odd


@pytest.mark.parametrize("query", ["?foo=1", "?f=xml", "?bbox=1,2,3,4", "?lang=fr&limit=5"])
def test_other_parameters_are_refused(server, friche, query):
    r = server.get(sheet_path(friche["id"]) + query, headers={"Accept": "application/json"})
    assert r.status_code == 400, (query, r.status_code, r.text[:200])
    body = r.json()
    assert body["description_fr"] and body["description_en"]
    assert body["description_fr"] != body["description_en"]


def test_revalidated_with_its_etag(server, friche):
    r = server.get(sheet_path(friche["id"]))
    assert r.headers["cache-control"] == "no-cache" and r.headers.get("etag")
    assert "accept-language" in r.headers["vary"].lower()
    again = server.get(sheet_path(friche["id"]), headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


def test_pdf_is_an_a4_document(server, friche):
    r = server.get(sheet_path(friche["id"]) + "?f=pdf&lang=en")
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == "application/pdf"
    pdf = r.content
    assert pdf.startswith(b"%PDF-") and len(pdf) > 10_000
    # the page objects may sit in compressed object streams: inflate every stream
    parts = [pdf]
    for found in re.finditer(rb"stream\r?\n", pdf):
        end = pdf.find(b"endstream", found.end())
        try:
            parts.append(zlib.decompress(pdf[found.end():end]))
        except zlib.error:
            pass
    text = b"\n".join(parts)
    pages = re.findall(rb"/Type\s*/Page(?![A-Za-z])", text)
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([0-9.]+)\s+([0-9.]+)", text)
    assert len(pages) >= 2, "identity, mutability, criteria and hazards on several pages"
    assert boxes and all(abs(float(w) - 595.28) < 1 and abs(float(h) - 841.89) < 1
                         for w, h in boxes), boxes
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / f"fiche-{server.log.stem}.pdf").write_bytes(pdf)


def test_a_stored_criterion_shows_as_stored(server, edited):
    """An agent stores a criterion the layers cannot give (Part 4 PATCH with If-Match): the
    next sheet shows it as stored and informed, and the reliability rises by its weight."""
    fid = edited["id"]
    r = server.post("/processes/mutability/execution", json={"inputs": {"friche": fid}})
    assert r.status_code == 200, r.text[:300]
    evaluation = r.json()["result"]
    item = server.get(f"/collections/friches/items/{fid}?f=json")
    if "criteres_saisis" not in item.json()["properties"]:
        pytest.fail("the friches table has no criteres_saisis column: rebuild it "
                    "(artois-geo build --only friches) once the observatory fields are in")
    before = item.json()["properties"]["criteres_saisis"]
    missing = next(c for c in sorted(evaluation["criteria"], key=lambda c: -c["weight"])
                   if c["source"] == "unavailable" and c["origin"] == "user")
    from processes.mutability.stored import criterion_schemas
    value = next(v for v in criterion_schemas()[missing["id"]]["enum"] if v != "ne-sait-pas")
    stored = dict(json.loads(before) if before else {}, **{missing["id"]: value})
    patch = {"Content-Type": "application/merge-patch+json",
             "Authorization": f"Bearer {EDITOR}"}
    path = f"/collections/friches/items/{fid}"
    r = server.http.patch(server.url + path, timeout=60, data=json.dumps(
        {"properties": {"criteres_saisis": json.dumps(stored)}}),
        headers={**patch, "If-Match": item.headers["ETag"]})
    assert r.status_code == 200, r.text[:300]
    try:
        rows = criteria_rows(parse(server.get(sheet_path(fid)).text))
        row = rows[missing["id"]]
        assert row["source"] == "stored" and row["informed"] and row["table"] == "informed"
        informed = sum(r["weight"] for r in rows.values() if r["informed"])
        assert informed == pytest.approx(evaluation["reliability"]["weight_informed"]
                                         + missing["weight"])
    finally:
        current = server.get(f"{path}?f=json")
        restore = server.http.patch(server.url + path, timeout=60, data=json.dumps(
            {"properties": {"criteres_saisis": before}}),
            headers={**patch, "If-Match": current.headers["ETag"]})
        assert restore.status_code == 200, restore.text[:300]
    assert server.json(f"{path}?f=json")["properties"]["criteres_saisis"] == before


def test_photos_show_on_the_sheet_and_in_the_pdf(server, edited):
    """A photo uploaded by an editor shows as its thumbnail with its caption, and goes into
    the PDF (the renderer reads it from this server); the sheet says "no photo" otherwise."""
    from io import BytesIO
    from PIL import Image
    fid = edited["id"]
    doc = parse(server.get(sheet_path(fid)).text)
    before = server.json(f"/collections/friches/items/{fid}/photos")["photos"]
    assert bool(doc.xpath("//*[@data-photos='none']")) == (not before)
    buffer = BytesIO()
    Image.new("RGB", (64, 48), (180, 90, 40)).save(buffer, "JPEG")
    caption = "Façade test fiche"
    r = server.post(f"/collections/friches/items/{fid}/photos", data=buffer.getvalue(),
                    params={"caption": caption},
                    headers={"Content-Type": "image/jpeg", "Authorization": f"Bearer {EDITOR}"})
    assert r.status_code == 201, r.text[:300]
    photo = r.json()
    try:
        doc = parse(server.get(sheet_path(fid)).text)
        figures = doc.xpath("//section[@id='photos']//figure[@class='photo']")
        assert len(figures) == len(before) + 1
        mine = [f for f in figures if caption in f.text_content()]
        assert len(mine) == 1 and not doc.xpath("//*[@data-photos='none']")
        thumb = mine[0].xpath(".//img")[0].get("src")
        assert thumb == photo["href"] + "?size=thumb"
        got = server.get(thumb.removeprefix(server.url))
        assert got.status_code == 200 and got.headers["content-type"] == "image/jpeg"
        pdf = server.get(sheet_path(fid) + "?f=pdf").content
        assert re.search(rb"/Subtype\s*/Image", pdf), "the thumbnail is in the PDF"
    finally:
        gone = server.http.delete(photo["href"], timeout=60,
                                  headers={"Authorization": f"Bearer {EDITOR}"})
        assert gone.status_code == 204


def test_item_page_links_to_the_sheet(server, friche):
    r = server.get(f"/collections/friches/items/{friche['id']}?f=html&lang=en")
    assert r.status_code == 200
    links = parse(r.text).xpath("//p[@class='fiche-link']/a")
    assert len(links) == 1
    assert links[0].get("href").endswith(f"/collections/friches/items/{friche['id']}/fiche"
                                         "?lang=en")
    assert links[0].text_content() == catalogue("messages", "en")["fiche_link"]
    other = server.json("/collections/zae/items?f=json&limit=1")["features"][0]
    page = server.get(f"/collections/zae/items/{other['id']}?f=html").text
    assert "fiche-link" not in page  # a sheet is for friches only


# ---------------------------------------------------------------------------- QGIS
def friches_layer(server) -> ET.Element:
    text = server.get("/qgis/artois.qgs").text
    root = ET.fromstring(text.split("\n", 1)[1])
    return next(m for m in root.iter("maplayer") if m.findtext("shortname") == "friches")


def test_qgis_project_friches_layer_carries_the_sheet(server, friche):
    layer = friches_layer(server)
    sheet = f'{server.url}/collections/friches/items/[% "site_id" %]/fiche'
    assert f'href="{sheet}"' in layer.findtext("mapTip")
    action = layer.find("attributeactions/actionsetting")
    assert action.get("type") == "5" and action.get("action") == sheet  # QgsAction::OpenUrl
    assert layer.find("attributeactions/defaultAction").get("value") == action.get("id")
    # the address the expression gives for a friche is its sheet
    url = sheet.replace('[% "site_id" %]', friche["properties"]["site_id"])
    assert server.get(url.removeprefix(server.url)).status_code == 200
    others = [m for m in ET.fromstring(server.get("/qgis/artois.qgs").text.split("\n", 1)[1])
              .iter("maplayer") if m.findtext("shortname") not in SHEETS]
    assert not any(m.find("mapTip") is not None for m in others)


@requires_qgis
def test_qgis_expands_the_sheet_address(server, friche, tmp_path):
    path = tmp_path / "artois.qgs"
    path.write_bytes(server.get("/qgis/artois.qgs").content)
    seen = run_client("qgis_fiche.py", path, "friches", friche["id"], timeout=300)
    expected = f"{server.url}/collections/friches/items/{friche['id']}/fiche"
    assert seen["valid"], seen
    assert seen["actions"] and seen["actions"][0]["type"] == 5
    assert seen["actions"][0]["expanded"] == expected
    assert f'href="{expected}"' in seen["maptip"]


# ---------------------------------------------------------------------------- Chromium
@pytest.fixture(scope="module")
def browser():
    from test_webmap import ARGS, CHROMIUM, NO_MAPLIBRE
    from services import webmap
    if not Path(CHROMIUM).exists():
        pytest.skip("chromium is installed by scripts/setup.sh --test-tools")
    if not webmap.maplibre_installed():
        pytest.skip(NO_MAPLIBRE)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def watched(page) -> list[str]:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed {r.url} {r.failure}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status} {r.url}")
            if r.status >= 400 else None)
    return problems


def test_sheet_renders_and_prints_in_chromium(server, browser, friche):
    page = browser.new_page(viewport={"width": 1200, "height": 900}, locale="fr-FR")
    problems = watched(page)
    page.goto(server.url + sheet_path(friche["id"]))
    page.wait_for_load_state("load")
    bars = page.locator("svg.chart rect.bar")
    assert bars.count() == 7
    for i in range(7):
        box = bars.nth(i).bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0, (i, box)
    locator = page.locator("svg.locator").bounding_box()
    assert locator and locator["width"] > 200
    nav = page.locator("nav.site-nav")
    assert nav.is_visible()
    store = server.log.stem.removeprefix("server-")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"fiche-{store}.png"), full_page=True)
    page.emulate_media(media="print")
    assert not nav.is_visible()
    assert page.locator("svg.chart").is_visible() and bars.nth(0).bounding_box()["width"] > 0
    page.pdf(path=str(ARTIFACTS / f"fiche-chromium-{store}.pdf"), format="A4")
    page.close()
    assert not problems, problems


def test_web_map_friche_panel_leads_to_the_sheet(server, browser):
    from test_webmap import MapPage, friche_without_safn, open_panel
    friche = friche_without_safn(server)
    mp = MapPage(server, browser, query="?lang=en")
    mp.show(*friche["geometry"]["coordinates"], 16)
    mp.click_centre()
    panel = open_panel(mp, "friche")
    link = panel.locator(".sheet-link a")
    assert link.count() == 1
    mp.screenshot("friche-sheet-link", server)
    with mp.page.context.expect_page() as opened:
        link.click()
    sheet = opened.value
    problems = watched(sheet)
    sheet.wait_for_load_state("load")
    assert sheet.url.startswith(f"{server.url}/collections/friches/items/{friche['id']}/fiche")
    assert sheet.locator("html").get_attribute("lang") == "en"
    assert sheet.locator("h1").inner_text().strip() == friche["properties"]["site_nom"]
    assert sheet.locator("svg.chart rect.bar").count() == 7
    sheet.close()
    mp.close()
    assert not mp.problems, mp.problems
    assert not problems, problems
