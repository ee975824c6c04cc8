"""The aggregation endpoint (services/aggregate.py), on both stores, over real HTTP.

Every expected figure is a pandas / geopandas group-by computed here from the same features
read over HTTP through /items (paged, in EPSG:2154), never a number written in the test.
Tolerances: sums of floats (another order of addition) and geometries that /items rounds to
the centimetre (lengths and areas).
"""
from __future__ import annotations

import csv
import io
import json
import math

import geopandas as gpd
import pandas as pd
import pytest

from conftest import VAR

LAMBERT = "http://www.opengis.net/def/crs/EPSG/0/2154"
# a box over Béthune, Bruay and Lens (lon/lat), and a part of it in Lambert-93
BOX = (2.45, 50.38, 2.90, 50.56)
BOX_L93 = (655000.0, 7030000.0, 690000.0, 7045000.0)
FLOAT = dict(rel=1e-9, abs=1e-9)
GEOMETRY = dict(rel=2e-4, abs=1e-3)  # coordinates rounded to 1 cm by /items


# ---------------------------------------------------------------------------- helpers
def aggregate(server, cid: str, **params) -> dict:
    r = server.get(f"/collections/{cid}/aggregate", params=params)
    assert r.status_code == 200, (cid, params, r.status_code, r.text[:800])
    assert r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert doc["collection"] == cid
    return doc


def items(server, cid: str, params: dict | None = None) -> list[dict]:
    """Every feature of /items (paged by its `next` links), geometries in EPSG:2154."""
    query = {"limit": 1000, "crs": LAMBERT, **(params or {})}
    body = server.json(f"/collections/{cid}/items", params=query)
    features = []
    for _ in range(100):
        features += body["features"]
        nxt = [link["href"] for link in body["links"] if link["rel"] == "next"]
        if not nxt:
            return features
        r = server.http.get(nxt[0], timeout=60)
        assert r.status_code == 200
        body = r.json()
    raise AssertionError("more than 100 pages")


def frame(features: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame.from_features(features, crs=2154)


def snapshot(server, cid: str, agg_params: dict, items_params: dict | None = None
             ) -> tuple[dict, gpd.GeoDataFrame]:
    """The aggregation and the features it was computed from. Other test files edit friches
    and zae on the same stores meanwhile: the features count only if the aggregation read
    before and after them is the same."""
    for _ in range(5):
        before = aggregate(server, cid, **agg_params)
        gdf = frame(items(server, cid, items_params))
        after = aggregate(server, cid, **agg_params)
        if before["groups"] == after["groups"]:
            return after, gdf
    raise AssertionError(f"{cid} kept changing while it was read")


def groups_by_key(doc: dict) -> dict[tuple, dict]:
    out = {tuple(g["key"][name] for name in doc["groupby"]): g for g in doc["groups"]}
    assert len(out) == len(doc["groups"])
    return out


def key(values) -> tuple:
    """A pandas group key as the endpoint writes it: NaN is null, 2019.0 is 2019."""
    out = []
    for v in values if isinstance(values, tuple) else (values,):
        if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            out.append(None)
        elif isinstance(v, float) and v.is_integer():
            out.append(int(v))
        else:
            out.append(v.item() if hasattr(v, "item") else v)  # numpy scalars
    return tuple(out)


def assert_sorted(doc: dict) -> None:
    keys = [tuple((v is not None, v) for v in g["key"].values()) for g in doc["groups"]]
    assert keys == sorted(keys)


def communes(server) -> gpd.GeoDataFrame:
    return frame(items(server, "communes"))[["insee", "nom", "epci_siren", "epci_nom",
                                             "geometry"]]


def commune_of(gdf: gpd.GeoDataFrame, towns: gpd.GeoDataFrame) -> pd.Series:
    """INSEE code of the commune containing each feature's representative point (the
    smallest one on a shared boundary), None outside: what the endpoint documents."""
    points = gpd.GeoDataFrame({"row": range(len(gdf))},
                              geometry=gdf.geometry.representative_point(), crs=2154)
    joined = gpd.sjoin(points, towns, predicate="intersects", how="left")
    first = joined.sort_values("insee").groupby("row")["insee"].first()
    return pd.Series([first.get(i) if isinstance(first.get(i), str) else None
                      for i in range(len(gdf))], index=gdf.index, dtype=object)


# ---------------------------------------------------------------------------- figures
def test_count_by_code_list(server):
    doc, gdf = snapshot(server, "friches", {"groupby": "site_statut"})
    expected = gdf.groupby("site_statut", dropna=False).size()
    got = groups_by_key(doc)
    assert set(got) == {key(k) for k in expected.index}
    for k, n in expected.items():
        assert got[key(k)]["count"] == n
    assert doc["numberMatched"] == len(gdf) == sum(expected)
    assert doc["groupby"] == ["site_statut"] and doc["metrics"] == ["count"]
    assert_sorted(doc)
    rels = {link["rel"]: link for link in doc["links"]}
    assert rels["alternate"]["type"] == "text/csv" and "f=csv" in rels["alternate"]["href"]
    assert rels["collection"]["href"].endswith("/collections/friches")


def test_numeric_metrics(server):
    metrics = ("sum(site_surface),mean(site_surface),min(site_surface),max(site_surface),"
               "sum(bati_nombre),max(bati_nombre)")
    doc, gdf = snapshot(server, "friches", {"groupby": "site_statut", "metrics": metrics})
    assert doc["metrics"] == ["count", "sum(site_surface)", "mean(site_surface)",
                              "min(site_surface)", "max(site_surface)", "sum(bati_nombre)",
                              "max(bati_nombre)"]
    grouped = gdf.groupby("site_statut", dropna=False)
    got = groups_by_key(doc)
    for k, part in grouped:
        g = got[key(k)]
        surface = part["site_surface"].dropna()
        assert g["sum(site_surface)"] == pytest.approx(surface.sum(), **FLOAT)
        assert g["mean(site_surface)"] == pytest.approx(surface.mean(), **FLOAT)
        assert g["min(site_surface)"] == pytest.approx(surface.min(), **FLOAT)
        assert g["max(site_surface)"] == pytest.approx(surface.max(), **FLOAT)
        buildings = part["bati_nombre"].dropna()
        expected = int(buildings.sum()) if len(buildings) else None
        assert g["sum(bati_nombre)"] == expected and isinstance(g["sum(bati_nombre)"],
                                                                (int, type(None)))
        assert g["max(bati_nombre)"] == (int(buildings.max()) if len(buildings) else None)
    # no groupby: one group over everything
    whole = aggregate(server, "friches", metrics="mean(site_surface)")
    assert whole["groupby"] == [] and len(whole["groups"]) == 1
    assert whole["groups"][0]["key"] == {}
    assert whole["groups"][0]["count"] == len(gdf)
    assert whole["groups"][0]["mean(site_surface)"] == pytest.approx(
        gdf["site_surface"].mean(), **FLOAT)


def test_zae_area_by_epci(server):
    doc, gdf = snapshot(server, "zae", {"groupby": "epci",
                                        "metrics": "area_ha,sum(surface_disponible_ha)"})
    towns = communes(server)
    gdf["insee_point"] = commune_of(gdf, towns)
    epci_of = dict(zip(towns["insee"], towns["epci_siren"]))
    gdf["epci_point"] = [epci_of.get(c) if c else None for c in gdf["insee_point"]]
    gdf["area"] = gdf.geometry.area
    got = groups_by_key(doc)
    expected = gdf.groupby("epci_point", dropna=False)
    assert set(got) == {key(k) for k, _ in expected}
    names = dict(zip(towns["epci_siren"], towns["epci_nom"]))
    for k, part in expected:
        g = got[key(k)]
        assert g["count"] == len(part)
        assert g["area_ha"] == pytest.approx(part["area"].sum() / 1e4, **GEOMETRY)
        assert g["sum(surface_disponible_ha)"] == pytest.approx(
            part["surface_disponible_ha"].sum(min_count=1), **FLOAT)
        assert g["labels"]["epci"] == names.get(key(k)[0])
    assert doc["numberMatched"] == len(gdf)


def test_cycle_km_by_type_and_year_with_filter_and_bbox(server):
    cql = "statut_d = 'EN SERVICE' AND largeur_d >= 2"
    params = {"filter": cql, "bbox": ",".join(map(str, BOX))}
    doc, gdf = snapshot(server, "amenagements-cyclables",
                        {**params, "groupby": "ame_d,year(d_service)",
                         "metrics": "length_km,sum(longueur_m)"}, params)
    assert 0 < len(gdf) < 2000  # the filter and the box select a part
    gdf["year"] = [int(d[:4]) if isinstance(d, str) and d[:4].isdigit() else None
                   for d in gdf["d_service"]]
    gdf["km"] = gdf.geometry.length / 1000
    got = groups_by_key(doc)
    expected = gdf.groupby(["ame_d", "year"], dropna=False)
    assert set(got) == {key(k) for k, _ in expected}
    for k, part in expected:
        g = got[key(k)]
        assert g["count"] == len(part)
        assert g["length_km"] == pytest.approx(part["km"].sum(), **GEOMETRY)
        assert g["sum(longueur_m)"] == pytest.approx(part["longueur_m"].sum(min_count=1),
                                                     **FLOAT)
    assert doc["numberMatched"] == len(gdf)
    assert_sorted(doc)
    # the same selection in CQL2 JSON and a Lambert-93 bbox, by year only
    as_json = ('{"op": "and", "args": [{"op": "=", "args": [{"property": "statut_d"}, '
               '"EN SERVICE"]}, {"op": ">=", "args": [{"property": "largeur_d"}, 2]}]}')
    params = {"filter": as_json, "filter-lang": "cql2-json", "bbox-crs": LAMBERT,
              "bbox": ",".join(map(str, BOX_L93))}
    doc, gdf = snapshot(server, "amenagements-cyclables",
                        {**params, "groupby": "year(d_service)", "metrics": "length_km"}, params)
    gdf["year"] = [int(d[:4]) for d in gdf["d_service"]]
    expected = (gdf.geometry.length / 1000).groupby(gdf["year"]).sum()
    got = groups_by_key(doc)
    assert set(got) == {(int(y),) for y in expected.index}
    for year, km in expected.items():
        assert got[(int(year),)]["length_km"] == pytest.approx(km, **GEOMETRY)


def test_territory_levels_add_up(server):
    doc, gdf = snapshot(server, "amenagements-cyclables",
                        {"groupby": "commune", "metrics": "length_km"})
    towns = communes(server)
    gdf["insee_point"] = commune_of(gdf, towns)
    gdf["km"] = gdf.geometry.length / 1000
    expected = gdf.groupby("insee_point", dropna=False)
    got = groups_by_key(doc)
    assert set(got) == {key(k) for k, _ in expected}
    names = dict(zip(towns["insee"], towns["nom"]))
    for k, part in expected:
        assert got[key(k)]["count"] == len(part)
        assert got[key(k)]["length_km"] == pytest.approx(part["km"].sum(), **GEOMETRY)
        assert got[key(k)]["labels"]["commune"] == names.get(key(k)[0])
    inside = sum(g["length_km"] for g in doc["groups"] if g["key"]["commune"] is not None)
    epci = aggregate(server, "amenagements-cyclables", groupby="epci", metrics="length_km")
    whole = aggregate(server, "amenagements-cyclables", groupby="niveau(territoire)",
                      metrics="length_km")
    in_epci = sum(g["length_km"] for g in epci["groups"] if g["key"]["epci"] is not None)
    territory = [g for g in whole["groups"] if g["key"]["niveau(territoire)"] == "artois"]
    assert len(territory) == 1 and territory[0]["labels"]["niveau(territoire)"]
    assert in_epci == pytest.approx(inside, **FLOAT)
    assert territory[0]["length_km"] == pytest.approx(inside, **FLOAT)
    assert whole["numberMatched"] == epci["numberMatched"] == doc["numberMatched"] == len(gdf)


def test_property_wins_over_level(server):
    """zae has a `commune` property (the name): `commune` groups by it, `niveau(commune)` by
    the commune containing each site's representative point."""
    doc, gdf = snapshot(server, "zae", {"groupby": "commune,niveau(commune)"})
    towns = communes(server)
    gdf["insee_point"] = commune_of(gdf, towns)
    expected = gdf.groupby(["commune", "insee_point"], dropna=False).size()
    assert {key(k): n for k, n in expected.items()} == \
        {k: g["count"] for k, g in groups_by_key(doc).items()}
    assert "labels" in doc["groups"][0] and "commune" not in doc["groups"][0]["labels"]


def test_time_series_by_month_and_datetime(server):
    doc, gdf = snapshot(server, "friches", {"groupby": "month(site_actu_date)"})
    months = gdf["site_actu_date"].map(lambda d: d[:7] if isinstance(d, str) else None)
    expected = months.groupby(months, dropna=False).size()
    assert {key(k): n for k, n in expected.items()} == \
        {k: g["count"] for k, g in groups_by_key(doc).items()}
    # datetime on the collection's time field (site_actu_date), as /items reads it
    window = {"datetime": "2021-12-01/2022-12-31"}
    doc, gdf = snapshot(server, "friches",
                        {**window, "groupby": "year(site_actu_date),month(site_actu_date)",
                         "metrics": "sum(site_surface)"}, window)
    assert 0 < len(gdf) < aggregate(server, "friches")["numberMatched"]  # a part
    gdf["year"] = gdf["site_actu_date"].str[:4].astype(int)
    gdf["month"] = gdf["site_actu_date"].str[:7]
    expected = gdf.groupby(["year", "month"])["site_surface"].sum(min_count=1)
    got = groups_by_key(doc)
    assert set(got) == {(int(y), m) for y, m in expected.index}
    for (year, month), total in expected.items():
        assert got[(int(year), month)]["sum(site_surface)"] == pytest.approx(total, **FLOAT)
    assert doc["numberMatched"] == len(gdf)


def test_csv_matches_json(server):
    params = {"groupby": "epci,year(d_service)", "metrics": "length_km,mean(largeur_d)"}
    doc = aggregate(server, "amenagements-cyclables", **params)
    for r in (server.get("/collections/amenagements-cyclables/aggregate",
                         params={**params, "f": "csv"}),
              server.get("/collections/amenagements-cyclables/aggregate", params=params,
                         headers={"Accept": "text/csv"})):
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(r.text)))
        assert rows[0] == ["epci", "year(d_service)", "nom(epci)", "count", "length_km",
                           "mean(largeur_d)"]
        assert len(rows) - 1 == len(doc["groups"])
        for row, g in zip(rows[1:], doc["groups"]):
            assert row[0] == (g["key"]["epci"] or "")
            assert row[1] == ("" if g["key"]["year(d_service)"] is None
                              else str(g["key"]["year(d_service)"]))
            assert row[2] == (g["labels"]["epci"] or "")
            assert int(row[3]) == g["count"]
            assert float(row[4]) == pytest.approx(g["length_km"], **FLOAT)
            assert (row[5] == "" and g["mean(largeur_d)"] is None) or \
                float(row[5]) == pytest.approx(g["mean(largeur_d)"], **FLOAT)
    booleans = server.get("/collections/amenagements-cyclables/aggregate",
                          params={"groupby": "lumiere", "f": "csv"})
    values = {row[0] for row in list(csv.reader(io.StringIO(booleans.text)))[1:]}
    assert values <= {"true", "false", ""} and values & {"true", "false"}
    accept_json = server.get("/collections/friches/aggregate",
                             headers={"Accept": "text/csv;q=0.5, application/json"})
    assert accept_json.headers["content-type"].startswith("application/json")


def test_etag_and_304(server):
    url = "/collections/friches/aggregate"
    first = server.get(url, params={"groupby": "site_statut"})
    etag = first.headers.get("etag")
    assert etag and first.headers["cache-control"] == "no-cache"
    again = server.get(url, params={"groupby": "site_statut"}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""


# ---------------------------------------------------------------------------- refusals
REFUSED = [
    ("friches", {"groupby": "nope"}, 400, "nope"),
    ("friches", {"groupby": "site_surface"}, 400, "site_surface"),
    ("friches", {"groupby": "year(site_surface)"}, 400, "site_surface"),
    ("friches", {"groupby": "niveau(region)"}, 400, "region"),
    ("friches", {"groupby": "week(site_actu_date)"}, 400, "week"),
    ("friches", {"groupby": "site_statut,,site_type"}, 400, "groupby"),
    ("friches", {"groupby": "a,b,c,d,e,f"}, 400, "5"),
    ("friches", {"groupby": "year()"}, 400, "year()"),
    ("friches", {"metrics": "count(site_surface)"}, 400, "count(site_surface)"),
    ("friches", {"metrics": "sum(site_nom)"}, 400, "site_nom"),
    ("friches", {"metrics": "mean(nope)"}, 400, "nope"),
    ("friches", {"metrics": "median(site_surface)"}, 400, "median"),
    ("friches", {"metrics": "sum(site_surface"}, 400, "sum(site_surface"),
    ("friches", {"metrics": "total"}, 400, "total"),
    ("friches", {"metrics": "length_km"}, 400, "length_km"),
    ("amenagements-cyclables", {"metrics": "area_ha"}, 400, "area_ha"),
    ("friches", {"bbox": "1,2,3"}, 400, "bbox"),
    ("friches", {"bbox": "2,51,3,50"}, 400, "bbox"),
    ("friches", {"bbox": "2,50,3,51", "bbox-crs": "EPSG:9999"}, 400, "bbox-crs"),
    ("friches", {"filter": "site_statut = "}, 400, "filter"),
    ("friches", {"filter": "nope = 1"}, 400, "nope"),
    ("friches", {"filter": "{", "filter-lang": "cql2-json"}, 400, "filter"),
    ("friches", {"filter": "site_statut = 'x'", "filter-lang": "sql"}, 400, "filter-lang"),
    ("friches", {"datetime": "not-a-date"}, 400, "datetime"),
    ("friches", {"f": "html"}, 400, "html"),
    ("friches", {"color": "red"}, 400, "color"),
    ("friches", {"site_statut": "friche avec projet"}, 400, "site_statut"),
    ("surchauffe", {}, 400, "surchauffe"),
    ("nowhere", {"groupby": "x"}, 404, "nowhere"),
]


@pytest.mark.parametrize("cid,params,status,word", REFUSED,
                         ids=[f"{c}-{'&'.join(f'{k}={v}' for k, v in p.items())}"
                              for c, p, _, _ in REFUSED])
def test_refusals(server, cid, params, status, word):
    r = server.get(f"/collections/{cid}/aggregate", params=params)
    assert r.status_code == status, (params, r.status_code, r.text[:500])
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["code"] and body["description_fr"] and body["description_en"]
    assert body["description_fr"] != body["description_en"]
    assert word in body["description_en"] and word in body["description_fr"], body
    english = server.get(f"/collections/{cid}/aggregate", params={**params, "lang": "en"})
    assert english.json()["description"] == body["description_en"]


@pytest.mark.parametrize("store", ["embedded", "postgis"])
def test_too_many_groups_is_refused(store, manifest, monkeypatch, request):
    """More groups than the bound: a 400, not a huge answer. The bound is lowered for the
    test (no layer has 10,000 distinct keys), so this one runs in the test process, on the
    store itself: the store stops one group past the bound, the front refuses."""
    from services import aggregate as agg
    from services.errors import OGCError
    from services.settings import get_settings
    from services.store import backend_for
    if store == "postgis":
        monkeypatch.setenv("DATABASE_URL", request.getfixturevalue("database_url"))
        entries = json.loads((VAR / "store" / "manifest-postgis.json").read_text())
    else:
        monkeypatch.delenv("DATABASE_URL", raising=False)
        monkeypatch.delenv("ARTOIS_DATABASE_URL", raising=False)
        entries = manifest
    get_settings.cache_clear()
    try:
        entry = entries["friches"]
        backend = backend_for(entry)
        source = entry["table"] if store == "postgis" else entry["data"]
        reader = backend.reader({"data": source, "table": entry["table"]}, "site_id",
                                "site_actu_date")
        plan = agg.Plan(agg.parse_groupby("commune", reader.fields),
                        agg.parse_metrics("count", reader.fields, "Point", "friches"),
                        communes=entries["communes"], max_groups=3)
        rows = backend.aggregate(reader, plan)
        assert len(rows) == 4  # one past the bound, no more
        with pytest.raises(OGCError) as refused:
            agg.checked_groups(rows, plan)
        assert refused.value.status == 400
        assert refused.value.key == "aggregate_too_many_groups"
        assert "3" in refused.value.texts["fr"] and "3" in refused.value.texts["en"]
        plan.max_groups = 10_000
        groups = agg.checked_groups(backend.aggregate(reader, plan), plan)
        assert len(groups) > 3 and len(groups) == len({g["key"]["commune"] for g in groups})
    finally:
        get_settings.cache_clear()


# ---------------------------------------------------------------------------- documents
def test_openapi_and_links(server):
    oas = server.json("/openapi", params={"f": "json"})
    op = oas["paths"]["/collections/{collectionId}/aggregate"]["get"]
    names = {p["name"] for p in op["parameters"]}
    assert {"collectionId", "groupby", "metrics", "bbox", "bbox-crs", "filter", "filter-lang",
            "filter-crs", "datetime", "f"} <= names
    assert set(op["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert {"400", "404"} <= set(op["responses"])
    ids = next(p for p in op["parameters"] if p["name"] == "collectionId")["schema"]["enum"]
    assert "friches" in ids and "surchauffe" not in ids
    links = server.json("/collections/zae", params={"f": "json"})["links"]
    agg = [link for link in links if link["href"].endswith("/collections/zae/aggregate")]
    assert len(agg) == 1 and agg[0]["type"] == "application/json" and \
        agg[0]["title"] == "Agrégation / Aggregation"
    assert server.get(agg[0]["href"][len(server.url):]).status_code == 200
    coverage = server.json("/collections/surchauffe", params={"f": "json"})["links"]
    assert not [link for link in coverage if link["href"].endswith("/aggregate")]
