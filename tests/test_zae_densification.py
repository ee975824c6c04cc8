"""The ``zae-densification`` process (issue 17 point 6): the pure model on a hand-made park
whose answers are computed by hand, then the process over real HTTP on both stores, checked
against an independent computation with geopandas from the built layers (GeoPackages)."""
from __future__ import annotations

import json
import math

import geopandas as gpd
import pytest
import shapely
from shapely.geometry import box

from conftest import PROJECT

from processes.zae_densification import core

EXECUTE = "/processes/zae-densification/execution"


# ---------------------------------------------------------------------------- pure model
P = core.Parameters(min_surface_m2=500, recul_m=5, quad_segs=16)


def lot(lid: str, statut: str, geom) -> core.Lot:
    return core.Lot(lid, "PARC-TEST", statut, geom)


def rounded_square_buffer(side: float, r: float, quad_segs: int = 16) -> float:
    """Area of a square of `side` buffered by `r` with round corners, each quarter circle drawn
    with `quad_segs` chords: the square, four r-wide bands, and a regular 4·quad_segs-gon
    inscribed in the circle of radius r (n/2 · r² · sin(2π/n))."""
    n = 4 * quad_segs
    return side * side + 4 * side * r + n / 2 * r * r * math.sin(2 * math.pi / n)


def test_occupied_lot_minus_an_inner_building_and_its_setback():
    parcel = box(0, 0, 100, 50)                      # 5 000 m²
    building = box(40, 15, 60, 35)                   # 20 m × 20 m, 5 m clear of every edge
    (piece,) = core.unbuilt_part(parcel, [building], P)
    expected = 5000 - rounded_square_buffer(20, 5)   # ≈ 4 121.5 m², one piece with a hole
    assert piece.area == pytest.approx(expected, abs=1e-6)
    assert len(piece.interiors) == 1


def test_small_pieces_are_dropped_by_the_minimum_size():
    parcel = box(0, 0, 100, 50)
    wall = box(80, -10, 90, 60)                      # crosses the lot: x 75..95 taken with setback
    pieces = core.unbuilt_part(parcel, [wall], P)
    assert [round(p.area, 6) for p in pieces] == [3750.0]          # 75 × 50; 5 × 50 < 500
    looser = core.Parameters(min_surface_m2=200, recul_m=5)
    assert sorted(round(p.area, 6) for p in core.unbuilt_part(parcel, [wall], looser)) == \
        [250.0, 3750.0]
    no_setback = core.Parameters(min_surface_m2=0, recul_m=0)
    assert sum(p.area for p in core.unbuilt_part(parcel, [wall], no_setback)) == \
        pytest.approx(5000 - 10 * 50)


def test_available_lot_is_set_back_from_its_edge():
    assert [p.area for p in core.buildable_part(box(0, 0, 100, 50), P)] == \
        [pytest.approx(90 * 40)]
    assert core.buildable_part(box(0, 0, 30, 12), P) == []          # 20 × 2 = 40 m² < 500


def test_a_hand_made_park():
    lots = [lot("occ", core.OCCUPIED, box(0, 0, 100, 50)),
            lot("dispo", core.AVAILABLE, box(100, 0, 200, 50)),
            lot("petit", core.AVAILABLE, box(200, 0, 230, 12)),
            lot("reserve", "réservé", box(0, 50, 100, 100)),
            lot("cede", "cédé", box(100, 50, 200, 100))]
    buildings = [box(40, 15, 60, 35),                 # inside "occ"
                 box(140, 20, 150, 30),               # on an available lot: not subtracted
                 box(10, 60, 90, 90)]                 # on the reserved lot
    results, summary = core.park_potential(lots, buildings, P)
    by_id = {r["lot"].id: r for r in results}
    occ = 5000 - rounded_square_buffer(20, 5)
    assert by_id["occ"]["potentiel_m2"] == pytest.approx(occ)
    assert by_id["occ"]["bati_m2"] == pytest.approx(400)
    assert by_id["dispo"]["potentiel_m2"] == pytest.approx(3600)
    assert by_id["petit"]["potentiel_m2"] == 0 and by_id["petit"]["pieces"] == []
    assert by_id["reserve"]["potentiel_m2"] == 0 and by_id["cede"]["potentiel_m2"] == 0
    assert summary == {
        "lots": 5, "lots_occupes": 1, "lots_disponibles": 2, "lots_avec_potentiel": 2,
        "surface_lots_m2": 5000 + 5000 + 360 + 5000 + 5000,
        "surface_batie_m2": 400 + 100 + 2400,
        "potentiel_occupes_m2": round(occ, 1), "potentiel_disponibles_m2": 3600.0,
        "potentiel_m2": round(occ + 3600, 1)}
    total = core.add_summaries([summary, summary])
    assert total["parcs"] == 2 and total["lots"] == 10
    assert total["potentiel_m2"] == pytest.approx(2 * summary["potentiel_m2"])


def test_the_park_outline_as_one_lot():
    (result,), summary = core.park_potential(
        [lot("PARC-TEST", core.PARK, box(0, 0, 100, 50))], [box(80, -10, 90, 60)], P)
    assert result["potentiel_m2"] == pytest.approx(3750)
    assert summary["lots_occupes"] == 1 and summary["potentiel_occupes_m2"] == 3750.0


def test_parameters_defaults_and_bounds():
    table = core.load_table()
    p = core.parameters({}, table)
    assert (p.min_surface_m2, p.recul_m) == (table["min_surface_m2"]["default"],
                                            table["recul_m"]["default"])
    assert core.parameters({"recul_m": 0, "min_surface_m2": 10}, table).recul_m == 0
    for bad in ({"recul_m": -1}, {"recul_m": table["recul_m"]["max"] + 1},
                {"min_surface_m2": True}, {"min_surface_m2": "500"},
                {"min_surface_m2": float("nan")}):
        with pytest.raises(core.DensificationError) as err:
            core.parameters(bad, table)
        assert err.value.key == "densification_number"


# ---------------------------------------------------------------------------- over HTTP
def execute(server, inputs, **headers):
    return server.post(EXECUTE, data=json.dumps({"inputs": inputs}),
                       headers={"Content-Type": "application/json", **headers})


def assert_bilingual(r, status: int) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:800])
    body = r.json()
    assert body["description_fr"] and body["description_en"], body
    assert body["description_fr"] != body["description_en"], body
    return body


def frame(manifest: dict, cid: str) -> gpd.GeoDataFrame:
    return gpd.read_file(manifest[cid]["data"], layer=manifest[cid].get("table", cid))


def expected_park(manifest: dict, park_id: str, recul: float, minimum: float) -> float:
    """The park's potential computed here, from the GeoPackages, with plain shapely."""
    parks = frame(manifest, "zae").to_crs(2154)
    outline = parks.loc[parks["id"] == park_id].geometry.iloc[0]
    buildings = frame(manifest, "batiments").to_crs(2154)
    near = buildings[buildings.intersects(outline)].geometry
    lots = []
    if "zae-lots" in manifest:
        lf = frame(manifest, "zae-lots").to_crs(2154)
        lots = [(row.statut, row.geometry) for row in lf[lf["zae_id"] == park_id].itertuples()]
    if not lots:
        lots = [("occupé", outline)]
    total = 0.0
    for statut, geom in lots:
        if statut == "occupé":
            mine = [b for b in near if b.intersects(geom)]
            zone = shapely.union_all(mine).buffer(recul) if mine else None
            free = geom.difference(zone) if zone is not None else geom
        elif statut == "disponible":
            free = geom.buffer(-recul)
        else:
            continue
        total += sum(p.area for p in shapely.get_parts(free)
                     if p.geom_type == "Polygon" and p.area >= minimum)
    return total


def busiest_park(manifest: dict) -> str:
    parks = frame(manifest, "zae")
    buildings = frame(manifest, "batiments")
    joined = gpd.sjoin(buildings[["geometry"]], parks[["id", "geometry"]],
                       predicate="intersects")
    return str(joined["id"].value_counts().index[0])


def test_described_and_listed(server):
    doc = server.json("/processes/zae-densification")
    assert set(doc["inputs"]) == {"zae", "min_surface_m2", "recul_m"}
    assert doc["inputs"]["recul_m"]["schema"]["maximum"] == core.load_table()["recul_m"]["max"]
    ids = {p["id"] for p in server.json("/processes")["processes"]}
    assert "zae-densification" in ids


@pytest.mark.parametrize("recul,minimum", [(5, 500), (10, 100)])
def test_one_park_matches_an_independent_computation(server, manifest, recul, minimum):
    park_id = busiest_park(manifest)
    r = execute(server, {"zae": park_id, "recul_m": recul, "min_surface_m2": minimum})
    assert r.status_code == 200, r.text[:800]
    doc = r.json()
    assert doc["type"] == "FeatureCollection" and doc["zae"] == park_id
    expected = expected_park(manifest, park_id, recul, minimum)
    assert expected > 0
    assert doc["summary"]["potentiel_m2"] == pytest.approx(expected, rel=1e-3)
    assert sum(f["properties"]["potentiel_m2"] for f in doc["features"]) == \
        pytest.approx(doc["summary"]["potentiel_m2"], abs=0.1 * len(doc["features"]) + 0.1)
    assert doc["parameters"]["recul_m"] == recul
    if "zae-lots" in manifest and doc["lots_source"] == "zae-lots":
        assert {f["properties"]["statut"] for f in doc["features"]} <= {"occupé", "disponible"}
    else:
        assert doc["lots_source"] == "parc" and doc["note"]["fr"] and doc["note"]["en"]
    # the pieces are in CRS84, inside the territory
    for feature in doc["features"]:
        x0, y0, x1, y1 = shapely.geometry.shape(feature["geometry"]).bounds
        assert 1.5 < x0 <= x1 < 3.5 and 50 < y0 <= y1 < 51


def test_the_whole_territory(server, manifest):
    r = execute(server, {"zae": "all"})
    assert r.status_code == 200, r.text[:800]
    doc = r.json()
    parks = frame(manifest, "zae")
    assert doc["numberReturned"] == len(parks) == doc["summary"]["parcs"]
    assert {f["id"] for f in doc["features"]} == set(parks["id"])
    total = sum(f["properties"]["potentiel_m2"] for f in doc["features"])
    assert doc["summary"]["potentiel_m2"] == pytest.approx(total, abs=0.1 * len(parks))
    assert set(doc["epci"]) == set(parks["epci_siren"].astype(str))
    assert sum(e["parcs"] for e in doc["epci"].values()) == len(parks)
    park_id = busiest_park(manifest)
    one = next(f for f in doc["features"] if f["id"] == park_id)["properties"]
    assert one["potentiel_m2"] == pytest.approx(expected_park(manifest, park_id, 5, 500),
                                                rel=1e-3)
    # no zae: the same summary
    assert execute(server, {}).json()["summary"] == doc["summary"]


@pytest.mark.parametrize("inputs,status", [
    ({"zae": 5}, 400), ({"zae": ""}, 400), ({"zae": "x" * 65}, 400),
    ({"recul_m": -1}, 400), ({"recul_m": 1000}, 400), ({"min_surface_m2": "grand"}, 400),
    ({"min_surface_m2": True}, 400), ({"surface": 1}, 400),
    ({"zae": "ZAE-NO-SUCH-PARK"}, 404)])
def test_bad_inputs_are_bilingual_client_errors(server, inputs, status):
    assert_bilingual(execute(server, inputs), status)


def test_inputs_not_an_object(server):
    r = server.post(EXECUTE, data=json.dumps({"inputs": [1, 2]}),
                    headers={"Content-Type": "application/json"})
    assert 400 <= r.status_code < 500, r.text[:400]


def test_errors_in_both_catalogues():
    from babel.messages.pofile import read_po
    found = {}
    for lang in ("fr", "en"):
        path = PROJECT / "services" / "locale" / lang / "LC_MESSAGES" / "errors.po"
        with path.open("rb") as fp:
            found[lang] = {m.id: m.string for m in read_po(fp, locale=lang) if m.id}
    for key in ("densification_inputs_not_object", "densification_inputs_unknown",
                "densification_zae", "densification_zae_unknown", "densification_number",
                "densification_too_many"):
        assert found["fr"][key] and found["en"][key] and found["fr"][key] != found["en"][key]
