"""Issue 15, parts 1-2: explained mutability results and criteria derived from the territory's
layers. Pure tests on hand-built sites with known answers (fast), the explained output summing
back to the reliability, and the process over HTTP on both stores."""
from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, box

from processes.mutability import core, derive
from processes.mutability.processor import auto_criteria

PROJECT = Path(__file__).resolve().parent.parent
SCENARIOS = sorted((PROJECT / "processes" / "mutability" / "data" / "scenarios").glob("*.json"))
CRS = "EPSG:2154"
ORIGIN = Point(700000, 7000000)
RADIUS = 100.0  # site of pi * 100² m²: a disc of radius 100 m around ORIGIN
PROPS = {"site_id": "T1", "site_surface": math.pi * RADIUS ** 2, "comm_insee": "62001",
         "bati_nombre": 2}


def gdf(rows: list[dict]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)


def at(dx: float, dy: float = 0.0) -> Point:
    return Point(ORIGIN.x + dx, ORIGIN.y + dy)


def square(dx: float, dy: float, half: float):
    return box(ORIGIN.x + dx - half, ORIGIN.y + dy - half, ORIGIN.x + dx + half,
               ORIGIN.y + dy + half)


def run(layers: dict, props: dict | None = None, version: str = core.DEFAULT_VERSION):
    ctx = derive.Context(layers, auto_criteria(version), {"qpv"})
    return derive.derive_site(props or PROPS, ORIGIN, ctx)


# ---------------------------------------------------------------------------- one rule each
def test_distance_autoroute_junction_or_major_road_not_the_motorway_itself():
    layers = {
        "echangeurs-autoroutiers": gdf([{"id": "J", "geometry": at(3000)}]),
        "routes-principales": gdf([
            {"id": "A", "categorie": "autoroute", "geometry": LineString([at(-5000, 150), at(5000, 150)])},
            {"id": "N", "categorie": "route nationale", "geometry": LineString([at(1500, -5000), at(1500, 5000)])}]),
    }
    d = run(layers)
    assert d.auto["distanceAutoroute"] == 1400  # 1 500 m minus the site radius
    assert d.sources["distanceAutoroute"]["layer"] == "routes-principales"
    d = run({"echangeurs-autoroutiers": layers["echangeurs-autoroutiers"]})
    assert d.auto["distanceAutoroute"] == 2900


def test_distance_to_public_transport_and_empty_layer_is_null():
    d = run({"arrets-transport": gdf([{"id": "S", "mode": "bus", "geometry": at(0, 700)},
                                       {"id": "T", "mode": "train", "geometry": at(0, 900)}])})
    assert d.auto["distanceTransportCommun"] == 600
    empty = gdf([{"id": "S", "mode": "bus", "geometry": at(0, 700)}]).iloc[0:0]
    assert run({"arrets-transport": empty}).auto["distanceTransportCommun"] is None


def test_shops_and_services_both_needed_within_500_m():
    rows = [{"id": "C", "categorie": "commerce", "geometry": at(550)},
            {"id": "S", "categorie": "service", "geometry": at(650)}]
    assert run({"commerces-services": gdf(rows)}).auto["proximiteCommercesServices"] is False
    rows.append({"id": "S2", "categorie": "service", "geometry": at(0, -580)})
    assert run({"commerces-services": gdf(rows)}).auto["proximiteCommercesServices"] is True


def test_substation_distance_and_saturation_of_the_nearest():
    layer = gdf([{"id": "P1", "nom": "P1", "sature": True, "capacite_restante_mw": 0.0,
                  "geometry": at(2100)},
                 {"id": "P2", "nom": "P2", "sature": False, "capacite_restante_mw": 12.0,
                  "geometry": at(-4000)}])
    d = run({"postes-electriques": layer})
    assert d.auto["distanceRaccordementElectrique"] == 2000
    assert d.auto["saturationReseauEnr"] is True
    layer.loc[0, "geometry"] = at(9000)
    d = run({"postes-electriques": layer})
    assert (d.auto["distanceRaccordementElectrique"], d.auto["saturationReseauEnr"]) == (3900, False)


def test_heat_network_distance():
    d = run({"reseaux-chaleur": gdf([{"id": "R", "geometry": LineString([at(-50, 400), at(50, 400)])}])})
    assert d.auto["distanceReseauChaleur"] == 300


@pytest.mark.parametrize("radius, expected", [(800.0, False), (950.0, True)])
def test_technological_risk_within_the_effects_radius(radius, expected):
    layer = gdf([{"id": "I", "nom": "Seveso", "seveso": "seuil haut", "rayon_effets_m": radius,
                  "geometry": at(1000)}])
    d = run({"sites-icpe": layer})
    assert d.auto["presenceRisquesTechnologiques"] is expected  # 1 000 - 100 = 900 m


@pytest.mark.parametrize("zones, expected", [
    ([("ZNIEFF type 2", square(0, 0, 300)), ("Natura 2000", square(0, 0, 200))], "natura-2000"),
    ([("ZNIEFF type 1", square(0, 0, 300)), ("réserve naturelle", square(0, 0, 50))],
     "reserve-naturelle"),
    ([("ZNIEFF type 1", square(0, 0, 300))], "znieff-type-1-2"),
    ([("Natura 2000", square(800, 0, 200))], "proximite-zone"),  # 600 m from the point, 500 from the edge
    ([("Natura 2000", square(900, 0, 100))], "hors-zone"),
])
def test_environmental_zoning_priorities_and_proximity(zones, expected):
    layer = gdf([{"id": str(i), "type": t, "geometry": g} for i, (t, g) in enumerate(zones)])
    assert run({"zonages-environnementaux": layer}).auto["zonageEnvironnemental"] == expected


@pytest.mark.parametrize("types, expected", [
    (["abords de monument historique"], "perimetre-abf"),
    (["abords de monument historique", "site classé"], "site-inscrit-classe"),
    (["site patrimonial remarquable"], "spr"),
    ([], "non-concerne"),
])
def test_heritage_zoning(types, expected):
    rows = [{"id": str(i), "type": t, "geometry": square(0, 0, 300)} for i, t in enumerate(types)]
    rows.append({"id": "far", "type": "site inscrit", "geometry": square(5000, 0, 100)})
    d = run({"servitudes-patrimoniales": gdf(rows)})
    assert d.auto["zonagePatrimonial"] == expected
    res = core.score(derive.merge(d, None)[0])
    assert res["reliability"]["criteria_informed"] >= 1  # spr: no matrix row, still informed


@pytest.mark.parametrize("types, expected", [
    (["solaire-sol", "exclusion"], "exclusion"),
    (["solaire-sol", "solaire-ombrieres"], "oui-solaire-pv-ombriere"),
    (["eolien"], "oui"),
    ([], "non"),
])
def test_renewable_acceleration_zone(types, expected):
    rows = [{"id": str(i), "type": t, "geometry": square(0, 0, 300)} for i, t in enumerate(types)]
    rows.append({"id": "far", "type": "exclusion", "geometry": square(5000, 0, 100)})
    assert run({"zones-acceleration-enr": gdf(rows)}).auto["zoneAccelerationEnr"] == expected


def test_qpv_is_the_site_point_inside_and_flagged_demo():
    layer = gdf([{"id": "Q", "nom": "Quartier", "geometry": square(150, 0, 200)}])
    d = run({"qpv": layer})
    assert d.auto["siteEnQpv"] is True and "démonstration" in d.sources["siteEnQpv"]["layer"]
    layer.loc[0, "geometry"] = square(400, 0, 200)
    assert run({"qpv": layer}).auto["siteEnQpv"] is False  # 200 m away: only the point counts


def test_vacancy_and_abc_zone_of_the_municipality():
    housing = gdf([{"id": "62001", "insee": "62001", "nom": "A", "taux_logements_vacants": 9.3,
                    "zone_abc": "B2", "geometry": square(5000, 0, 100)},  # by code, not position
                   {"id": "62002", "insee": "62002", "nom": "B", "taux_logements_vacants": 5.0,
                    "zone_abc": "C", "geometry": square(0, 0, 500)}])
    d = run({"habitat-communes": housing})
    assert (d.auto["tauxLogementsVacants"], d.auto["zonageAbcLogement"]) == (9.3, "b2")
    d = run({"habitat-communes": housing}, {**PROPS, "comm_insee": None})
    assert (d.auto["tauxLogementsVacants"], d.auto["zonageAbcLogement"]) == (5, "c")


@pytest.mark.parametrize("types, expected", [
    (["corridor à préserver", "réservoir de biodiversité"], "reservoir-biodiversite"),
    (["corridor à préserver", "corridor à restaurer"], "corridor-a-restaurer"),
    (["corridor à préserver"], "corridor-a-preserver"),
    ([], "hors-trame"),
])
def test_green_and_blue_network_is_a_user_criterion(types, expected):
    rows = [{"id": str(i), "type": t, "geometry": square(0, 0, 300)} for i, t in enumerate(types)]
    rows.append({"id": "far", "type": "réservoir de biodiversité", "geometry": square(5000, 0, 99)})
    d = run({"trame-verte-bleue": gdf(rows)})
    assert d.user["trameVerteEtBleue"] == expected and "trameVerteEtBleue" not in d.auto
    assert derive.merge(d, None)[0]["user"]["trameVerteEtBleue"] == expected


def test_cavities_near_the_site_or_none():
    cav = gdf([{"id": "C", "type": "carrière souterraine", "geometry": at(140)}])
    assert run({"cavites-souterraines": cav}).auto["risqueCavitesSouterraines"] == "oui"
    cav.loc[0, "geometry"] = at(200)  # 100 m from the edge: beyond 50 m
    assert run({"cavites-souterraines": cav}).auto["risqueCavitesSouterraines"] == "non"
    d = run({})
    assert "risqueCavitesSouterraines" in d.unavailable
    assert "cavites-souterraines" in d.missing["risqueCavitesSouterraines"]["rule"]


@pytest.mark.parametrize("code, expected", [
    ("{P5a}", "public"), ("{P4a,P5a}", "public"), ("{F2a}", "public"), ("{R2a}", "public"),
    ("{X1a}", "prive"), ("{Z1a,G1a}", "prive"), ("{F1a}", "prive"),
    ("{G2a}", "copro-indivision"), ("{G2a,X1a}", "copro-indivision"),
    ("{P5a,X1a}", "mixte"), ("{F2a,G1a,G1c}", "mixte"), (None, None), ("", None),
])
def test_owner_type_from_the_fichiers_fonciers_codes(code, expected):
    assert derive.owner_type(code) == expected


def test_friche_attributes_give_building_and_pollution_answers():
    d = run({}, {**PROPS, "bati_nombre": 0, "bati_pollution": "amiante", "proprio_type": "{X1a}"})
    assert d.user == {"typeProprietaire": "prive", "etatBatiInfrastructure": "pas-de-bati",
                      "valeurArchitecturaleHistorique": "pas-de-bati",
                      "presencePollution": "oui-amiante"}
    d = run({}, {**PROPS, "sol_pollution_existe": "pollution inexistante",
                 "bati_patrimoine": "aucun"})
    assert d.user == {"presencePollution": "non", "valeurArchitecturaleHistorique": "sans-interet"}
    d = run({}, {**PROPS, "sol_pollution_existe": "pollution avérée"})
    assert "presencePollution" not in d.user  # which compounds is unknown


def test_a_missing_layer_leaves_its_criteria_unavailable_and_says_why():
    d = run({})
    for cid in ("distanceTransportCommun", "zonagePatrimonial", "siteEnQpv"):
        assert cid in d.unavailable and "not published" in d.missing[cid]["rule"]


# ---------------------------------------------------------------------------- explained results
def _sums_back(result: dict) -> None:
    rel, crit = result["reliability"], result["criteria"]
    assert len(crit) == rel["criteria_total"]
    informed = [c for c in crit if c["informed"]]
    assert len(informed) == rel["criteria_informed"]
    weight = sum(c["weight"] for c in informed)
    assert weight == rel["weight_informed"]
    x = 10 * weight / rel["weight_total"]
    assert math.floor(2 * x + 0.5) / 2 == rel["score"]
    for c in crit:
        assert c["source"] in ("derived", "given", "stored", "unavailable")
        assert (c["source"] == "unavailable") <= (not c["informed"])
        assert set(c) >= {"id", "value", "source", "weight"}


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_explained_scenarios_sum_back_and_keep_the_scores(path):
    sc = json.loads(path.read_text(encoding="utf-8"))
    result = core.evaluate(sc["input"], algorithm_version=sc["algorithm_version"])
    criteria = result.pop("criteria")
    assert result == dict(sc["expected"], algorithm_version=sc["algorithm_version"])
    _sums_back({**result, "criteria": criteria})
    assert {c["source"] for c in criteria} <= {"given", "unavailable", "derived"}


def test_priority_given_then_stored_then_derived():
    derived = {"auto": {"surfaceSite": 1000, "siteEnQpv": False}, "user": {"typeProprietaire": "prive"},
               "unavailable": ["distanceIte"]}
    stored = {"typeProprietaire": "public", "siteEnQpv": True, "presencePollution": "non"}
    given = {"auto": {"siteEnQpv": False}, "unavailable": ["surfaceSite"]}
    result = core.evaluate(given, stored=stored, derived=derived,
                           details={"surfaceSite": {"layer": "friches", "rule": "r"},
                                    "typeProprietaire": {"layer": "friches", "rule": "owner"}})
    by = {c["id"]: c for c in result["criteria"]}
    assert (by["siteEnQpv"]["source"], by["siteEnQpv"]["value"]) == ("given", False)
    assert (by["typeProprietaire"]["source"], by["typeProprietaire"]["value"]) == ("stored", "public")
    assert "rule" not in by["typeProprietaire"]  # the derived rule is not shown for a stored value
    assert by["presencePollution"]["source"] == "stored"
    assert by["surfaceSite"]["source"] == "unavailable"  # the caller said so
    assert by["distanceIte"]["source"] == "unavailable"
    assert by["raccordementEau"]["source"] == "unavailable"  # surfaceBati unknown
    _sums_back(result)


def test_derived_site_explained_with_layers_and_rules():
    layers = {"qpv": gdf([{"id": "Q", "nom": "Q", "geometry": square(0, 0, 50)}]),
              "arrets-transport": gdf([{"id": "S", "mode": "bus", "geometry": at(300)}])}
    d = run(layers, {**PROPS, "bati_nombre": 0})
    result = core.evaluate(None, derived=d.criteria(), details=d.details())
    by = {c["id"]: c for c in result["criteria"]}
    assert by["siteEnQpv"]["source"] == "derived" and by["siteEnQpv"]["layer"].startswith("qpv")
    assert by["distanceTransportCommun"]["value"] == 200 and "rule" in by["distanceTransportCommun"]
    assert by["raccordementEau"] == {**by["raccordementEau"], "source": "derived", "value": "non"}
    assert by["zonagePatrimonial"]["source"] == "unavailable" and "not published" in \
        by["zonagePatrimonial"]["rule"]
    _sums_back(result)


# ---------------------------------------------------------------------------- the real territory
def test_every_real_friche_gets_most_criteria_from_the_layers():
    """The 246 Cartofriches sites with the published layers (computed from their sources)."""
    from reference import CATALOG, reference

    layers = {cid: reference(cid) for cid in derive.LAYERS}
    ctx = derive.Context(layers, auto_criteria(None), {s.id for s in CATALOG.values() if s.demo})
    friches = reference("friches")
    names = [c for c in friches.columns if c != friches.geometry.name]
    scores, informed = [], []
    for values, geom in zip(friches[names].itertuples(index=False, name=None), friches.geometry):
        props = dict(zip(names, values))
        d = derive.derive_site(props, geom, ctx)
        result = core.evaluate(None, derived=d.criteria(), details=d.details())
        _sums_back(result)
        scores.append(result["reliability"]["score"])
        informed.append(result["reliability"]["criteria_informed"])
        if derive._number(props.get("bati_nombre")) == 0 and derive._text(props.get("urba_zone_type")):
            assert result["reliability"]["score"] >= 7
    assert len(scores) == 246 and min(informed) >= 21
    assert sorted(informed)[123] >= 23 and sorted(scores)[123] >= 6.5


def test_new_demo_generators_are_seeded_and_inside_the_territory():
    from reference import CATALOG, reference
    from services.build import _load_callable
    from services.demo import sorted_communes, territory

    terr = territory(sorted_communes({"communes": reference("communes")})).buffer(0.01)
    for cid in derive.LAYERS:
        spec = CATALOG[cid]
        if not spec.demo or cid in ("zae", "alea-inondation", "alea-argiles"):
            continue
        generate = _load_callable(spec.source["generator"])
        inputs = {r: reference(r) for r in spec.requires}
        a = generate(inputs, int(spec.source["seed"]))
        assert a.to_json() == generate(inputs, int(spec.source["seed"])).to_json(), cid
        assert len(a) and a["id"].is_unique and a.geometry.is_valid.all(), cid
        assert a.geometry.within(terr).all(), cid
        assert a["source"].str.contains("démonstration").all(), cid
        assert "DÉMONSTRATION" in spec.description["fr"] and "DEMONSTRATION" in spec.description["en"]


# ---------------------------------------------------------------------------- over HTTP
FRICHE = "62846_8397"


def test_process_returns_explained_criteria_over_http(server):
    r = server.post("/processes/mutability/execution",
                    data=json.dumps({"inputs": {"friche": FRICHE, "criteria": {
                        "user": {"qualitePaysage": "ordinaire"}}}}),
                    headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text[:800]
    result = r.json()["result"]
    assert list(result)[:3] == ["reliability", "results", "algorithm_version"]
    _sums_back(result)
    by = {c["id"]: c for c in result["criteria"]}
    assert len(by) == 32
    assert by["qualitePaysage"]["source"] == "given"
    assert by["distanceTransportCommun"]["source"] == "derived"
    assert by["distanceTransportCommun"]["layer"].startswith("arrets-transport")
    assert by["siteEnQpv"]["layer"].startswith("qpv")
    assert sum(c["source"] == "derived" for c in result["criteria"]) >= 22
    assert result["reliability"]["score"] >= 6.5
