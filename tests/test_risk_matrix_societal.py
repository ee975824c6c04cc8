"""The societal side of the risk-matrix process (issue 18): the twelve named risks with their
indicators computed by the server from the layers it holds (checked here against independent
geopandas computations from the collections' sources), the caller's own values, the former
S1..S7 inputs still accepted with a deprecation note, the actions of every risk of both
matrices in French and English, the trends, bad inputs, and both SVG grids in Chromium — over
real HTTP on both stores."""
from __future__ import annotations

import copy
import shutil
import xml.etree.ElementTree as ET

import geopandas as gpd
import jsonschema
import numpy as np
import pytest
import yaml

from processes.risk_matrix import actions as risk_actions
from processes.risk_matrix import core, societal
from processes.risk_matrix import processor as rm_processor
from reference import CATALOG, reference
from services.demo import social

PROCESS = "/processes/risk-matrix/execution"
SVG_NS = "{http://www.w3.org/2000/svg}"
SOC_IDS = ["R1", "R2", "R3", "R5", "R6", "R7", "R8", "R9", "R11", "R12", "R14", "R17"]
ENV_IDS = [f"R{i}" for i in range(1, 9)]
RESERVED = ["R4", "R10", "R13", "R15", "R16"]
WITH_TREND = {"R2", "R3", "R6", "R8", "R11", "R14"}
#: Béthune, Lens, Anvin (rural Ternois), Bruay-la-Buissière (QPV, business parks, warning
#: signs at an employer), Hesdin-la-Forêt (7 Vallées, merged in 2025)
COMMUNES = ["62119", "62498", "62036", "62178", "62447"]
#: communes whose indicators are recomputed here from the collections' sources
CHECKED = ["62498", "62178", "62036"]
PROBABILITIES = ["Improbable", "Peu probable", "Probable", "Très probable"]
GRAVITIES = ["Mineur", "Majeur", "Critique", "Catastrophique"]
CRITICITIES = ["modéré", "critique", "très critique"]


@pytest.fixture(scope="module")
def rules():
    return core.load_rules()


def _post(server, inputs, **extra):
    return server.post(PROCESS, json={"inputs": inputs, **extra})


def _societal(server, insee, **inputs):
    r = _post(server, {"commune": insee, "matrix": "societal", **inputs})
    assert r.status_code == 200, r.text[:800]
    return r.json()


def _by_id(body):
    return {r["id"]: r for r in body["risks"]}


# ============================================================================ the rules
def test_the_twelve_named_risks_and_the_reserved_ids(rules):
    soc = rules["societal"]
    assert [r["id"] for r in soc["risks"]] == SOC_IDS
    assert soc["reserved"] == RESERVED
    labels = {r["id"]: r["label_fr"] for r in soc["risks"]}
    assert labels["R1"] == "Émeutes"
    assert labels["R2"] == "Inadaptation au vieillissement de la population"
    assert labels["R14"] == "Enracinement d'activités illicites ou criminelles"
    assert labels["R17"] == "Fermeture d'un grand employeur"
    assert all(r["label_en"] and r["label_en"] != r["label_fr"] for r in soc["risks"])
    # every indicator a risk reads is declared, computed from a collection or derived
    for risk in soc["risks"]:
        for axis in ("probability", "gravity"):
            assert risk[axis]["indicator"] in soc["indicators"]
            assert risk[axis]["why"]
    computed = [s["compute"]["collection"] for s in soc["indicators"].values() if "compute" in s]
    assert set(computed) <= set(CATALOG), set(computed) - set(CATALOG)
    # the mapping of the former ids
    assert soc["deprecated"]["risks"] == {"S1": "R1", "S2": "R2", "S3": "R3", "S4": "R5",
                                          "S5": "R7", "S6": "R9", "S7": "R17"}
    # the reserved ids are documented as such in the process description
    md = rm_processor.PROCESS_METADATA
    for lang in ("fr", "en"):
        assert all(rid in md["description"][lang] for rid in RESERVED)


def test_actions_cover_every_risk_of_both_matrices_in_both_languages(rules):
    data = risk_actions.load_actions(rules=rules)
    assert set(data["environmental"]) == set(ENV_IDS)
    assert set(data["societal"]) == set(SOC_IDS)
    for kind in ("environmental", "societal"):
        for rid, spec in data[kind].items():
            assert len(spec["preventive"]) >= 2 and len(spec["curative"]) >= 2, (kind, rid)
            for item in spec["preventive"] + spec["curative"]:
                assert item["fr"].strip() and item["en"].strip() and item["fr"] != item["en"]
            for ref in spec["references"]:
                assert data["references"][ref]["title_fr"] and data["references"][ref]["title_en"]
    # a risk without actions is refused
    broken = copy.deepcopy(rules)
    broken["societal"]["risks"].append({**broken["societal"]["risks"][0], "id": "R18"})
    with pytest.raises(core.RulesError, match="R18"):
        risk_actions.load_actions(rules=broken)


# ================================================================= the demonstration layer
def test_demo_layer_follows_its_collection_file():
    spec = CATALOG["indicateurs-sociaux"]
    gdf = reference("indicateurs-sociaux")
    communes = reference("communes")
    assert spec.demo and "DÉMONSTRATION" in spec.description["fr"]
    assert "DEMONSTRATION" in spec.description["en"]
    assert spec.source["requires"] == ["communes", "qpv", "zae"]
    assert len(gdf) == len(communes) == 305 and gdf["insee"].is_unique
    assert set(gdf.columns) - {"geometry"} <= set(spec.fields), set(gdf.columns) - set(spec.fields)
    for field in social.FIELDS:
        assert gdf[field].notna().all(), field
    for field, year in social.SERIES.items():
        assert f"{field}_{year}" in gdf
    seed = spec.source["seed"]
    assert (gdf["source"] == f"Données de démonstration modélisées (générateur artois-geo, "
                             f"graine {seed})").all()
    # real populations; plausible rates: the mining basin poorer than the rural communes
    merged = gdf.merge(communes[["insee", "population_municipale", "epci_siren"]], on="insee",
                       suffixes=("", "_c"))
    assert (merged["population"] == merged["population_municipale"]).all()
    basin = merged["epci_siren"].isin(["200072460", "246200364"])
    assert merged.loc[basin, "taux_pauvrete_pct"].mean() > \
        merged.loc[~basin, "taux_pauvrete_pct"].mean() + 3
    assert merged.loc[~basin, "part_75_ans_plus_pct"].mean() > \
        merged.loc[basin, "part_75_ans_plus_pct"].mean()
    assert gdf["part_75_ans_plus_pct"].between(4, 20).all()
    assert gdf["taux_pauvrete_pct"].between(5, 45).all()


def test_demo_generator_is_deterministic():
    layers = {c: reference(c) for c in ("communes", "qpv", "zae")}
    np.random.seed(0)
    before = np.random.random()
    np.random.seed(0)
    a = social.generate_social_indicators(layers, 5).drop(columns="geometry")
    assert np.random.random() == before  # the global random state is not touched
    assert a.equals(social.generate_social_indicators(layers, 5).drop(columns="geometry"))
    assert not a.equals(social.generate_social_indicators(layers, 6).drop(columns="geometry"))


# ====================================================================== the pure core
def test_overrides_and_deprecated_inputs(rules):
    ov, dep = societal.parse_overrides(
        {"taux_pauvrete_pct": 20, "part_75_ans_plus_pct": {"value": 12.5, "source": "RP 2021"},
         "S6": {"part_parc_prive_potentiellement_indigne_pct": 8}, "temps_acces_gare_min": 9},
        rules)
    assert ov["taux_pauvrete_pct"]["value"] == 20.0
    assert ov["part_75_ans_plus_pct"] == {"value": 12.5, "source": "RP 2021", "group": None}
    assert ov["part_parc_prive_potentiellement_indigne_pct"]["group"] == "S6"
    assert "temps_acces_gare_min" not in ov
    assert {(d["input"], d["replaced_by"]) for d in dep} == {
        ("indicators.S6", "R9"), ("indicators.temps_acces_gare_min", "distance_gare_km")}
    assert all(d["note_fr"] and d["note_en"] for d in dep)
    assert societal.parse_overrides(None, rules) == ({}, [])
    for bad in ({"age": 3}, {"taux_pauvrete_pct": 120}, {"taux_pauvrete_pct": "12"},
                {"taux_pauvrete_pct": True}, ["taux_pauvrete_pct"], {"S3": 4},
                {"taux_pauvrete_pct": {"value": 3, "unit": "%"}},
                {"taux_pauvrete_pct": {"source": "x"}},
                {"taux_pauvrete_pct": {"value": 3, "source": "x" * 400}},
                {"taux_pauvrete_pct": 10, "S3": {"taux_pauvrete_pct": 12}},
                {"S3": {"inconnu": 1}}, {"population": -5}):
        with pytest.raises(core.InvalidInput) as err:
            societal.parse_overrides(bad, rules)
        assert err.value.fr and err.value.en
    # the description's JSON Schema accepts what the core accepts
    schema = societal.input_schema(rules)
    jsonschema.validate({"taux_pauvrete_pct": 20, "S3": {"taux_pauvrete_pct": 20},
                         "part_75_ans_plus_pct": {"value": 12.5, "source": "RP"}}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"inconnu": 1}, schema)


def test_derived_indicators_follow_the_callers_values(rules):
    computed = {name: None for name, s in rules["societal"]["indicators"].items()
                if "compute" in s}
    computed.update(population=10000, taux_pauvrete_pct=15.0, part_18_24_ans_pct=8.0,
                    taux_decrochage_scolaire_pct=10.0)
    details = societal.resolve(computed, {"taux_pauvrete_pct": {"value": 30.0, "source": None}},
                               rules, {})
    assert details["taux_pauvrete_pct"]["computed"] is False
    assert details["taux_pauvrete_pct"]["source"] == "input"
    assert details["nb_personnes_pauvres"]["value"] == 3000  # follows the caller's value
    assert details["nb_personnes_pauvres"]["computed"] is True
    assert details["nb_personnes_pauvres"]["derived_from"] == ["population", "taux_pauvrete_pct"]
    assert details["nb_jeunes_decrocheurs"]["value"] == 80  # 10000 x 8 % x 10 %
    assert details["nb_chomeurs"]["value"] is None  # an operand missing
    # a derived indicator may itself be given
    details = societal.resolve(computed, {"nb_personnes_pauvres": {"value": 5.0, "source": None}},
                               rules, {})
    assert details["nb_personnes_pauvres"]["value"] == 5.0
    entries = {e["id"]: e for e in societal.entries(details, {}, computed, rules, {})}
    assert entries["R3"]["gravity"] == "Mineur" and entries["R3"]["probability"] == "Peu probable"
    assert not entries["R1"]["assessed"]  # its values are missing: not assessed


# =============================================================== independent computations
def _classify(value, rule, scale):
    if value is None:
        return None
    th = rule["thresholds"]
    k = sum(value < t for t in th) if rule.get("direction") == "decreasing" else \
        sum(value >= t for t in th)
    return scale[k]


def expected_indicators(insee: str) -> dict[str, float]:
    """The indicators of a commune recomputed with geopandas from the collections' sources."""
    com = reference("communes").set_index("insee")
    geom = com.geometry[insee]
    frame = gpd.GeoDataFrame(geometry=[geom], crs=2154)
    pop = float(com["population_municipale"][insee])
    soc = reference("indicateurs-sociaux").set_index("insee").loc[insee]
    out = {"population": pop}
    qpv = reference("qpv")
    qpv = qpv[qpv.intersects(geom)]
    if len(qpv):
        clipped = gpd.overlay(qpv, frame, how="intersection")
        qpv_pop = float((clipped["population"] * clipped.area / qpv.set_index("id").loc[
            clipped["id"]].area.to_numpy()).sum())
    else:
        qpv_pop = 0.0
    out["part_population_qpv_pct"] = 100 * qpv_pop / pop
    for name in ("part_75_ans_plus_pct", "taux_pauvrete_pct", "apl_medecins_generalistes",
                 "taux_decrochage_scolaire_pct", "part_18_24_ans_pct",
                 "part_menages_sans_voiture_pct", "part_locaux_sans_thd_pct",
                 "taux_illectronisme_pct", "part_parc_prive_potentiellement_indigne_pct",
                 "pression_demande_logement_social", "taux_chomage_pct", "part_actifs_pct",
                 "part_emplois_precaires_pct", "nb_equipements_sportifs",
                 "nb_equipements_culturels", "part_moins_25_ans_pct",
                 "taux_infractions_stupefiants_pour_1000_hab", "nb_signaux_fragilite_employeur",
                 "emplois_au_lieu_de_travail"):
        out[name] = float(soc[name])
    out["taux_logements_vacants"] = float(
        reference("habitat-communes").set_index("insee")["taux_logements_vacants"][insee])
    centre = geom.representative_point()
    shops = reference("commerces-services")
    stops = reference("arrets-transport")
    out["distance_medecin_generaliste_km"] = float(
        shops[shops["type"] == "médecin généraliste"].distance(centre).min()) / 1000
    out["distance_pharmacie_km"] = float(shops[shops["type"] == "pharmacie"].distance(centre).min()) / 1000
    out["distance_ecole_km"] = float(shops[shops["type"] == "école élémentaire"].distance(centre).min()) / 1000
    out["distance_gare_km"] = float(stops[stops["mode"] == "train"].distance(centre).min()) / 1000
    out["nb_medecins_generalistes"] = int(
        shops[(shops["type"] == "médecin généraliste") & shops.intersects(geom)].shape[0])
    out["nb_arrets_transport"] = int(stops.intersects(geom).sum())
    cycles = reference("amenagements-cyclables")
    out["km_amenagements_cyclables"] = float(gpd.clip(cycles[cycles.intersects(geom)], geom).length.sum()) / 1000
    zae = reference("zae")
    zae = zae[zae.intersects(geom) & (zae.intersection(geom).area > 1)]
    out["emplois_premier_employeur"] = float(zae["nb_emplois"].max()) if len(zae) else 0.0
    out["emplois_zae"] = float((zae["nb_emplois"] * zae.intersection(geom).area / zae.area).sum())
    friches = reference("friches")
    out["nb_friches_sans_projet"] = int((friches.intersects(geom) & friches["site_statut"].isin(
        ["friche potentielle", "friche sans projet"])).sum())
    # derived
    out["population_qpv"] = pop * out["part_population_qpv_pct"] / 100
    out["nb_personnes_pauvres"] = pop * out["taux_pauvrete_pct"] / 100
    out["nb_personnes_75_ans_plus"] = pop * out["part_75_ans_plus_pct"] / 100
    out["nb_jeunes_decrocheurs"] = pop * out["part_18_24_ans_pct"] * out["taux_decrochage_scolaire_pct"] / 1e4
    out["nb_personnes_sans_voiture"] = pop * out["part_menages_sans_voiture_pct"] / 100
    out["nb_personnes_illectronisme"] = pop * out["taux_illectronisme_pct"] / 100
    out["nb_personnes_parc_indigne"] = pop * out["part_parc_prive_potentiellement_indigne_pct"] / 100
    out["nb_chomeurs"] = pop * out["part_actifs_pct"] * out["taux_chomage_pct"] / 1e4
    out["equipements_sport_culture_pour_10000_hab"] = 1e4 * (
        out["nb_equipements_sportifs"] + out["nb_equipements_culturels"]) / pop
    out["nb_jeunes_moins_25_ans"] = pop * out["part_moins_25_ans_pct"] / 100
    out["nb_equipements_sport_culture"] = out["nb_equipements_sportifs"] + \
        out["nb_equipements_culturels"]
    out["medecins_generalistes_pour_10000_hab"] = 1e4 * out["nb_medecins_generalistes"] / pop
    out["km_amenagements_cyclables_pour_1000_hab"] = 1e3 * out["km_amenagements_cyclables"] / pop
    out["nb_infractions_stupefiants"] = pop * out["taux_infractions_stupefiants_pour_1000_hab"] / 1000
    out["part_emplois_premier_employeur_pct"] = min(
        100 * out["emplois_premier_employeur"] / out["emplois_au_lieu_de_travail"], 100)
    out["_series"] = {f: float(soc[f"{f}_{y}"]) for f, y in social.SERIES.items()}
    return out


def _tolerance(name: str, unit: str) -> float:
    if name.startswith("distance_"):
        return 0.005  # km: representative points of the stored and source outlines
    if unit in ("habitants", "personnes", "jeunes", "infractions", "emplois"):
        return 1.0  # rounded to a person
    return 0.002


# ======================================================================= over real HTTP
def test_societal_matrix_for_five_communes(server, rules):
    scales = rules["scales"]
    specs = rules["societal"]["indicators"]
    for insee in COMMUNES:
        body = _societal(server, insee)
        assert [r["id"] for r in body["risks"]] == SOC_IDS
        assert body["details"]["matrix"] == "societal"
        assert body["details"]["commune"]["insee"] == insee
        assert body["details"]["reserved_ids"] == RESERVED
        assert body["details"]["deprecated_inputs"] == []
        for r in body["risks"]:
            assert r["probability"] in PROBABILITIES and r["gravity"] in GRAVITIES, r["id"]
            assert r["criticity"] in CRITICITIES, r["id"]
            assert r["criticity"] == core.criticity(rules, r["gravity"], r["probability"])
            assert set(r["actions"]) >= {"preventive", "curative"}
            for name, ind in r["indicators"].items():
                assert ind["computed"] is True and ind["value"] is not None, (insee, name)
                assert ind["source"] in ("derived", *CATALOG), ind
                if ind["source"] in CATALOG:
                    assert ind["demo"] is bool(CATALOG[ind["source"]].demo), (name, ind)
            assert ("trend" in r) == (r["id"] in WITH_TREND), (insee, r["id"])
        if insee not in CHECKED:
            continue
        exp = expected_indicators(insee)
        risks = _by_id(body)
        for r in body["risks"]:
            for name, ind in r["indicators"].items():
                assert name in exp, name
                assert ind["value"] == pytest.approx(
                    exp[name], abs=_tolerance(name, specs[name]["unit"])), (insee, name)
            risk = next(x for x in rules["societal"]["risks"] if x["id"] == r["id"])
            p = _classify(exp[risk["probability"]["indicator"]], risk["probability"],
                          scales["probability"])
            g = _classify(exp[risk["gravity"]["indicator"]], risk["gravity"], scales["gravity"])
            assert (r["probability"], r["gravity"]) == (p, g), (insee, r["id"])
            if "trend" in r:  # rising = towards the worse classes by at least the band
                tr = risk["trend"]
                change = exp[tr["indicator"]] - exp["_series"][tr["indicator"]]
                band = tr["stable_band"]
                want = "rising" if change >= band else "falling" if change <= -band else "stable"
                assert r["trend"] == want, (insee, r["id"], change)
                assert r["trend_basis"]["from"]["year"] == tr["past_year"]
        # the sources say which data are real and which are demonstration
        sources = {s["collection"]: s for s in risks["R1"]["sources"]}
        assert sources["communes"]["demo"] is False and sources["qpv"]["demo"] is True
        assert risks["R14"]["indicators"]["nb_friches_sans_projet"]["demo"] is False  # real


def test_an_area_across_communes(server):
    com = reference("communes").set_index("insee")
    c = com.geometry["62119"].representative_point()
    import pyproj
    tr = pyproj.Transformer.from_crs("EPSG:2154", "OGC:CRS84", always_xy=True)
    ring = [list(tr.transform(c.x + dx, c.y + dy)) for dx, dy in
            ((-3000, -3000), (3000, -3000), (3000, 3000), (-3000, 3000), (-3000, -3000))]
    r = _post(server, {"geometry": {"type": "Polygon", "coordinates": [ring]},
                       "matrix": "societal"})
    assert r.status_code == 200, r.text[:800]
    body = r.json()
    area = body["details"]["area"]
    assert len(area["communes"]) >= 3
    by_id = _by_id(body)
    assert [x["id"] for x in body["risks"]] == SOC_IDS
    pop = by_id["R3"]["indicators"]["population"]["value"]
    assert pop == pytest.approx(area["population_estimee"], abs=1)
    # a population-weighted mean of the communes' rates
    soc = reference("indicateurs-sociaux").set_index("insee")
    w = {p["insee"]: p["population_estimee"] for p in area["communes"]}
    mean = sum(soc["taux_pauvrete_pct"][i] * v for i, v in w.items()) / sum(w.values())
    assert by_id["R3"]["indicators"]["taux_pauvrete_pct"]["value"] == pytest.approx(mean, abs=0.05)


def test_callers_values_replace_the_computed_ones(server, rules):
    base = _by_id(_societal(server, "62498"))
    body = _societal(server, "62498", indicators={
        "taux_pauvrete_pct": 31.5,
        "part_75_ans_plus_pct": {"value": 14.2, "source": "INSEE RP 2021, saisie de l'agence"}})
    got = _by_id(body)
    r3 = got["R3"]["indicators"]
    assert r3["taux_pauvrete_pct"]["value"] == 31.5
    assert r3["taux_pauvrete_pct"]["computed"] is False and r3["taux_pauvrete_pct"]["source"] == "input"
    pop = r3["population"]["value"]
    assert r3["population"]["computed"] is True
    assert r3["nb_personnes_pauvres"]["value"] == round(pop * 0.315)  # the derivation follows
    assert got["R3"]["probability"] == "Très probable"
    assert got["R3"]["inputs"]["taux_pauvrete_pct"] == 31.5
    assert any(s.get("input") == "indicators.taux_pauvrete_pct" for s in got["R3"]["sources"])
    r2 = got["R2"]["indicators"]["part_75_ans_plus_pct"]
    assert (r2["value"], r2["computed"], r2["reference"]) == (
        14.2, False, "INSEE RP 2021, saisie de l'agence")
    assert got["R2"]["probability"] == "Très probable"
    # the other risks are untouched, and the trend stays the server's series
    for rid in ("R1", "R5", "R7", "R17"):
        assert got[rid]["indicators"] == base[rid]["indicators"]
    assert got["R3"]["trend_basis"] == base["R3"]["trend_basis"]


def test_former_s_ids_are_accepted_with_a_deprecation_note(server):
    body = _societal(server, "62119", indicators={
        "S3": {"taux_pauvrete_pct": 19.5}, "S7": {"nb_signaux_fragilite_employeur": 3},
        "temps_acces_urgences_min": 25})
    got = _by_id(body)
    assert got["R3"]["indicators"]["taux_pauvrete_pct"]["value"] == 19.5
    assert got["R3"]["indicators"]["taux_pauvrete_pct"]["computed"] is False
    assert got["R3"]["indicators"]["taux_pauvrete_pct"]["deprecated_group"] == "S3"
    assert got["R17"]["probability"] == "Très probable"
    assert got["R3"]["replaces"] == "S3" and got["R17"]["replaces"] == "S7"
    dep = {d["input"]: d for d in body["details"]["deprecated_inputs"]}
    assert set(dep) == {"indicators.S3", "indicators.S7", "indicators.temps_acces_urgences_min"}
    assert dep["indicators.S3"]["replaced_by"] == "R3"
    assert dep["indicators.S7"]["replaced_by"] == "R17"
    assert dep["indicators.temps_acces_urgences_min"]["used"] is False
    for d in dep.values():
        assert d["note_fr"] and d["note_en"]
        assert any(d["note_en"] in n for n in body["details"]["notes"])
    assert "S3" in " ".join(body["details"]["notes"])
    # the process description documents the deprecated forms
    desc = server.json("/processes/risk-matrix", params={"lang": "en"})
    schema = desc["inputs"]["indicators"]["schema"]
    assert schema["properties"]["S3"]["deprecated"] is True
    assert schema["properties"]["temps_acces_gare_min"]["deprecated"] is True


def test_actions_of_both_matrices_in_both_languages(server):
    for matrix in ("environmental", "societal"):
        r = _post(server, {"commune": "62178", "matrix": matrix})
        assert r.status_code == 200, r.text[:500]
        risks = r.json()["risks"]
        assert [x["id"] for x in risks] == (ENV_IDS if matrix == "environmental" else SOC_IDS)
        for risk in risks:
            acts = risk["actions"]
            for part in ("preventive", "curative"):
                assert acts[part], (matrix, risk["id"], part)
                for a in acts[part]:
                    assert a["fr"].strip() and a["en"].strip() and a["fr"] != a["en"]
                    assert a["id"].startswith(risk["id"] + "-")
            assert acts["references"]
            # what to watch: the value at which each axis not at its top class would worsen
            watched = {a["axis"] for a in acts["anticipate"] if a["kind"] == "threshold"}
            for axis in ("probability", "gravity"):
                b = risk["basis"][axis]
                assert (axis in watched) == (b.get("next_threshold") is not None), risk["id"]
            if risk.get("trend") == "rising":
                assert any(a["kind"] == "trend" for a in acts["anticipate"])


@pytest.mark.parametrize("indicators, words", [
    ({"inconnu": 1}, "inconnu"),
    ({"taux_pauvrete_pct": 140}, "taux_pauvrete_pct"),
    ({"taux_pauvrete_pct": "vingt"}, "taux_pauvrete_pct"),
    ({"S3": 27}, "S3"),
    ({"S3": {"inconnu": 1}}, "inconnu"),
    ({"taux_pauvrete_pct": 10, "S3": {"taux_pauvrete_pct": 12}}, "taux_pauvrete_pct"),
    ({"taux_pauvrete_pct": {"value": 20, "unit": "%"}}, "taux_pauvrete_pct"),
    (["taux_pauvrete_pct"], "indicators"),
])
def test_bad_societal_inputs_are_bilingual_400s(server, indicators, words):
    r = _post(server, {"commune": "62119", "matrix": "societal", "indicators": indicators})
    assert r.status_code == 400, (r.status_code, r.text[:500])
    body = r.json()
    assert body.get("code") or body.get("type")
    assert body["description_fr"] and body["description_en"]
    assert body["description_fr"] != body["description_en"]
    assert words in body["description_fr"] and words in body["description_en"], body


@pytest.fixture(scope="module")
def chromium_browser():
    """One Chromium for the module: a second sync_playwright() while a module fixture's is
    open fails ("Sync API inside the asyncio loop"), so every browser test here shares it."""
    from test_webmap import ARGS, CHROMIUM

    if not shutil.which("chromium"):
        pytest.skip("chromium is installed by scripts/setup.sh --test-tools")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_both_svg_grids_render_in_chromium(server, chromium_browser):
    """The two SVG documents, decoded as images and inlined, in Debian's Chromium."""
    svgs = {}
    for matrix in ("environmental", "societal"):
        r = _post(server, {"commune": "62498", "matrix": matrix}, outputs={"svg": {}},
                  response="raw")
        assert r.status_code == 200 and r.headers["content-type"].startswith("image/svg+xml")
        svgs[matrix] = r.text
    browser = chromium_browser
    for matrix, text in svgs.items():
        page = browser.new_page(viewport={"width": 1000, "height": 1000})
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        inline = text.split("?>", 1)[1]  # the document without its XML declaration
        page.set_content(f"<html><body style='margin:0'>{inline}</body></html>")
        codes = page.evaluate("""() => [...document.querySelectorAll('text.code')]
            .map(t => [t.dataset.risk, t.getBBox().width])""")
        root = ET.fromstring(text.encode("utf-8"))
        expected = [t.get("data-risk") for t in root.iter(SVG_NS + "text")
                    if t.get("class") == "code"]
        assert sorted(c for c, _ in codes) == sorted(expected)
        assert all(w > 5 for _, w in codes), codes  # laid out, not empty
        title = page.evaluate("document.querySelector('svg title').textContent")
        assert ("sociétaux" if matrix == "societal" else "environnementaux") in title
        # as an image, the way the web map shows it, painted on a canvas
        page.set_content("<img id='g'>")
        page.evaluate("(svg) => { document.getElementById('g').src = "
                      "'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(svg); }",
                      text)
        page.wait_for_function("document.getElementById('g').complete && "
                               "document.getElementById('g').naturalWidth > 0")
        coloured = page.evaluate("""() => {
            const img = document.getElementById('g');
            const c = document.createElement('canvas');
            c.width = img.naturalWidth; c.height = img.naturalHeight;
            const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
            const d = ctx.getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 0; i < d.length; i += 4) {
                if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) n++;
            }
            return n / (d.length / 4);
        }""")
        assert coloured > 0.05, (matrix, coloured)
        page.close()
        assert not errors, (matrix, errors)


def test_process_description_documents_the_societal_side(server):
    for lang, words in (("fr", ("douze risques sociétaux", "réservés", "S1..S7")),
                        ("en", ("twelve societal risks", "reserved", "S1..S7"))):
        desc = server.json("/processes/risk-matrix", params={"lang": lang})
        text = desc["description"]
        for w in words:
            assert w in text, (lang, w)
    schema = desc["inputs"]["indicators"]["schema"]
    assert set(yaml.safe_load(core.RULES_PATH.read_text(encoding="utf-8"))["societal"][
        "indicators"]) <= set(schema["properties"])


# ========================================================================= the web map
@pytest.fixture(scope="module")
def map_browser(chromium_browser):
    from services import webmap
    from test_webmap import NO_MAPLIBRE

    if not webmap.maplibre_installed():
        pytest.skip(NO_MAPLIBRE)
    return chromium_browser


def test_web_map_risk_panel_shows_both_matrices_with_actions(server, map_browser):
    from test_webmap import MapPage

    expected = {m: _post(server, {"commune": "62498", "matrix": m}).json()
                for m in ("environmental", "societal")}
    mp = MapPage(server, map_browser)
    page = mp.page
    page.evaluate("import('./map/static/panels.js').then((m) => m.openCommune("
                  "{insee: '62498', nom: 'Lens'}))")
    page.wait_for_selector("#panel[data-view=commune][aria-busy=false] "
                           ".result[data-matrix=environmental]")
    panel = page.locator("#panel")
    ids = panel.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.risk)")
    assert ids == ENV_IDS
    assert panel.locator("tbody tr details.risk-actions").count() == len(ENV_IDS)
    assert panel.locator("[data-risk=R1] [data-trend]").count() == (
        1 if "trend" in _by_id(expected["environmental"])["R1"] else 0)
    # the switch to the societal matrix
    page.click(".matrix-switch button[data-matrix=societal]")
    page.wait_for_selector("#panel[aria-busy=false] .result[data-matrix=societal]")
    assert panel.locator("h3").first.inner_text() == "Matrice des risques sociétaux"
    ids = panel.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.risk)")
    assert ids == SOC_IDS
    soc = _by_id(expected["societal"])
    trends = panel.locator("[data-trend]").evaluate_all(
        "els => els.map(e => [e.closest('tr').dataset.risk, e.dataset.trend])")
    assert dict(trends) == {rid: r["trend"] for rid, r in soc.items() if "trend" in r}
    row = panel.locator("tbody tr[data-risk=R3]")
    row.locator("summary").click()
    text = row.inner_text()
    assert "Préventives" in text and "Curatives" in text
    assert soc["R3"]["actions"]["preventive"][0]["fr"] in text
    assert soc["R3"]["actions"]["curative"][0]["fr"] in text
    page.wait_for_function("document.querySelector('img.risk-grid').complete && "
                           "document.querySelector('img.risk-grid').naturalWidth > 100")
    # in English, the same panel in English
    page.click("#lang-toggle")
    row = panel.locator("tbody tr[data-risk=R3]")
    row.locator("summary").click()
    text = row.inner_text()
    assert "Preventive" in text and soc["R3"]["actions"]["preventive"][0]["en"] in text
    assert soc["R3"]["label_en"] in text
    assert panel.locator("h3").first.inner_text() == "Societal risk matrix"
    mp.screenshot("commune-societal", server)
    mp.close()
    assert not mp.problems, mp.problems
