"""Shared helpers of the modelled hazard layers (:mod:`services.demo.hazards`): polygon
cleaning, splitting by commune, smoothed lines through town centres, variable-width
buffers, noise fields and the output frame.
"""

from __future__ import annotations

import datetime as dt
import math

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, MultiPolygon, Point

from . import CRS, REFERENCE_DATE, random_date
from .surchauffe import gaussian_blur

# --------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------
MIN_PIECE_M2 = 200.0  # slivers below this are dropped when splitting by commune


def _polygonal(geom) -> MultiPolygon | None:
    """The polygonal part of ``geom`` as a valid MultiPolygon (None if empty)."""
    if geom is None or geom.is_empty:
        return None
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = []
    for g in getattr(geom, "geoms", [geom]):
        if g.geom_type == "Polygon" and g.area >= MIN_PIECE_M2:
            parts.append(g)
        elif g.geom_type in ("MultiPolygon", "GeometryCollection"):
            sub = _polygonal(g)
            if sub is not None:
                parts.extend(sub.geoms)
    if not parts:
        return None
    out = MultiPolygon(parts)
    return out if out.is_valid else _polygonal(shapely.make_valid(out))


def _round(geom):
    """Centimetre precision, as the other generators: byte-stable outputs."""
    return shapely.set_precision(geom, 0.01)


def _split_by_commune(geom, com: gpd.GeoDataFrame) -> list[tuple[int, MultiPolygon]]:
    """(row in ``com``, piece) for each commune ``geom`` meets, in INSEE order."""
    if geom is None or geom.is_empty:
        return []
    tree = shapely.STRtree(np.asarray(com.geometry.values))
    out = []
    for j in sorted(tree.query(geom, predicate="intersects").tolist()):
        piece = _polygonal(_round(shapely.intersection(geom, com.geometry.iloc[j])))
        if piece is not None:
            out.append((j, piece))
    return out


def _chaikin(coords: np.ndarray, iterations: int = 3) -> np.ndarray:
    """Corner-cutting smoothing of an open polyline (end points kept)."""
    pts = np.asarray(coords, dtype=float)
    for _ in range(iterations):
        if len(pts) < 3:
            return pts
        q = 0.75 * pts[:-1] + 0.25 * pts[1:]
        r = 0.25 * pts[:-1] + 0.75 * pts[1:]
        mid = np.empty((2 * len(q), 2))
        mid[0::2], mid[1::2] = q, r
        pts = np.vstack([pts[:1], mid, pts[-1:]])
    return pts


def _town_line(centre: dict, towns: list[str], smooth: bool = True) -> LineString | None:
    pts = [centre[t] for t in towns if t in centre]
    if len(pts) == 1:  # a single town: a short east-west reach through it (as surchauffe)
        p = pts[0]
        pts = [Point(p.x - 3000, p.y + 400), p, Point(p.x + 3000, p.y - 400)]
    if len(pts) < 2:
        return None
    xy = np.array([(p.x, p.y) for p in pts])
    return LineString(_chaikin(xy) if smooth else xy)


def _smooth_profile(rng: np.random.Generator, length: float, step: float, knot: float,
                    lo: float, hi: float) -> np.ndarray:
    """Values in [lo, hi] at every ``step`` m along a line of ``length`` m, varying smoothly
    (linear interpolation between seeded knots every ``knot`` m)."""
    n_knots = max(int(math.ceil(length / knot)) + 1, 2)
    knots = rng.uniform(lo, hi, n_knots)
    s = np.arange(0.0, length + step, step)
    return np.interp(s, np.linspace(0.0, length, n_knots), knots)


def _variable_buffer(line: LineString, radii: np.ndarray, step: float):
    """Union of discs of radius ``radii[k]`` every ``step`` m along ``line`` (a buffer whose
    width varies along the line)."""
    n = len(radii)
    dists = np.minimum(np.arange(n) * step, line.length)
    pts = shapely.line_interpolate_point(line, dists)
    discs = shapely.buffer(pts, radii, quad_segs=8)
    # consecutive discs joined by their convex hull: no beads on a string
    hulls = [shapely.convex_hull(shapely.union(discs[k], discs[k + 1])) for k in range(n - 1)]
    return shapely.union_all(hulls or list(discs))


def _date_maj(rng: np.random.Generator, start: dt.date) -> str:
    return random_date(rng, start, REFERENCE_DATE).isoformat()


def _frame(records: list[dict]) -> gpd.GeoDataFrame:
    gdf = gpd.GeoDataFrame(records, geometry="geometry", crs=CRS)
    cols = ["id"] + [c for c in gdf.columns if c not in ("id", "geometry")] + ["geometry"]
    return gdf[cols].reset_index(drop=True)


def _noise(rng, shape, sigma_px):
    field = gaussian_blur(rng.standard_normal(shape, dtype=np.float32), sigma_px, mode="reflect")
    field -= field.mean()
    field /= max(float(field.std()), 1e-12)
    return field
