"""The demo facilities (equipements) and population grid (carreaux-200m) of the half-hour
territory (issue 19): plausible and consistent with the real communes, served on both stores,
and a real BPE extract importable with `artois-geo import`."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pyproj
import pytest
import shapely

from reference import CATALOG, reference
from services.demo import carreaux, equipements, source_label

PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_both_layers_are_labelled_demo_and_deterministic():
    for cid, module in (("equipements", equipements), ("carreaux-200m", carreaux)):
        spec = CATALOG[cid]
        assert spec.demo and "DÉMONSTRATION" in spec.description["fr"]
        assert "DEMONSTRATION" in spec.description["en"]
        gdf = reference(cid)
        seed = int(spec.source["seed"])
        assert (gdf["source"] == source_label(seed)).all()
        layers = {r: reference(r) for r in spec.requires}
        from services.build import normalise
        again = normalise(module.generate(layers, seed), spec)
        assert list(again["id"]) == list(gdf["id"])
        assert shapely.equals_exact(again.geometry.values, gdf.geometry.values, 0.01).all()


def test_cells_sum_to_the_real_population_of_each_commune():
    com = reference("communes")
    cells = reference("carreaux-200m")
    sums = cells.groupby(cells["insee"].astype(str))["ind"].sum()
    for insee, pop in zip(com["insee"].astype(str), com["population_municipale"]):
        assert int(sums.get(insee, 0)) == int(pop), insee
    assert cells["idcar_200m"].is_unique and (cells["ind"] > 0).all()


def test_cell_identifiers_are_insee_200m_cells():
    cells = reference("carreaux-200m").sample(300, random_state=1)
    to3035 = pyproj.Transformer.from_crs("EPSG:2154", "EPSG:3035", always_xy=True)
    for idcar, geom in zip(cells["idcar_200m"], cells.geometry):
        m = re.fullmatch(r"CRS3035RES200mN(\d+)E(\d+)", idcar)
        assert m, idcar
        north, east = int(m.group(1)), int(m.group(2))
        assert north % 200 == 0 and east % 200 == 0
        c = geom.centroid
        e, n = to3035.transform(c.x, c.y)
        assert east < e < east + 200 and north < n < north + 200, idcar
        # a 200 m square, in Lambert-93 (its scale factor here: about +0.14 % a side)
        assert geom.area == pytest.approx(40000, rel=5e-3)


def test_cells_centres_lie_in_their_commune():
    com = reference("communes").set_index("insee")
    cells = reference("carreaux-200m")
    inside = 0
    for insee, geom in zip(cells["insee"], cells.geometry):
        inside += com.geometry[str(insee)].contains(geom.centroid)
    assert inside >= 0.995 * len(cells)  # a commune without any cell gets its centre's


def test_facilities_are_plausible():
    com = reference("communes").set_index("insee")
    fac = reference("equipements")
    assert fac["id"].is_unique
    # in their commune
    own = [com.geometry[str(i)].buffer(1).contains(g) for i, g in zip(fac["insee"], fac.geometry)]
    assert np.mean(own) > 0.99
    # more in bigger communes: the number follows the population
    counts = fac.groupby("insee").size().reindex(com.index, fill_value=0)
    assert np.corrcoef(counts.values, com["population_municipale"].values)[0, 1] > 0.9
    # the big towns have what a town has, the villages do not have hospitals
    big = com[com["population_municipale"] >= 24000].index
    small = com[com["population_municipale"] < 1000].index
    for insee in big:
        types = set(fac.loc[fac["insee"] == insee, "typequ"])
        assert {"D201", "D307", "C101", "C104", "C201", "B102"} <= types, insee
    assert not fac[fac["insee"].isin(small)]["typequ"].isin(["D101", "D106", "C301", "B101"]).any()
    # dates: most open before T0, some open or close later (two states differ)
    opened = fac["date_ouverture"].astype(str)
    assert (opened < "2022-01-01").mean() > 0.85
    assert (opened > "2022-01-01").sum() > 50
    assert fac["date_fermeture"].notna().sum() > 30
    # codes: BPE-shaped, or the agency's own X codes
    assert fac["typequ"].str.fullmatch(r"[A-GX]\d{3}").all()


@pytest.mark.parametrize("cid", ["equipements", "carreaux-200m"])
def test_served_on_the_store(server, cid):
    ref = reference(cid)
    body = server.json(f"/collections/{cid}/items", params={"limit": 1})
    # the facility test of test_half_hour may have two of its own in for a while
    assert len(ref) <= body["numberMatched"] <= len(ref) + 4
    one = reference("communes")
    insee = str(one.loc[one["population_municipale"].idxmax(), "insee"])
    if cid == "carreaux-200m":
        items = server.json(f"/collections/{cid}/items", params={
            "filter": f"insee = '{insee}'", "filter-lang": "cql2-text", "limit": 10000})
        total = sum(f["properties"]["ind"] for f in items["features"])
        assert total == int(one.loc[one["insee"].astype(str) == insee,
                                    "population_municipale"].iloc[0])
    else:
        items = server.json(f"/collections/{cid}/items", params={
            "filter": "typequ = 'D201'", "filter-lang": "cql2-text", "limit": 10000})
        assert len(items["features"]) == int((ref["typequ"] == "D201").sum())


def bpe_csv() -> str:
    """A BPE-shaped extract: three facilities inside Béthune (around a point of the commune),
    one not geolocated."""
    com = reference("communes")
    p = com.loc[com["insee"].astype(str) == "62119"].geometry.iloc[0].representative_point()
    rows = ["AN;DEPCOM;DCIRIS;EPCI;QUALITE_XY;TYPEQU;LAMBERT_X;LAMBERT_Y"]
    for dx, dy, code, quality in ((0, 0, "D201", "Bonne"), (150, -100, "D201", "Bonne"),
                                  (-120, 80, "D307", "Acceptable")):
        rows.append(f"2023;62119;62119_0101;200072460;{quality};{code};"
                    f"{p.x + dx:.1f};{p.y + dy:.1f}")
    rows.append("2023;62510;62510_0000;200072460;Non géolocalisé;C101;;")
    return "\n".join(rows) + "\n"


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "services.cli", *args], cwd=PROJECT,
                          env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("store", ["embedded", "postgis"])
def test_a_bpe_extract_imports(tmp_path, store, request):
    """INSEE's BPE columns (TYPEQU, DEPCOM, LAMBERT_X/Y and the zonings) through the
    collection's import profile: validated like a Part 4 write, dry run (nothing kept)."""
    env = {}
    if store == "postgis":
        env["DATABASE_URL"] = request.getfixturevalue("database_url")
    else:
        request.getfixturevalue("manifest")
    path = tmp_path / "bpe23_extrait.csv"
    path.write_text(bpe_csv(), encoding="utf-8")
    out = _cli("import", "equipements", str(path), "--x", "LAMBERT_X", "--y", "LAMBERT_Y",
               "--crs", "EPSG:2154", "--dry-run", "--json", "--no-progress", env=env)
    report = json.loads(out.stdout[out.stdout.index("{"):])
    assert out.returncode == 0, report
    assert report["ok"] and not report["written"] and report["rows"] == 3  # one not geolocated
    assert report["inserted"] == 3 and not report["rejected"]
    # a column the collection does not know is still refused outside the BPE's
    bad = tmp_path / "bad.csv"
    bad.write_text("typequ;insee;x;y;couleur\nD201;62119;651234;7048765;rouge\n",
                   encoding="utf-8")
    out = _cli("import", "equipements", str(bad), "--crs", "EPSG:2154", "--dry-run", "--json",
               "--no-progress", env=env)
    assert out.returncode == 1


def test_import_profile_maps_the_bpe_columns():
    from processes.half_hour.bpe import import_profile
    from services.importer import read_csv
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
        f.write(bpe_csv())
    src = import_profile(read_csv(__import__("pathlib").Path(f.name), crs="EPSG:2154",
                                  x="LAMBERT_X", y="LAMBERT_Y", wkt=None, delimiter=None,
                                  encoding=None))
    os.unlink(f.name)
    assert [r.values["id"] for r in src.rows] == ["bpe-62119-D201-001", "bpe-62119-D201-002",
                                                  "bpe-62119-D307-001"]
    assert {r.values["insee"] for r in src.rows} == {"62119"}
    assert src.rows[0].values["libelle_type"] == equipements.TYPES["D201"][0]
    assert set(src.columns) <= set(CATALOG["equipements"].fields)
    first = bpe_csv().splitlines()[1].split(";")
    assert shapely.Point(float(first[6]), float(first[7])).equals(src.rows[0].geometry)
