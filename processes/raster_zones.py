"""Raster cells inside a zone: the one rule used by risk-matrix (R1) and zonal-statistics.

A cell belongs to the zone when its centre lies in it; a zone too small to hold any centre takes
the cells it touches. Nodata cells are left out.
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import rasterio.errors
import rasterio.features
import rasterio.windows
from shapely.geometry.base import BaseGeometry


class Raster:
    """Band 1 of a raster read once (masked), for many areas (see :func:`raster_values`)."""

    def __init__(self, path: str | Path):
        self.path = path
        with rasterio.open(path) as ds:
            self.data = ds.read(1, masked=True)
            self.transform = ds.transform
            self.width, self.height = ds.width, ds.height

    def window(self, win: rasterio.windows.Window) -> tuple[np.ma.MaskedArray, Any]:
        (r0, r1), (c0, c1) = win.toranges()
        return self.data[r0:r1, c0:c1], rasterio.windows.transform(win, self.transform)


def _window(bounds, transform, width: int, height: int) -> rasterio.windows.Window:
    full = rasterio.windows.Window(0, 0, width, height)
    w = rasterio.windows.from_bounds(*bounds, transform=transform)
    c0, r0 = math.floor(w.col_off), math.floor(w.row_off)
    c1, r1 = math.ceil(w.col_off + w.width), math.ceil(w.row_off + w.height)
    return rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0).intersection(full)


def raster_values(path: "str | Path | Raster", geom: BaseGeometry) -> np.ndarray:
    """Valid pixel values whose centre lies in ``geom`` (all touched pixels if none does).

    ``path`` is a raster file (read for this area only) or a :class:`Raster` already in memory
    (a batch of areas: same pixels, the file is opened once)."""
    if isinstance(path, Raster):
        try:
            win = _window(geom.bounds, path.transform, path.width, path.height)
        except rasterio.errors.WindowError:
            return np.array([], dtype=np.float32)
        arr, transform = path.window(win)
    else:
        with rasterio.open(path) as ds:
            try:
                win = _window(geom.bounds, ds.transform, ds.width, ds.height)
            except rasterio.errors.WindowError:
                return np.array([], dtype=np.float32)
            arr = ds.read(1, window=win, masked=True)
            transform = ds.window_transform(win)
    if arr.size == 0:
        return np.array([], dtype=np.float32)
    valid = ~np.ma.getmaskarray(arr)
    for touched in (False, True):
        inside = rasterio.features.geometry_mask([geom], out_shape=arr.shape, transform=transform,
                                                 invert=True, all_touched=touched)
        sel = inside & valid
        if sel.any():
            return np.asarray(arr.data[sel], dtype=np.float64)
    return np.array([], dtype=np.float64)
