"""The `zonal-statistics` process: the pure core, then over real HTTP on both stores, compared
with a numpy computation on the raster cut by rasterio.mask."""
from __future__ import annotations

import ast
import json

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import rasterio.mask
import shapely.geometry

from conftest import PROJECT, VAR
from processes.zonal_statistics import core

EXECUTE = "/processes/zonal-statistics/execution"
RAMP = json.loads((PROJECT / "styles" / "surchauffe.ramp.json").read_text(encoding="utf-8"))
BOX = {"type": "Polygon", "coordinates": [[[2.60, 50.40], [2.65, 50.40], [2.65, 50.45],
                                            [2.60, 50.45], [2.60, 50.40]]]}


def execute(server, inputs: dict):
    return server.post(EXECUTE, data=json.dumps({"inputs": inputs}),
                       headers={"Content-Type": "application/json"})


def reference(path: str, geom_2154) -> dict:
    """Independent computation: rasterio.mask (cell centres inside), numpy statistics."""
    with rasterio.open(path) as src:
        cut, _ = rasterio.mask.mask(src, [shapely.geometry.mapping(geom_2154)], crop=True,
                                    nodata=src.nodata)
        cells = cut[0][cut[0] != src.nodata].astype("float64")
    return {"mean": cells.mean(), "max": cells.max(), "min": cells.min(),
            "p90": np.percentile(cells, 90), "pixel_count": cells.size,
            "hot_share": (cells >= RAMP["hot_threshold"]).mean()}


def assert_matches(stats: dict, ref: dict) -> None:
    assert stats["pixel_count"] == ref["pixel_count"]
    for key in ("mean", "max", "min", "p90", "hot_share"):
        assert stats[key] == pytest.approx(ref[key], abs=1e-3), key


# ---------------------------------------------------------------------------- core
def test_core_statistics_on_a_small_array():
    values = np.array([[1.0, 5.0, -9999.0], [4.0, 2.0, 7.0]])
    valid = values != -9999.0
    valid[1, 2] = False  # outside the zone
    s = core.zonal_statistics(values, valid, hot_threshold=4, cell_area_m2=625)
    assert s.pixel_count == 4 and s.mean == pytest.approx(3.0) and s.max == 5.0
    assert s.hot_share == pytest.approx(0.5) and s.p90 == pytest.approx(np.percentile([1, 5, 4, 2], 90))
    assert s.area_km2 == pytest.approx(4 * 625 / 1e6)
    with pytest.raises(core.EmptyZone):
        core.zonal_statistics(values, np.zeros_like(valid), 4, 625)


def test_core_has_no_web_or_store_imports():
    tree = ast.parse((PROJECT / "processes" / "zonal_statistics" / "core.py").read_text())
    imported = {n.names[0].name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)}
    imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree)
                 if isinstance(n, ast.ImportFrom)}
    assert imported <= {"__future__", "dataclasses", "numpy"}, imported


# ---------------------------------------------------------------------------- over HTTP
def test_process_is_described(server):
    desc = server.json("/processes/zonal-statistics")
    assert set(desc["inputs"]) == {"commune", "geometry", "year", "datetime"}
    assert "statistics" in desc["outputs"]
    assert {"sync-execute", "async-execute"} <= set(desc["jobControlOptions"])


@pytest.mark.parametrize("insee,year", [("62119", 2024), ("62498", 2022)])
def test_commune_statistics_equal_numpy_on_rasterio_mask(server, manifest, insee, year):
    r = execute(server, {"commune": insee, "year": year})
    assert r.status_code == 200, r.text[:500]
    stats = r.json()["statistics"]
    assert stats["year"] == year and stats["zone"]["commune"] == insee
    communes = gpd.read_file(VAR / "store" / "communes.gpkg")
    geom = communes.loc[communes["insee"] == insee].geometry.iloc[0]
    assert_matches(stats, reference(manifest["surchauffe"]["files"][str(year)], geom))


def test_polygon_and_datetime(server, manifest):
    r = execute(server, {"geometry": BOX, "datetime": "2023-07-14"})
    assert r.status_code == 200, r.text[:500]
    stats = r.json()["statistics"]
    assert stats["year"] == 2023
    box = gpd.GeoSeries([shapely.geometry.shape(BOX)], crs="OGC:CRS84").to_crs(2154).iloc[0]
    assert_matches(stats, reference(manifest["surchauffe"]["files"]["2023"], box))
    default = execute(server, {"geometry": {"type": "Feature", "geometry": BOX,
                                            "properties": {}}}).json()["statistics"]
    assert default["year"] == 2024


@pytest.mark.parametrize("inputs", [
    {}, {"commune": "62119", "geometry": BOX}, {"commune": "99999"}, {"commune": "abc"},
    {"commune": "62119", "year": 2019}, {"commune": "62119", "datetime": "2022/2024"},
    {"commune": "62119", "year": 2023, "datetime": "2023"},
    {"geometry": {"type": "Point", "coordinates": [2.6, 50.4]}},
    {"geometry": {"type": "Polygon", "coordinates": [[[5, 45], [5.1, 45], [5.1, 45.1],
                                                      [5, 45]]]}},
    {"commune": "62119", "colour": "red"},
])
def test_bad_inputs_are_400(server, inputs):
    r = execute(server, inputs)
    assert r.status_code == 400, (inputs, r.status_code, r.text[:300])
    body = r.json()
    assert body.get("description_fr") and body.get("description_en"), body
