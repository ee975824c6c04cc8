"""Tests of the pure scoring core of the ``mutability`` process (Mutafriches-compatible)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
import yaml

from processes.mutability import core
from processes.mutability.core import (
    InvalidCriterion,
    UnknownAlgorithmVersion,
    criteria_schema,
    effective_criteria,
    score,
    supported_versions,
)

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "processes" / "mutability" / "data"
SCENARIO_FILES = sorted((DATA / "scenarios").glob("*.json"))
CANONICAL = [u["id"] for u in core.USES]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def scenario(name: str) -> dict:
    return load(DATA / "scenarios" / f"{name}.json")


def by_use(result: dict) -> dict:
    return {r["use"]: r for r in result["results"]}


def half_up_index(a, c) -> Decimal:
    a, c = Decimal(str(a)), Decimal(str(c))
    if a + c == 0:
        return Decimal(0)
    return (a / (a + c) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


# --------------------------------------------------------------------------------------------
# Golden scenarios
# --------------------------------------------------------------------------------------------
def test_there_are_scenarios():
    assert len(SCENARIO_FILES) >= 5


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_golden_scenario(path):
    sc = load(path)
    result = score(sc["input"], sc["algorithm_version"])
    expected = dict(sc["expected"], algorithm_version=sc["algorithm_version"])
    assert result == expected
    # same key order and same number formatting (61, not 61.0) once serialised
    assert json.dumps(result, ensure_ascii=False) == json.dumps(expected, ensure_ascii=False)


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_golden_scenario_derived_water_connection(path):
    sc = load(path)
    eff = effective_criteria(sc["input"], sc["algorithm_version"])
    for cid, value in sc["input"]["derived"].items():
        assert eff[cid] == value


def test_scenario_copies_match_shared_files():
    # CI and the work tree have ../shared beside the repository; a user's clone may not:
    # then there is nothing to compare the copies with.
    shared = Path(__file__).resolve().parents[2] / "shared" / "mutability"
    if not shared.is_dir():
        pytest.skip("../shared/mutability is not beside this clone (only CI and the team have it)")
    assert (DATA / "matrix.yaml").read_bytes() == (shared / "matrix.yaml").read_bytes()
    for p in (shared / "scenarios").glob("*.json"):
        assert (DATA / "scenarios" / p.name).read_bytes() == p.read_bytes()


def test_worked_check_of_method():
    """METHOD.md §4.10: pierre-timbaud.sans-saisie, residentiel."""
    res = score(scenario("pierre-timbaud.sans-saisie")["input"], "v1.16")
    r = by_use(res)["residentiel"]
    got = (r["advantages"], r["constraints"], r["index"], r["label"])
    assert got == (20, 8.5, 70.2, "Excellent")
    assert (res["reliability"]["weight_informed"], res["reliability"]["score"]) == (22.5, 7)


# --------------------------------------------------------------------------------------------
# Versions
# --------------------------------------------------------------------------------------------
def test_supported_versions_and_default():
    versions = supported_versions()
    assert "v1.16" in versions and "v1.19" in versions
    assert versions == sorted(versions, key=lambda v: tuple(int(x) for x in v[1:].split(".")))
    assert core.DEFAULT_VERSION == versions[-1] == "v1.19"
    sc = scenario("generique-s300-b0.complete")
    assert score(sc["input"])["algorithm_version"] == "v1.19"
    assert score(sc["input"]) == score(sc["input"], "v1.19")


@pytest.mark.parametrize("bad", ["v9.9", "v1.17", "", "latest", 1.16, ["v1.16"]])
def test_unknown_version(bad):
    with pytest.raises(UnknownAlgorithmVersion) as exc:
        score(scenario("generique-s300-b0.complete")["input"], bad)
    err = exc.value
    assert isinstance(err, ValueError)
    assert "v1.16" in err.en and "v1.19" in err.en
    assert "v1.16" in err.fr and "Version" in err.fr
    assert err.supported == supported_versions()


def test_version_without_v_prefix_is_accepted():
    sc = scenario("generique-s300-b0.complete")
    assert score(sc["input"], "1.16") == score(sc["input"], "v1.16")


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_v119_runs_and_differs_only_on_tertiaire(path):
    sc = load(path)
    old = score(sc["input"], "v1.16")
    new = score(sc["input"], "v1.19")
    assert new["algorithm_version"] == "v1.19"
    assert [r["use"] for r in new["results"]] != [] and len(new["results"]) == 7
    assert sorted(r["use"] for r in new["results"]) == sorted(CANONICAL)
    assert [r["rank"] for r in new["results"]] == list(range(1, 8))
    assert new["reliability"]["criteria_total"] == 32
    assert new["reliability"]["weight_total"] == 34
    # siteEnZae absent: same informed criteria as v1.16
    assert new["reliability"]["criteria_informed"] == old["reliability"]["criteria_informed"]
    # v1.17 only rebalanced tertiaire cells; without siteEnZae nothing else moves
    o, n = by_use(old), by_use(new)
    for use in CANONICAL:
        if use != "tertiaire":
            assert (o[use]["advantages"], o[use]["constraints"], o[use]["index"]) == (
                n[use]["advantages"], n[use]["constraints"], n[use]["index"])


def test_v119_tertiaire_cells_by_hand():
    """generique: surfaceSite 300 (tertiaire NEUTRE->POSITIF, w2), centre-ville false
    (NEGATIF->POSITIF, w1), commerces true (unchanged)."""
    sc = scenario("generique-s300-b0.complete")
    t16 = by_use(score(sc["input"], "v1.16"))["tertiaire"]
    t19 = by_use(score(sc["input"], "v1.19"))["tertiaire"]
    assert (t16["advantages"], t16["constraints"], t16["index"]) == (22.75, 13.25, 63.2)
    # A: -1 (neutral 0.5*2 leaves) +2 (positive 1*2) +1 (centre-ville false now +1)
    # C: -1 (neutral leaves) -1 (centre-ville false no longer -1)
    assert (t19["advantages"], t19["constraints"]) == (24.75, 11.25)
    assert t19["index"] == 68.8  # 68.75 rounded half up


def test_site_en_zae():
    sc = copy.deepcopy(scenario("generique-s300-b0.complete"))
    base16 = score(sc["input"], "v1.16")
    base19 = score(sc["input"], "v1.19")
    sc["input"]["auto"]["siteEnZae"] = True
    zae16 = score(sc["input"], "v1.16")
    zae19 = score(sc["input"], "v1.19")
    # v1.16 does not know siteEnZae: ignored, not counted
    assert zae16 == base16
    # v1.19: counted (weight 1) and scored
    rel19, relzae = base19["reliability"], zae19["reliability"]
    assert relzae["criteria_informed"] == rel19["criteria_informed"] + 1
    assert relzae["weight_informed"] == rel19["weight_informed"] + 1
    b, z = by_use(base19), by_use(zae19)
    assert z["tertiaire"]["advantages"] - b["tertiaire"]["advantages"] == 2  # v1.19 TRES_POSITIF
    assert z["tertiaire"]["constraints"] == b["tertiaire"]["constraints"]
    assert z["industrie"]["advantages"] - b["industrie"]["advantages"] == 2
    assert z["residentiel"]["constraints"] - b["residentiel"]["constraints"] == 1
    for use in ("equipements", "culture", "renaturation", "photovoltaique"):  # neutral
        assert z[use]["advantages"] - b[use]["advantages"] == 0.5
        assert z[use]["constraints"] - b[use]["constraints"] == 0.5
    sc["input"]["auto"]["siteEnZae"] = False
    nozae = by_use(score(sc["input"], "v1.19"))
    assert nozae["tertiaire"]["advantages"] - b["tertiaire"]["advantages"] == 0.5


# --------------------------------------------------------------------------------------------
# Ranking, rounding, labels
# --------------------------------------------------------------------------------------------
def test_tie_break_all_zero_keeps_canonical_order():
    res = score({}, "v1.16")
    assert [r["use"] for r in res["results"]] == CANONICAL
    assert all(r["index"] == 0 and r["label"] == "Faible" for r in res["results"])
    assert res["reliability"] == {"score": 0, "label": "Très peu fiable", "criteria_informed": 0,
                                  "criteria_total": 31, "weight_informed": 0, "weight_total": 33}


def test_tie_break_canonical_order_among_equal_indices():
    res = score({"user": {"presenceZoneHumide": "oui"}}, "v1.16")  # no exclusion: only one of two
    order = [r["use"] for r in res["results"]]
    assert order == ["renaturation", "residentiel", "equipements", "culture", "tertiaire",
                     "industrie", "photovoltaique"]
    assert by_use(res)["renaturation"]["index"] == 100
    assert not any(r["excluded"] for r in res["results"])


@pytest.mark.parametrize("version", ["v1.16", "v1.19"])
@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_ordering_and_index_invariants(path, version):
    res = score(load(path)["input"], version)
    rows = res["results"]
    for a, b in zip(rows, rows[1:]):
        assert (a["excluded"], -a["index"]) <= (b["excluded"], -b["index"])
        if a["excluded"] == b["excluded"] and a["index"] == b["index"]:
            assert CANONICAL.index(a["use"]) < CANONICAL.index(b["use"])
    for r in rows:
        assert Decimal(str(r["index"])) == half_up_index(r["advantages"], r["constraints"])


def test_index_rounds_half_up_not_half_even():
    crit = {"auto": {"proximiteCommercesServices": True, "zonageAbcLogement": "b2",
                     "risqueRetraitGonflementArgile": "aucun"},
            "user": {"presenceZoneHumide": "non"}}
    r = by_use(score(crit, "v1.16"))["residentiel"]
    # A = 2*1 + 1*0.5 + 0.5*0.5 + 0.5*1 = 3.25 ; C = 0.5*0.5 + 0.5*1 = 0.75 ; 81.25 %
    assert (r["advantages"], r["constraints"]) == (3.25, 0.75)
    assert r["index"] == 81.3
    assert round(81.25, 1) == 81.2  # what banker's rounding would have given


def test_potential_label_boundaries():
    # only the neutral ("both sides") cells: every index is exactly 50.0 -> "Bon"
    res = score({"auto": {"risqueInondation": "non"}}, "v1.16")
    assert all(r["index"] == 50 and r["label"] == "Bon" for r in res["results"])
    assert isinstance(res["results"][0]["index"], int)


# --------------------------------------------------------------------------------------------
# Exclusion rules (v1.16+)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("version", ["v1.16", "v1.19"])
def test_exclusion_zone_humide_et_especes_protegees(version):
    sc = copy.deepcopy(scenario("generique-s300-b0.complete"))
    sc["input"]["user"]["presenceZoneHumide"] = "oui"
    sc["input"]["user"]["presenceEspecesProtegees"] = "oui"
    res = score(sc["input"], version)
    rows = res["results"]
    assert [r["use"] for r in rows][-2:] in (["tertiaire", "industrie"], ["industrie", "tertiaire"])
    for r in rows:
        excluded = r["use"] in ("tertiaire", "industrie")
        assert r["excluded"] is excluded
        if excluded:
            assert r["label"] == "Exclu"
            assert r["rank"] in (6, 7)
        else:
            assert r["label"] != "Exclu"
        # index kept (computed as usual)
        assert Decimal(str(r["index"])) == half_up_index(r["advantages"], r["constraints"])
    excluded = sorted((r for r in rows if r["excluded"]),
                      key=lambda r: (-r["index"], CANONICAL.index(r["use"])))
    assert rows[5:] == excluded


def test_exclusion_minimal_case_by_hand():
    res = score({"user": {"presenceZoneHumide": "oui", "presenceEspecesProtegees": "oui"}}, "v1.16")
    assert [(r["use"], r["index"], r["label"], r["excluded"]) for r in res["results"]] == [
        ("renaturation", 100, "Excellent", False),
        ("residentiel", 0, "Faible", False),
        ("equipements", 0, "Faible", False),
        ("culture", 0, "Faible", False),
        ("photovoltaique", 0, "Faible", False),
        ("tertiaire", 0, "Exclu", True),
        ("industrie", 0, "Exclu", True),
    ]


@pytest.mark.parametrize("version", ["v1.16", "v1.19"])
def test_exclusion_zone_acceleration_enr(version):
    sc = copy.deepcopy(scenario("generique-s300-b0.complete"))
    base = by_use(score(sc["input"], version))
    sc["input"]["auto"]["zoneAccelerationEnr"] = "exclusion"
    res = score(sc["input"], version)
    pv = res["results"][-1]
    assert pv["use"] == "photovoltaique" and pv["excluded"] and pv["label"] == "Exclu"
    assert pv["rank"] == 7
    # the "exclusion" row still scores: PV very negative (-2 * w1) instead of neutral
    assert pv["advantages"] == base["photovoltaique"]["advantages"] - 0.5
    assert pv["constraints"] == base["photovoltaique"]["constraints"] - 0.5 + 2
    assert [r for r in res["results"] if r["excluded"]] == [pv]


def test_both_exclusion_rules():
    sc = copy.deepcopy(scenario("station-service.complete"))
    sc["input"]["auto"]["zoneAccelerationEnr"] = "exclusion"
    sc["input"]["user"]["presenceZoneHumide"] = "oui"
    sc["input"]["user"]["presenceEspecesProtegees"] = "oui"
    rows = score(sc["input"], "v1.16")["results"]
    assert {r["use"] for r in rows if r["excluded"]} == {"photovoltaique", "tertiaire", "industrie"}
    assert all(r["excluded"] for r in rows[4:]) and not any(r["excluded"] for r in rows[:4])


@pytest.mark.parametrize("humide,especes", [("oui", "non"), ("non", "oui"), ("oui", "ne-sait-pas"),
                                            ("ne-sait-pas", "ne-sait-pas"), ("oui", None)])
def test_exclusion_needs_all_conditions(humide, especes):
    sc = copy.deepcopy(scenario("generique-s300-b0.complete"))
    sc["input"]["user"]["presenceZoneHumide"] = humide
    if especes is None:
        del sc["input"]["user"]["presenceEspecesProtegees"]
    else:
        sc["input"]["user"]["presenceEspecesProtegees"] = especes
    assert not any(r["excluded"] for r in score(sc["input"], "v1.16")["results"])


# --------------------------------------------------------------------------------------------
# Missing data, null, row-less values, derivation, units
# --------------------------------------------------------------------------------------------
def test_null_and_rowless_values_are_informed_but_do_not_score():
    sc = scenario("generique-s300-b0.complete")
    base = score(sc["input"], "v1.16")
    removed = copy.deepcopy(sc["input"])
    del removed["auto"]["zonagePatrimonial"]
    del removed["auto"]["distanceTransportCommun"]
    removed_res = score(removed, "v1.16")
    special = copy.deepcopy(sc["input"])
    special["auto"]["zonagePatrimonial"] = "monument-historique"  # upstream value, no matrix row
    special["auto"]["distanceTransportCommun"] = None  # searched, nothing found
    special_res = score(special, "v1.16")

    def strip(res):
        return [(r["use"], r["advantages"], r["constraints"]) for r in res["results"]]

    assert strip(special_res) == strip(removed_res)
    assert special_res["reliability"] == base["reliability"]
    assert removed_res["reliability"]["criteria_informed"] == 29
    assert removed_res["reliability"]["weight_informed"] == 31


def test_unavailable_list_equals_missing_key():
    sc = scenario("pont-malembert.complete")
    without_list = copy.deepcopy(sc["input"])
    without_list["unavailable"] = []
    assert score(without_list, "v1.16") == score(sc["input"], "v1.16")


@pytest.mark.parametrize("surface,expected", [(None, "non"), (0, "non"), (20, "non"),
                                              (20.5, "oui"), (568, "oui")])
def test_water_connection_derivation(surface, expected):
    sc = copy.deepcopy(scenario("generique-s300-b0.complete"))
    sc["input"]["auto"]["surfaceBati"] = surface
    sc["input"]["derived"]["raccordementEau"] = "ne-sait-pas"  # overridden anyway
    assert effective_criteria(sc["input"], "v1.16")["raccordementEau"] == expected


def test_water_connection_overrides_user_answer():
    sc = copy.deepcopy(scenario("generique-s300-b0.complete"))
    sc["input"]["derived"] = {}
    sc["input"]["user"]["raccordementEau"] = "oui"  # surfaceBati 0 -> "non" wins
    assert score(sc["input"], "v1.16") == dict(sc["expected"], algorithm_version="v1.16")
    del sc["input"]["auto"]["surfaceBati"]
    assert effective_criteria(sc["input"], "v1.16")["raccordementEau"] == "ne-sait-pas"


def test_distances_in_metres_compared_in_km():
    def industrie(dist):
        return by_use(score({"auto": {"distanceAutoroute": dist}}, "v1.16"))["industrie"]

    assert industrie(999)["advantages"] == 1  # < 1 km: TRES_POSITIF * 0.5
    assert industrie(1000)["advantages"] == 0.5  # < 2 km: POSITIF * 0.5
    assert industrie(4999)["constraints"] == 0.5  # < 5 km: NEGATIF * 0.5
    assert industrie(5000)["constraints"] == 1  # else: TRES_NEGATIF * 0.5
    pv = by_use(score({"auto": {"distanceRaccordementElectrique": 999}}, "v1.16"))["photovoltaique"]
    assert pv["advantages"] == 2
    # transport stays in metres
    tc = by_use(score({"auto": {"distanceTransportCommun": 499}}, "v1.16"))["residentiel"]
    assert tc["advantages"] == 1 and tc["constraints"] == 0


def test_surface_bati_zero_or_below_band():
    r0 = by_use(score({"auto": {"surfaceBati": 0}}, "v1.16"))["industrie"]
    r1 = by_use(score({"auto": {"surfaceBati": 4999}}, "v1.16"))["industrie"]
    r2 = by_use(score({"auto": {"surfaceBati": 5000}}, "v1.16"))["industrie"]
    # water connection is derived too: 0 -> non (industrie -2), 4999/5000 -> oui (industrie +2)
    assert r0["constraints"] == 4 + 2
    assert r1["constraints"] == 4 and r1["advantages"] == 2
    assert r2["constraints"] == 2 and r2["advantages"] == 2


# --------------------------------------------------------------------------------------------
# Validation errors
# --------------------------------------------------------------------------------------------
def _with(section, cid, value, name="generique-s300-b0.complete"):
    sc = copy.deepcopy(scenario(name))
    sc["input"].setdefault(section, {})[cid] = value
    return sc["input"]


@pytest.mark.parametrize("section,cid,value", [
    ("user", "presencePollution", "peut-etre"),
    ("user", "typeProprietaire", None),
    ("user", "typeProprietaire", 3),
    ("auto", "zonageReglementaire", "zone-u"),
    ("auto", "zoneAccelerationEnr", True),
    ("auto", "surfaceSite", "300"),
    ("auto", "surfaceSite", -1),
    ("auto", "surfaceSite", float("nan")),
    ("auto", "surfaceBati", True),
    ("auto", "siteEnCentreVille", "true"),
    ("auto", "siteEnCentreVille", 1),
    ("auto", "siteEnZae", "oui"),
    ("derived", "raccordementEau", "peut-etre"),
])
def test_invalid_criterion_value(section, cid, value):
    crit = _with(section, cid, value)
    with pytest.raises(InvalidCriterion) as exc:
        score(crit, "v1.16")
    err = exc.value
    assert isinstance(err, ValueError)
    assert err.criterion == cid
    assert cid in err.fr and cid in err.en
    assert "autorisées" in err.fr and "Allowed" in err.en
    assert cid in str(err)


def test_invalid_enum_message_lists_allowed_values():
    with pytest.raises(InvalidCriterion) as exc:
        score(_with("user", "presencePollution", "peut-etre"))
    err = exc.value
    for v in ("non", "deja-geree", "oui-composes-volatils", "oui-autres-composes", "oui-amiante",
              "ne-sait-pas"):
        assert v in err.fr and v in err.en
        assert v in err.allowed
    assert "Présence de pollution" in err.fr


@pytest.mark.parametrize("mutate", [
    lambda i: i["auto"].__setitem__("surfaceTerrain", 10),        # unknown criterion
    lambda i: i["auto"].__setitem__("typeProprietaire", "prive"),  # user criterion in auto
    lambda i: i["user"].__setitem__("surfaceSite", 10),            # auto criterion in user
    lambda i: i.__setitem__("users", {}),                          # unknown section
    lambda i: i.__setitem__("auto", ["surfaceSite"]),              # section not an object
    lambda i: i.__setitem__("unavailable", ["surfaceSite"]),       # given and unavailable
    lambda i: i.__setitem__("unavailable", ["pasUnCritere"]),      # unknown unavailable id
    lambda i: i.__setitem__("unavailable", "surfaceSite"),         # not a list
])
def test_invalid_criteria_structure(mutate):
    crit = copy.deepcopy(scenario("generique-s300-b0.complete")["input"])
    mutate(crit)
    with pytest.raises(InvalidCriterion) as exc:
        score(crit)
    assert exc.value.fr and exc.value.en


def test_criteria_must_be_a_mapping():
    with pytest.raises(InvalidCriterion):
        score(["auto"])


def test_upstream_enum_values_without_row_are_accepted():
    for cid, value in [("zonagePatrimonial", "spr"),
                       ("zonageEnvironnemental", "parc-naturel-regional")]:
        score(_with("auto", cid, value), "v1.16")


# --------------------------------------------------------------------------------------------
# Purity, data-driven, public helpers
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
def test_input_not_mutated_and_results_independent(path):
    sc = load(path)
    before = copy.deepcopy(sc["input"])
    first = score(sc["input"], "v1.16")
    score(sc["input"], "v1.19")
    assert sc["input"] == before
    first["results"][0]["index"] = -1
    first["reliability"]["score"] = -1
    assert score(sc["input"], "v1.16") == dict(sc["expected"], algorithm_version="v1.16")


def test_core_has_no_web_imports():
    code = ("import sys, processes.mutability.core; "
            "bad = [m for m in ('pygeoapi', 'flask', 'starlette', 'fastapi', 'requests', 'httpx')"
            " if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_scoring_is_data_driven(tmp_path, monkeypatch):
    raw = yaml.safe_load((DATA / "matrix.yaml").read_text(encoding="utf-8"))
    cell = raw["versions"]["v1.16"]["criteria"]["zonageReglementaire"]["values"]["zone-urbaine-u"]
    assert cell["residentiel"] == 2
    cell["residentiel"] = -2
    altered = tmp_path / "matrix.yaml"
    altered.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    sc = scenario("generique-s300-b0.complete")
    monkeypatch.setattr(core, "MATRIX_PATH", altered)
    core._model.cache_clear()
    try:
        r = by_use(score(sc["input"], "v1.16"))["residentiel"]
        assert (r["advantages"], r["constraints"]) == (30.5 - 4, 11.5 + 4)
    finally:
        monkeypatch.undo()
        core._model.cache_clear()
    assert score(sc["input"], "v1.16") == dict(sc["expected"], algorithm_version="v1.16")


def test_matrix_consistency():
    raw = yaml.safe_load((DATA / "matrix.yaml").read_text(encoding="utf-8"))
    for vid, v in raw["versions"].items():
        weights = [Fraction(c["weight"]) for c in v["criteria"].values()]
        assert sum(weights) == v["total_weight"]
        assert len(weights) == v["criteria_count"]
    assert "siteEnZae" not in raw["versions"]["v1.16"]["criteria"]
    assert "siteEnZae" in raw["versions"]["v1.19"]["criteria"]
    # the m->km conversion is read from the data (unit text) for exactly these two criteria
    m = core._model()
    converted = {cid for cid, c in m.versions["v1.16"].criteria.items() if c.divisor != 1}
    assert converted == {"distanceAutoroute", "distanceRaccordementElectrique"}
    assert all(c.divisor == 1000 for c in m.versions["v1.16"].criteria.values() if c.divisor != 1)


def test_uses():
    assert CANONICAL == ["residentiel", "equipements", "culture", "tertiaire", "industrie",
                         "renaturation", "photovoltaique"]
    labels = {u["id"]: u["label_fr"] for u in core.USES}
    assert labels["residentiel"] == "Résidentiel ou mixte"
    assert labels["photovoltaique"] == "Photovoltaïque au sol"
    assert all(set(u) == {"id", "label_fr"} for u in core.USES)


@pytest.mark.parametrize("version", ["v1.16", "v1.19"])
def test_criteria_schema(version):
    schema = criteria_schema(version)
    json.dumps(schema)  # serialisable
    props = schema["properties"]
    crits = {**props["auto"]["properties"], **props["user"]["properties"],
             **props["derived"]["properties"]}
    expected_total = 31 if version == "v1.16" else 32
    assert len(crits) == expected_total == schema["x-criteria-count"]
    assert ("siteEnZae" in crits) is (version == "v1.19")
    for cid, s in crits.items():
        assert "type" in s, cid
        assert s["title"]
    assert props["auto"]["properties"]["surfaceSite"]["type"] == ["number", "null"]
    assert props["auto"]["properties"]["siteEnCentreVille"]["type"] == ["boolean", "null"]
    assert "exclusion" in props["auto"]["properties"]["zoneAccelerationEnr"]["enum"]
    assert "monument-historique" in props["auto"]["properties"]["zonagePatrimonial"]["enum"]
    assert props["user"]["properties"]["presencePollution"]["enum"] == [
        "non", "deja-geree", "oui-composes-volatils", "oui-autres-composes", "oui-amiante",
        "ne-sait-pas"]
    water = props["derived"]["properties"]["raccordementEau"]
    assert water["enum"] == ["oui", "non", "ne-sait-pas"]
    assert criteria_schema() == criteria_schema("v1.19")
    with pytest.raises(UnknownAlgorithmVersion):
        criteria_schema("v0.1")


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=[p.stem for p in SCENARIO_FILES])
@pytest.mark.parametrize("version", ["v1.16", "v1.19"])
def test_scenario_inputs_validate_against_schema(path, version):
    import jsonschema  # a dependency of pygeoapi, always installed
    jsonschema.validate(load(path)["input"], criteria_schema(version))
