"""Key figures (issue 16), over real HTTP on both stores: the collection `chiffres-cles`, the
definitions at /chiffres-cles/indicateurs and the process `chiffres-cles-calcul`.

Expected values are recomputed here with geopandas from the layers as the server serves them
(read over HTTP in Lambert-93), with rasterio for the overheating, and with the other processes
(solar-potential, risk-matrix) for the figures that are theirs. The shared servers of
conftest.py are only read; the edit and the recomputes run on a private copy of each store
with its own server (embedded: a temp var dir with copies of the two GeoPackages written;
PostGIS: a scratch schema holding friches and chiffres_cles, the other layers read from the
shared schema), as tests/test_friche_observatory.py does.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import rasterio.mask
import requests
import shapely
import shapely.geometry
import yaml

from conftest import PROJECT, VAR, Server, start_server
from reference import CATALOG

ITEMS = "/collections/chiffres-cles/items"
DEFINITIONS = "/chiffres-cles/indicateurs"
EXECUTE = "/processes/chiffres-cles-calcul/execution"
L93 = "http://www.opengis.net/def/crs/EPSG/0/2154"
ISSUE_IDS = ("population", "friches_nombre", "friches_surface_ha", "zae_nombre",
             "zae_surface_disponible_ha", "cyclable_km")
HEAD = ("code", "niveau", "nom", "epci_siren", "date_calcul")
KEYS = "cc-editor-key:editor:eddie,cc-admin-key:admin:ada,cc-reader-key:reader:rita"
EDITOR, ADMIN, READER = ({"X-API-Key": f"cc-{r}-key"} for r in ("editor", "admin", "reader"))
RAMP = json.loads((PROJECT / "styles" / "surchauffe.ramp.json").read_text(encoding="utf-8"))
DEFS_FILE = yaml.safe_load((PROJECT / "processes" / "chiffres_cles" / "data" /
                            "indicateurs.yaml").read_text(encoding="utf-8"))
TOLERANCE_M = DEFS_FILE["parametres"]["tolerance_m"]
COOL = DEFS_FILE["sources"]["surchauffe-communes"]["cool_threshold_c"]
WAIT = 300  # seconds, bound of every wait on a recompute (about 15-30 s each on two cores)


# ---------------------------------------------------------------------------- reading
def layer(srv, cid: str) -> gpd.GeoDataFrame:
    """A whole collection as served, in Lambert-93."""
    r = srv.http.get(srv.url + f"/collections/{cid}/items", timeout=120,
                     params={"limit": 10000, "crs": L93})
    assert r.status_code == 200, r.text[:300]
    feats = r.json()["features"]
    gdf = gpd.GeoDataFrame.from_features(feats, crs=2154)
    gdf["_id"] = [str(f["id"]) for f in feats]
    return gdf


def figures(srv, **params) -> pd.DataFrame:
    r = srv.http.get(srv.url + ITEMS, timeout=60,
                     params={"limit": 1000, "skipGeometry": "true", **params})
    assert r.status_code == 200, r.text[:300]
    doc = r.json()
    rows = [{**f["properties"], "_id": str(f["id"])} for f in doc["features"]]
    return pd.DataFrame(rows).set_index("_id", drop=False)


def definitions(srv, **params) -> dict:
    r = srv.http.get(srv.url + DEFINITIONS, timeout=60, params=params)
    assert r.status_code == 200, r.text[:300]
    return r.json()


def assert_bilingual(r: requests.Response, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:500])
    body = r.json()
    assert body["description_fr"] and body["description_en"], body
    assert body["description_fr"] != body["description_en"], body
    return body


# ---------------------------------------------------------------------------- independent
def by_commune(features: gpd.GeoDataFrame, communes: gpd.GeoDataFrame) -> pd.Series:
    """The commune of each feature: the one containing its point (the point itself, or a
    point on the line or polygon), else the nearest within the tolerance."""
    geoms = features.geometry
    pts = gpd.GeoDataFrame(geometry=geoms.where(geoms.geom_type == "Point",
                                                geoms.representative_point()), crs=2154)
    hit = gpd.sjoin(pts, communes[["insee", "geometry"]], predicate="within", how="left")
    hit = hit[~hit.index.duplicated()]["insee"]
    lost = hit[hit.isna()].index
    if len(lost):
        near = gpd.sjoin_nearest(pts.loc[lost], communes[["insee", "geometry"]],
                                 max_distance=TOLERANCE_M, how="left")
        hit.loc[lost] = near[~near.index.duplicated()]["insee"]
    return hit


def clipped_km(lines: gpd.GeoDataFrame, zone) -> float:
    return float(lines.geometry.intersection(zone).length.sum()) / 1000


def raster_cells(zone) -> np.ndarray:
    manifest = json.loads((VAR / "store" / "manifest.json").read_text())
    files = manifest["surchauffe"]["files"]
    with rasterio.open(files[max(files, key=int)]) as src:
        cut, _ = rasterio.mask.mask(src, [shapely.geometry.mapping(zone)], crop=True,
                                    nodata=src.nodata)
        return cut[0][cut[0] != src.nodata].astype("float64")


@pytest.fixture(scope="module")
def layers(server) -> dict[str, gpd.GeoDataFrame]:
    got = {cid: layer(server, cid) for cid in ("communes", "friches", "zae",
                                                "amenagements-cyclables", "safn")}
    got["communes"]["insee"] = got["communes"]["insee"].astype(str)
    return got


@pytest.fixture(scope="module")
def samples(layers) -> list[str]:
    """Béthune, Lens, the commune receiving the two friches just outside the generalised
    outlines, and the first commune (by code) of each EPCI."""
    c, fr = layers["communes"], layers["friches"]
    first = c.sort_values("insee").groupby("epci_siren")["insee"].first().tolist()
    within = gpd.sjoin(fr, c[["insee", "geometry"]], predicate="within", how="left")
    lost = within[within["insee"].isna()].index.unique()
    extra = set(by_commune(fr.loc[lost], c).dropna())
    assert extra, "the generalised outlines leave two real friches just outside"
    return sorted({"62119", "62498", *extra, *first})


def zones(layers, codes: list[str]) -> dict[str, object]:
    """Each sample commune, each EPCI (union of its communes), the territory."""
    c = layers["communes"]
    out = {code: c.loc[c["insee"] == code].geometry.iloc[0] for code in codes}
    for siren, part in c.groupby("epci_siren"):
        out[str(siren)] = shapely.union_all(part.geometry.to_numpy())
    out["artois"] = shapely.union_all(c.geometry.to_numpy())
    return out


def members(layers, code: str) -> set[str]:
    c = layers["communes"]
    if code == "artois":
        return set(c["insee"])
    if len(code) == 9:
        return set(c.loc[c["epci_siren"] == code, "insee"])
    return {code}


# ---------------------------------------------------------------------------- the collection
def test_one_feature_per_territory_with_the_issue_ids(server, layers):
    fig = figures(server)
    assert len(fig) == 310
    assert fig["niveau"].value_counts().to_dict() == {"commune": 305, "epci": 4, "territoire": 1}
    c = layers["communes"]
    assert set(fig.index[fig["niveau"] == "commune"]) == set(c["insee"])
    assert set(fig.index[fig["niveau"] == "epci"]) == set(c["epci_siren"].astype(str))
    assert set(fig.index[fig["niveau"] == "territoire"]) == {"artois"}
    assert (fig["code"] == fig.index).all()
    ids = [i["id"] for i in definitions(server)["indicateurs"]]
    assert set(ISSUE_IDS) <= set(ids)
    assert set(ids) | set(HEAD) <= set(fig.columns)
    communes = fig[fig["niveau"] == "commune"]
    names = dict(zip(c["insee"], c["nom"]))
    assert all(names[code] == name for code, name in zip(communes.index, communes["nom"]))


def test_consistency_across_levels(server, layers):
    """Additive figures: EPCI = sum of its communes, territory = sum of all (to rounding);
    shares and means recomputed from their parts; categories add up to their total."""
    fig = figures(server)
    defs = definitions(server)["indicateurs"]
    c = layers["communes"]
    communes = fig[fig["niveau"] == "commune"]
    epci_of = dict(zip(c["insee"], c["epci_siren"].astype(str)))
    for ind in defs:
        iid, step = ind["id"], 0.5 * 10 ** -ind["decimales"]
        if not ind["additif"]:
            continue
        for siren in fig.index[fig["niveau"] == "epci"]:
            part = communes.loc[[k for k in communes.index if epci_of[k] == siren], iid]
            assert fig.loc[siren, iid] == pytest.approx(part.sum(),
                                                        abs=step * (len(part) + 1) + 1e-9), \
                (iid, siren)
        assert fig.loc["artois", iid] == pytest.approx(
            communes[iid].sum(), abs=step * (len(communes) + 1) + 1e-9), iid
    assert fig.loc["artois", "friches_nombre"] == 246 == len(layers["friches"])
    assert fig.loc["artois", "population"] == int(c["population_municipale"].sum())
    # every commune has each risk of the environmental matrix in one class (or not assessed)
    per_commune = int(communes.iloc[0][[k for k in fig.columns if k.startswith("risques_")]]
                      .sum())
    assert per_commune >= 1
    for code in fig.index:
        row = fig.loc[code]
        assert row["friches_nombre"] == sum(row[k] for k in fig.columns
                                            if k.startswith("friches_statut_"))
        assert row["friches_nombre"] == sum(row[k] for k in fig.columns
                                            if k.startswith("friches_mutabilite_"))
        assert row["solaire_toitures_nombre"] == sum(
            row[f"solaire_toitures_{k}"] for k in ("excellent", "bon", "moyen", "faible",
                                                   "defavorable"))
        types = [k for k in fig.columns if k.startswith("cyclable_km_")
                 and not k.startswith(("cyclable_km_avant", "cyclable_km_depuis"))]
        assert sum(row[k] for k in types) == pytest.approx(row["cyclable_km"], abs=0.06)
        assert row["cyclable_km_avant_pdu_2018"] + row["cyclable_km_depuis_pdu_2018"] == \
            pytest.approx(row["cyclable_km"], abs=0.02)
        risks = sum(row[k] for k in fig.columns if k.startswith("risques_"))
        assert risks == per_commune * len(members(layers, code))
        if row["zae_surface_ha"]:  # from the unrounded parts: each is to 0.005 ha
            ha = row["zae_surface_ha"]
            assert row["zae_part_disponible"] == pytest.approx(
                100 * row["zae_surface_disponible_ha"] / ha, abs=0.051 + 100 * 0.01 / ha)
        km2 = row["surface_km2"]
        assert row["densite_hab_km2"] == pytest.approx(
            row["population"] / km2, abs=0.051 + row["population"] * 0.005 / km2 ** 2)


def test_values_recomputed_from_the_layers(server, layers, samples):
    """A few communes, each EPCI and the territory, against geopandas on the served layers."""
    fig = figures(server)
    c, fr, zae, cyc, safn = (layers[k] for k in ("communes", "friches", "zae",
                                                 "amenagements-cyclables", "safn"))
    fr = fr.assign(commune=by_commune(fr, c))
    zae = zae.assign(commune=by_commune(zae, c))
    safn = safn.assign(commune=by_commune(safn, c))
    in_zae = gpd.sjoin(fr, zae[["geometry"]], predicate="within", how="inner").index.unique()
    service = pd.to_datetime(cyc["d_service"].astype(str).str[:10])
    checked = 0
    for code, zone in zones(layers, samples).items():
        inside = members(layers, code)
        f, z, s = (d[d["commune"].isin(inside)] for d in (fr, zae, safn))
        row = fig.loc[code]
        expected = {
            "population": int(c.loc[c["insee"].isin(inside), "population_municipale"].sum()),
            "surface_km2": round(float(c.loc[c["insee"].isin(inside)].area.sum()) / 1e6, 2),
            "friches_nombre": len(f),
            "friches_surface_ha": round(f["site_surface"].fillna(0).sum() / 1e4, 2),
            "friches_statut_avec_projet": int((f["site_statut"] == "friche avec projet").sum()),
            "zae_nombre": len(z),
            "zae_surface_disponible_ha": round(z["surface_disponible_ha"].fillna(0).sum(), 2),
            "zae_friches_nombre": int(f.index.isin(in_zae).sum()),
            "safn_nombre": len(s),
            "safn_noue": int((s["type_solution"] == "noue végétalisée").sum()),
            "cyclable_km": round(clipped_km(cyc, zone), 2),
            "cyclable_km_depuis_plan_2023": round(
                clipped_km(cyc[service >= "2023-01-01"], zone), 2),
            "cyclable_km_voie_verte": round(clipped_km(cyc[
                (cyc["ame_d"] == "VOIE VERTE") |
                ((cyc["ame_d"].fillna("AUCUN") == "AUCUN") & (cyc["ame_g"] == "VOIE VERTE"))],
                zone), 2),
        }
        # every level is rounded once, after its sum: to one unit of the last decimal
        slack = 0.011
        for key, value in expected.items():
            assert row[key] == pytest.approx(value, abs=slack), (code, key)
        if len(f):
            assert row["friches_part_avec_projet"] == pytest.approx(
                100 * expected["friches_statut_avec_projet"] / len(f), abs=0.06)
        cells = raster_cells(zone)
        assert row["surchauffe_anomalie_moyenne"] == pytest.approx(cells.mean(), abs=0.011)
        assert row["surchauffe_part_chaude"] == pytest.approx(
            100 * (cells >= RAMP["hot_threshold"]).mean(), abs=0.06)
        assert row["surchauffe_part_fraiche"] == pytest.approx(
            100 * (cells <= COOL).mean(), abs=0.06)
        checked += 1
    assert checked == len(samples) + 5


def test_solar_and_risk_figures_are_the_processes_answers(server, layers, samples):
    """Roofs: the solar-potential process run on the buildings of the commune; risks: the
    risk-matrix process run on the commune."""
    bat = layer(server, "batiments")
    bat = bat.assign(commune=by_commune(bat, layers["communes"]))
    fig = figures(server)
    for code in samples[:4]:
        ids = sorted(bat.loc[bat["commune"] == code, "_id"])
        row = fig.loc[code]
        assert row["solaire_toitures_nombre"] == len(ids)
        if ids:
            r = server.post("/processes/solar-potential/execution",
                            data=json.dumps({"inputs": {"batiments": ids}}),
                            headers={"Content-Type": "application/json"})
            assert r.status_code == 200, r.text[:300]
            roofs = r.json()["features"]
            # one site for the whole territory here, the roofs' centre for the process
            assert row["solaire_potentiel_mwh_an"] == pytest.approx(
                sum(f["properties"]["production_kwh_yr"] for f in roofs) / 1000, rel=0.005)
            classes = pd.Series([f["properties"]["class"] for f in roofs])
            assert row["solaire_toitures_excellent"] == int((classes == 5).sum())
            assert row["solaire_toitures_moyen"] == int((classes == 3).sum())
        r = server.post("/processes/risk-matrix/execution",
                        data=json.dumps({"inputs": {"commune": code}}),
                        headers={"Content-Type": "application/json"})
        assert r.status_code == 200, r.text[:300]
        crit = pd.Series([risk["criticity"] for risk in r.json()["risks"]], dtype=object)
        assert row["risques_tres_critiques"] == int((crit == "très critique").sum())
        assert row["risques_critiques"] == int((crit == "critique").sum())
        assert row["risques_moderes"] == int((crit == "modéré").sum())
        assert row["risques_non_evalues"] == int(crit.isna().sum())


def test_filter_sort_csv_skip_geometry(server, layers):
    fig = figures(server)
    communes = fig[fig["niveau"] == "commune"]
    # property filter, CQL2 filter, sort
    assert set(figures(server, niveau="epci").index) == set(fig.index[fig["niveau"] == "epci"])
    big = figures(server, filter="niveau = 'commune' AND population > 20000")
    assert set(big.index) == set(communes.index[communes["population"] > 20000]) and len(big)
    top = server.json(ITEMS, params={"sortby": "-population", "limit": 5, "niveau": "commune",
                                     "skipGeometry": "true"})
    assert [f["id"] for f in top["features"]] == \
        list(communes.sort_values("population", ascending=False).index[:5])
    # skipGeometry: no geometry; otherwise the territory's polygon
    assert all(f["geometry"] is None for f in top["features"])
    one = server.json(f"{ITEMS}/62119", params={"crs": L93})
    c = layers["communes"]
    commune = c.loc[c["insee"] == "62119"].geometry.iloc[0]
    got = shapely.geometry.shape(one["geometry"])
    assert got.geom_type == "MultiPolygon"
    assert got.symmetric_difference(commune).area < 1e-3 * commune.area
    # CSV: every territory, every indicator
    r = server.get(ITEMS, params={"f": "csv", "limit": 1000, "skipGeometry": "true"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 310
    by_code = {row["code"]: row for row in rows}
    for iid in ISSUE_IDS:
        assert float(by_code["artois"][iid]) == pytest.approx(float(fig.loc["artois", iid]))
    # typed queryables
    props = server.json("/collections/chiffres-cles/queryables")["properties"]
    assert props["friches_nombre"]["type"] == "integer"
    assert props["cyclable_km"]["type"] == "number"
    assert props["niveau"]["enum"] == ["commune", "epci", "territoire"]


@pytest.mark.skipif(shutil.which("ogr2ogr") is None,
                    reason="gdal-bin is installed by scripts/setup.sh --test-tools")
def test_gdal_reads_the_collection(server, tmp_path):
    env = {"CPL_DEBUG": "OFF", "GDAL_HTTP_TIMEOUT": "60", "PATH": "/usr/bin:/bin"}
    info = subprocess.run(["ogrinfo", "-ro", "-so", f"OAPIF:{server.url}", "chiffres-cles"],
                          capture_output=True, text=True, timeout=300, env=env)
    assert info.returncode == 0, info.stderr[-2000:]
    assert "Feature Count: 310" in info.stdout and "friches_nombre" in info.stdout
    out = tmp_path / "epci.geojson"
    run = subprocess.run(["ogr2ogr", "-f", "GeoJSON", "-where", "niveau = 'epci'", str(out),
                          f"OAPIF:{server.url}", "chiffres-cles"], capture_output=True,
                         text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    feats = json.loads(out.read_text())["features"]
    fig = figures(server)
    assert {f["properties"]["code"] for f in feats} == set(fig.index[fig["niveau"] == "epci"])
    for f in feats:
        assert f["properties"]["population"] == fig.loc[f["properties"]["code"], "population"]


def test_qgis_reads_the_collection(server):
    from qgis_runner import qgis_available, run_client
    if not qgis_available():
        pytest.skip("python3-qgis is installed by scripts/setup.sh --test-tools")
    seen = run_client("qgis_oapif.py", server.url, json.dumps({"chiffres-cles": ""}))
    info = seen["chiffres-cles"]
    assert info["valid"] and info["count"] == 310
    assert set(ISSUE_IDS) | {"niveau", "code"} <= set(info["fields"])
    seen = run_client("qgis_oapif.py", server.url,
                      json.dumps({"chiffres-cles": "\"niveau\" = 'epci'"}))
    assert seen["chiffres-cles"]["subset_accepted"] and seen["chiffres-cles"]["count"] == 4


def test_an_indicator_added_in_the_file_needs_no_code(server, layers):
    """The engine reads the method from the file: an entry added there (a count with a
    filter, a ratio of it) is computed for every level like the shipped ones."""
    from processes.chiffres_cles import core, definitions as defs_module

    raw = {**DEFS_FILE, "sources": {k: DEFS_FILE["sources"][k] for k in ("communes", "friches")}}
    raw["indicateurs"] = [i for i in DEFS_FILE["indicateurs"]
                          if i["id"] in ("population", "friches_nombre")] + [
        {"id": "friches_amiante", "theme": "foncier", "source": "friches", "method": "count",
         "where": {"bati_pollution": "amiante"}, "decimals": 0,
         "label": {"fr": "Friches à bâti amianté", "en": "Brownfields with asbestos"},
         "unit": {"fr": "sites", "en": "sites"}},
        {"id": "friches_amiante_pour_100", "theme": "foncier", "source": "friches",
         "method": "ratio", "numerator": "friches_amiante", "denominator": "friches_nombre",
         "factor": 100, "decimals": 1,
         "label": {"fr": "Part des friches à bâti amianté", "en": "Share with asbestos"},
         "unit": {"fr": "%", "en": "%"}}]
    defs = defs_module.parse_definitions(raw)
    c, fr = layers["communes"], layers["friches"]
    epci = layer(server, "epci")
    out, report = core.compute(defs, {"communes": c, "friches": fr}, c, epci)
    out = out.set_index("code")
    asbestos = fr["bati_pollution"] == "amiante"
    assert out.loc["artois", "friches_amiante"] == int(asbestos.sum()) > 0
    commune_of = by_commune(fr, c)
    for code, n in commune_of[asbestos].value_counts().items():
        assert out.loc[code, "friches_amiante"] == n
    for siren in set(c["epci_siren"].astype(str)):
        inside = members(layers, siren)
        total, hit = commune_of.isin(inside).sum(), (commune_of.isin(inside) & asbestos).sum()
        expected = round(100 * hit / total, 1) if total else None
        got = out.loc[siren, "friches_amiante_pour_100"]
        assert (got == pytest.approx(expected, abs=0.051)) if expected is not None \
            else pd.isna(got), siren
    assert report["territoire"] == 1 and report["hors_territoire"] == {}


# ---------------------------------------------------------------------------- definitions
def test_definitions_json_csv_and_errors(server, layers):
    doc = definitions(server)
    fig = figures(server)
    indicators = {i["id"]: i for i in doc["indicateurs"]}
    columns = [k for k in fig.columns if k not in HEAD and not k.startswith("date_")
               and k != "_id"]
    assert list(indicators) == columns  # same ids, same order as the collection's properties
    themes = {t["id"] for t in doc["themes"]}
    for ind in indicators.values():
        assert ind["label_fr"] and ind["label_en"] and ind["unit_fr"] and ind["unit_en"]
        assert ind["theme"] in themes and ind["source_fr"] and ind["collections"]
        assert ind["demo"] == any(CATALOG[c].demo for c in ind["collections"]), ind["id"]
        assert ind["date_donnees"], ind["id"]
    assert not indicators["population"]["demo"] and not indicators["friches_nombre"]["demo"]
    assert indicators["zae_nombre"]["demo"] and indicators["cyclable_km"]["demo"]
    assert {"foncier", "économie", "mobilité", "environnement", "énergie", "risques",
            "population"} <= themes
    # the date of each figure's data
    latest = pd.to_datetime(layers["friches"]["site_actu_date"]).max().strftime("%Y-%m-%d")
    assert indicators["friches_nombre"]["date_donnees"] == latest
    files = json.loads((VAR / "store" / "manifest.json").read_text())["surchauffe"]["files"]
    assert indicators["surchauffe_part_chaude"]["date_donnees"] == f"{max(files, key=int)}-08-31"
    assert doc["date_calcul"] and fig["date_calcul"].nunique() == 1
    for _ in range(3):  # a background recompute may land between the two reads
        if doc["date_calcul"] == figures(server)["date_calcul"].iloc[0]:
            break
        doc = definitions(server)
    else:
        pytest.fail("the definitions' date_calcul is not the figures'")
    # English, CSV
    en = definitions(server, lang="en")
    assert {i["id"]: i["label"] for i in en["indicateurs"]}["friches_nombre"] == \
        indicators["friches_nombre"]["label_en"]
    r = server.get(DEFINITIONS, params={"f": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["id"] for row in rows] == columns
    assert {row["id"]: row["demo"] for row in rows}["population"] == "false"
    # described in the collection and in the OpenAPI document
    links = server.json("/collections/chiffres-cles")["links"]
    assert any(link["href"].endswith(DEFINITIONS + "?f=json") for link in links)
    api = server.json("/openapi", params={"f": "json"})
    assert DEFINITIONS in api["paths"]
    # bad requests: bilingual 400
    assert_bilingual(server.get(DEFINITIONS, params={"f": "xml"}), 400)
    assert_bilingual(server.get(DEFINITIONS, params={"limit": "3"}), 400)


# ---------------------------------------------------------------------------- scratch stores
@dataclass
class Stack:
    kind: str
    env: dict
    server: Server

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def http(self) -> requests.Session:
        return self.server.http

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.server.http.request(method, self.url + path, timeout=WAIT, **kwargs)

    def execute(self, inputs: dict, headers: dict | None = None) -> requests.Response:
        return self.request("POST", EXECUTE, data=json.dumps({"inputs": inputs}),
                            headers={"Content-Type": "application/json", **(headers or {})})

    def patch(self, fid: str, props: dict) -> requests.Response:
        etag = self.request("GET", f"/collections/friches/items/{fid}").headers["ETag"]
        return self.request("PATCH", f"/collections/friches/items/{fid}",
                            data=json.dumps({"properties": props}),
                            headers={"Content-Type": "application/merge-patch+json",
                                     **EDITOR, "If-Match": etag})

    def settle(self) -> None:
        """Wait until no job waits or runs (a recompute queued by the copy's build)."""
        deadline = time.monotonic() + WAIT
        while True:
            jobs = self.request("GET", "/jobs", params={"limit": 1000}, headers=ADMIN).json()
            if not any(j["status"] in ("accepted", "running") for j in jobs["jobs"]):
                return
            assert time.monotonic() < deadline, jobs
            time.sleep(0.5)


def _cli(env: dict, *args: str) -> None:
    out = subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=PROJECT,
                         env={**os.environ, **env}, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, (args, out.stdout[-2000:], out.stderr[-3000:])


@contextlib.contextmanager
def open_stack(kind: str, request, tmp_path_factory):
    var = tmp_path_factory.mktemp(f"chiffres-{kind}") / "var"
    store = var / "store"
    store.mkdir(parents=True)
    env = {"ARTOIS_VAR_DIR": str(var), "DATABASE_URL": "", "ARTOIS_API_KEYS": KEYS,
           "ARTOIS_JOB_SYNC_WAIT": str(WAIT)}
    schema = url = None
    if kind == "embedded":
        request.getfixturevalue("manifest")
        manifest = json.loads((VAR / "store" / "manifest.json").read_text())
        for cid in ("friches", "chiffres-cles"):  # the two tables written; the rest is read
            target = store / Path(manifest[cid]["data"]).name
            shutil.copy(manifest[cid]["data"], target)
            manifest[cid]["data"] = str(target)
        (store / "manifest.json").write_text(json.dumps(manifest))
    else:
        import psycopg
        url = request.getfixturevalue("database_url")
        schema = f"test_cc_{uuid.uuid4().hex[:8]}"
        env.update(DATABASE_URL=url, ARTOIS_DB_SCHEMA=schema)
        manifest = json.loads((VAR / "store" / "manifest-postgis.json").read_text())
        shared = manifest["chiffres-cles"]["table"]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
            conn.execute(f'CREATE TABLE "{schema}".chiffres_cles (LIKE {shared} INCLUDING ALL)')
            conn.execute(f'INSERT INTO "{schema}".chiffres_cles SELECT * FROM {shared}')
        manifest["chiffres-cles"]["table"] = f"{schema}.chiffres_cles"
        (store / "manifest-postgis.json").write_text(json.dumps(manifest))
        _cli(env, "build", "friches")  # friches in the scratch schema
        with psycopg.connect(url, autocommit=True) as conn:
            # the recompute this build queued would only rewrite the copied figures (the same
            # friches): not run while the server starts (the shared test machine is busy)
            if conn.execute("SELECT to_regclass(%s)", (f'"{schema}".jobs',)).fetchone()[0]:
                conn.execute(f'DELETE FROM "{schema}".jobs')
    try:
        stack = Stack(kind, env, start_server(env, f"chiffres-{kind}"))
        try:
            yield stack
        finally:
            stack.server.stop()
    finally:
        if schema:
            import psycopg
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(scope="module", params=["embedded", "postgis"])
def stack(request, tmp_path_factory):
    with open_stack(request.param, request, tmp_path_factory) as s:
        yield s


def test_the_process_reads_and_guards_the_recompute(stack):
    r = stack.execute({"code": "62119"})
    assert r.status_code == 200, r.text[:300]
    out = r.json()
    assert out["territoire"]["nom"] == "Béthune" and out["territoire"]["niveau"] == "commune"
    stored = figures(stack).loc["62119"]
    assert out["chiffres"]["population"] == stored["population"]
    assert out["chiffres"]["cyclable_km"] == pytest.approx(stored["cyclable_km"])
    assert stack.execute({}).json()["territoire"]["code"] == "artois"
    assert_bilingual(stack.execute({"recompute": True}), 401)
    assert_bilingual(stack.execute({"recompute": True}, READER), 403)
    assert_bilingual(stack.execute({"code": "abc"}), 400)
    assert_bilingual(stack.execute({"recompute": "yes"}, EDITOR), 400)
    assert_bilingual(stack.execute({"nope": 1}), 400)
    assert_bilingual(stack.execute({"code": "99999"}), 404)


def test_an_edit_changes_the_figures_after_recomputation(stack):
    """A Part 4 edit queues the recompute (services/jobs/triggers.py): the figures of the
    friche's commune, EPCI and the territory change; the restore, then an explicit run of the
    process, bring them back."""
    stack.settle()
    communes = layer(stack, "communes")
    communes["insee"] = communes["insee"].astype(str)
    friches = layer(stack, "friches")
    friches["commune"] = by_commune(friches, communes)
    target = friches[friches["site_statut"] == "friche potentielle"].sort_values("_id").iloc[0]
    fid, code = target["_id"], target["commune"]
    siren = str(communes.loc[communes["insee"] == code, "epci_siren"].iloc[0])
    before = figures(stack)
    watched = ["friches_statut_avec_projet", "friches_statut_potentielle",
               "friches_part_avec_projet"]
    try:
        r = stack.patch(fid, {"site_statut": "friche avec projet"})
        assert r.status_code == 200, r.text[:500]
        deadline = time.monotonic() + WAIT
        while True:  # the job queued by the edit rewrites the figures
            after = figures(stack)
            if after.loc["artois", "date_calcul"] > before.loc["artois", "date_calcul"] and \
                    after.loc[code, "friches_statut_avec_projet"] != \
                    before.loc[code, "friches_statut_avec_projet"]:
                break
            assert time.monotonic() < deadline, "no recompute after the edit"
            time.sleep(1)
        for key in (code, siren, "artois"):
            assert after.loc[key, "friches_statut_avec_projet"] == \
                before.loc[key, "friches_statut_avec_projet"] + 1, key
            assert after.loc[key, "friches_statut_potentielle"] == \
                before.loc[key, "friches_statut_potentielle"] - 1, key
            assert after.loc[key, "friches_part_avec_projet"] == pytest.approx(
                100 * after.loc[key, "friches_statut_avec_projet"] /
                after.loc[key, "friches_nombre"], abs=0.06)
        untouched = [k for k in after.index if k not in (code, siren, "artois")]
        pd.testing.assert_frame_equal(after.loc[untouched, watched],
                                      before.loc[untouched, watched])
    finally:
        r = stack.patch(fid, {"site_statut": "friche potentielle"})
        assert r.status_code == 200, r.text[:500]
    r = stack.execute({"recompute": True, "code": code}, EDITOR)
    assert r.status_code == 200, r.text[:500]
    done = r.json()
    assert done["recalcul"]["lignes"] == 310 or not done["recalcul"]["ecrit"]
    stack.settle()  # the job queued by the restore, if it came last, wrote the same figures
    final = figures(stack)
    for key in (code, siren, "artois"):
        for col in watched + ["friches_nombre", "population"]:
            assert final.loc[key, col] == before.loc[key, col], (key, col)
    assert final.loc["artois", "date_calcul"] >= done["territoire"]["date_calcul"]
