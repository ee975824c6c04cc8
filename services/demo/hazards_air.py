"""Air-quality layer of the risk matrix — MODELLED DEMONSTRATION DATA.

Every record is fictitious (see :mod:`services.demo.hazards`); NOT a hazard map.

``generate_air``  -> ``qualite-air`` (MultiPolygon)
    Annual mean NO2 and PM2.5 concentrations (µg/m3) on a 1 km Lambert-93 grid clipped to the
    territory, like the regional modelled maps of Atmo Hauts-de-France: a background, an urban
    term growing with the population-weighted density of nearby communes, a road term
    decreasing with the distance to the modelled major roads and correlated noise.

EPSG:2154, ``source`` and ``date_maj`` on every record: see :mod:`services.demo.hazards`.
"""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import shapely

from . import make_rng, sorted_communes, source_label, territory
from .hazards_common import _date_maj, _frame, _noise, _polygonal, _round
from .hazards_noise import noise_lines

# --------------------------------------------------------------------------------------
# air quality (qualite-air)
# --------------------------------------------------------------------------------------
AIR_RES = 1000.0
AIR_YEAR = 2024


def generate_air(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    """Model annual mean NO2 and PM2.5 on a 1 km grid (see module docstring)."""
    com = sorted_communes(layers)
    terr = territory(com)
    src = source_label(seed)
    minx, miny, maxx, maxy = terr.bounds
    x0, y0 = math.floor(minx / AIR_RES) * AIR_RES, math.floor(miny / AIR_RES) * AIR_RES
    nx = int(math.ceil((maxx - x0) / AIR_RES))
    ny = int(math.ceil((maxy - y0) / AIR_RES))
    cx = x0 + (np.arange(nx) + 0.5) * AIR_RES
    cy = y0 + (np.arange(ny) + 0.5) * AIR_RES
    gx, gy = np.meshgrid(cx, cy)  # (ny, nx), row 0 = south

    # urban term: population-weighted Gaussian kernels (as the overheating model)
    pop = com["population_municipale"].to_numpy(dtype=float)
    area_km2 = com.geometry.area.to_numpy() / 1e6
    dens = pop / np.maximum(area_km2, 0.1)
    px = np.array([p.x for p in com["centre"]])
    py = np.array([p.y for p in com["centre"]])
    s = np.zeros_like(gx)
    for k in range(len(com)):
        amp = (pop[k] / 9000.0) ** 0.9 * float(np.clip((dens[k] / 600.0) ** 0.35, 0.5, 1.6))
        sig = 400.0 + 9.0 * math.sqrt(pop[k])
        s += amp * np.exp(-((gx - px[k]) ** 2 + (gy - py[k]) ** 2) / (2 * sig**2))
    urban = 1.0 - np.exp(-s)

    # road term: distance to the modelled major roads
    centres = shapely.points(gx.ravel(), gy.ravel())
    road = np.zeros(gx.size)
    for _name, kind, line in noise_lines(com):
        if kind == "voie ferrée":
            continue
        weight = {"autoroute": 1.0, "route nationale": 0.7, "route départementale": 0.4}[kind]
        d = shapely.distance(centres, line)
        road = np.maximum(road, weight * np.exp(-d / 600.0))
    road = road.reshape(gx.shape)

    rng = make_rng(seed, "air:bruit")
    large = _noise(rng, gx.shape, 6.0)
    fine = _noise(rng, gx.shape, 1.0)
    no2 = 9.5 + 13.0 * urban + 9.0 * road + 1.0 * large + 0.7 * fine
    pm25 = 7.4 + 3.0 * urban + 1.2 * road + 0.6 * large + 0.3 * fine
    no2 = np.clip(no2, 5.0, None)
    pm25 = np.clip(pm25, 4.0, None)

    cells = shapely.box(gx.ravel() - AIR_RES / 2, gy.ravel() - AIR_RES / 2,
                        gx.ravel() + AIR_RES / 2, gy.ravel() + AIR_RES / 2)
    tree = shapely.STRtree(np.asarray(com.geometry.values))
    shapely.prepare(terr)
    records = []
    rng_dates = make_rng(seed, "air:dates")
    maj = _date_maj(rng_dates, dt.date(2025, 3, 1))
    for i in range(ny - 1, -1, -1):  # north to south, west to east
        for k in range(nx):
            idx = i * nx + k
            cell = cells[idx]
            if not terr.intersects(cell):
                continue
            piece = _polygonal(_round(cell.intersection(terr)))
            if piece is None:
                continue
            c = piece.representative_point()
            j = tree.query(c, predicate="intersects")
            j = int(min(j)) if len(j) else int(tree.nearest(c))
            e, n = int(gx[i, k] - AIR_RES / 2) // 1000, int(gy[i, k] - AIR_RES / 2) // 1000
            records.append({
                "id": f"AIR-1km-E{e:04d}-N{n:04d}",
                "annee": AIR_YEAR,
                "no2_ugm3": round(float(no2[i, k]), 1),
                "pm25_ugm3": round(float(pm25[i, k]), 1),
                "insee": str(com["insee"].iloc[j]),
                "commune": str(com["nom"].iloc[j]),
                "date_maj": maj,
                "source": src,
                "geometry": piece,
            })
    return _frame(records)
