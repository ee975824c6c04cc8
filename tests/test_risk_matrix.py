"""The risk-matrix process: the data-driven core (rules -> classes -> grid), the indicators on
the real layers checked against independent geopandas/rasterio computations, the SVG grid, the
seeded hazard generators, the actions and trend of the environmental side, and the process
over real HTTP on both stores (the societal side: tests/test_risk_matrix_societal.py)."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import rasterio.mask
import shapely
import yaml

from processes.risk_matrix import core, indicators, svg
from processes.risk_matrix import processor as rm_processor
from reference import CATALOG, reference
from services.demo import hazards

PROJECT = Path(__file__).resolve().parent.parent
PROCESS = "/processes/risk-matrix/execution"
SVG_NS = "{http://www.w3.org/2000/svg}"
HAZARDS = ["alea-inondation", "alea-argiles", "bruit", "qualite-air"]
ENV_IDS = [f"R{i}" for i in range(1, 9)]
SOC_IDS = ["R1", "R2", "R3", "R5", "R6", "R7", "R8", "R9", "R11", "R12", "R14", "R17"]
#: Béthune (town on the Lawe), Lens (core of the mining basin), Anvin (rural Ternois, Ternoise)
COMMUNES = ["62119", "62498", "62036"]


@pytest.fixture(scope="module")
def rules():
    return core.load_rules()


# =============================================================================== core: rules
def test_packaged_rules_are_complete(rules):
    assert [r["id"] for r in rules["environmental"]] == ENV_IDS
    assert [r["id"] for r in rules["societal"]["risks"]] == SOC_IDS
    assert rules["scales"]["probability"] == ["Improbable", "Peu probable", "Probable",
                                              "Très probable"]
    assert rules["scales"]["gravity"] == ["Mineur", "Majeur", "Critique", "Catastrophique"]
    assert rules["scales"]["criticity"] == ["modéré", "critique", "très critique"]
    for risk in rules["environmental"] + rules["societal"]["risks"]:
        for axis in ("probability", "gravity"):
            assert risk[axis].get("why"), (risk["id"], axis)  # every threshold is justified
    sources_md = (PROJECT / "processes/risk_matrix/data/SOURCES.md").read_text(encoding="utf-8")
    for risk in rules["environmental"] + rules["societal"]["risks"]:
        assert risk["probability"]["indicator"] in sources_md
        assert risk["gravity"]["indicator"] in sources_md
    # the ids the source does not name are reserved, never used
    assert rules["societal"]["reserved"] == ["R4", "R10", "R13", "R15", "R16"]
    assert not set(rules["societal"]["reserved"]) & set(SOC_IDS)


def test_classify_increasing_decreasing_cap_fixed_missing(rules):
    P, G = rules["scales"]["probability"], rules["scales"]["gravity"]
    inc = {"indicator": "x", "thresholds": [1, 10, 30]}
    assert [core.classify(v, inc, P) for v in (0, 0.99, 1, 9.99, 10, 29.9, 30, 1e9)] == [
        "Improbable", "Improbable", "Peu probable", "Peu probable", "Probable", "Probable",
        "Très probable", "Très probable"]
    dec = {"indicator": "apl", "thresholds": [4, 2.5, 1.5], "direction": "decreasing"}
    assert [core.classify(v, dec, P) for v in (5, 4, 3.9, 2.5, 2.4, 1.5, 1.0)] == [
        "Improbable", "Improbable", "Peu probable", "Peu probable", "Probable", "Probable",
        "Très probable"]
    capped = {"indicator": "x", "thresholds": [1, 2, 3], "cap": "Majeur"}
    assert core.classify(100, capped, G) == "Majeur"
    assert core.classify(0, capped, G) == "Mineur"
    assert core.classify(None, {"fixed": "Critique"}, G) == "Critique"
    for missing in (None, float("nan"), "abc", True):
        assert core.classify(missing, inc, P) is None


def test_grid_mapping(rules):
    P, G = rules["scales"]["probability"], rules["scales"]["gravity"]
    crit = rules["scales"]["criticity"]
    expected = {("Mineur", "Improbable"): "modéré", ("Mineur", "Très probable"): "critique",
                ("Majeur", "Probable"): "critique", ("Critique", "Peu probable"): "critique",
                ("Critique", "Très probable"): "très critique",
                ("Catastrophique", "Improbable"): "critique",
                ("Catastrophique", "Probable"): "très critique"}
    for (g, p), c in expected.items():
        assert core.criticity(rules, g, p) == c
    # never less critical when gravity or probability goes up
    for i, g in enumerate(G):
        for j, p in enumerate(P):
            c = crit.index(core.criticity(rules, g, p))
            if i + 1 < len(G):
                assert crit.index(core.criticity(rules, G[i + 1], p)) >= c
            if j + 1 < len(P):
                assert crit.index(core.criticity(rules, g, P[j + 1])) >= c
    assert core.criticity(rules, None, "Probable") is None
    grid = core.grid(rules, [])
    assert len(grid["cells"]) == 16
    assert grid["cells"][0]["gravity"] == "Catastrophique"  # top row first


def _copy_rules(tmp_path, edit) -> Path:
    data = yaml.safe_load(core.RULES_PATH.read_text(encoding="utf-8"))
    edit(data)
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_editing_a_threshold_in_a_copy_changes_the_class(rules, tmp_path):
    """The core is driven by the data file: same indicator values, edited file, new class."""
    values = {"part_surface_surchauffe_pct": 12.0, "population_exposee": 1500.0}
    r1 = next(r for r in rules["environmental"] if r["id"] == "R1")
    before = core.assess(r1, values, [], rules)
    assert (before["probability"], before["gravity"]) == ("Probable", "Majeur")

    def edit(data):
        r = next(r for r in data["environmental"] if r["id"] == "R1")
        r["probability"]["thresholds"] = [1, 5, 11]  # 12 % is now "Très probable"
        data["grid"]["Majeur"][3] = "très critique"

    edited = core.load_rules(_copy_rules(tmp_path, edit))
    r1e = next(r for r in edited["environmental"] if r["id"] == "R1")
    after = core.assess(r1e, values, [], edited)
    assert (after["probability"], after["gravity"], after["criticity"]) == (
        "Très probable", "Majeur", "très critique")
    assert after["basis"]["probability"]["thresholds"] == [1, 5, 11]
    # the packaged rules are untouched
    assert core.load_rules()["grid"]["Majeur"][3] == "critique"


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["environmental"][0]["probability"].update(thresholds=[10, 1, 30]), "monotonic"),
    (lambda d: d["environmental"][0]["gravity"].update(thresholds=[1, 2]), "3 numbers"),
    (lambda d: d["grid"].pop("Mineur"), "grid rows"),
    (lambda d: d["grid"]["Majeur"].__setitem__(0, "rouge"), "not a criticity"),
    (lambda d: d["environmental"][1].update(id="R1"), "duplicate"),
    (lambda d: d["societal"]["risks"][0]["probability"].update(indicator="inconnu"),
     "not a declared"),
    (lambda d: d["societal"]["risks"][0].update(id="R4"), "reserved"),
    (lambda d: d["societal"]["indicators"]["population_qpv"]["derive"].update(
        product=["population", "nb_chomeurs"]), "not declared above"),
    (lambda d: d["societal"]["indicators"]["population"]["compute"].update(kind="guess"),
     "compute.kind"),
    (lambda d: d["environmental"][0]["trend"].pop("stable_band"), "stable_band"),
    (lambda d: d["societal"]["deprecated"]["risks"].update(S8="R99"), "not a risk"),
])
def test_inconsistent_rules_are_refused(tmp_path, edit, message):
    with pytest.raises(core.RulesError, match=message):
        core.load_rules(_copy_rules(tmp_path, edit))


def _fake_env() -> dict:
    return {
        "R1": {"part_surface_surchauffe_pct": 40, "population_exposee": 12000},
        "R2": {"part_zone_inondable_pct": 0, "population_exposee": 0},
        "R3": {"part_exposition_moyenne_forte_pct": 80, "population_exposee_moyen_fort": 9e9},
        "R4": {"densite_sites_km2": 0.3, "population_zone_influence": 150},
        "R5": {"part_surface_lden_eleve_pct": 4, "population_exposee_lden_55": 2500},
        "R6": {"indice_culture_risque": 0, "population_exposee": 0},
        "R7": {"indice_pollution": None, "population_proximite": 10},
        "R8": {"ratio_valeur_limite": 0.9, "population_exposee_depassement": 600},
    }


def test_build_matrix(rules):
    env = _fake_env()
    env_before = copy.deepcopy(env)
    sources = {rid: [{"collection": "communes", "demo": False}] for rid in env}
    entries = core.environmental_entries(env, sources, rules)
    m = core.build_matrix({"insee": "62000"}, "environmental", entries, rules)
    assert env == env_before  # arguments are not mutated
    assert m["kind"] == "environmental" and m["societal"] == []
    by_id = {e["id"]: e for e in m["environmental"]}
    assert [e["id"] for e in m["environmental"]] == ENV_IDS
    assert (by_id["R1"]["probability"], by_id["R1"]["gravity"], by_id["R1"]["criticity"]) == (
        "Très probable", "Catastrophique", "très critique")
    assert by_id["R3"]["gravity"] == "Majeur"  # capped
    assert by_id["R3"]["basis"]["gravity"]["next_threshold"] is None  # at its cap
    assert (by_id["R2"]["probability"], by_id["R2"]["criticity"]) == ("Improbable", "modéré")
    assert by_id["R2"]["basis"]["probability"]["next_threshold"] == 1  # what to watch
    assert not by_id["R7"]["assessed"] and by_id["R7"]["criticity"] is None
    assert by_id["R1"]["probability_en"] == "Very likely"
    cells = {(c["gravity"], c["probability"]): c["risks"] for c in m["grid"]["cells"]}
    for e in m["environmental"]:
        if e["assessed"]:
            assert e["id"] in cells[(e["gravity"], e["probability"])]
    placed = [rid for risks in cells.values() for rid in risks]
    assert len(placed) == len(set(placed))
    assert set(m["grid"]["not_assessed"]) == {e["id"] for e in by_id.values() if not e["assessed"]}
    json.dumps(m)  # serialisable as it is
    with pytest.raises(ValueError):
        core.build_matrix({}, "economic", entries, rules)


def test_trend_rules(rules):
    r1 = next(r for r in rules["environmental"] if r["id"] == "R1")
    band = r1["trend"]["stable_band"]
    assert core.trend(r1, 12.0, 12.0 - 2 * band) == "rising"
    assert core.trend(r1, 12.0, 12.0 + 2 * band) == "falling"
    assert core.trend(r1, 12.0, 12.0 - band / 2) == "stable"
    assert core.trend(r1, None, 3.0) is None
    # a decreasing rule turns the sign: fewer facilities per inhabitant = a rising risk
    r12 = next(r for r in rules["societal"]["risks"] if r["id"] == "R12")
    r12 = {**r12, "trend": {"indicator": r12["probability"]["indicator"], "stable_band": 1}}
    assert core.trend(r12, 30.0, 40.0) == "rising"
    assert core.trend({"probability": {}, "gravity": {}}, 1, 2) is None  # no trend rule


def test_core_has_no_web_or_store_imports():
    code = ("import sys; import processes.risk_matrix.core, processes.risk_matrix.svg, "
            "processes.risk_matrix.indicators, processes.risk_matrix.societal, "
            "processes.risk_matrix.actions; "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "('pygeoapi', 'starlette', 'uvicorn', 'psycopg', 'services')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True,
                         text=True, check=True).stdout.strip()
    assert out == "[]"


# ========================================================================== SVG
def _svg_matrix(rules) -> dict:
    env = _fake_env()
    entries = core.environmental_entries(
        env, {rid: [{"collection": "surchauffe", "demo": True}] for rid in env}, rules)
    entries[0]["trend"] = "rising"
    return core.build_matrix({"insee": "62119", "nom": "Béthune"}, "environmental", entries,
                             rules)


def test_svg_is_well_formed_with_the_grid_and_every_code(rules):
    m = _svg_matrix(rules)
    text = svg.render(m)
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == SVG_NS + "svg"
    assert len(root.get("viewBox").split()) == 4
    cells = [r for r in root.iter(SVG_NS + "rect") if r.get("class") == "cell"]
    assert len(cells) == 16
    colours = m["grid"]["colours"]
    groups = [g for g in root.iter(SVG_NS + "g") if g.get("class") == "cell-group"]
    assert len(groups) == 16
    for g in groups:
        rect = next(r for r in g.iter(SVG_NS + "rect") if r.get("class") == "cell")
        assert rect.get("fill") == colours[g.get("data-criticity")]
    assert {g.get("data-gravity") for g in groups} == set(rules["scales"]["gravity"])
    assert {g.get("data-probability") for g in groups} == set(rules["scales"]["probability"])
    codes = [t.get("data-risk") for t in root.iter(SVG_NS + "text") if t.get("class") == "code"]
    assessed = [e["id"] for e in m["environmental"] if e["assessed"]]
    assert sorted(codes) == sorted(assessed)
    assert set(assessed) == set(ENV_IDS) - {"R7"}
    # each code sits in the cell of its classes
    for g in groups:
        inside = {t.get("data-risk") for t in g.iter(SVG_NS + "text") if t.get("class") == "code"}
        cell = next(c for c in m["grid"]["cells"] if c["gravity"] == g.get("data-gravity")
                    and c["probability"] == g.get("data-probability"))
        assert inside == set(cell["risks"])
    words = " ".join("".join(t.itertext()) for t in root.iter(SVG_NS + "text"))
    for label in ("Gravité", "Probabilité", "Catastrophique", "Très probable", "modéré",
                  "très critique", "Béthune", "démonstration", "non évalué",
                  "Matrice des risques environnementaux", "hausse"):
        assert label in words, label
    for rid in ENV_IDS:  # every code in the legend too
        assert rid in words


# ================================================================ hazard generators
@pytest.fixture(scope="module")
def hazard_layers():
    return {cid: reference(cid) for cid in ["communes"] + HAZARDS}


@pytest.fixture(scope="module")
def territory(hazard_layers):
    return shapely.union_all(hazard_layers["communes"].geometry.values)


@pytest.mark.parametrize("cid", HAZARDS)
def test_hazard_layers_follow_their_collection_file(hazard_layers, territory, cid):
    spec = CATALOG[cid]
    gdf = hazard_layers[cid]
    assert spec.demo and spec.source["requires"] == ["communes"]
    assert "DÉMONSTRATION" in spec.description["fr"] and "DEMONSTRATION" in spec.description["en"]
    assert gdf.crs.to_epsg() == 2154 and len(gdf) > 50
    assert set(gdf.geom_type) == {spec.geometry_type} == {"MultiPolygon"}
    assert gdf.geometry.is_valid.all()
    assert gdf["id"].is_unique
    assert gdf.geometry.within(territory.buffer(1.0)).all()
    seed = spec.source["seed"]
    assert (gdf["source"] == f"Données de démonstration modélisées (générateur artois-geo, "
                             f"graine {seed})").all()
    for name, field in spec.fields.items():
        assert name in gdf.columns, name
        if field.get("enum"):
            assert set(gdf[name].dropna()) <= set(field["enum"]), name
    assert set(gdf.columns) - {"geometry"} <= set(spec.fields)
    assert pd.to_datetime(gdf["date_maj"]).max() <= pd.Timestamp("2025-09-30")
    # split by commune: each piece lies in the commune it names
    com = hazard_layers["communes"].set_index("insee")
    if "insee" in gdf and cid != "qualite-air":
        sample = gdf.iloc[:: max(len(gdf) // 40, 1)]
        for insee, geom in zip(sample["insee"], sample.geometry):
            assert geom.within(com.geometry[insee].buffer(1.0))


@pytest.mark.parametrize("fn", ["generate_flood", "generate_clay", "generate_noise",
                                "generate_air"])
def test_hazard_generators_are_deterministic(hazard_layers, fn):
    layers = {"communes": hazard_layers["communes"]}
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    a = getattr(hazards, fn)(layers, 7).to_json()
    assert np.random.random() == before  # the global random state is not touched
    assert getattr(hazards, fn)(layers, 7).to_json() == a
    assert getattr(hazards, fn)(layers, 8).to_json() != a


def test_flood_zones(hazard_layers):
    g = hazard_layers["alea-inondation"]
    assert set(g["type_alea"]) == set(hazards.TYPES_ALEA)
    assert set(g["niveau"]) == {"faible", "moyen", "fort"}
    over = g[g["type_alea"] == "débordement de cours d'eau"]
    rivers = {r.split(" (")[0] for r in over["cours_eau"]}
    assert {"Lys", "Lawe", "Clarence", "Canche", "Ternoise", "Authie", "Canal de Lens",
            "Canal de la Haute-Deûle"} <= rivers
    assert g.loc[g["type_alea"] != "débordement de cours d'eau", "cours_eau"].isna().all()
    assert g["derniere_crue_annee"].between(1980, 2025).all()
    # disjoint zones: the areas add up to the area of their union
    union = shapely.union_all(g.geometry.values)
    assert g.geometry.area.sum() == pytest.approx(union.area, rel=1e-6)
    assert np.allclose(g["surface_ha"], g.geometry.area / 1e4, atol=0.01)
    # the Lawe floods Béthune, the Ternoise Anvin
    assert {"Lawe", "Lawe (aval)"} & set(g.loc[g["insee"] == "62119", "cours_eau"].dropna())
    assert "Ternoise" in set(g.loc[g["insee"] == "62036", "cours_eau"].dropna())


def test_clay_noise_air_values(hazard_layers, territory):
    clay = hazard_layers["alea-argiles"]
    shares = clay.groupby("niveau").geometry.apply(lambda s: s.area.sum()) / territory.area
    assert shares["faible"] > shares["moyen"] > shares["fort"] > 0  # mostly faible/moyen
    assert 0.80 < shares.sum() < 0.95  # the rest is "a priori nul"
    union = shapely.union_all(clay.geometry.values)
    assert clay.geometry.area.sum() == pytest.approx(union.area, rel=1e-6)

    noise = hazard_layers["bruit"]
    assert set(noise["classe_lden"]) == set(hazards.LDEN_CLASSES)
    assert (noise["lden_min_db"] == noise["classe_lden"].map(hazards.LDEN_MIN)).all()
    assert {"A26", "A21", "RN41", "RN47"} <= set(noise["infrastructure"])
    loud = noise[noise["classe_lden"] == "75+"]
    assert set(loud["type_infrastructure"]) <= {"autoroute", "route nationale"}
    area_by_class = noise.groupby("classe_lden").geometry.apply(lambda s: s.area.sum())
    assert area_by_class["55-60"] > area_by_class["65-70"] > area_by_class["75+"]

    air = hazard_layers["qualite-air"]
    assert air["no2_ugm3"].between(5, 45).all() and air["pm25_ugm3"].between(4, 20).all()
    assert air.geometry.area.max() <= 1e6 + 1
    assert air.geometry.area.sum() == pytest.approx(territory.area, rel=1e-3)
    lens = air[air["insee"] == "62498"]["no2_ugm3"].mean()
    rural = air[air["insee"] == "62036"]["no2_ugm3"].mean()
    assert lens > rural + 8  # urban density raises NO2


# ================================================= indicators on the real layers
@pytest.fixture(scope="module")
def store(manifest):
    """Layers as the processor reads them (embedded store), built if the hazards are missing."""
    from services import layers as store_layers
    from services.settings import get_settings

    if not all(c in manifest for c in HAZARDS):
        subprocess.run([sys.executable, "-m", "services.cli", "build", *HAZARDS], cwd=PROJECT,
                       check=True, capture_output=True)
    settings = get_settings()
    layers = {c: store_layers.read_collection(c, settings=settings)
              for c in indicators.VECTOR_LAYERS}
    raster = store_layers.entry("surchauffe", settings)["files"]["2024"]
    return layers, raster


def _clipped_area(gdf: gpd.GeoDataFrame, geom) -> float:
    """Area of gdf ∩ geom, computed feature by feature with geopandas (the layers' zones
    are disjoint, so no union is needed)."""
    sub = gdf[gdf.intersects(geom)]
    return float(gpd.clip(sub, geom).area.sum()) if len(sub) else 0.0


@pytest.mark.parametrize("insee", COMMUNES)
def test_indicators_match_independent_computations(store, rules, insee):
    layers, raster = store
    params = rules["parameters"]
    parts = indicators.commune_parts(None, layers["communes"], insee=insee)
    got = indicators.environmental_indicators(parts, layers, raster, 2024, params)
    for risk in rules["environmental"]:  # every indicator named by the rules is produced
        for axis in ("probability", "gravity"):
            assert got[risk["id"]][risk[axis]["indicator"]] is not None, (risk["id"], axis)

    ref_com = reference("communes")
    row = ref_com[ref_com["insee"] == insee].iloc[0]
    geom, pop, area = row.geometry, float(row["population_municipale"]), row.geometry.area
    assert indicators.population(parts) == pytest.approx(pop)

    # R1: rasterio.mask over the commune
    with rasterio.open(raster) as ds:
        arr, _ = rasterio.mask.mask(ds, [geom], crop=True, filled=False)
    vals = arr[0].compressed()
    hot = float((vals >= params["overheating_threshold_c"]).mean())
    assert got["R1"]["pixels"] == vals.size
    assert got["R1"]["anomalie_moyenne_c"] == pytest.approx(vals.mean(), abs=0.01)
    assert got["R1"]["part_surface_surchauffe_pct"] == pytest.approx(100 * hot, abs=0.01)
    assert got["R1"]["population_exposee"] == pytest.approx(pop * hot, abs=1)

    # R2 / R6: flood zones regenerated from the collection file, clipped by geopandas
    flood = reference("alea-inondation")
    share = _clipped_area(flood, geom) / area
    mf = _clipped_area(flood[flood["niveau"].isin(["moyen", "fort"])], geom) / area
    assert got["R2"]["part_zone_inondable_pct"] == pytest.approx(100 * share, abs=0.01)
    assert got["R2"]["part_alea_moyen_fort_pct"] == pytest.approx(100 * mf, abs=0.01)
    assert got["R2"]["population_exposee"] == pytest.approx(pop * share, abs=1)
    mine = flood[flood["insee"] == insee]
    last = int(mine["derniere_crue_annee"].max()) if len(mine) else None
    assert got["R2"]["derniere_crue_annee"] == last
    years = None if last is None else params["reference_year"] - last
    assert got["R6"]["annees_depuis_derniere_crue"] == years
    assert got["R6"]["indice_culture_risque"] == pytest.approx(share * (years or 0), abs=0.01)

    # R3
    clay = reference("alea-argiles")
    mf = _clipped_area(clay[clay["niveau"].isin(["moyen", "fort"])], geom) / area
    assert got["R3"]["part_exposition_moyenne_forte_pct"] == pytest.approx(100 * mf, abs=0.01)
    assert got["R3"]["population_exposee_moyen_fort"] == pytest.approx(pop * mf, abs=1)

    # R4 / R7: counts with geopandas predicates and pandas flags
    puits, terrils, friches = reference("puits-miniers"), reference("terrils"), reference("friches")
    f_in = friches[friches.intersects(geom)]
    basias = f_in["site_numero_basias"].notna() & (f_in["site_numero_basias"] != "")
    basol = f_in["site_numero_basol"].notna() & (f_in["site_numero_basol"] != "")
    averee = f_in["sol_pollution_existe"] == "pollution avérée"
    industrial = basias | basol | averee | (f_in["site_type"] == "friche industrielle")
    n_sites = int(puits.intersects(geom).sum() + terrils.intersects(geom).sum() + industrial.sum())
    assert got["R4"]["nb_puits_miniers"] == int(puits.intersects(geom).sum())
    assert got["R4"]["nb_terrils"] == int(terrils.intersects(geom).sum())
    assert got["R4"]["nb_sites"] == n_sites
    assert got["R4"]["densite_sites_km2"] == pytest.approx(n_sites / (area / 1e6), abs=0.001)
    amiante = f_in["bati_pollution"] == "amiante"
    w = params["pollution_weights"]
    index = (w["pollution_averee"] * averee.sum() + w["basol"] * basol.sum()
             + w["basias"] * basias.sum() + w["amiante"] * amiante.sum())
    assert got["R7"]["indice_pollution"] == pytest.approx(index)
    assert got["R7"]["nb_friches_basias"] == int(basias.sum())

    # R5
    noise = reference("bruit")
    high = _clipped_area(noise[noise["lden_min_db"] >= params["noise_high_lden_db"]], geom) / area
    any55 = _clipped_area(noise, geom) / area
    assert got["R5"]["part_surface_lden_eleve_pct"] == pytest.approx(100 * high, abs=0.01)
    assert got["R5"]["population_exposee_lden_55"] == pytest.approx(pop * any55, abs=1)

    # R8: overlay of the 1 km cells with the commune, area-weighted means
    air = reference("qualite-air")
    ov = gpd.overlay(air[air.intersects(geom)], gpd.GeoDataFrame(geometry=[geom], crs=2154),
                     how="intersection")
    wts = ov.geometry.area
    no2 = float((ov["no2_ugm3"] * wts).sum() / wts.sum())
    pm = float((ov["pm25_ugm3"] * wts).sum() / wts.sum())
    assert got["R8"]["no2_moyenne_ugm3"] == pytest.approx(no2, abs=0.01)
    assert got["R8"]["ratio_valeur_limite"] == pytest.approx(
        max(no2 / params["no2_limit_ugm3"], pm / params["pm25_limit_ugm3"]), abs=0.001)


def test_indicators_rank_the_communes_sensibly(store, rules):
    layers, raster = store
    params = rules["parameters"]
    got = {i: indicators.environmental_indicators(
        indicators.commune_parts(None, layers["communes"], insee=i), layers, raster, 2024, params)
        for i in COMMUNES}
    bethune, lens, anvin = (got[i] for i in COMMUNES)
    assert lens["R1"]["population_exposee"] > bethune["R1"]["population_exposee"] > \
        anvin["R1"]["population_exposee"]
    assert lens["R4"]["densite_sites_km2"] > anvin["R4"]["densite_sites_km2"] == 0
    assert lens["R8"]["no2_moyenne_ugm3"] > anvin["R8"]["no2_moyenne_ugm3"]
    assert bethune["R2"]["part_zone_inondable_pct"] > 0 and anvin["R2"]["part_zone_inondable_pct"] > 0


def test_polygon_equal_to_a_commune_gives_its_indicators(store, rules):
    layers, raster = store
    params = rules["parameters"]
    com = layers["communes"]
    geom = com.loc[com["insee"] == "62119", "geometry"].iloc[0]
    by_code = indicators.environmental_indicators(
        indicators.commune_parts(None, com, insee="62119"), layers, raster, 2024, params)
    parts = indicators.commune_parts(geom, com)
    assert [p.insee for p in parts] == ["62119"]  # neighbours only touch it
    by_poly = indicators.environmental_indicators(parts, layers, raster, 2024, params)
    for rid, key in [("R1", "part_surface_surchauffe_pct"), ("R2", "part_zone_inondable_pct"),
                     ("R3", "part_exposition_moyenne_forte_pct"), ("R4", "nb_sites"),
                     ("R5", "part_surface_lden_eleve_pct"), ("R8", "no2_moyenne_ugm3")]:
        assert by_poly[rid][key] == pytest.approx(by_code[rid][key], rel=0.005, abs=0.02), rid
    assert indicators.population(parts) == pytest.approx(
        float(com.loc[com["insee"] == "62119", "population_municipale"].iloc[0]), rel=0.001)


def test_polygon_across_communes_weights_population(store):
    layers, _ = store
    com = layers["communes"]
    bethune = com.loc[com["insee"] == "62119"].iloc[0]
    c = bethune.geometry.representative_point()
    box = shapely.box(c.x - 3000, c.y - 3000, c.x + 3000, c.y + 3000)
    parts = indicators.commune_parts(box, com)
    assert len(parts) >= 3
    expected = sum(float(r.population_municipale) * r.geometry.intersection(box).area
                   / r.geometry.area for r in com.itertuples() if r.geometry.intersects(box))
    assert indicators.population(parts) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(indicators.AreaOutsideTerritory):
        indicators.commune_parts(shapely.box(0, 0, 10, 10), com)


# ======================================================= processor (in process)
PROBABILITIES = ["Improbable", "Peu probable", "Probable", "Très probable"]
GRAVITIES = ["Mineur", "Majeur", "Critique", "Catastrophique"]
CRITICITIES = ["modéré", "critique", "très critique"]
RISK_KEYS = {"id", "label", "probability", "gravity", "criticity", "inputs", "sources",
             "indicators", "actions"}


def _parse_svg(text: str) -> ET.Element:
    assert isinstance(text, str)
    assert text.lstrip().startswith(("<svg", "<?xml")), text[:80]
    root = ET.fromstring(text.encode("utf-8"))
    assert root.tag == SVG_NS + "svg"
    return root


def _check_risks(risks, ids, complete=True):
    assert [r["id"] for r in risks] == ids
    for r in risks:
        assert RISK_KEYS <= set(r), set(r)
        assert isinstance(r["label"], str) and r["label"]
        assert isinstance(r["inputs"], dict) and isinstance(r["sources"], list)
        if complete or r["criticity"] is not None:
            assert r["probability"] in PROBABILITIES, r
            assert r["gravity"] in GRAVITIES, r
            assert r["criticity"] in CRITICITIES, r
        check_actions(r)
        for name, ind in r["indicators"].items():
            assert {"value", "source", "computed"} <= set(ind), (r["id"], name)
            assert ind["value"] == r["inputs"][name]
        if "trend" in r:
            assert r["trend"] in ("rising", "stable", "falling")


def check_actions(risk):
    """Preventive and curative actions in French and English, with their references."""
    actions = risk["actions"]
    for part in ("preventive", "curative"):
        assert actions[part], (risk["id"], part)
        for a in actions[part]:
            assert a["fr"].strip() and a["en"].strip() and a["fr"] != a["en"], a
    assert actions["references"] and all(r["title_fr"] and r["title_en"]
                                         for r in actions["references"])
    for item in actions["anticipate"]:
        assert item["fr"] and item["en"]


def test_processor_metadata_and_pickling():
    import pickle

    p = rm_processor.RiskMatrixProcessor({"name": "risk-matrix"})
    q = pickle.loads(pickle.dumps(p))
    assert q.metadata == p.metadata and q.supports_outputs
    md = p.metadata
    assert md["id"] == "risk-matrix"
    assert set(md["title"]) == set(md["description"]) == {"fr", "en"}
    assert {"commune", "geometry", "crs", "matrix", "indicators", "year"} <= set(md["inputs"])
    assert md["inputs"]["matrix"]["schema"]["enum"] == ["environmental", "societal"]
    assert md["inputs"]["matrix"]["schema"]["default"] == "environmental"
    assert set(md["outputs"]) == {"risks", "svg", "details"}
    assert md["outputs"]["svg"]["schema"]["contentMediaType"] == "image/svg+xml"
    assert md["example"]["inputs"]["commune"] == "62119"
    props = md["inputs"]["indicators"]["schema"]["properties"]
    assert "part_75_ans_plus_pct" in props
    p.metadata["outputs"]["svg"]["schema"].pop("contentMediaType")  # pygeoapi's OpenAPI does
    assert rm_processor.PROCESS_METADATA["outputs"]["svg"]["schema"]["contentMediaType"]


@pytest.mark.parametrize("data", [
    {}, {"commune": "62119", "geometry": {"type": "Polygon", "coordinates": []}},
    {"commune": "abc"}, {"commune": 62119}, {"commune": "62119", "foo": 1},
    {"geometry": {"type": "Point", "coordinates": [2.6, 50.5]}},
    {"geometry": {"type": "Polygon", "coordinates": [[[670000, 7040000], [671000, 7040000],
                                                       [671000, 7041000], [670000, 7040000]]]}},
    {"commune": "62119", "year": 2019},
    {"commune": "62119", "matrix": "societal", "indicators": {"age": 1}},
    {"commune": "62119", "matrix": "societal", "indicators": {"S3": 27}},  # a group is an object
    {"commune": "62119", "indicators": {"taux_pauvrete_pct": 20}},  # ... and only it takes them
    {"commune": "62119", "matrix": "economic"},
    {"geometry": {"type": "Polygon", "coordinates": [[[2.6, 50.5], [2.7, 50.5], [2.7, 50.6],
                                                      [2.6, 50.5]]]},
     "polygon": {"type": "Polygon", "coordinates": [[[2.6, 50.5], [2.7, 50.5], [2.7, 50.6],
                                                     [2.6, 50.5]]]}},  # name and alias
])
def test_processor_refuses_bad_inputs(data):
    p = rm_processor.RiskMatrixProcessor({"name": "risk-matrix"})
    with pytest.raises(rm_processor.RiskMatrixInputError) as err:
        p.validate_inputs(data)
    assert err.value.fr and err.value.en and err.value.http_status_code == 400


def test_processor_outputs_selection(store):
    p = rm_processor.RiskMatrixProcessor({"name": "risk-matrix"})
    mime, both = p.execute({"commune": "62036"})
    assert mime == "application/json" and set(both) == {"risks", "svg", "details"}
    _check_risks(both["risks"], ENV_IDS, complete=False)
    assert both["details"]["commune"]["insee"] == "62036"
    assert both["details"]["matrix"] == "environmental"
    mime, risks = p.execute({"commune": "62036"}, outputs={"risks": {}})
    assert mime == "application/json" and set(risks) == {"risks"}
    assert risks["risks"] == both["risks"]
    mime, picture = p.execute({"commune": "62036"}, outputs={"svg": {}})
    assert mime == "image/svg+xml"
    assert ET.tostring(_parse_svg(picture)) == ET.tostring(_parse_svg(both["svg"]))
    with pytest.raises(rm_processor.RiskMatrixInputError):
        p.execute({"commune": "62036"}, outputs={"map": {}})
    with pytest.raises(rm_processor.RiskMatrixInputError):
        p.execute({"commune": "62999"})


def test_all_305_communes_give_a_complete_matrix(store):
    """The issue's done-when: the matrix answers for each of the 305 communes (timed, not
    asserted: the figure goes to the report)."""
    import time

    started = time.perf_counter()
    results = rm_processor.all_communes(year=2024)
    elapsed = time.perf_counter() - started
    print(f"\nrisk-matrix: {len(results)} communes in {elapsed:.2f} s in process")
    assert len(results) == 305
    layers, _ = store
    assert set(results) == set(layers["communes"]["insee"].astype(str))
    for insee, out in results.items():
        assert out["details"]["commune"]["insee"] == insee
        # every environmental risk classed except R7 where a commune has no polluted site
        _check_risks(out["risks"], ENV_IDS, complete=False)
        for r in out["risks"]:
            if r["id"] != "R7":
                assert r["criticity"] in CRITICITIES, (insee, r["id"])
    # the batch and the process agree
    p = rm_processor.RiskMatrixProcessor({"name": "risk-matrix"})
    _, one = p.execute({"commune": "62119", "year": 2024}, outputs={"risks": {}})
    assert [(r["probability"], r["gravity"], r["criticity"]) for r in one["risks"]] == \
        [(r["probability"], r["gravity"], r["criticity"]) for r in results["62119"]["risks"]]


# ============================================================ over real HTTP
def _post(server, inputs, **extra):
    return server.post(PROCESS, json={"inputs": inputs, **extra})


def test_http_commune(server, store, rules):
    r = _post(server, {"commune": "62119"})
    assert r.status_code == 200, r.text[:800]
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert {"risks", "svg"} <= set(body)
    _check_risks(body["risks"], ENV_IDS, complete=False)
    by_id = {e["id"]: e for e in body["risks"]}
    for e in body["risks"]:
        assert e["inputs"] and e["sources"]
        if e["id"] != "R7":
            assert e["criticity"] in CRITICITIES
    details = body["details"]
    assert details["commune"]["insee"] == "62119" and details["commune"]["nom"] == "Béthune"
    assert details["commune"]["population_municipale"] > 20000
    srcs = {s["collection"]: s for e in body["risks"] for s in e["sources"]}
    assert srcs["communes"]["demo"] is False and srcs["puits-miniers"]["demo"] is False
    for cid in HAZARDS + ["surchauffe"]:
        assert srcs[cid]["demo"] is True and srcs[cid]["nature_en"] == "modelled demonstration data"
    assert {s["collection"] for s in by_id["R2"]["sources"]} == {"communes", "alea-inondation"}
    # the same values as the in-process computation on the embedded store
    layers, raster = store
    local = indicators.environmental_indicators(
        indicators.commune_parts(None, layers["communes"], insee="62119"), layers, raster, 2024,
        rules["parameters"])
    for rid in ENV_IDS:
        for key, value in local[rid].items():
            if isinstance(value, float):
                assert by_id[rid]["inputs"][key] == pytest.approx(value, abs=0.011), (rid, key)
    assert details["grid"]["gravity"] == GRAVITIES and len(details["grid"]["cells"]) == 16
    # R1's trend: the first summer published against the latest, computed with rasterio
    from services import layers as store_layers
    files = store_layers.entry("surchauffe")["files"]
    geom = reference("communes").set_index("insee").geometry["62119"]
    shares = {}
    for y in (2022, 2024):
        path = files[str(y)]
        with rasterio.open(path) as ds:
            arr, _ = rasterio.mask.mask(ds, [geom], crop=True, filled=False)
        v = arr[0].compressed()
        shares[y] = 100 * float((v >= rules["parameters"]["overheating_threshold_c"]).mean())
    r1 = by_id["R1"]
    change = shares[2024] - shares[2022]
    band = rules["environmental"][0]["trend"]["stable_band"]
    expected = "rising" if change >= band else "falling" if change <= -band else "stable"
    assert r1["trend"] == expected, (shares, r1["trend_basis"])
    assert r1["trend_basis"]["from"]["year"] == 2022 and r1["trend_basis"]["to"]["year"] == 2024
    assert r1["trend_basis"]["from"]["value"] == pytest.approx(shares[2022], abs=0.01)
    assert all("trend" not in by_id[rid] for rid in ENV_IDS[1:])  # no other dated layer
    # actions in both languages for every environmental risk, and what to watch
    for e in body["risks"]:
        check_actions(e)
        for item in e["actions"]["anticipate"]:
            if item["kind"] == "threshold":
                b = e["basis"][item["axis"]]
                assert item["next_threshold"] == b["next_threshold"] is not None
    # the SVG document itself, not HTML-escaped and not a data: URL
    assert "&lt;" not in r.text and "data:image" not in r.text
    root = _parse_svg(body["svg"])
    codes = {t.get("data-risk") for t in root.iter(SVG_NS + "text") if t.get("class") == "code"}
    assert codes == {e["id"] for e in body["risks"] if e["criticity"] is not None}


def test_http_geometry_crs84_and_lambert(server):
    ring = [[2.615, 50.515], [2.665, 50.515], [2.665, 50.545], [2.615, 50.545], [2.615, 50.515]]
    r = _post(server, {"geometry": {"type": "Polygon", "coordinates": [ring]}})
    assert r.status_code == 200, r.text[:800]
    body = r.json()
    area = body["details"]["area"]
    assert "commune" not in body["details"]
    insees = {c["insee"] for c in area["communes"]}
    assert "62119" in insees and len(insees) >= 2
    assert 10 < area["surface_km2"] < 15
    assert area["population_estimee"] > 5000
    _check_risks(body["risks"], ENV_IDS, complete=False)
    # the same area in Lambert-93, given as a Feature
    import pyproj
    tr = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)
    ring93 = [list(tr.transform(x, y)) for x, y in ring]
    r2 = _post(server, {"geometry": {"type": "Feature", "properties": {},
                                     "geometry": {"type": "Polygon", "coordinates": [ring93]}},
                        "crs": "http://www.opengis.net/def/crs/EPSG/0/2154"},
               outputs={"risks": {}, "details": {}})
    assert r2.status_code == 200, r2.text[:800]
    b2 = r2.json()
    assert set(b2) == {"risks", "details"}
    assert b2["details"]["area"]["surface_km2"] == pytest.approx(area["surface_km2"], rel=1e-3)
    for a, b in zip(body["risks"], b2["risks"]):
        assert (a["probability"], a["gravity"]) == (b["probability"], b["gravity"])
    # the documented alias of geometry
    r3 = _post(server, {"polygon": {"type": "Polygon", "coordinates": [ring]}},
               outputs={"risks": {}})
    assert r3.status_code == 200, r3.text[:300]
    assert r3.json()["risks"] == body["risks"]


def test_http_raw_svg_and_document(server):
    r = _post(server, {"commune": "62498"}, outputs={"svg": {}}, response="raw")
    assert r.status_code == 200, r.text[:800]
    assert r.headers["content-type"].startswith("image/svg+xml")
    root = _parse_svg(r.text)
    assert "Lens" in "".join(root.itertext())

    r = _post(server, {"commune": "62498"}, response="document")
    assert r.status_code == 200, r.text[:800]
    doc = r.json()
    if isinstance(doc.get("outputs"), list):  # a manager may wrap the document
        doc = doc["outputs"][0]
    assert {"risks", "svg"} <= set(doc)
    assert doc["details"]["commune"]["nom"] == "Lens"
    _parse_svg(doc["svg"])


@pytest.mark.parametrize("inputs", [
    {"commune": "62999"},  # well-formed, not in the territory
    {"commune": "abc"},
    {"commune": "62119", "geometry": {"type": "Polygon", "coordinates": [[[2.6, 50.5], [2.7, 50.5],
                                                                        [2.7, 50.6], [2.6, 50.5]]]}},
    {"geometry": {"type": "Polygon", "coordinates": [[[5.0, 45.0], [5.1, 45.0], [5.1, 45.1],
                                                      [5.0, 45.0]]]}},  # outside the territory
    {"commune": "62119", "matrix": "societal", "indicators": {"taux_pauvrete_pct": 140}},
    {"commune": "62119", "indicators": {"taux_pauvrete_pct": 20}},  # environmental: refused
])
def test_http_bad_inputs_are_ogc_exceptions(server, inputs):
    r = _post(server, inputs)
    assert r.status_code in (400, 404), (r.status_code, r.text[:500])
    body = r.json()
    assert body.get("code") or body.get("type")
    assert body.get("description_fr") and body.get("description_en")


def test_http_process_description(server):
    fr = server.json("/processes/risk-matrix", params={"lang": "fr"})
    en = server.json("/processes/risk-matrix", params={"lang": "en"})
    assert fr["title"] == "Matrice des risques territoriaux"
    assert en["title"] == "Territorial risk matrix"
    assert {"commune", "geometry", "crs", "year", "matrix", "indicators"} <= set(fr["inputs"])
    assert {"risks", "svg"} <= set(fr["outputs"])
    listed = {p["id"] for p in server.json("/processes")["processes"]}
    assert "risk-matrix" in listed


def test_http_hazard_collections_are_labelled_demo(server):
    fr = {c["id"]: c for c in server.json("/collections", params={"lang": "fr"})["collections"]}
    en = {c["id"]: c for c in server.json("/collections", params={"lang": "en"})["collections"]}
    for cid in HAZARDS:
        assert cid in fr, cid
        assert "démonstration" in fr[cid]["description"].lower()
        assert "démonstration" in fr[cid]["title"].lower()
        assert "demonstration" in en[cid]["description"].lower()
    items = server.json("/collections/alea-inondation/items",
                        params={"limit": 5, "insee": "62119"})
    assert items["features"] and all(f["properties"]["insee"] == "62119"
                                     for f in items["features"])
