"""Clay shrink-swell layer of the risk matrix — MODELLED DEMONSTRATION DATA.

Every record is fictitious (see :mod:`services.demo.hazards`); NOT a hazard map.

``generate_clay``  -> ``alea-argiles`` (MultiPolygon)
    Clay shrink-swell exposure with the classes of the national BRGM map (``niveau`` faible /
    moyen / fort; unmapped = a priori nul).  A smooth susceptibility field on a 100 m grid:
    higher in the northern Lys plain (argiles des Flandres), along the valleys (alluvium), lower
    on the chalk plateaux of the south-west, plus correlated noise; classes are cut at fixed
    quantiles of the territory (:data:`CLAY_SHARES`: about 12 % nul, 58 % faible, 27 % moyen,
    3 % fort), polygonised, smoothed, nested (no overlap), split by commune.

EPSG:2154, ``source`` and ``date_maj`` on every record: see :mod:`services.demo.hazards`.
"""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import rasterio.features
import shapely
from rasterio.transform import from_origin

from . import make_rng, sorted_communes, source_label, territory
from .hazards_common import _date_maj, _frame, _noise, _split_by_commune
from .hazards_flood import flood_rivers
from .surchauffe import gaussian_blur

# --------------------------------------------------------------------------------------
# clay shrink-swell (alea-argiles)
# --------------------------------------------------------------------------------------
CLAY_RES = 100.0
#: cumulative shares of the territory below each class cut: nul | faible | moyen | fort
CLAY_SHARES = (0.12, 0.70, 0.97)
CLAY_LEVELS = ["faible", "moyen", "fort"]


def _grid(terr, res: float):
    minx, miny, maxx, maxy = terr.bounds
    step = res * 4
    minx, miny = math.floor(minx / step) * step, math.floor(miny / step) * step
    maxx, maxy = math.ceil(maxx / step) * step, math.ceil(maxy / step) * step
    shape = (int(round((maxy - miny) / res)), int(round((maxx - minx) / res)))
    return from_origin(minx, maxy, res, res), shape


def clay_field(com: gpd.GeoDataFrame, seed: int):
    """The modelled susceptibility field: (array, transform, inside mask)."""
    terr = territory(com)
    transform, shape = _grid(terr, CLAY_RES)
    inside = rasterio.features.rasterize([(terr, 1)], out_shape=shape, transform=transform,
                                         fill=0, dtype="uint8").astype(bool)
    h, w = shape
    ys = transform.f - (np.arange(h) + 0.5) * CLAY_RES
    xs = transform.c + (np.arange(w) + 0.5) * CLAY_RES
    north = np.clip((ys - 7042000.0) / 12000.0, -1.0, 1.0)[:, None]  # Lys plain (Flandrian clay)
    west = np.clip((640000.0 - xs) / 25000.0, 0.0, 1.0)[None, :]  # chalk of the 7 Vallées
    rng = make_rng(seed, "argiles:bruit")
    field = 1.1 * north - 0.5 * west + 0.45 * _noise(rng, shape, 25.0) + 0.3 * _noise(rng, shape, 6.0)
    # alluvial clays along the valleys
    rivers = [ln for _n, ln in flood_rivers(com)]
    valley = rasterio.features.rasterize([(ln.buffer(150.0), 1) for ln in rivers], out_shape=shape,
                                         transform=transform, fill=0, dtype="uint8")
    field += 0.7 * np.clip(gaussian_blur(valley.astype(np.float32), 5.0) * 2.0, 0.0, 1.0)
    return field.astype(np.float32), transform, inside


def generate_clay(layers: dict[str, gpd.GeoDataFrame], seed: int) -> gpd.GeoDataFrame:
    """Model the clay shrink-swell exposure classes (see module docstring)."""
    com = sorted_communes(layers)
    terr = territory(com)
    src = source_label(seed)
    field, transform, inside = clay_field(com, seed)
    cuts = np.quantile(field[inside], CLAY_SHARES)
    nested = []  # 'faible or more', 'moyen or more', 'fort'
    for k, cut in enumerate(cuts):
        mask = (field >= cut) & inside
        polys = [shapely.geometry.shape(g) for g, v in rasterio.features.shapes(
            mask.astype(np.uint8), mask=mask, transform=transform) if v == 1]
        region = shapely.union_all(polys).simplify(CLAY_RES * 0.75).buffer(0)
        region = region.buffer(CLAY_RES, quad_segs=4).buffer(-CLAY_RES, quad_segs=4)
        nested.append(region.intersection(terr))
    # nested: fort ⊂ moyen+ ⊂ faible+  -> disjoint rings
    fort = nested[2]
    moyen = shapely.difference(shapely.union(nested[1], fort), fort)
    faible = shapely.difference(shapely.union(nested[0], nested[1], fort) if False else
                                shapely.union_all([nested[0], nested[1], fort]),
                                shapely.union(nested[1], fort))
    records = []
    rows = []
    for k, geom in enumerate([faible, moyen, fort]):
        for j, piece in _split_by_commune(geom, com):
            rows.append((j, k, piece))
    rows.sort(key=lambda r: (r[0], r[1]))
    for j, k, piece in rows:
        insee = str(com["insee"].iloc[j])
        rng = make_rng(seed, f"argiles:attr:{insee}:{k}")
        records.append({
            "id": f"RGA-{insee}-{k + 1}",
            "niveau": CLAY_LEVELS[k],
            "insee": insee,
            "commune": str(com["nom"].iloc[j]),
            "surface_ha": round(piece.area / 1e4, 2),
            "date_maj": _date_maj(rng, dt.date(2019, 8, 1)),
            "source": src,
            "geometry": piece,
        })
    return _frame(records)
