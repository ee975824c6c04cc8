"""half-hour-territory (issue 19): the pure core with hand-made travel times, the radar in
Chromium, and the process over HTTP on both stores against a direct computation with the
routing package's travel times."""
from __future__ import annotations

import math
import shutil
import textwrap

import numpy as np
import pytest
import scipy.sparse as sp

from processes.half_hour import core, radar


# ----------------------------------------------------------------- the core, by hand
BUNDLES_YAML = textwrap.dedent("""
    levels:
      proximite: {title: {fr: Proximité, en: Local}, modes: [walk, bike], minutes: 15}
      structurant: {title: {fr: Structurant, en: Major}, modes: [transit], minutes: 30}
    functions:
      se_soigner:
        title: {fr: Se soigner, en: Caring}
        bundles:
          proximite: [[D201], [D307]]
          structurant: [[D106]]
      apprendre:
        title: {fr: Apprendre, en: Learning}
        bundles:
          proximite: [[C101, C104]]
          structurant: [[C301]]
""")


@pytest.fixture()
def bundles(tmp_path):
    path = tmp_path / "bundles.yaml"
    path.write_text(BUNDLES_YAML, encoding="utf-8")
    return core.load_bundles(path)


def line_reach(speeds):
    """A 1-D world: minutes = |x_o - x_t| / speed (metres per minute), stored when within."""
    calls = []

    def reach(origins, targets, mode, minutes):
        calls.append((mode, minutes, len(origins), len(targets)))
        d = np.abs(origins[:, :1] - targets[:, 0][None, :]) / speeds[mode]
        d[d > minutes] = 0  # dropped below, the stored entries are the reachable ones
        r, c = np.nonzero((np.abs(origins[:, :1] - targets[:, 0][None, :]) / speeds[mode])
                          <= minutes)
        vals = (np.abs(origins[r, 0] - targets[c, 0]) / speeds[mode])
        return sp.csr_matrix((vals, (r, c)), shape=(len(origins), len(targets)))
    reach.calls = calls
    return reach


SPEEDS = {"walk": 75.0, "bike": 250.0, "transit": 500.0}  # m/min


def test_shares_match_a_hand_computation(bundles):
    # cells at x = 0, 2000, 5000, 12000 with 100, 50, 30, 20 inhabitants
    cells = np.array([[0, 0], [2000, 0], [5000, 0], [12000, 0]], float)
    pop = np.array([100, 50, 30, 20], float)
    fac = np.array([[500, 0], [3000, 0], [6000, 0], [1000, 0], [14000, 0]], float)
    types = ["D201", "D307", "C101", "D106", "C301"]
    reach = line_reach(SPEEDS)
    res = core.compute(cells, pop, fac, types, bundles, reach)
    # proximite: bike 15 min = 3750 m (walk 1125 m is inside it)
    # cell 0: D201 500 ok, D307 3000 ok -> se_soigner; C101 6000 no
    # cell 2000: D201 1500, D307 1000 -> yes; C101 4000 no
    # cell 5000: D201 4500 no; C101 1000 yes
    # cell 12000: nothing
    sh = res.shares()
    assert sh["proximite"]["se_soigner"] == pytest.approx(150 / 200)
    assert sh["proximite"]["apprendre"] == pytest.approx(30 / 200)
    assert sh["proximite"]["all"] == 0.0
    # structurant: transit 30 min = 15 km: D106 at 1000 reaches every cell (max 11 km);
    # C301 at 14000 reaches 0? 14 km yes, 2000 yes, 5000 yes, 12000 yes
    assert sh["structurant"]["se_soigner"] == 1.0
    assert sh["structurant"]["apprendre"] == 1.0
    assert sh["structurant"]["all"] == 1.0
    assert res.population == 200
    # the reach function was asked only for the types each level needs, once per mode
    assert sorted(c[0] for c in reach.calls) == ["bike", "transit", "walk"]
    assert {c[3] for c in reach.calls if c[0] == "transit"} == {2}  # D106 and C301


def test_a_mode_alone_reaches_less(bundles):
    cells = np.array([[0, 0]], float)
    fac = np.array([[2000, 0], [2000, 0]], float)
    walk_only = line_reach({"walk": 75.0, "bike": 1.0, "transit": 1.0})
    res = core.compute(cells, [10], fac, ["D201", "D307"], bundles, walk_only,
                       levels=["proximite"], functions=["se_soigner"])
    assert res.shares()["proximite"]["se_soigner"] == 0.0  # 2 km > 1125 m on foot
    res = core.compute(cells, [10], fac, ["D201", "D307"], bundles, line_reach(SPEEDS),
                       levels=["proximite"], functions=["se_soigner"])
    assert res.shares()["proximite"]["se_soigner"] == 1.0  # 2 km < 3750 m by bike


def test_explicit_zero_and_entries_above_the_budget(bundles):
    def reach(origins, targets, mode, minutes):
        # target 0 at an explicit zero (same place: counts), the others stored at 99 min
        m = len(targets)
        vals = np.array([0.0] + [99.0] * (m - 1))
        return sp.csr_matrix((vals, np.arange(m), np.array([0, m])), shape=(1, m))
    res = core.compute([[0, 0]], [5], [[0, 0], [0, 0]], ["D201", "D307"], bundles, reach,
                       levels=["proximite"], functions=["se_soigner"])
    assert not res.reached["proximite"][0, 0]  # D201 at 0 min, but D307 only at 99 min
    res = core.compute([[0, 0]], [5], [[0, 0]], ["C104"], bundles, reach,
                       levels=["proximite"], functions=["apprendre"])
    assert res.shares()["proximite"]["apprendre"] == 1.0  # the explicit zero counts


def test_core_a_facility_added_raises_the_share_where_it_should(bundles):
    cells = np.array([[0, 0], [10000, 0]], float)
    pop = np.array([40, 60], float)
    fac = np.array([[0, 0], [100, 0]], float)
    types = ["D201", "D307"]
    before = core.compute(cells, pop, fac, types, bundles, line_reach(SPEEDS),
                          levels=["proximite"], functions=["se_soigner"])
    after = core.compute(cells, pop, np.vstack([fac, [[10200, 0], [9800, 0]]]),
                         types + ["D201", "D307"], bundles, line_reach(SPEEDS),
                         levels=["proximite"], functions=["se_soigner"])
    assert before.shares()["proximite"]["se_soigner"] == pytest.approx(0.4)
    assert after.shares()["proximite"]["se_soigner"] == pytest.approx(1.0)
    gains = core.compare(before.shares(), after.shares())
    assert gains["proximite"]["se_soigner"] == pytest.approx(0.6)
    # the cell near the new facilities gained, the other kept what it had
    assert list(before.reached["proximite"][:, 0]) == [True, False]
    assert list(after.reached["proximite"][:, 0]) == [True, True]


def test_bundles_file_is_checked(tmp_path):
    bad = tmp_path / "b.yaml"
    bad.write_text("levels: {p: {modes: [car], minutes: 15}}\nfunctions: {}\n")
    with pytest.raises(ValueError, match="modes"):
        core.load_bundles(bad)
    bad.write_text("levels: {p: {modes: [walk], minutes: 15}}\n"
                   "functions: {f: {bundles: {p: []}}}\n")
    with pytest.raises(ValueError, match="non-empty"):
        core.load_bundles(bad)


def test_default_bundles_have_seven_functions_and_three_levels():
    b = core.load_bundles()
    assert len(b.functions) == 7
    assert list(b.levels) == ["proximite", "intermediaire", "structurant"]
    assert b.levels["proximite"].modes == ("walk", "bike") and b.levels["proximite"].minutes == 15
    assert b.levels["intermediaire"].modes == ("bike",) and b.levels["intermediaire"].minutes == 30
    assert set(b.levels["structurant"].modes) == {"bike", "transit"}
    # every type a bundle names exists in the demo facilities' table
    from services.demo.equipements import TYPES, ZAE_TYPE
    known = set(TYPES) | {ZAE_TYPE[0]}
    for lid in b.levels:
        assert set(b.types(lid, b.functions)) <= known


def test_sectors_are_the_union_of_the_covered_cells():
    import shapely
    cells = [shapely.box(0, 0, 200, 200), shapely.box(200, 0, 400, 200),
             shapely.box(1000, 0, 1200, 200)]
    u = core.sectors(cells, np.array([True, True, False]))
    assert u.area == pytest.approx(80000)
    assert u.bounds == (0, 0, 400, 200)
    assert core.sectors(cells, np.array([False] * 3)).is_empty


def _radar(before=None):
    b = core.load_bundles()
    shares = {lid: {f: (k + 1) / 10 + j / 40 for j, f in enumerate(b.functions)}
              for k, lid in enumerate(b.levels)}
    for lid in shares:
        shares[lid]["all"] = 0.1
    return radar.radar_svg(shares, b.functions, b.titles,
                           {k: v.title for k, v in b.levels.items()}, "Essai",
                           "état", before=before, before_label="2022-01-01",
                           after_label="2026-01-01"), shares


def test_radar_is_well_formed_svg():
    import xml.etree.ElementTree as ET
    svg, shares = _radar()
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    levels = [p for p in root.iter(f"{ns}polygon") if p.get("class") == "level"]
    assert [p.get("data-level") for p in levels] == list(shares)
    # the first vertex of each level is on the vertical axis at share x radius
    for p, lid in zip(levels, shares):
        x, y = map(float, p.get("points").split()[0].split(","))
        first = next(iter(shares[lid].values()))
        assert x == pytest.approx(radar.CX, abs=0.1)
        assert radar.CY - y == pytest.approx(radar.RADIUS * first, abs=0.1)
    svg2, _ = _radar(before={lid: {k: v / 2 for k, v in s.items()} for lid, s in shares.items()})
    root = ET.fromstring(svg2)
    levels = [p for p in root.iter(f"{ns}polygon") if p.get("class") == "level"]
    assert len(levels) == 2 * len(shares)
    assert sum(1 for p in levels if p.get("stroke-dasharray")) == len(shares)


# ----------------------------------------------------------------- over HTTP, both stores
PROCESS = "/processes/half-hour-territory/execution"
T0 = "2022-01-01"
TERRITORY = ["62119", "62510", "62617"]  # Béthune, Labourse, Noyelles-lès-Vermelles (CABBALR)


def _post(server, inputs, headers=None, **kw):
    """POST an execution (workers claim only the processes they publish, so a server of an
    older version sharing the job table leaves these jobs alone)."""
    return server.http.post(server.url + PROCESS, json={"inputs": inputs},
                            headers=headers or {}, timeout=600, **kw)


def _run(server, inputs, headers=None):
    r = _post(server, inputs, headers)
    assert r.status_code == 200, r.text[:800]
    return r.json()


def _frames():
    from reference import reference
    return reference("communes"), reference("carreaux-200m"), reference("equipements")


def _open(fac, date):
    """Open at `date`, read straight: opened (or undated) on or before, not closed by then."""
    keep = []
    for o, c in zip(fac["date_ouverture"], fac["date_fermeture"]):
        o = None if o is None or (isinstance(o, float) and math.isnan(o)) else str(o)[:10]
        c = None if c is None or (isinstance(c, float) and math.isnan(c)) else str(c)[:10]
        keep.append((o is None or o <= date) and (c is None or c > date))
    return fac[np.array(keep, bool)]


def direct_shares(cells, fac, date, departure=(8 * 3600, 9 * 3600)):
    """The shares cell by cell and group by group, with the routing package's travel times
    as dense matrices (no code of processes.half_hour.core)."""
    from processes.half_hour.routing import load_network, reach

    b = core.load_bundles()
    net = load_network(date=date)
    fac = _open(fac, date)
    cxy = np.column_stack([cells.geometry.centroid.x, cells.geometry.centroid.y])
    fxy = np.column_stack([fac.geometry.x, fac.geometry.y])
    ftypes = fac["typequ"].astype(str).to_numpy()
    pop = cells["ind"].to_numpy(float)
    out = {}
    for lid, level in b.levels.items():
        within = np.zeros((len(cxy), len(fxy)), bool)
        for mode in level.modes:
            m = reach(net, cxy, fxy, mode, level.minutes, departure=departure).tocoo()
            within[m.row[m.data <= level.minutes], m.col[m.data <= level.minutes]] = True
        every = np.ones(len(cxy), bool)
        row = {}
        for f in b.functions:
            # a cell reaches the function when, for every group, some facility of one of the
            # group's types is within (the same rule as cell by cell, as whole-array steps)
            ok = np.ones(len(cxy), bool)
            for group in b.groups[f][lid]:
                ok &= within[:, np.isin(ftypes, list(group))].any(axis=1)
            row[f] = round(float(pop[ok].sum() / pop.sum()), 4)
            every &= ok
        row["all"] = round(float(pop[every].sum() / pop.sum()), 4)
        out[lid] = row
    return out


def test_shares_against_a_direct_computation(server):
    communes, cells, fac = _frames()
    body = _run(server, {"territory": {"communes": TERRITORY}, "date": T0})
    mine = cells[cells["insee"].astype(str).isin(TERRITORY)]
    expected_pop = int(communes[communes["insee"].astype(str).isin(TERRITORY)]
                       ["population_municipale"].sum())
    assert body["population"] == expected_pop == int(mine["ind"].sum())
    assert body["cell_count"] == len(mine)
    expected = direct_shares(mine, fac, T0)
    assert body["shares"].keys() == expected.keys()
    for lid in expected:
        for key, value in expected[lid].items():
            assert body["shares"][lid][key] == pytest.approx(value, abs=1.5e-4), (lid, key)
    # the cells: every inhabited cell once, with the functions it reaches per level
    feats = body["cells"]["features"]
    assert sorted(f["properties"]["idcar_200m"] for f in feats) == sorted(mine["idcar_200m"])
    for lid in expected:
        reached = sum(f["properties"]["ind"] for f in feats
                      if f["properties"][f"{lid}_toutes"])
        assert reached / expected_pop == pytest.approx(expected[lid]["all"], abs=1.5e-4)
    # the sectors: per level, the union of the cells reaching every function
    import shapely
    from shapely.geometry import shape
    for sector in body["sectors"]["features"]:
        lid = sector["properties"]["niveau"]
        covered = [shape(f["geometry"]) for f in feats if f["properties"][f"{lid}_toutes"]]
        if not covered:
            assert sector["geometry"] is None or shape(sector["geometry"]).is_empty
            continue
        union = shapely.union_all(covered)
        got = shape(sector["geometry"])
        assert got.symmetric_difference(union).area < 1e-3 * union.area, lid
        assert sector["properties"]["population_couverte"] == round(
            sum(f["properties"]["ind"] for f in feats if f["properties"][f"{lid}_toutes"]))
    assert body["radar"].startswith("<svg") and "Territoire de la demi-heure" in body["radar"]


def test_levels_functions_and_epci(server):
    body = _run(server, {"territory": {"epci": "200072460"}, "date": T0,
                         "levels": ["intermediaire"], "functions": ["se_soigner", "apprendre"],
                         "include_cells": False})
    communes, cells, _ = _frames()
    cab = communes[communes["epci_siren"].astype(str) == "200072460"]
    assert len(cab) == 100 and body["territory"]["communes"] == 100
    assert body["population"] == int(cab["population_municipale"].sum())
    assert list(body["shares"]) == ["intermediaire"]
    assert set(body["shares"]["intermediaire"]) == {"se_soigner", "apprendre", "all"}
    assert body["shares"]["intermediaire"]["all"] <= min(
        body["shares"]["intermediaire"]["se_soigner"], body["shares"]["intermediaire"]["apprendre"])
    assert "cells" not in body


def test_a_polygon_territory_counts_the_cells_whose_centre_is_inside(server):
    import pyproj
    import shapely
    _, cells, _ = _frames()
    box = shapely.box(640000, 7045000, 645000, 7050000)  # around Béthune, Lambert-93
    to84 = pyproj.Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True)
    poly = shapely.transform(box, lambda c: np.column_stack(to84.transform(c[:, 0], c[:, 1])))
    body = _run(server, {"territory": {"geometry": shapely.geometry.mapping(poly)},
                         "date": T0, "levels": ["proximite"], "include_cells": False})
    back = shapely.transform(poly, lambda c: np.column_stack(
        pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
        .transform(c[:, 0], c[:, 1])))
    c = cells.geometry.centroid
    inside = cells[shapely.contains_xy(back, c.x.values, c.y.values)]
    assert body["population"] == int(inside["ind"].sum())


def test_a_facility_added_raises_the_share_where_it_should(server):
    """Two facilities (a GP and a pharmacy) opening in 2096 next to the most populated cell
    of the CABBALR that reaches no GP + pharmacy within 15 min: with compare_date, the
    se_soigner proximity share rises, that cell and only cells within 15 min of it gain."""
    from conftest import EDITOR
    from processes.half_hour.routing import load_network, reach
    from shapely.geometry import shape
    import pyproj

    before = _run(server, {"territory": {"epci": "200072460"}, "date": "2095-01-01",
                           "levels": ["proximite"], "functions": ["se_soigner"]})
    cells = before["cells"]["features"]
    lacking = [f for f in cells if not f["properties"]["proximite"]]
    assert lacking, "some cell of the CABBALR lacks a GP or a pharmacy within 15 min"
    target = max(lacking, key=lambda f: f["properties"]["ind"])
    insee_cells = {f["properties"]["idcar_200m"]: f for f in cells}
    to93 = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
    centre84 = shape(target["geometry"]).centroid
    x, y = to93.transform(centre84.x, centre84.y)
    headers = {"X-API-Key": EDITOR, "Content-Type": "application/geo+json"}
    ids = []
    try:
        for code in ("D201", "D307"):
            fid = f"test-hh-{code}-{server.url.rsplit(':', 1)[1]}"
            feature = {"type": "Feature", "id": fid, "geometry": {
                "type": "Point", "coordinates": [centre84.x, centre84.y]},
                "properties": {"id": fid, "typequ": code, "nom": f"Essai {code}",
                               "date_ouverture": "2096-01-01"}}
            r = server.post("/collections/equipements/items", json=feature, headers=headers)
            assert r.status_code == 201, r.text[:500]
            ids.append(fid)
        after = _run(server, {"territory": {"epci": "200072460"}, "date": "2097-01-01",
                              "compare_date": "2095-01-01", "levels": ["proximite"],
                              "functions": ["se_soigner"]})
        gain = after["compare"]["gains"]["proximite"]["se_soigner"]
        assert after["compare"]["from"] == "2095-01-01" and after["compare"]["to"] == "2097-01-01"
        assert gain > 0
        assert after["shares"]["proximite"]["se_soigner"] == pytest.approx(
            before["shares"]["proximite"]["se_soigner"] + gain, abs=2e-4)
        now = {f["properties"]["idcar_200m"]: f for f in after["cells"]["features"]}
        assert now[target["properties"]["idcar_200m"]]["properties"]["proximite"] == ["se_soigner"]
        gained = [k for k, f in now.items()
                  if f["properties"]["proximite"] and not insee_cells[k]["properties"]["proximite"]]
        lost = [k for k, f in now.items()
                if not f["properties"]["proximite"] and insee_cells[k]["properties"]["proximite"]]
        assert not lost
        # every cell that gained is within 15 min (walk or bike) of the new facilities
        net = load_network(date="2097-01-01")
        xy = np.array([to93.transform(*shape(now[k]["geometry"]).centroid.coords[0])
                       for k in gained])
        within = np.zeros(len(gained), bool)
        for mode in ("walk", "bike"):
            m = reach(net, xy, np.array([[x, y]]), mode, 15).tocoo()
            within[m.row[m.data <= 15]] = True
        assert within.all()
        # population gained = the gain, from the cells themselves
        pop = sum(f["properties"]["ind"] for f in now.values())
        assert sum(now[k]["properties"]["ind"] for k in gained) / pop == pytest.approx(gain,
                                                                                    abs=2e-4)
        # the radar shows both states
        assert after["radar"].count('class="level"') == 2 and "2095-01-01" in after["radar"]
    finally:
        for fid in ids:
            r = server.get(f"/collections/equipements/items/{fid}")
            server.http.delete(f"{server.url}/collections/equipements/items/{fid}",
                               headers={"X-API-Key": EDITOR,
                                        "If-Match": r.headers.get("ETag", "*")})


def test_bad_inputs_are_bilingual_400s(server):
    cases = [
        {"territory": {"epci": "12"}},
        {"territory": {"communes": ["6211"]}},
        {"territory": {"epci": "200072460", "communes": ["62119"]}},
        {"territory": {"geometry": {"type": "Point", "coordinates": [2.6, 50.5]}}},
        {"territory": {"communes": ["62119"]}, "date": "2022-13-01"},
        {"territory": {"communes": ["62119"]}, "levels": ["quartier"]},
        {"territory": {"communes": ["62119"]}, "functions": []},
        {"territory": {"communes": ["62119"]}, "departure": {"start": "09:00", "end": "08:00"}},
        {"territory": {"communes": ["62119"]}, "include_cells": "yes"},
        {"territory": {"communes": ["62119"]}, "colour": "red"},
        {"territory": "CABBALR"},
    ]
    for inputs in cases:
        r = _post(server, inputs)
        assert r.status_code == 400, (inputs, r.status_code, r.text[:300])
        body = r.json()
        assert body["description_fr"] and body["description_en"], body
    for inputs in ({"territory": {"epci": "999999999"}},
                   {"territory": {"communes": ["75056"]}}):
        r = _post(server, inputs)
        assert r.status_code == 404, (inputs, r.text[:300])
        assert r.json()["description_fr"] and r.json()["description_en"]
    # publishing the layer is an editor's
    r = _post(server, {"territory": {"epci": "200072460"}, "publish": True})
    assert r.status_code in (401, 403), r.text[:300]


def test_whole_cabballr_as_an_async_job_and_the_published_layer(server):
    """The whole CABBALR, every level and function, as a job; publishing rewrites the
    demi-heure collection, whose sectors are the job's at the published dates."""
    import time
    from conftest import EDITOR

    headers = {"X-API-Key": EDITOR, "Prefer": "respond-async"}
    r = _post(server, {"territory": {"epci": "200072460"}, "date": "2026-01-01",
                       "include_cells": False, "publish": True}, headers)
    assert r.status_code == 201, r.text[:500]
    job_id = r.json()["jobID"]
    started = time.monotonic()
    while True:
        job = server.json(f"/jobs/{job_id}", headers={"X-API-Key": EDITOR})
        if job["status"] in ("successful", "failed", "dismissed"):
            break
        assert time.monotonic() - started < 600, job
        time.sleep(1)
    assert job["status"] == "successful", job
    body = server.json(f"/jobs/{job_id}/results", headers={"X-API-Key": EDITOR})
    communes, _, _ = _frames()
    cab = communes[communes["epci_siren"].astype(str) == "200072460"]
    assert body["population"] == int(cab["population_municipale"].sum())
    assert body["territory"]["communes"] == len(cab)
    assert body["publication"]["collection"] == "demi-heure"
    items = server.json("/collections/demi-heure/items", params={"limit": 100})
    feats = {f["properties"]["id"]: f for f in items["features"]}
    levels = list(core.load_bundles().levels)
    assert set(feats) == {f"{lid}-{d}" for lid in levels for d in ("2022-01-01", "2026-01-01")}
    for lid in levels:
        got = feats[f"{lid}-2026-01-01"]["properties"]
        assert got["part_population"] == pytest.approx(body["shares"][lid]["all"], abs=1e-4)
        # the shares are rounded to 4 decimals: the covered population to 1e-4 of the total
        assert got["population_couverte"] / body["population"] == pytest.approx(
            body["shares"][lid]["all"], abs=1e-4)


def test_sectors_tiles_hold_the_published_sectors(server):
    import mapbox_vector_tile
    items = server.json("/collections/demi-heure/items", params={"limit": 100})
    assert items["features"], "the demi-heure layer is built"
    # the z10 tile over Béthune holds the sectors that meet it
    z, lon, lat = 10, 2.64, 50.53
    n = 2 ** z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    r = server.get(f"/collections/demi-heure/tiles/WebMercatorQuad/{z}/{y}/{x}")
    assert r.status_code == 200, r.text[:300]
    tile = mapbox_vector_tile.decode(r.content)
    ids = {f["properties"]["id"] for f in tile["demi-heure"]["features"]}
    from shapely.geometry import box, shape

    def lat_of(row):
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))
    area = box(x / n * 360 - 180, lat_of(y + 1), (x + 1) / n * 360 - 180, lat_of(y))
    expected = {f["properties"]["id"] for f in items["features"]
                if f["geometry"] and shape(f["geometry"]).intersects(area)}
    assert expected and ids == expected
    style = server.get("/collections/demi-heure/styles")
    assert style.status_code == 200


@pytest.fixture(scope="module")
def chromium_browser():
    from test_webmap import ARGS, CHROMIUM

    if not shutil.which("chromium"):
        pytest.skip("chromium is installed by scripts/setup.sh --test-tools")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_radar_renders_in_chromium(server, chromium_browser):
    body = _run(server, {"territory": {"communes": TERRITORY}, "date": "2026-01-01",
                         "compare_date": T0, "include_cells": False})
    svg = body["radar"]
    page = chromium_browser.new_page(viewport={"width": 900, "height": 700})
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content(f"<html><body style='margin:0'>{svg}</body></html>")
    polys = page.evaluate("""() => [...document.querySelectorAll('polygon.level')]
        .map(p => [p.dataset.level, p.getBBox().width, p.getBBox().height])""")
    levels = list(body["shares"])
    assert sorted(p[0] for p in polys) == sorted(levels + [f"{lid}:avant" for lid in levels])
    for name, w, h in polys:
        lid = name.split(":")[0]
        share = (body["shares"] if ":" not in name else body["compare"]["shares"])[lid]
        if max(v for k, v in share.items() if k != "all") > 0.2:
            assert w > 20 and h > 20, (name, w, h)  # drawn with its size
    page.set_content("<img id='g'>")
    page.evaluate("(svg) => { document.getElementById('g').src = "
                  "'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg); }", svg)
    page.wait_for_function("document.getElementById('g').complete && "
                           "document.getElementById('g').naturalWidth > 0")
    assert page.evaluate("document.getElementById('g').naturalWidth") == radar.WIDTH
    page.close()
    assert not errors, errors


def test_web_map_panel_runs_the_process(server, chromium_browser):
    from test_webmap import MapPage
    from services import webmap
    if not webmap.maplibre_installed():
        pytest.skip("MapLibre GL JS is installed by scripts/setup.sh")
    mp = MapPage(server, chromium_browser)
    try:
        page = mp.page
        page.click("#demiheure-toggle")
        page.fill("#demiheure-communes", ", ".join(TERRITORY))
        page.fill("#demiheure-date", "2026-01-01")
        page.fill("#demiheure-compare", T0)
        page.click("#demiheure-run")
        page.wait_for_selector("#demiheure-shares", timeout=120_000)
        rows = page.evaluate("""() => [...document.querySelectorAll('#demiheure-shares tr[data-level]')]
            .map(r => r.dataset.level)""")
        assert rows == list(core.load_bundles().levels)
        page.wait_for_function("document.getElementById('demiheure-radar').naturalWidth > 0")
        data = page.evaluate("window.artoisMap.getSource('demiheure-result').serialize().data")
        shown = {f["properties"]["niveau"] for f in data["features"]}
        result = page.evaluate("window.artoisDemiHeure.state.result")
        assert shown == {lid for lid in result["shares"] if result["shares"][lid]["all"] > 0}
        assert page.evaluate("window.artoisMap.getLayer('demiheure-result-fill') != null")
        assert not mp.problems, mp.problems
    finally:
        mp.close()


def test_qgis_loads_the_layers(server):
    from qgis_runner import qgis_available, run_client
    from reference import reference
    if not qgis_available():
        pytest.skip("python3-qgis is installed by scripts/setup.sh --test-tools")
    import json
    seen = run_client("qgis_oapif.py", server.url, json.dumps({"demi-heure": "",
                                                               "equipements": ""}))
    assert seen["demi-heure"]["valid"] and seen["demi-heure"]["count"] == len(
        server.json("/collections/demi-heure/items", params={"limit": 100})["features"])
    assert seen["equipements"]["valid"]
    # the facility test of another worker may have added its two for a while
    assert len(reference("equipements")) <= seen["equipements"]["count"] \
        <= len(reference("equipements")) + 4
