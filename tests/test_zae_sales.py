"""Land sales in business parks (issue 17, points 2, 3 and 7), over real HTTP on both stores.

A sale is ``POST /collections/cessions/items``: in ONE transaction the sale is written, its
lot becomes `cédé` and the park's derived figures are recomputed (services/zae.py), each
change audited. The expected figures are recomputed here from the lots read back over the
API (geopandas), never taken from the server's own figures. Each store is a private copy
(tests/test_transactions.py: open_stack).
"""
from __future__ import annotations

import datetime as dt
import json
import threading

import geopandas as gpd
import pytest
import requests

from test_transactions import EDITOR, GEOJSON, READER, STORES, open_stack

DERIVED_SURFACES = {"disponible": "surface_disponible_ha", "réservé": "surface_reservee_ha",
                    "cédé": "surface_cedee_ha", "occupé": "surface_occupee_ha"}


@pytest.fixture(scope="module", params=STORES)
def stack(request, tmp_path_factory):
    with open_stack(request, tmp_path_factory) as s:
        yield s


# ---------------------------------------------------------------------------- helpers
def lots_of(stack, zae_id: str) -> gpd.GeoDataFrame:
    body = stack.server.json("/collections/zae-lots/items",
                             params={"zae_id": zae_id, "limit": 1000})
    return gpd.GeoDataFrame.from_features(body["features"], crs="OGC:CRS84")


def park(stack, zae_id: str) -> requests.Response:
    r = stack.request("GET", f"/collections/zae/items/{zae_id}")
    assert r.status_code == 200, r.text[:300]
    return r


def expected_figures(lots: gpd.GeoDataFrame) -> dict:
    """The park's figures recomputed from its lots, independently of services/zae.py."""
    out = {}
    for statut, name in DERIVED_SURFACES.items():
        out[name] = round(float(lots.loc[lots["statut"] == statut, "surface_m2"].sum()) / 1e4, 4)
    out["lots_disponibles"] = int((lots["statut"] == "disponible").sum())
    out["lots_cedes"] = int((lots["statut"] == "cédé").sum())
    out["lots_nombre"] = len(lots)
    out["sites_actifs"] = int((lots["statut"] == "occupé").sum())
    reserve = lots[lots["statut"].isin(["disponible", "réservé"])]
    out["reserve_amenagee_ha"] = round(float(reserve.loc[reserve["amenage"].astype(bool),
                                                         "surface_m2"].sum()) / 1e4, 4)
    return out


def assert_figures(stack, zae_id: str) -> dict:
    props = park(stack, zae_id).json()["properties"]
    for name, value in expected_figures(lots_of(stack, zae_id)).items():
        assert props[name] == pytest.approx(value, abs=2e-4), (name, props[name], value)
    return props


def available_lot(stack, skip: set[str] = frozenset()) -> dict:
    """An available lot (its park has another available lot or not: any)."""
    body = stack.server.json("/collections/zae-lots/items",
                             params={"statut": "disponible", "limit": 200})
    for f in body["features"]:
        if f["id"] not in skip and f["properties"]["surface_m2"] > 1000:
            return f
    raise AssertionError("no available lot in the demo data")


def sell(stack, lot_id: str, headers: dict | None = None, **props) -> requests.Response:
    body = {"type": "Feature", "geometry": None,
            "properties": {"lot_id": lot_id, "date": "2026-11-30",
                           "acquereur_type": "entreprise", **props}}
    return stack.request("POST", "/collections/cessions/items", data=json.dumps(body),
                         headers={**GEOJSON, **EDITOR, **(headers or {})})


def history(stack, cid: str, fid: str, **params) -> dict:
    r = stack.request("GET", f"/collections/{cid}/items/{fid}/history",
                      params=params, headers=READER)
    assert r.status_code == 200, r.text[:300]
    return r.json()


def assert_bilingual(r: requests.Response, status: int, *words: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:400])
    body = r.json()
    assert body["description_fr"] and body["description_en"]
    assert body["description_fr"] != body["description_en"]
    for word in words:
        assert word in body["description_fr"] and word in body["description_en"], body
    return body


# ---------------------------------------------------------------------------- tests
def test_demo_figures_match_the_lots(stack):
    """Every park's derived figures equal the recomputation from its lots (both stores)."""
    parks = stack.server.json("/collections/zae/items", params={"limit": 100})["features"]
    lots = gpd.GeoDataFrame.from_features(
        stack.server.json("/collections/zae-lots/items", params={"limit": 10000})["features"])
    assert len(parks) == 72 and len(lots) > 72
    for p in parks:
        mine = lots[lots["zae_id"] == p["id"]]
        assert len(mine) > 0, p["id"]
        for name, value in expected_figures(mine).items():
            assert p["properties"][name] == pytest.approx(value, abs=2e-4), (p["id"], name)


def test_a_sale_changes_lot_and_park_in_one_transaction(stack):
    lot = available_lot(stack)
    lot_id, zae_id = lot["id"], lot["properties"]["zae_id"]
    before = park(stack, zae_id)
    before_props = before.json()["properties"]
    assert_figures(stack, zae_id)
    n_sales = stack.count("cessions")

    r = sell(stack, lot_id, prix_eur=123456)
    assert r.status_code == 201, r.text[:400]
    sale = r.json()
    assert r.headers["ETag"] and r.headers["Location"].endswith(sale["id"])
    # the sale is completed from its lot: park, surface, geometry
    assert sale["properties"]["zae_id"] == zae_id
    assert sale["properties"]["surface_m2"] == pytest.approx(lot["properties"]["surface_m2"])
    assert sale["geometry"]["type"] == "MultiPolygon"
    assert stack.count("cessions") == n_sales + 1

    got = stack.request("GET", f"/collections/zae-lots/items/{lot_id}")
    assert got.json()["properties"]["statut"] == "cédé"
    assert got.json()["properties"]["date_maj"] == "2026-11-30"
    assert got.json()["properties"]["date_cession"] == "2026-11-30"
    after = park(stack, zae_id)
    assert after.headers["ETag"] != before.headers["ETag"]  # fresh ETag on the park
    props = assert_figures(stack, zae_id)
    assert props["surface_disponible_ha"] == pytest.approx(
        before_props["surface_disponible_ha"] - lot["properties"]["surface_m2"] / 1e4, abs=1e-4)
    assert props["lots_disponibles"] == before_props["lots_disponibles"] - 1
    assert props["lots_cedes"] == before_props["lots_cedes"] + 1

    # audited: the sale, the lot and the park, by the same author
    lot_versions = history(stack, "zae-lots", lot_id)["versions"]
    assert lot_versions[0]["author"] == "alice" and lot_versions[0]["operation"] == "patch"
    assert "statut" in lot_versions[0]["changes"]
    park_versions = history(stack, "zae", zae_id)["versions"]
    assert park_versions[0]["source"] == "derived" and park_versions[0]["author"] == "alice"
    assert "surface_disponible_ha" in park_versions[0]["changes"]
    sale_versions = history(stack, "cessions", sale["id"])["versions"]
    assert sale_versions[0]["operation"] == "create"

    # the availability at a past date: the figure before the sale
    stamp = dt.datetime.fromisoformat(park_versions[0]["date"].replace("Z", "+00:00")) - \
        dt.timedelta(microseconds=1)
    past = history(stack, "zae", zae_id, datetime=stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    assert past["versions"][0]["properties"]["surface_disponible_ha"] == \
        pytest.approx(before_props["surface_disponible_ha"])


def test_unavailable_or_unknown_lot_is_refused_and_nothing_changes(stack):
    lot = available_lot(stack)
    assert sell(stack, lot["id"]).status_code == 201
    zae_id = lot["properties"]["zae_id"]
    before = park(stack, zae_id)
    n_sales = stack.count("cessions")
    r = sell(stack, lot["id"])
    assert_bilingual(r, 409, lot["id"], "cédé")
    r = sell(stack, "NO-SUCH-LOT")
    body = assert_bilingual(r, 400)
    assert any(e["field"] == "lot_id" and "NO-SUCH-LOT" in e["fr"] for e in body["errors"])
    r = sell(stack, lot["id"], acquereur_type="martien")
    assert r.status_code == 400
    occupied = stack.server.json("/collections/zae-lots/items",
                                 params={"statut": "occupé", "limit": 1})["features"][0]
    assert_bilingual(sell(stack, occupied["id"]), 409, occupied["id"], "occupé")
    assert stack.count("cessions") == n_sales
    assert park(stack, zae_id).headers["ETag"] == before.headers["ETag"]
    assert sell(stack, lot["id"], headers={"Authorization": "Bearer rd-token-carol"}
                ).status_code == 403


def test_two_agents_selling_the_same_lot_one_wins(stack):
    lot = available_lot(stack)
    zae_id = lot["properties"]["zae_id"]
    n, barrier, results = 4, threading.Barrier(4), {}

    def agent(i: int) -> None:
        with requests.Session() as http:
            body = {"type": "Feature", "geometry": None, "properties": {
                "lot_id": lot["id"], "date": "2026-12-01", "acquereur_type": "entreprise",
                "prix_eur": 1000 + i}}
            barrier.wait()
            results[i] = http.post(f"{stack.url}/collections/cessions/items",
                                   data=json.dumps(body), timeout=60,
                                   headers={**GEOJSON, **EDITOR})
    threads = [threading.Thread(target=agent, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [201] + [409] * (n - 1), [(r.status_code, r.text[:200])
                                                 for r in results.values()]
    sales = stack.server.json("/collections/cessions/items",
                              params={"lot_id": lot["id"], "limit": 10})["features"]
    winner = next(r for r in results.values() if r.status_code == 201).json()
    assert [s["id"] for s in sales] == [winner["id"]]
    assert_figures(stack, zae_id)


def test_undo_a_sale_puts_the_lot_back(stack):
    lot = available_lot(stack)
    zae_id = lot["properties"]["zae_id"]
    before = park(stack, zae_id).json()["properties"]
    sale = sell(stack, lot["id"])
    assert sale.status_code == 201
    path = f"/collections/cessions/items/{sale.json()['id']}"
    r = stack.request("DELETE", path, headers={**EDITOR, "If-Match": sale.headers["ETag"]})
    assert r.status_code == 204, r.text[:300]
    assert stack.request("GET", path).status_code == 404
    got = stack.request("GET", f"/collections/zae-lots/items/{lot['id']}").json()
    assert got["properties"]["statut"] == "disponible"
    assert got["properties"]["date_cession"] is None
    props = assert_figures(stack, zae_id)
    assert props["surface_disponible_ha"] == pytest.approx(before["surface_disponible_ha"])
    ops = [v["operation"] for v in history(stack, "zae-lots", lot["id"])["versions"]]
    assert ops[:2] == ["patch", "patch"]
    # a sale cannot move to another lot; undoing a sale whose lot was built on is refused
    sale = sell(stack, lot["id"])
    other = available_lot(stack, skip={lot["id"]})
    r = stack.request("PATCH", f"/collections/cessions/items/{sale.json()['id']}",
                      data=json.dumps({"properties": {"lot_id": other["id"]}}),
                      headers={**EDITOR, "Content-Type": "application/merge-patch+json",
                               "If-Match": sale.headers["ETag"]})
    assert_bilingual(r, 409, lot["id"])
    lot_now = stack.request("GET", f"/collections/zae-lots/items/{lot['id']}")
    r = stack.request("PATCH", f"/collections/zae-lots/items/{lot['id']}",
                      data=json.dumps({"properties": {"statut": "occupé",
                                                      "activite": "logistique, entreposage"}}),
                      headers={**EDITOR, "Content-Type": "application/merge-patch+json",
                               "If-Match": lot_now.headers["ETag"]})
    assert r.status_code == 200
    assert assert_figures(stack, zae_id)["sites_actifs"] == before["sites_actifs"] + 1
    r = stack.request("DELETE", f"/collections/cessions/items/{sale.json()['id']}",
                      headers={**EDITOR, "If-Match": sale.headers["ETag"]})
    assert_bilingual(r, 409, lot["id"])


def test_derived_figures_are_read_only(stack):
    lot = available_lot(stack)
    zae_id = lot["properties"]["zae_id"]
    current = park(stack, zae_id)
    props = current.json()["properties"]
    mp = {**EDITOR, "Content-Type": "application/merge-patch+json",
          "If-Match": current.headers["ETag"]}
    for name, value in (("surface_disponible_ha", 999.0), ("lots_disponibles", 0),
                        ("friches_nombre", 42)):
        r = stack.request("PATCH", f"/collections/zae/items/{zae_id}",
                          data=json.dumps({"properties": {name: value}}), headers=mp)
        body = assert_bilingual(r, 400)
        assert [e["field"] for e in body["errors"]] == [name]
    # a PUT sending the figures back unchanged (QGIS does) or leaving them out is accepted
    feature = current.json()
    feature["properties"]["nom"] = props["nom"] + " (modifié)"
    r = stack.request("PUT", f"/collections/zae/items/{zae_id}", data=json.dumps(feature),
                      headers={**GEOJSON, **EDITOR, "If-Match": current.headers["ETag"]})
    assert r.status_code == 200, r.text[:300]
    slim = {k: v for k, v in feature["properties"].items() if k not in
            ("surface_disponible_ha", "lots_nombre", "friches_nombre")}
    r = stack.request("PUT", f"/collections/zae/items/{zae_id}",
                      data=json.dumps({**feature, "properties": slim}),
                      headers={**GEOJSON, **EDITOR, "If-Match": r.headers["ETag"]})
    assert r.status_code == 200, r.text[:300]
    assert r.json()["properties"]["lots_nombre"] == props["lots_nombre"]
    assert_figures(stack, zae_id)


def test_import_of_sales_all_or_nothing(stack, tmp_path):
    good = available_lot(stack)
    bad = stack.server.json("/collections/zae-lots/items",
                            params={"statut": "occupé", "limit": 1})["features"][0]
    zae_id = good["properties"]["zae_id"]
    before = park(stack, zae_id)
    n_sales = stack.count("cessions")
    rows = [{"id": f"CES-IMPORT-{i}", "lot_id": lot["id"], "date": "2026-10-01",
             "acquereur_type": "entreprise"} for i, lot in enumerate((good, bad))]
    path = tmp_path / "cessions.geojson"

    def write(features):
        path.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "geometry": f["geometry"], "properties": row}
            for row, f in features]}))
    write(zip(rows, (good, bad)))
    out = stack.cli("import", "cessions", str(path))
    assert out.returncode == 1, out.stdout + out.stderr
    assert bad["id"] in out.stdout + out.stderr
    assert stack.count("cessions") == n_sales
    assert park(stack, zae_id).headers["ETag"] == before.headers["ETag"]
    assert stack.request("GET", f"/collections/zae-lots/items/{good['id']}"
                         ).json()["properties"]["statut"] == "disponible"
    write([(rows[0], good)])
    out = stack.cli("import", "cessions", str(path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert stack.count("cessions") == n_sales + 1
    assert stack.request("GET", f"/collections/zae-lots/items/{good['id']}"
                         ).json()["properties"]["statut"] == "cédé"
    assert assert_figures(stack, zae_id)["lots_cedes"] == \
        before.json()["properties"]["lots_cedes"] + 1
    versions = history(stack, "zae", zae_id)["versions"]
    assert versions[0]["source"] == "derived"


def test_import_of_lots_recomputes_the_park(stack, tmp_path):
    lot = available_lot(stack)
    zae_id = lot["properties"]["zae_id"]
    before = park(stack, zae_id).json()["properties"]
    feature = {"type": "Feature", "geometry": lot["geometry"],
               "properties": {"id": lot["id"], "statut": "réservé"}}
    path = tmp_path / "lots.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    out = stack.cli("import", "zae-lots", str(path), "--mode", "upsert")
    assert out.returncode == 0, out.stdout + out.stderr
    props = assert_figures(stack, zae_id)
    assert props["lots_disponibles"] == before["lots_disponibles"] - 1
    # a lot of an unknown park is rejected with its row number, nothing written
    feature["properties"] = {"id": "NEW-LOT-1", "zae_id": "ZAE-NOPE", "statut": "disponible",
                             "surface_m2": 1000}
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    out = stack.cli("import", "zae-lots", str(path))
    assert out.returncode == 1 and "ZAE-NOPE" in out.stdout, out.stdout + out.stderr
    assert stack.request("GET", "/collections/zae-lots/items/NEW-LOT-1").status_code == 404


# ---------------------------------------------------------------------------- QGIS
QGIS_EDIT = r'''
import json, os, sys
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from qgis.core import (Qgis, QgsApplication, QgsCoordinateTransformContext, QgsFeatureRequest,
                       QgsVectorDataProvider, QgsVectorFileWriter, QgsVectorLayer)
base, token, lot_id, statut, gpkg = sys.argv[1:6]
app = QgsApplication([], False)
app.initQgis()
uri = (f"pagingEnabled='true' restrictToRequestBBOX='0' typename='zae-lots' url='{base}' "
       f"version='OGC_API_FEATURES' http-header:Authorization='Bearer {token}'")
layer = QgsVectorLayer(uri, "lots", "OAPIF")
caps = layer.dataProvider().capabilities()
can_edit = bool(caps & QgsVectorDataProvider.ChangeAttributeValues)
out = {"version": Qgis.QGIS_VERSION_INT, "valid": layer.isValid(), "can_edit": can_edit,
       "capabilities": layer.dataProvider().capabilitiesString()}
layer.setSubsetString(f"\"id\" = '{lot_id}'")
feats = list(layer.getFeatures(QgsFeatureRequest()))
out["found"] = len(feats)
idx = layer.fields().indexOf("statut")
if can_edit:  # QGIS >= 3.34: Part 4 editing (PUT/PATCH of the feature)
    layer.startEditing()
    layer.changeAttributeValue(feats[0].id(), idx, statut)
    out["committed"] = layer.commitChanges()
    out["errors"] = layer.commitErrors()
else:  # QGIS 3.22: the layer is read-only; the lot goes to a GeoPackage edited locally
    mem = layer.materialize(QgsFeatureRequest().setFilterFids([feats[0].id()]))
    mem.startEditing()
    f = next(mem.getFeatures())
    mem.changeAttributeValue(f.id(), mem.fields().indexOf("statut"), statut)
    mem.commitChanges()
    opts = QgsVectorFileWriter.SaveVectorOptions()
    opts.driverName = "GPKG"
    err = QgsVectorFileWriter.writeAsVectorFormatV2(mem, gpkg, QgsCoordinateTransformContext(),
                                                    opts)
    out["written"] = err[0] == QgsVectorFileWriter.NoError
print("RESULT " + json.dumps(out), flush=True)
os._exit(0)
'''


def test_qgis_changes_a_lot_status(stack, tmp_path):
    """QGIS >= 3.34 edits a lot's `statut` over Part 4 (OAPIF provider editing, QGIS PR
    52504). QGIS 3.22 (Debian 12, this machine's python3-qgis) has no OAPIF editing: its
    provider offers no edit capability, so the agent saves the lot to a GeoPackage from QGIS
    and loads it with `artois-geo import zae-lots FILE --mode upsert` (the same validation,
    audit and park recomputation). Both paths end with the park's figures recomputed."""
    from qgis_runner import qgis_available
    if not qgis_available():
        pytest.skip("python3-qgis is installed by scripts/setup.sh --test-tools")
    import os
    import subprocess
    lot = available_lot(stack)
    zae_id = lot["properties"]["zae_id"]
    before = park(stack, zae_id).json()["properties"]
    script = tmp_path / "qgis_edit_lot.py"
    script.write_text(QGIS_EDIT)
    gpkg = tmp_path / "lot.gpkg"
    proc = subprocess.run(["/usr/bin/python3", str(script), stack.url, "ed-token-alice",
                           lot["id"], "réservé", str(gpkg)], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                                            "XDG_RUNTIME_DIR": "/tmp"})
    lines = [x for x in proc.stdout.splitlines() if x.startswith("RESULT ")]
    assert lines, proc.stderr[-2000:]
    seen = json.loads(lines[-1][len("RESULT "):])
    assert seen["valid"] and seen["found"] == 1, seen
    if seen["version"] >= 33400:
        assert seen["can_edit"] and seen["committed"], seen
    else:
        assert not seen["can_edit"] and seen["written"], seen
        out = stack.cli("import", "zae-lots", str(gpkg), "--mode", "upsert")
        assert out.returncode == 0, out.stdout + out.stderr
    got = stack.request("GET", f"/collections/zae-lots/items/{lot['id']}").json()
    assert got["properties"]["statut"] == "réservé"
    props = assert_figures(stack, zae_id)
    assert props["lots_reserves"] == before["lots_reserves"] + 1


def test_concurrent_sales_in_one_park_keep_its_figures(stack):
    """Sales of different lots of one park at the same time: all recorded, and the park's
    figures (recomputed by each, after locking the park) count every one of them."""
    lots = stack.server.json("/collections/zae-lots/items",
                             params={"statut": "disponible", "limit": 1000})["features"]
    by_park: dict[str, list] = {}
    for f in lots:
        by_park.setdefault(f["properties"]["zae_id"], []).append(f)
    zae_id, mine = max(by_park.items(), key=lambda kv: len(kv[1]))
    mine = mine[:4]
    assert len(mine) >= 2, "a park with two available lots"
    before = park(stack, zae_id).json()["properties"]
    barrier, results = threading.Barrier(len(mine)), {}

    def agent(lot: dict) -> None:
        with requests.Session() as http:
            body = {"type": "Feature", "geometry": None, "properties": {
                "lot_id": lot["id"], "date": "2026-12-02", "acquereur_type": "autre"}}
            barrier.wait()
            results[lot["id"]] = http.post(f"{stack.url}/collections/cessions/items",
                                           data=json.dumps(body), timeout=60,
                                           headers={**GEOJSON, **EDITOR})
    threads = [threading.Thread(target=agent, args=(lot,)) for lot in mine]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results.values()] == [201] * len(mine), \
        [r.text[:200] for r in results.values()]
    props = assert_figures(stack, zae_id)
    assert props["lots_disponibles"] == before["lots_disponibles"] - len(mine)
    sold = sum(lot["properties"]["surface_m2"] for lot in mine) / 1e4
    assert props["surface_disponible_ha"] == pytest.approx(
        before["surface_disponible_ha"] - sold, abs=2e-4)


def test_a_friche_written_updates_the_park_count(stack):
    """A friche created inside a park (Part 4 on friches) adds one to the park's
    `friches_nombre` (refresh_after in zae.yml), audited with source `derived`; deleting it
    takes it back; moving a park's outline recounts in the same version."""
    from shapely.geometry import mapping, shape
    lot = available_lot(stack)
    zae_id = lot["properties"]["zae_id"]
    current = park(stack, zae_id)
    before = current.json()["properties"]["friches_nombre"]
    inside = shape(current.json()["geometry"]).representative_point()
    base = stack.server.json("/collections/friches/items", params={"limit": 1})["features"][0]
    fid = f"T-ZAE-{zae_id[-3:]}"
    feature = {"type": "Feature", "geometry": mapping(inside),
               "properties": {**base["properties"], "site_id": fid}}
    r = stack.request("POST", "/collections/friches/items", data=json.dumps(feature),
                      headers={**GEOJSON, **EDITOR})
    assert r.status_code == 201, r.text[:300]
    assert park(stack, zae_id).json()["properties"]["friches_nombre"] == before + 1
    newest = history(stack, "zae", zae_id)["versions"][0]
    assert newest["source"] == "derived" and newest["changes"] == ["friches_nombre"]
    r = stack.request("DELETE", f"/collections/friches/items/{fid}",
                      headers={**EDITOR, "If-Match": r.headers["ETag"]})
    assert r.status_code == 204
    assert park(stack, zae_id).json()["properties"]["friches_nombre"] == before
    # the park moved away from its friches: recounted in the version of the move
    current = park(stack, zae_id)
    moved = shape(current.json()["geometry"])
    from shapely import affinity
    moved = affinity.translate(moved, 0.2, 0.0)  # 0.2° east: about 14 km
    r = stack.request("PATCH", f"/collections/zae/items/{zae_id}",
                      data=json.dumps({"geometry": mapping(moved)}),
                      headers={**EDITOR, "Content-Type": "application/merge-patch+json",
                               "If-Match": current.headers["ETag"]})
    if r.status_code == 400:  # moved out of the territory: nothing changed
        assert any(e["code"] == "geometry_outside" for e in r.json()["errors"]), r.text
        return
    assert r.status_code == 200, r.text[:300]
    friches = gpd.GeoDataFrame.from_features(stack.server.json(
        "/collections/friches/items", params={"limit": 10000})["features"], crs="OGC:CRS84")
    expected = int(friches.intersects(moved).sum())
    assert r.json()["properties"]["friches_nombre"] == expected
    assert history(stack, "zae", zae_id)["versions"][0]["operation"] == "patch"
