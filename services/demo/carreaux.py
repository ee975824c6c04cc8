"""Population on INSEE-style 200 m cells ("carreaux") — MODELLED DEMONSTRATION DATA.

``generate``  -> ``carreaux-200m`` (Polygon)
    The shape of INSEE's Filosofi gridded data: square cells of 200 m in ETRS89-LAEA
    (EPSG:3035), identified by ``idcar_200m`` = ``CRS3035RES200mN{north}E{east}`` (the lower
    left corner, metres), ``ind`` = inhabitants. Only inhabited cells exist, as in Filosofi.

    THE POPULATION OF EACH CELL IS DRAWN, not observed, but it is consistent with the real
    INSEE municipal population: per real commune, ``population / 3`` points (at most 30 000)
    are drawn, 70 % Gaussian around the commune's centre (σ = 150 m + 6 m × √population) and
    30 % uniform over the commune (hamlets, scattered houses); each is snapped to its 200 m
    cell, only the cells whose centre lies in the commune are kept (a cell belongs to one
    commune: ``insee``), and the population is split among them by a seeded multinomial with
    the number of points as weights: **the cells of a commune sum exactly to its
    ``population_municipale``**. A commune with no cell left gets the cell of its centre.

Real data to use instead: INSEE, "Données carroyées à 200 m" (Filosofi), whose ``Idcar_200m``
and ``Ind`` columns are the two used here (see the README).
"""
from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pyproj
import shapely

from . import make_rng, sorted_communes, source_label
from .reseaux import _population

SIZE = 200.0
MAX_POINTS = 30000
_TO_3035 = pyproj.Transformer.from_crs("EPSG:2154", "EPSG:3035", always_xy=True)
_TO_2154 = pyproj.Transformer.from_crs("EPSG:3035", "EPSG:2154", always_xy=True)


def cell_id(east: float, north: float) -> str:
    """The INSEE identifier of the 200 m cell whose lower-left corner is (east, north)."""
    return f"CRS3035RES200mN{int(north)}E{int(east)}"


def cell_polygon(east: float, north: float) -> shapely.Polygon:
    """The cell (lower-left corner in EPSG:3035) as a polygon in EPSG:2154."""
    xs = np.array([east, east + SIZE, east + SIZE, east, east])
    ys = np.array([north, north, north + SIZE, north + SIZE, north])
    x, y = _TO_2154.transform(xs, ys)
    return shapely.Polygon(np.round(np.column_stack([x, y]), 2))


def _points(rng: np.random.Generator, geom, centre, pop: float) -> np.ndarray:
    n = int(min(max(pop / 3.0, 20), MAX_POINTS))
    sigma = 150.0 + 6.0 * math.sqrt(max(pop, 0.0))
    n_centre = int(round(0.7 * n))
    minx, miny, maxx, maxy = geom.bounds
    xy = np.vstack([
        np.column_stack([rng.normal(centre.x, sigma, n_centre),
                         rng.normal(centre.y, sigma, n_centre)]),
        np.column_stack([rng.uniform(minx, maxx, n - n_centre),
                         rng.uniform(miny, maxy, n - n_centre)]),
    ])
    return xy[shapely.contains_xy(geom, xy[:, 0], xy[:, 1])]


def generate(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    com = sorted_communes(layers)
    taken: set[tuple[int, int]] = set()
    records = []
    for row in com.itertuples():
        pop = int(round(_population(row.population_municipale)))
        if pop <= 0:
            continue
        rng = make_rng(seed, f"carreaux:{row.insee}")
        shapely.prepare(row.geometry)
        xy = _points(rng, row.geometry, row.centre, pop)
        e, n = _TO_3035.transform(xy[:, 0], xy[:, 1]) if len(xy) else (np.empty(0), np.empty(0))
        corners = np.column_stack([np.floor(np.asarray(e) / SIZE) * SIZE,
                                   np.floor(np.asarray(n) / SIZE) * SIZE]).astype(np.int64)
        cells, counts = (np.unique(corners, axis=0, return_counts=True) if len(corners)
                         else (np.empty((0, 2), np.int64), np.empty(0, np.int64)))
        # keep the cells whose centre is in the commune and not already another commune's
        cx, cy = _TO_2154.transform(cells[:, 0] + SIZE / 2, cells[:, 1] + SIZE / 2)
        inside = shapely.contains_xy(row.geometry, np.asarray(cx), np.asarray(cy))
        keep = [i for i in np.flatnonzero(inside) if (int(cells[i, 0]), int(cells[i, 1]))
                not in taken]
        if not keep:  # the cell of the centre, whatever its centre
            ce, cn = _TO_3035.transform(row.centre.x, row.centre.y)
            corner = np.array([[math.floor(ce / SIZE) * SIZE, math.floor(cn / SIZE) * SIZE]],
                              dtype=np.int64)
            if (int(corner[0, 0]), int(corner[0, 1])) in taken:
                corner[0, 0] += int(SIZE)  # its neighbour: a commune needs a cell of its own
            cells, counts, keep = corner, np.array([1]), [0]
        weights = counts[keep].astype(float)
        ind = rng.multinomial(pop, weights / weights.sum())
        for i, k in zip(keep, ind):
            if k <= 0:
                continue
            east, north = int(cells[i, 0]), int(cells[i, 1])
            taken.add((east, north))
            records.append({"id": cell_id(east, north), "idcar_200m": cell_id(east, north),
                            "ind": int(k), "insee": row.insee, "commune": row.nom,
                            "epci_siren": row.epci_siren, "source": source_label(seed),
                            "geometry": cell_polygon(east, north)})
    gdf = gpd.GeoDataFrame(records, geometry="geometry", crs=com.crs)
    cols = ["id"] + [c for c in gdf.columns if c not in ("id", "geometry")] + ["geometry"]
    return gdf[cols].reset_index(drop=True)
