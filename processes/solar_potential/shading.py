"""Horizon profiles of roofs from a digital surface model (DSM) raster, read with rasterio.

For each roof, the horizon is sampled around a point of the roof in ``n_azimuths`` directions
(equally spaced, clockwise from north): along each ray, the DSM is read every pixel (every
``max_distance_m / 400`` m at most) up to ``max_distance_m``, and the horizon elevation of that
direction is the largest ``atan((z - z0) / d)`` met, 0 at least (a flat horizon). ``z0`` is the
median DSM height over the roof polygon plus the height of the modules above the roof; samples
inside the roof's own polygon are skipped (a roof does not shade itself here). ``core`` then
removes the beam (and circumsolar) irradiance at every hour the sun is below the horizon of its
azimuth and scales the diffuse sky by the sky-view factor of the profile.

The DSM must be in a projected CRS with metre units (heights in metres). Roofs outside the DSM,
or whose height cannot be read (nodata), get a row of NaN and ``covered = False``: the caller
computes them without shading and says so.

Pure module: rasterio, numpy, shapely, pyproj only; no web framework, no store.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = ["ShadingError", "horizon_profiles"]

MIN_AZIMUTHS, MAX_AZIMUTHS = 16, 72
MAX_STEPS = 400


class ShadingError(ValueError):
    """The DSM cannot be used (unreadable, geographic CRS...); ``messages`` in fr/en."""

    def __init__(self, en: str, fr: str | None = None):
        super().__init__(en)
        self.messages = {"en": en, "fr": fr or en}


def _to_dsm_crs(roofs: Sequence[BaseGeometry], roofs_crs, dsm_crs) -> list[BaseGeometry]:
    from pyproj import CRS, Transformer

    src, dst = CRS.from_user_input(roofs_crs), CRS.from_user_input(dsm_crs.to_wkt())
    if src.equals(dst):
        return list(roofs)
    tr = Transformer.from_crs(src, dst, always_xy=True)
    return [shapely.transform(g, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
            for g in roofs]


def horizon_profiles(dsm_path: str | Path, roofs: Sequence[BaseGeometry],
                     roofs_crs: str = "EPSG:2154", n_azimuths: int = 36,
                     max_distance_m: float = 300.0,
                     module_height_m: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """Horizon profiles (R, n_azimuths) in degrees, and a (R,) mask of roofs the DSM covers.

    ``roofs``: polygons in ``roofs_crs``. Column j of the profile is the direction
    ``j × 360 / n_azimuths`` degrees clockwise from north.
    """
    import rasterio
    from rasterio.windows import Window, from_bounds

    n_azimuths = int(n_azimuths)
    if not MIN_AZIMUTHS <= n_azimuths <= MAX_AZIMUTHS:
        raise ShadingError(f"the horizon needs {MIN_AZIMUTHS} to {MAX_AZIMUTHS} azimuths",
                           f"l'horizon demande de {MIN_AZIMUTHS} à {MAX_AZIMUTHS} azimuts")
    max_distance_m = float(max_distance_m)
    n_roofs = len(roofs)
    horizons = np.full((n_roofs, n_azimuths), np.nan)
    covered = np.zeros(n_roofs, dtype=bool)
    if n_roofs == 0:
        return horizons, covered
    try:
        ds = rasterio.open(dsm_path)
    except rasterio.errors.RasterioIOError as exc:
        raise ShadingError(f"the surface model cannot be read: {exc}",
                           f"le modèle numérique de surface est illisible : {exc}") from exc
    with ds:
        crs = ds.crs
        if crs is None or not crs.is_projected or \
                (crs.linear_units or "").lower() not in ("metre", "meter", "m", "metres"):
            raise ShadingError("the surface model must be in a projected CRS in metres",
                               "le modèle numérique de surface doit être dans une projection "
                               "en mètres")
        geoms = _to_dsm_crs(roofs, roofs_crs, crs)
        minx, miny, maxx, maxy = shapely.total_bounds(np.asarray(geoms, dtype=object))
        pad = max_distance_m + 2 * max(abs(ds.transform.a), abs(ds.transform.e))
        win = from_bounds(minx - pad, miny - pad, maxx + pad, maxy + pad, transform=ds.transform)
        c0, r0 = math.floor(win.col_off), math.floor(win.row_off)
        win = Window(c0, r0, math.ceil(win.col_off + win.width) - c0,
                     math.ceil(win.row_off + win.height) - r0)
        try:
            win = win.intersection(Window(0, 0, ds.width, ds.height))
        except rasterio.errors.WindowError:  # no overlap: nothing is covered
            return horizons, covered
        band = ds.read(1, window=win, masked=True)
        z = np.ma.filled(band.astype("float64"), np.nan)
        tr = ds.window_transform(win)
    inv = ~tr
    pixel = max(min(abs(tr.a), abs(tr.e)), 1e-3)
    step = max(pixel, max_distance_m / MAX_STEPS)
    dist = np.arange(step, max_distance_m + step / 2, step)
    az = np.radians(np.arange(n_azimuths) * 360.0 / n_azimuths)
    dx, dy = np.sin(az)[:, None] * dist[None, :], np.cos(az)[:, None] * dist[None, :]
    rows_n, cols_n = z.shape

    def sample(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        cols = np.floor(inv.a * xs + inv.b * ys + inv.c).astype(np.int64)
        rows = np.floor(inv.d * xs + inv.e * ys + inv.f).astype(np.int64)
        ok = (rows >= 0) & (rows < rows_n) & (cols >= 0) & (cols < cols_n)
        out = np.full(xs.shape, np.nan)
        out[ok] = z[rows[ok], cols[ok]]
        return out

    for i, geom in enumerate(geoms):
        if geom is None or geom.is_empty:
            continue
        shapely.prepare(geom)
        centre = geom.centroid
        if not geom.contains(centre):
            centre = geom.representative_point()
        cx, cy = centre.x, centre.y
        z_roof = _roof_height(geom, sample, pixel)
        if not math.isfinite(z_roof):
            z_roof = float(sample(np.array([cx]), np.array([cy]))[0])
        if not math.isfinite(z_roof):
            continue
        z0 = z_roof + float(module_height_m)
        xs, ys = cx + dx, cy + dy
        zs = sample(xs, ys)
        zs[shapely.contains_xy(geom, xs, ys)] = np.nan
        with np.errstate(invalid="ignore"):
            angles = np.degrees(np.arctan2(zs - z0, dist[None, :]))
        with np.errstate(all="ignore"):
            best = np.where(np.all(np.isnan(angles), axis=1), 0.0,
                            np.nanmax(np.where(np.isnan(angles), -90.0, angles), axis=1))
        horizons[i] = np.clip(best, 0.0, 90.0)
        covered[i] = True
    return horizons, covered


def _roof_height(geom: BaseGeometry, sample, pixel: float, max_points: int = 2500) -> float:
    """Median DSM height over the roof polygon (pixel-centre grid, thinned to max_points)."""
    minx, miny, maxx, maxy = geom.bounds
    nx = max(1, int(math.ceil((maxx - minx) / pixel)))
    ny = max(1, int(math.ceil((maxy - miny) / pixel)))
    stride = max(1, int(math.ceil(math.sqrt(nx * ny / max_points))))
    gx = minx + (np.arange(0, nx, stride) + 0.5) * pixel
    gy = miny + (np.arange(0, ny, stride) + 0.5) * pixel
    xs, ys = np.meshgrid(gx, gy)
    inside = shapely.contains_xy(geom, xs, ys)
    if not inside.any():
        return float("nan")
    values = sample(xs[inside], ys[inside])
    values = values[np.isfinite(values)]
    return float(np.median(values)) if len(values) else float("nan")
