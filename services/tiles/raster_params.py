"""The parameters of the titiler routes, as typed TiTiler-style dependencies, each bounded.

titiler-core's TilerFactory takes its request parameters from dependencies (path_dependency,
layer_dependency, tile_dependency, process_dependency, colormap_dependency, render_dependency,
...). CoverageTilerFactory (raster_titiler) replaces each with one of the dependencies below,
whose FastAPI declarations carry the bounds (`le=`, `Literal[...]`, `allow_inf_nan=False`), so
that FastAPI refuses an out-of-bounds value with a validation error (a bilingual 400) before
anything is read:

  parameter                 where                          bound
  collectionId, datetime    every route (path_dependency)  the manifest's files; one summer
  url, src_path, path, file every route (request_guard)    refused: only the server's data
  tilesize                  tiles, tilejson                1 .. MAX_TILESIZE
  minzoom, maxzoom          tileset, tilejson              0 .. MAX_ZOOM, minzoom <= maxzoom
  tile_format, .{format}    tilejson, tiles                png or webp
  crs                       tilesets list                  CRS84, EPSG:4326, 3857, 2154
  z, x, y                   tiles                          inside the tile matrix set (404)
  buffer, padding           tiles, tilejson                0 < buffer <= 64 (multiple of 0.5),
                                                           0 < padding <= 64
  bidx                      tiles, tilejson, point         the file's bands, each once
  expression, algorithm,    tiles, tilejson, point         refused (a one-band coverage)
  algorithm_params, colormap, color_formula
  colormap_name             tiles, tilejson                rio-tiler's named colormaps
  rescale                   tiles, tilejson                one min,max in RESCALE_LIMITS
  lon, lat, coord_crs       point                          finite, inside the CRS's range
  nodata, unscale, resampling, reproject, return_mask      titiler's own types (enums, bool)
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Literal

import rasterio
from fastapi import Depends, Query, Request
from fastapi import Path as PathParam
from pyproj import CRS as ProjCRS
from pyproj import Transformer
from rasterio.warp import transform as warp_transform
from rio_tiler.colormap import cmap as rio_cmaps
from titiler.core.dependencies import BidxParams, DefaultDependency, ImageRenderingParams

from services.tiles import tms as tms_registry
from services.tiles.raster_errors import bad_text, not_found_text
from services.tiles.raster_summers import data_range, dataset_path, ramp, ramp_colormap

MAX_TILESIZE = 1024
MAX_BUFFER = 64     # pixels on each side of a tile
MAX_PADDING = 64    # pixels
MAX_ZOOM = max(tms_registry.get(t).maxzoom for t in tms_registry.ids())
RESCALE_LIMITS = (-100.0, 100.0)  # °C: wide enough for any styling, refuses nonsense
TILE_FORMATS = ("png", "webp")
DATASET_KEYS = ("url", "src_path", "path", "file")

CRS_URIS = {
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84": "OGC:CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/4326": "EPSG:4326",
    "http://www.opengis.net/def/crs/EPSG/0/2154": "EPSG:2154",
    "http://www.opengis.net/def/crs/EPSG/0/3857": "EPSG:3857",
}
CRS_NAMES = {**CRS_URIS, **{v: v for v in CRS_URIS.values()}, "CRS84": "OGC:CRS84",
             "EPSG:900913": "EPSG:3857"}
# the spellings titiler's own CRS parameters (crs, coord_crs) accept, which rasterio reads too
CrsName = Literal[tuple([*CRS_URIS, *CRS_URIS.values()])]  # type: ignore[valid-type]
GEOGRAPHIC = ("OGC:CRS84", "EPSG:4326")


# --------------------------------------------------------------------------------------------
# Coordinate reference systems
# --------------------------------------------------------------------------------------------
def crs_param(value: str | None, name: str, default: str) -> str:
    """The canonical name (OGC:CRS84, EPSG:xxxx) of a CRS parameter, or a 400."""
    if value is None or value == "":
        return default
    found = CRS_NAMES.get(value.strip().strip("[]<>"))
    if found is None:
        raise bad_text("crs_unsupported", name=name, value=value[:80])
    return found


@lru_cache(maxsize=8)
def crs_range(name: str) -> tuple[float, float, float, float]:
    """The valid range of a CRS, in its own x, y (longitude, latitude for geographic CRSs):
    its area of use (EPSG) expressed in the CRS."""
    if name in GEOGRAPHIC:
        return -180.0, -90.0, 180.0, 90.0
    west, south, east, north = ProjCRS.from_user_input(name).area_of_use.bounds
    to_crs = Transformer.from_crs("OGC:CRS84", name, always_xy=True)
    return tuple(to_crs.transform_bounds(west, south, east, north, densify_pts=21))


# --------------------------------------------------------------------------------------------
# Which file (titiler's path_dependency) and the request guard
# --------------------------------------------------------------------------------------------
def coverage_path_dependency(
    collectionId: Annotated[str, PathParam(description="Collection (coverage) identifier")],
    datetime_: Annotated[str | None, Query(alias="datetime", max_length=200, description=(
        "Summer: a year (2024), an ISO 8601 date or an interval inside one summer. "
        "Default: the latest."))] = None,
) -> str:
    """The titiler `path_dependency`: a server file chosen by collection and summer, no URL."""
    return dataset_path(collectionId, datetime_)[1]


def request_guard(
    request: Request,
    tilesize: Annotated[int | None, Query(gt=0, le=MAX_TILESIZE,
                                          description="Tile size in pixels")] = None,
    minzoom: Annotated[int | None, Query(ge=0, le=MAX_ZOOM)] = None,
    maxzoom: Annotated[int | None, Query(ge=0, le=MAX_ZOOM)] = None,
    tile_format: Annotated[Literal[TILE_FORMATS] | None, Query()] = None,  # type: ignore
    crs: Annotated[CrsName | None, Query()] = None,
) -> None:
    """Applied to every titiler route: no dataset URL, bounded sizes, zooms, formats and CRSs
    (FastAPI validates these declarations as well as titiler's own ones of the same names)."""
    for key in DATASET_KEYS:
        if key in request.query_params:
            raise bad_text("dataset_url", name=key)
    if minzoom is not None and maxzoom is not None and minzoom > maxzoom:
        raise bad_text("zooms", minzoom=minzoom, maxzoom=maxzoom)


def _refuse(name: str, value, why_fr: str, why_en: str) -> None:
    """A titiler parameter this server does not offer: declared, so that it is refused (400)
    rather than silently ignored."""
    if value is not None:
        raise bad_text("refused", name=name, why={"fr": why_fr, "en": why_en})


ONE_BAND_FR = "la couverture a une bande, choisie par bidx"
ONE_BAND_EN = "the coverage has one band, chosen with bidx"
STYLE_FR = "les couleurs sont celles de la rampe, de rescale ou de colormap_name"
STYLE_EN = "the colours are the ramp's, rescale's or colormap_name's"


# --------------------------------------------------------------------------------------------
# Tiles: position, format, buffer and padding
# --------------------------------------------------------------------------------------------
tms_or_404 = tms_registry.checked     # the tile address checks of services/tiles/tms.py,
check_tile = tms_registry.check_tile  # shared with the vector tiles


def tile_in_matrix(
    tileMatrixSetId: Annotated[str, PathParam()],
    z: Annotated[int, PathParam()],
    x: Annotated[int, PathParam()],
    y: Annotated[int, PathParam()],
) -> None:
    """Route dependency of the tile routes: a tile outside the tile matrix set is a 404."""
    check_tile(tms_or_404(tileMatrixSetId), z, row=y, col=x)


def tile_format_dependency(
    format: Annotated[Literal[TILE_FORMATS], PathParam(  # type: ignore[valid-type]
        description="png or webp")],
) -> None:
    """Route dependency of the `.{format}` tile route: PNG or WebP only."""


@dataclass
class TileParams(DefaultDependency):
    """titiler's tile options, bounded: the output is at most tilesize + 2 x MAX_BUFFER."""

    buffer: Annotated[float | None, Query(
        gt=0, le=MAX_BUFFER, multiple_of=0.5, title="Tile buffer",
        description=f"Pixels added on each side of the tile (a multiple of 0.5, at most "
                    f"{MAX_BUFFER})")] = None
    padding: Annotated[int | None, Query(
        gt=0, le=MAX_PADDING, title="Tile padding",
        description=f"Pixels read around the tile against resampling artefacts (at most "
                    f"{MAX_PADDING})")] = None


# --------------------------------------------------------------------------------------------
# Bands, post-processing, colours
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=32)
def _band_count(path: str, mtime: int) -> int:
    with rasterio.open(path) as src:
        return src.count


def band_count(path: str) -> int:
    return _band_count(path, os.stat(path).st_mtime_ns)


def _band_list(count: int) -> str:
    return "1" if count == 1 else f"1-{count}"


def band_params(
    src_path: Annotated[str, Depends(coverage_path_dependency)],
    indexes: Annotated[list[int] | None, Query(
        alias="bidx", description="Band index (the file's bands, each at most once)")] = None,
    expression: Annotated[str | None, Query(
        max_length=200, description="Not offered (one-band coverages): refused")] = None,
) -> BidxParams:
    """titiler's layer_dependency: `bidx` limited to the file's bands, no band math."""
    _refuse("expression", expression, ONE_BAND_FR, ONE_BAND_EN)
    if indexes:
        count = band_count(src_path)
        if len(set(indexes)) != len(indexes) or not all(1 <= i <= count for i in indexes):
            raise bad_text("bands", asked=",".join(map(str, indexes))[:80],
                           valid=_band_list(count))
    return BidxParams(indexes=indexes)


def no_algorithm(
    algorithm: Annotated[str | None, Query(
        max_length=200, description="Not offered: refused")] = None,
    algorithm_params: Annotated[str | None, Query(
        max_length=200, description="Not offered: refused")] = None,
) -> None:
    """titiler's process_dependency: no post-processing algorithm (hillshade, contours...)."""
    why = ("les valeurs servies sont celles de la couverture",
           "the values served are the coverage's own")
    _refuse("algorithm", algorithm, *why)
    _refuse("algorithm_params", algorithm_params, *why)
    return None


def colormap_dependency(
    collectionId: Annotated[str, PathParam()],
    colormap_name: Annotated[Literal[tuple(rio_cmaps.list())] | None,  # type: ignore[valid-type]
                             Query(description="A named colormap instead of the ramp")] = None,
    colormap: Annotated[str | None, Query(
        max_length=200, description="Not offered (use colormap_name): refused")] = None,
):
    _refuse("colormap", colormap, STYLE_FR, STYLE_EN)
    if colormap_name:
        return rio_cmaps.get(colormap_name)
    return ramp_colormap(collectionId) if ramp(collectionId) else rio_cmaps.get("viridis")


def parse_rescale(values: list[str]) -> list[str]:
    if len(values) != 1:
        raise bad_text("rescale_one")
    try:
        lo, hi = (float(v) for v in values[0].split(","))
    except ValueError:
        raise bad_text("rescale_numbers") from None
    if not (RESCALE_LIMITS[0] <= lo < hi <= RESCALE_LIMITS[1]):
        raise bad_text("rescale_range", low=RESCALE_LIMITS[0], high=RESCALE_LIMITS[1])
    return [f"{lo},{hi}"]


def render_dependency(
    collectionId: Annotated[str, PathParam()],
    src_path: Annotated[str, Depends(coverage_path_dependency)],
    rescale: Annotated[list[str] | None, Query(
        description="min,max of the values spread over the colours (default: the ramp's)")] = None,
    add_mask: Annotated[bool | None, Query(alias="return_mask")] = None,
    color_formula: Annotated[str | None, Query(
        max_length=200, description="Not offered: refused")] = None,
) -> ImageRenderingParams:
    """Rendering options with the ramp's rescale as default (titiler's has none)."""
    _refuse("color_formula", color_formula, STYLE_FR, STYLE_EN)
    if rescale:
        rescale = parse_rescale(rescale)
    else:
        spec = ramp(collectionId)
        lo, hi = spec["rescale"] if spec else data_range(src_path)
        rescale = [f"{lo},{hi}"]
    return ImageRenderingParams(rescale=rescale, add_mask=add_mask)


# --------------------------------------------------------------------------------------------
# Point
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=32)
def _dataset_crs(path: str, mtime: int):
    with rasterio.open(path) as src:
        return src.crs


def point_in_range(
    lon: Annotated[float, PathParam(allow_inf_nan=False, description="x (longitude)")],
    lat: Annotated[float, PathParam(allow_inf_nan=False, description="y (latitude)")],
    src_path: Annotated[str, Depends(coverage_path_dependency)],
    coord_crs: Annotated[CrsName | None, Query(
        description="CRS of lon/lat: CRS84 (default), EPSG:4326, EPSG:3857 or EPSG:2154")] = None,
) -> None:
    """Route dependency of /point: finite coordinates inside the valid range of their CRS
    (400), which can be located in the file's CRS (otherwise outside the data: 404)."""
    name = CRS_NAMES[coord_crs] if coord_crs else "OGC:CRS84"
    x0, y0, x1, y1 = crs_range(name)
    if not (x0 <= lon <= x1 and y0 <= lat <= y1):
        raise bad_text("point_range", x=f"{lon:g}", y=f"{lat:g}", crs=name,
                       x0=x0, y0=y0, x1=x1, y1=y1)
    dst = _dataset_crs(src_path, os.stat(src_path).st_mtime_ns)
    try:
        xs, ys = warp_transform("EPSG:4326" if name == "OGC:CRS84" else name, dst, [lon], [lat])
    except Exception:  # noqa: BLE001 - PROJ cannot place it in the file's CRS: not in the data
        raise not_found_text("outside") from None
    if not (math.isfinite(xs[0]) and math.isfinite(ys[0])):
        raise not_found_text("outside")
