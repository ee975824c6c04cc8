"""The tile matrix sets this server offers: WebMercatorQuad and a Lambert-93 set.

LAMB93 follows the French national tile services (IGN Géoplateforme WMTS "LAMB93"): origin at
(0, 12,000,000) in EPSG:2154, 256-pixel tiles, cell sizes 209,715.2 m / 2^z (z = 0…21, down to
0.1 m). Both vector and raster tiles use this one registry.
"""
from __future__ import annotations

import math
from functools import lru_cache

import morecantile
from morecantile import TileMatrixSet

from services.errors import OGCError

LAMB93_ID = "LAMB93"
LAMB93_ORIGIN = (0.0, 12_000_000.0)
# Lambert-93's area of use (metropolitan France), in EPSG:2154 metres, rounded outwards.
LAMB93_BOUNDS = (0.0, 6_000_000.0, 1_300_000.0, 12_000_000.0)
LAMB93_MAX_ZOOM = 21
TILE_SIZE = 256
OGC_PIXEL = 0.00028  # metres: the standardized rendering pixel of OGC scale denominators


def _lamb93() -> TileMatrixSet:
    matrices = []
    for z in range(LAMB93_MAX_ZOOM + 1):
        cell = 209_715.2 / 2 ** z
        span = TILE_SIZE * cell
        matrices.append({
            "id": str(z),
            "scaleDenominator": cell / OGC_PIXEL,
            "cellSize": cell,
            "cornerOfOrigin": "topLeft",
            "pointOfOrigin": list(LAMB93_ORIGIN),
            "tileWidth": TILE_SIZE,
            "tileHeight": TILE_SIZE,
            "matrixWidth": max(1, math.ceil((LAMB93_BOUNDS[2] - LAMB93_ORIGIN[0]) / span)),
            "matrixHeight": max(1, math.ceil((LAMB93_ORIGIN[1] - LAMB93_BOUNDS[1]) / span)),
        })
    return TileMatrixSet.model_validate({
        "id": LAMB93_ID,
        "title": "Lambert-93 (EPSG:2154), grille des services de tuiles nationaux / "
                 "French national tile services' grid",
        "crs": {"uri": "http://www.opengis.net/def/crs/EPSG/0/2154"},
        "orderedAxes": ["E", "N"],
        "tileMatrices": matrices,
    })


@lru_cache(maxsize=1)
def registry() -> morecantile.TileMatrixSets:
    """WebMercatorQuad and LAMB93, and nothing else: unknown identifiers are a 404."""
    return morecantile.TileMatrixSets({
        "WebMercatorQuad": morecantile.tms.get("WebMercatorQuad"),
        LAMB93_ID: _lamb93(),
    })


def ids() -> list[str]:
    return registry().list()


@lru_cache(maxsize=8)
def get(tms_id: str) -> TileMatrixSet | None:
    """The shared tile matrix set (morecantile deep-copies on each look-up: ~3 ms a tile);
    read it, never change it."""
    try:
        return registry().get(tms_id)
    except Exception:  # noqa: BLE001 - morecantile raises InvalidIdentifier
        return None


def checked(tms_id: str) -> TileMatrixSet:
    """The tile matrix set, or a 404 naming the sets offered."""
    tms = get(tms_id)
    if tms is None:
        raise OGCError("tiles_unknown_tms", status=404, tms=tms_id[:80], known=", ".join(ids()))
    return tms


def check_tile(tms: TileMatrixSet, z: int, row: int, col: int) -> None:
    """The one tile-address check of the vector and raster tiles: a 404 unless the tile is
    inside the set (level in its range, row and column in the matrix of that level)."""
    if not tms.minzoom <= z <= tms.maxzoom:
        raise OGCError("tiles_level", status=404, z=z, tms=tms.id, minzoom=tms.minzoom,
                       maxzoom=tms.maxzoom)
    matrix = tms.matrix(z)
    if not (0 <= row < matrix.matrixHeight and 0 <= col < matrix.matrixWidth):
        raise OGCError("tiles_outside_matrix", status=404, z=z, row=row, col=col, tms=tms.id,
                       height=matrix.matrixHeight, width=matrix.matrixWidth)
