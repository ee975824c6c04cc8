"""The web map's business park sheet (services/webmap/zae.js) in headless Chromium, on both
stores: a click on a park shows its figures (as /dataviz/zae/{id} gives them), an SVG chart
with one point per month that has a value, its lots on the map coloured by status (or says
that the zae-lots collection does not exist yet) and, on demand, its densification potential
(process zae-densification), in French then in English, with no console error and no failed
request. The browser fixture and MapPage are those of test_webmap.py."""
from __future__ import annotations

import re

import pytest

from test_webmap import MapPage, browser, inside_point  # noqa: F401 - browser is a fixture


def figure(text: str) -> float:
    """A number as the map writes it (fr: 1 234,5 ha; en: 1,234.5 ha) -> float."""
    raw = re.sub(r"[^\d,.\-]", "", text.replace("\u202f", "").replace("\xa0", ""))
    if "," in raw and "." not in raw:
        raw = raw.replace(",", ".")
    return float(raw.replace(",", ""))


def a_park(server) -> dict:
    """The park with the largest outline (easy to click)."""
    parks = server.json("/collections/zae/items", params={"limit": 1000, "f": "json"})["features"]
    return max(parks, key=lambda f: f["properties"].get("surface_totale_ha") or 0)


def test_a_click_on_a_park_shows_its_sheet_chart_and_lots(server, browser):  # noqa: F811
    park = a_park(server)
    fid = str(park["id"])
    expected = server.json(f"/dataviz/zae/{fid}", params={"months": 24})
    collections = {c["id"] for c in
                   server.json("/collections", params={"f": "json"})["collections"]}
    mp = MapPage(server, browser)
    mp.show_only("zae")
    mp.show(*inside_point(server, "zae", fid), 14)
    mp.click_centre()
    mp.page.wait_for_selector("#panel[data-view=zae][aria-busy=false] .result.zae")
    panel = mp.page.locator("#panel")
    assert park["properties"]["nom"] in panel.locator("h2").inner_text()
    # the figures: those the dataviz endpoint gives now
    shown = 0
    for field, value in expected["current"].items():
        cell = panel.locator(f"dd[data-field={field}]")
        if field in expected["missing"]:
            assert cell.count() == 0, field
            continue
        text = cell.inner_text()
        if value is None:
            assert text == "—", (field, text)
        else:
            assert figure(text) == pytest.approx(value, abs=0.01), (field, text)
        shown += 1
    assert shown >= 1
    if expected["missing"]:
        assert panel.locator(".zae-missing").count() == 1
    # the chart: one point per month with a value, at that value
    with_value = [m for m in expected["months"] if m["values"]["surface_disponible_ha"] is not None]
    chart = panel.locator("svg.zae-chart")
    assert chart.count() == 1
    assert int(chart.get_attribute("data-points")) == len(with_value) > 0
    dots = chart.locator("circle").evaluate_all(
        "cs => cs.map(c => [c.dataset.month, Number(c.dataset.value)])")
    assert dots == [[m["month"], m["values"]["surface_disponible_ha"]] for m in with_value]
    # the lots: on the map, coloured by status, or the sentence that says there are none yet
    if "zae-lots" in collections:
        lots = server.json("/collections/zae-lots/items",
                           params={"zae_id": fid, "limit": 1000, "f": "json"})["features"]
        count = mp.page.evaluate(
            "async () => (await window.artoisMap.getSource('zae-focus-lots').getData())"
            ".features.length")
        assert count == len(lots)
        statuses = sorted({f["properties"]["statut"] for f in lots})
        legend = panel.locator(".zae-lots-legend li").evaluate_all(
            "items => items.map(i => i.dataset.statut)")
        assert sorted(legend) == statuses
    else:
        assert panel.locator(".zae-no-lots").count() == 1
    # the densification potential, on demand: the process's answer, drawn on the map
    potential = server.post("/processes/zae-densification/execution",
                            json={"inputs": {"zae": fid}}).json()
    panel.locator("button.zae-densify").click()
    total = panel.locator(".zae-potential dd[data-field=potentiel_m2]")
    total.wait_for()
    assert figure(total.inner_text()) == pytest.approx(potential["summary"]["potentiel_m2"],
                                                       abs=1)
    drawn = mp.page.evaluate(
        "async () => (await window.artoisMap.getSource('zae-focus-potential').getData())"
        ".features.length")
    assert drawn == len(potential["features"]) > 0
    csv_link = panel.locator("a.zae-csv").get_attribute("href")
    assert f"/dataviz/zae/{fid}" in csv_link and "f=csv" in csv_link
    assert server.get(csv_link.replace(server.url, "")).status_code == 200
    mp.screenshot("zae-fr", server)
    # English: the same sheet, translated, still open
    mp.page.click("#lang-toggle")
    mp.page.wait_for_function(
        "document.querySelector('#panel .result.zae h3')?.textContent === 'Figures'")
    assert "Available area (ha)" in panel.inner_text()
    assert panel.locator("svg.zae-chart circle").count() == len(with_value)
    mp.screenshot("zae-en", server)
    # closing the panel hides it
    mp.page.click("#panel-close")
    assert mp.page.locator("#panel").is_hidden()
    mp.close()
    assert not mp.problems, mp.problems
