"""`artois-geo import` on both stores: all or nothing, every bad row reported, the common
formats and CRS, dry runs, upserts, audit. Each store is a private copy with its own server
(see test_transactions.open_stack); results are checked over HTTP."""
from __future__ import annotations

import csv
import json
import uuid
import zipfile
from pathlib import Path

import geopandas as gpd
import pyproj
import pytest
import numpy as np
import shapely
from shapely.geometry import shape

from test_transactions import BETHUNE, STORES, open_stack, square

TO_3857 = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:3857", always_xy=True)
TO_L93 = pyproj.Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)


@pytest.fixture(scope="module", params=STORES)
def stack(request, tmp_path_factory):
    with open_stack(request, tmp_path_factory) as s:
        yield s


def run_import(stack, *args: str) -> tuple[int, dict, str]:
    out = stack.cli("import", *args, "--json")
    try:
        report = json.loads(out.stdout)
    except ValueError:
        raise AssertionError(f"no JSON report: {out.stdout[-2000:]} {out.stderr[-2000:]}")
    return out.returncode, report, out.stderr


def features(stack, cid: str, n: int, prefix: str) -> list[dict]:
    """`n` existing features of `cid` (CRS84) under new identifiers."""
    body = stack.server.json(f"/collections/{cid}/items", params={"limit": n})
    id_field = {"friches": "site_id", "zae": "id"}[cid]
    out = []
    for i, f in enumerate(body["features"]):
        props = dict(f["properties"])
        props[id_field] = f"{prefix}-{uuid.uuid4().hex[:6]}-{i}"
        out.append({"type": "Feature", "properties": props, "geometry": f["geometry"]})
    return out


def write_geojson(path: Path, feats: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": feats},
                               ensure_ascii=False))
    return path


def item(stack, cid: str, fid: str):
    return stack.request("GET", f"/collections/{cid}/items/{fid}",
                         params={"crs": "http://www.opengis.net/def/crs/EPSG/0/2154"})


# ---------------------------------------------------------------------------- all or nothing
def test_bad_rows_are_all_reported_and_nothing_is_written(stack, tmp_path):
    before = stack.snapshot("zae")
    existing_id = before[0]["id"]
    good = features(stack, "zae", 1, "OK")[0]
    gid = good["properties"]["id"]

    def variant(**props):
        f = json.loads(json.dumps(good))
        f["properties"]["id"] = f"BAD-{uuid.uuid4().hex[:6]}"
        for k, v in props.items():
            if k == "geometry":
                f["geometry"] = v
            else:
                f["properties"][k] = v
        return f
    bowtie = {"type": "Polygon", "coordinates": [[[2.640, 50.530], [2.642, 50.532],
                                                  [2.642, 50.530], [2.640, 50.532],
                                                  [2.640, 50.530]]]}
    rows = [
        good,                                                              # 1 ok
        variant(vocation="spatiale"),                                      # 2 code list
        variant(id=None),                                                  # 3 required
        variant(geometry={"type": "LineString",
                          "coordinates": [[2.64, 50.53], [2.65, 50.54]]}),  # 4 geometry type
        variant(geometry=bowtie),                                          # 5 invalid
        variant(geometry=square(2.35, 48.85)),                             # 6 outside
        variant(nb_emplois="beaucoup"),                                    # 7 type
        variant(id=gid),                                                   # 8 duplicate
        variant(id=existing_id),                                           # 9 exists
        variant(etat="inconnu", nb_etablissements="x",
                geometry=square(2.35, 48.85)),                             # 10 three reasons
    ]
    path = write_geojson(tmp_path / "zae_bad.geojson", rows)
    code, report, _ = run_import(stack, "zae", str(path))
    assert code != 0
    assert report["ok"] is False and report["written"] is False
    assert report["inserted"] == 0 and report["rows"] == 10
    by_row = {e["row"]: {err["code"] for err in e["errors"]} for e in report["rejected"]}
    assert by_row == {
        2: {"field_enum"}, 3: {"field_required"}, 4: {"geometry_type"},
        5: {"geometry_invalid"}, 6: {"geometry_outside"}, 7: {"field_not_integer"},
        8: {"id_duplicate"}, 9: {"id_exists_append"},
        10: {"field_enum", "field_not_integer", "geometry_outside"}}
    for entry in report["rejected"]:
        for err in entry["errors"]:
            assert err["fr"] and err["en"] and err["fr"] != err["en"]
    # nothing changed, not even the good row
    assert stack.snapshot("zae") == before
    assert item(stack, "zae", gid).status_code == 404
    # the text report names every rejected row, in both languages
    out = stack.cli("import", "zae", str(path))
    assert out.returncode == 1
    for n in range(2, 11):
        assert f"ligne/row {n}" in out.stdout
    assert "rien n'a été écrit" in out.stdout and "nothing was written" in out.stdout


def test_file_level_errors(stack, tmp_path):
    good = features(stack, "zae", 1, "COL")[0]
    good["properties"]["couleur"] = "bleu"
    code, report, _ = run_import(stack, "zae", str(write_geojson(tmp_path / "extra.geojson",
                                                                  [good])))
    assert code != 0 and report["errors"][0]["code"] == "import_unknown_columns"
    assert "couleur" in report["errors"][0]["en"]
    (tmp_path / "nogeom.csv").write_text("id;nom\nA;B\n", encoding="utf-8")
    code, report, _ = run_import(stack, "zae", str(tmp_path / "nogeom.csv"))
    assert code != 0 and report["errors"][0]["code"] == "import_csv_geometry"
    code, report, _ = run_import(stack, "communes", str(tmp_path / "nogeom.csv"))
    assert code != 0 and report["errors"][0]["code"] == "not_editable"
    (tmp_path / "x.txt.bin").write_text("x")
    code, report, _ = run_import(stack, "zae", str(tmp_path / "x.txt.bin"))
    assert code != 0 and report["errors"][0]["code"] == "import_format"


def test_dry_run_writes_nothing(stack, tmp_path):
    before = stack.count("friches")
    feats = features(stack, "friches", 3, "DRY")
    code, report, _ = run_import(stack, "friches", str(write_geojson(tmp_path / "dry.geojson",
                                                                      feats)), "--dry-run")
    assert code == 0, report
    assert report["ok"] and report["dry_run"] and not report["written"]
    assert report["inserted"] == 3
    assert stack.count("friches") == before
    assert item(stack, "friches", feats[0]["properties"]["site_id"]).status_code == 404
    out = stack.cli("history", "friches", feats[0]["properties"]["site_id"], "--json")
    assert json.loads(out.stdout) == []


# ---------------------------------------------------------------------------- formats
def test_geojson_loads_completely(stack, tmp_path):
    before = stack.count("friches")
    feats = features(stack, "friches", 4, "GJ")
    code, report, _ = run_import(stack, "friches", str(write_geojson(tmp_path / "f.geojson",
                                                                      feats)), "--user", "marie")
    assert code == 0, report
    assert report["inserted"] == 4 and report["updated"] == 0 and report["written"]
    assert stack.count("friches") == before + 4
    for f in feats:
        got = item(stack, "friches", f["properties"]["site_id"]).json()
        for key, value in f["properties"].items():
            assert got["properties"][key] == value, key
        x, y = TO_L93.transform(*f["geometry"]["coordinates"])
        assert got["geometry"]["coordinates"] == pytest.approx([x, y], abs=0.05)
    history = json.loads(stack.cli("history", "friches", feats[0]["properties"]["site_id"],
                                   "--json").stdout)
    assert [(e["action"], e["source"], e["username"]) for e in history] == \
        [("insert", "import", "marie")]


def test_geopackage_in_web_mercator_loads_completely(stack, tmp_path):
    before = stack.count("friches")
    feats = features(stack, "friches", 3, "GPKG")
    gdf = gpd.GeoDataFrame.from_features(feats, crs="OGC:CRS84").to_crs(3857)
    path = tmp_path / "friches_3857.gpkg"
    gdf.to_file(path, layer="mes_friches", engine="pyogrio")
    code, report, _ = run_import(stack, "friches", str(path))
    assert code == 0, report
    assert report["inserted"] == 3 and stack.count("friches") == before + 3
    got = item(stack, "friches", feats[1]["properties"]["site_id"]).json()
    x, y = TO_L93.transform(*feats[1]["geometry"]["coordinates"])
    assert got["geometry"]["coordinates"] == pytest.approx([x, y], abs=0.05)
    assert got["properties"]["site_actu_date"] == feats[1]["properties"]["site_actu_date"]


@pytest.mark.filterwarnings("ignore:Normalized/laundered field name")
def test_zipped_shapefile_loads_completely(stack, tmp_path):
    before = stack.count("zae")
    feats = features(stack, "zae", 3, "SHP")
    gdf = gpd.GeoDataFrame.from_features(feats, crs="OGC:CRS84").to_crs(2154)
    shp = tmp_path / "shp"
    shp.mkdir()
    with pytest.warns(UserWarning):  # names cut to 10 characters, mapped back on import
        gdf.to_file(shp / "zae.shp", engine="pyogrio")
    path = tmp_path / "zae.zip"
    with zipfile.ZipFile(path, "w") as zf:
        for f in shp.iterdir():
            zf.write(f, f.name)
    code, report, _ = run_import(stack, "zae", str(path))
    assert code == 0, report
    assert report["inserted"] == 3 and stack.count("zae") == before + 3
    got = item(stack, "zae", feats[2]["properties"]["id"]).json()
    assert got["properties"]["surface_totale_ha"] == feats[2]["properties"]["surface_totale_ha"]
    assert got["properties"]["nb_etablissements"] == feats[2]["properties"]["nb_etablissements"]
    assert got["geometry"]["type"] == "MultiPolygon"
    expected = gdf.geometry.iloc[2]  # from CRS84 with 7 decimals; the API answers in cm
    assert shape(got["geometry"]).symmetric_difference(expected).area < 1e-4 * expected.area


def test_csv_with_wkt_loads_completely(stack, tmp_path):
    before = stack.count("zae")
    feats = features(stack, "zae", 2, "WKT")
    path = tmp_path / "zae.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        names = list(feats[0]["properties"])
        writer = csv.writer(fh)
        writer.writerow(names + ["wkt"])
        for f in feats:
            writer.writerow(["" if f["properties"][n] is None else f["properties"][n]
                             for n in names] + [shape(f["geometry"]).wkt])
    code, report, _ = run_import(stack, "zae", str(path))
    assert code == 0, report
    assert report["inserted"] == 2 and stack.count("zae") == before + 2
    got = item(stack, "zae", feats[0]["properties"]["id"]).json()
    assert got["properties"]["nb_emplois"] == feats[0]["properties"]["nb_emplois"]
    assert got["properties"]["surface_utile_ha"] == feats[0]["properties"]["surface_utile_ha"]
    expected = shapely.transform(shape(feats[0]["geometry"]),
                                 lambda c: np.column_stack(TO_L93.transform(c[:, 0], c[:, 1])))
    assert shape(got["geometry"]).symmetric_difference(expected).area < 1e-4 * expected.area


def test_csv_with_xy_in_another_crs_and_a_progress_bar(stack, tmp_path):
    """600 points, X/Y in Web Mercator, French CSV (semicolons): one transaction, a bar."""
    before = stack.count("friches")
    base = features(stack, "friches", 1, "XY")[0]["properties"]
    names = ["site_id", "site_nom", "site_type", "site_statut", "bati_nombre", "site_surface",
             "site_actu_date"]
    path = tmp_path / "friches_xy.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, delimiter=";")
        writer.writerow(names + ["X", "Y"])
        for i in range(600):
            x, y = TO_3857.transform(BETHUNE[0] + (i % 30) * 0.002, BETHUNE[1] + (i // 30) * 0.001)
            writer.writerow([f"XY-{i:04d}", f"Site {i}", base["site_type"], "friche sans projet",
                             i % 7, f"{1000 + i},5", "2024-05-02", f"{x:.2f}", f"{y:.2f}"])
    code, report, stderr = run_import(stack, "friches", str(path), "--crs", "EPSG:3857",
                                      "--x", "X", "--y", "Y")
    assert code == 0, report
    assert report["inserted"] == 600 and stack.count("friches") == before + 600
    assert "100%" in stderr or "600/600" in stderr  # the progress bar
    got = item(stack, "friches", "XY-0031").json()
    x, y = TO_L93.transform(BETHUNE[0] + 0.002, BETHUNE[1] + 0.001)
    assert got["geometry"]["coordinates"] == pytest.approx([x, y], abs=0.05)
    assert got["properties"]["site_surface"] == 1031.5
    assert got["properties"]["bati_nombre"] == 31 % 7
    assert got["properties"]["site_actu_date"] == "2024-05-02"
    assert got["properties"]["site_adresse"] is None  # columns absent from the file stay empty


def test_upsert_updates_existing_features(stack, tmp_path):
    target = stack.server.json("/collections/zae/items", params={"limit": 2})["features"]
    new_one = {"type": "Feature", "geometry": square(2.62, 50.52),
               "properties": {"id": f"UPS-{uuid.uuid4().hex[:6]}", "nom": "Nouvelle zone"}}
    # only the file's columns (id, nom) are replaced: the others are kept
    rows = [{"type": "Feature", "geometry": target[0]["geometry"],
             "properties": {"id": target[0]["id"], "nom": "Nom mis à jour"}},
            {"type": "Feature", "geometry": square(2.61, 50.52),
             "properties": {"id": target[1]["id"], "nom": "Autre nom"}},
            new_one]
    path = write_geojson(tmp_path / "ups.geojson", rows)
    code, report, _ = run_import(stack, "zae", str(path))  # append: existing ids refused
    assert code != 0 and {e["row"] for e in report["rejected"]} == {1, 2}
    code, report, _ = run_import(stack, "zae", str(path), "--mode", "upsert", "--user", "sig")
    assert code == 0, report
    assert report["updated"] == 2 and report["inserted"] == 1
    got = item(stack, "zae", target[0]["id"]).json()
    assert got["properties"]["nom"] == "Nom mis à jour"
    assert got["properties"]["vocation"] == target[0]["properties"]["vocation"]  # kept
    moved = item(stack, "zae", target[1]["id"]).json()
    centroid = shape(moved["geometry"]).centroid
    x, y = TO_L93.transform(2.61, 50.52)
    assert abs(centroid.x - x) < 1 and abs(centroid.y - y) < 1
    history = json.loads(stack.cli("history", "zae", target[0]["id"], "--json").stdout)
    assert history[-1]["action"] == "replace" and history[-1]["username"] == "sig"
    assert history[-1]["previous"]["properties"]["nom"] == target[0]["properties"]["nom"]


def test_build_keeps_the_edits_of_editable_collections(stack, tmp_path):
    """A rebuild never overwrites edits, never brings back a feature deleted through the
    API, and adds back a source feature that is simply missing."""
    fid = stack.server.json("/collections/zae/items", params={"limit": 1})["features"][0]["id"]
    path = write_geojson(tmp_path / "edit.geojson", [{
        "type": "Feature", "geometry": square(*BETHUNE),
        "properties": {"id": fid, "nom": "Modifié avant rebuild"}}])
    code, report, _ = run_import(stack, "zae", str(path), "--mode", "upsert")
    assert code == 0, report
    count = stack.count("zae")
    gone = "ZAE-62-CALL-001"
    etag = item(stack, "zae", gone).headers["ETag"]
    r = stack.request("DELETE", f"/collections/zae/items/{gone}",
                      headers={"Authorization": "Bearer ed-token-alice", "If-Match": etag})
    assert r.status_code == 204 and stack.count("zae") == count - 1
    out = stack.cli("build", "zae")
    assert out.returncode == 0, out.stderr[-2000:]
    assert stack.count("zae") == count - 1  # the deletion is an edit too: it stays
    assert item(stack, "zae", fid).json()["properties"]["nom"] == "Modifié avant rebuild"
    assert item(stack, "zae", gone).status_code == 404
    # restoring it through the audit brings it back, and then a rebuild keeps it
    history = json.loads(stack.cli("history", "zae", gone, "--json").stdout)
    deletion = [h for h in history if h["action"] == "delete"][-1]
    restored = stack.cli("restore", "zae", gone, "--audit-id", str(deletion["id"]))
    assert restored.returncode == 0, restored.stderr[-2000:]
    assert stack.cli("build", "zae").returncode == 0
    assert stack.count("zae") == count
    assert item(stack, "zae", gone).headers["ETag"] == etag
