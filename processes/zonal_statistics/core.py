"""Zonal statistics of a surface-temperature anomaly raster: pure numpy, no I/O.

The zone is given as the raster cells it covers (cell centres inside the polygon, the
rasterio.mask rule) and their validity (not nodata); every statistic is over the valid cells.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

PERCENTILE = 90


class EmptyZone(ValueError):
    """No valid raster cell inside the zone."""


@dataclass(frozen=True)
class ZonalStatistics:
    mean: float
    max: float
    min: float
    p90: float
    hot_share: float       # share (0-1) of valid cells >= the hot threshold
    hot_threshold: float
    pixel_count: int       # valid cells in the zone
    area_km2: float        # pixel_count x cell area

    def as_dict(self, decimals: int = 4) -> dict:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, float):
                out[key] = round(value, decimals)
        return out


def zonal_statistics(values: np.ndarray, valid: np.ndarray, hot_threshold: float,
                     cell_area_m2: float) -> ZonalStatistics:
    """Statistics of `values` where `valid` is true (same shape; `valid` = in the zone and
    not nodata). Raises EmptyZone when no cell is valid."""
    values = np.asarray(values)
    valid = np.asarray(valid, dtype=bool)
    if values.shape != valid.shape:
        raise ValueError(f"values {values.shape} and valid {valid.shape} differ")
    cells = values[valid & np.isfinite(values)].astype("float64")
    if cells.size == 0:
        raise EmptyZone("no valid cell in the zone")
    return ZonalStatistics(
        mean=float(cells.mean()),
        max=float(cells.max()),
        min=float(cells.min()),
        p90=float(np.percentile(cells, PERCENTILE)),
        hot_share=float((cells >= hot_threshold).mean()),
        hot_threshold=float(hot_threshold),
        pixel_count=int(cells.size),
        area_km2=float(cells.size * cell_area_m2 / 1e6),
    )
