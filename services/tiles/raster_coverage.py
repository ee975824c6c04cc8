"""Coverage subsets: /collections/{cid}/coverage with bbox, bbox-crs, crs and datetime.

  ?bbox=&bbox-crs=&crs=&datetime=&f=GTiff    a GeoTIFF subset of one summer's COG (ours)
  ?bbox=&f=json|html (or no bbox)            pygeoapi's own CoverageJSON / HTML, bounded

Any of bbox-crs, crs or datetime, or a bbox with f=GTiff, is ours; the rest goes on to pygeoapi
after the same bbox checks (pygeoapi answers a malformed bbox, or one outside the data, with a
500). A bbox is 4 numbers (or 6, with z), finite, min < max on each axis, inside -180..180 /
-90..90 in a geographic CRS: a 400 otherwise; a bbox that misses the data is a 404. bbox-crs and
crs are one of CRS84, EPSG:4326, EPSG:2154 and EPSG:3857 (400 otherwise). A subset larger than
MAX_SUBSET_PIXELS, or a CoverageJSON/HTML answer of more than MAX_TEXT_PIXELS cells, is a 400
that says what to do.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode

import numpy as np
import rasterio
from rasterio.io import MemoryFile
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds
from rasterio.windows import Window, from_bounds
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from services.tiles.raster_errors import CoverageError, bad_text, grouped, not_found_text
from services.tiles.raster_params import CRS_URIS, GEOGRAPHIC, crs_param
from services.tiles.raster_summers import dataset_path, is_coverage, manifest

MAX_SUBSET_PIXELS = 4_000_000      # a coverage subset (16 MB of float32); larger is a 400
MAX_TEXT_PIXELS = 250_000          # CoverageJSON / HTML (pygeoapi writes every value as text)
GTIFF_FORMATS = {"gtiff", "geotiff", "tif", "tiff", "image/tiff", "application/tiff"}
OURS = ("bbox-crs", "crs", "datetime")

Box = tuple[float, float, float, float]


def parse_bbox(value: str, crs: str) -> Box:
    """minx,miny,maxx,maxy (or minx,miny,minz,maxx,maxy,maxz) in `crs`, checked: a 400 for
    anything else."""
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise bad_text("bbox_count", n=len(parts))
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        raise bad_text("bbox_numbers", value=value[:80]) from None
    if not all(math.isfinite(n) for n in numbers):
        raise bad_text("bbox_finite", value=value[:80])
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    minx, miny, maxx, maxy = numbers
    if minx >= maxx or miny >= maxy:
        raise bad_text("bbox_order")
    if crs in GEOGRAPHIC and not (-180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90):
        raise bad_text("bbox_range", crs=crs)
    return minx, miny, maxx, maxy


@lru_cache(maxsize=64)
def _data_bounds(path: str, mtime: int, crs: str) -> Box:
    with rasterio.open(path) as src:
        return tuple(transform_bounds(src.crs, crs, *src.bounds, densify_pts=21))


def data_bounds(path: str, crs: str) -> Box:
    """The bounds of the file's data, expressed in `crs`."""
    return _data_bounds(path, os.stat(path).st_mtime_ns, crs)


def _intersection(a: Box, b: Box) -> Box | None:
    box = (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))
    return box if box[0] < box[2] and box[1] < box[3] else None


def _in_data(path: str, bbox: Box, crs: str) -> Box:
    """The part of `bbox` (in `crs`) over the data, still in `crs`; 404 when there is none.
    Intersecting in the request's CRS first keeps far-away coordinates out of PROJ."""
    found = _intersection(bbox, data_bounds(path, crs))
    if found is None:
        raise not_found_text("bbox_outside")
    return found


@dataclass
class SubsetRequest:
    path: str
    year: int
    bbox: Box | None
    bbox_crs: str
    crs: str | None  # None: the storage CRS


def subset_geotiff(req: SubsetRequest) -> bytes:
    """The cells of `req.path` inside the bbox (whole cells, nearest resampling when
    reprojected), as a deflate GeoTIFF; 400 when larger than MAX_SUBSET_PIXELS, 404 when
    outside the data."""
    with rasterio.open(req.path) as src:
        native = src.crs
        if req.bbox is None:
            bounds = tuple(src.bounds)
        else:
            inside = _in_data(req.path, req.bbox, req.bbox_crs)
            bounds = transform_bounds(req.bbox_crs, native, *inside, densify_pts=21)
        left, bottom, right, top = src.bounds
        clipped = (max(bounds[0], left), max(bounds[1], bottom),
                   min(bounds[2], right), min(bounds[3], top))
        if clipped[0] >= clipped[2] or clipped[1] >= clipped[3]:
            raise not_found_text("bbox_outside")
        window = from_bounds(*clipped, transform=src.transform)
        window = window.round_offsets(op="floor").round_lengths(op="ceil")
        col0, row0 = int(window.col_off), int(window.row_off)
        width = min(int(math.ceil(window.width)), src.width - col0)
        height = min(int(math.ceil(window.height)), src.height - row0)
        if width <= 0 or height <= 0:
            raise not_found_text("bbox_outside")
        window = Window(col0, row0, width, height)
        _check_size(width, height)
        data = src.read(1, window=window)
        transform = src.window_transform(window)
        nodata = src.nodata
        profile = {"driver": "GTiff", "dtype": src.dtypes[0], "count": 1, "nodata": nodata,
                   "compress": "deflate", "tiled": True, "blockxsize": 256, "blockysize": 256}
        crs = native
        if req.crs and rasterio.crs.CRS.from_user_input(req.crs) != native:
            dst_crs = rasterio.crs.CRS.from_user_input(
                "EPSG:4326" if req.crs == "OGC:CRS84" else req.crs)
            win_bounds = rasterio.windows.bounds(window, src.transform)
            dst_transform, dst_w, dst_h = calculate_default_transform(
                native, dst_crs, width, height, *win_bounds)
            if req.bbox is not None and _same_crs(req.bbox_crs, req.crs):
                # the output covers exactly the requested box, at the computed resolution
                minx, miny, maxx, maxy = req.bbox
                resx, resy = dst_transform.a, -dst_transform.e
                dst_w = max(1, int(math.ceil((maxx - minx) / resx)))
                dst_h = max(1, int(math.ceil((maxy - miny) / resy)))
                _check_size(dst_w, dst_h)
                dst_transform = rasterio.transform.from_bounds(minx, miny, maxx, maxy,
                                                               dst_w, dst_h)
            _check_size(dst_w, dst_h)
            out = np.full((dst_h, dst_w), nodata, dtype=data.dtype)
            reproject(data, out, src_transform=transform, src_crs=native, src_nodata=nodata,
                      dst_transform=dst_transform, dst_crs=dst_crs, dst_nodata=nodata,
                      resampling=Resampling.nearest)
            data, transform, crs = out, dst_transform, dst_crs
    profile.update(width=data.shape[1], height=data.shape[0], crs=crs, transform=transform)
    with MemoryFile() as mem:
        with mem.open(**profile) as dst:
            dst.write(data, 1)
            if req.year:
                dst.update_tags(year=str(req.year), datetime=f"{req.year}")
        return mem.read()


def _same_crs(a: str, b: str | None) -> bool:
    geographic = {"OGC:CRS84", "EPSG:4326"}  # same GeoTIFF: longitude, latitude
    return a == b or (a in geographic and b in geographic)


def _check_size(width: int, height: int) -> None:
    if width * height > MAX_SUBSET_PIXELS:
        raise bad_text("subset_too_large", width=width, height=height,
                       max=grouped(MAX_SUBSET_PIXELS))


def _wants_subset(request: Request) -> bool:
    """Ours: any of bbox-crs/crs/datetime, or a bbox with f=GTiff; the rest stays pygeoapi's."""
    q = request.query_params
    fmt = (q.get("f") or "").lower()
    return any(k in q for k in OURS) or ("bbox" in q and fmt in GTIFF_FORMATS)


def _text_pixels(path: str, bbox: Box | None) -> int:
    """Cells of the coverage pygeoapi would write as CoverageJSON or HTML for this request
    (the whole coverage without bbox: ~6 million cells, 92 MB of HTML)."""
    with rasterio.open(path) as src:
        if bbox is None:
            return src.width * src.height
        inside = _in_data(path, bbox, "OGC:CRS84")
        left, bottom, right, top = transform_bounds("OGC:CRS84", src.crs, *inside)
        res_x, res_y = src.res
        return int(abs(right - left) / res_x * abs(top - bottom) / res_y)


async def _for_pygeoapi(request: Request, scope: Scope, cid: str) -> Scope:
    """The checks pygeoapi lacks (bbox, text size), and a 6-value bbox given as 4 values."""
    q = request.query_params
    path = manifest()[cid]["data"]
    fmt = (q.get("f") or "json").lower()
    bbox = parse_bbox(q["bbox"], "OGC:CRS84") if "bbox" in q else None
    if fmt not in GTIFF_FORMATS:
        if await run_in_threadpool(_text_pixels, path, bbox) > MAX_TEXT_PIXELS:
            raise bad_text("too_many_cells", max=grouped(MAX_TEXT_PIXELS))
    if bbox is not None and len(q["bbox"].split(",")) == 6:
        query = [(k, ",".join(map(repr, bbox)) if k == "bbox" else v)
                 for k, v in parse_qsl(request.url.query, keep_blank_values=True)]
        scope = {**scope, "query_string": urlencode(query).encode("latin-1")}
    return scope


async def _pygeoapi(scope: Scope, receive: Receive, send: Send) -> None:
    from pygeoapi.starlette_app import APP as pygeoapi_app
    scope = {k: v for k, v in scope.items() if k not in ("path_params", "endpoint")}
    await pygeoapi_app(scope, receive, send)


async def coverage_subset(scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    cid = request.path_params["collectionId"]
    if not is_coverage(cid):
        await _pygeoapi(scope, receive, send)
        return
    try:
        if _wants_subset(request):
            response = await _subset_response(request, cid)
        else:
            scope = await _for_pygeoapi(request, scope, cid)
            response = None
    except CoverageError as err:
        response = err.response()
    if response is None:
        await _pygeoapi(scope, receive, send)
    else:
        await response(scope, receive, send)


async def _subset_response(request: Request, cid: str) -> Response:
    q = request.query_params
    fmt = (q.get("f") or "gtiff").lower()
    if fmt not in GTIFF_FORMATS:
        raise bad_text("gtiff_only")
    year, path = dataset_path(cid, q.get("datetime"))
    bbox_crs = crs_param(q.get("bbox-crs"), "bbox-crs", "OGC:CRS84")
    req = SubsetRequest(
        path=path, year=year, bbox_crs=bbox_crs,
        bbox=parse_bbox(q["bbox"], bbox_crs) if "bbox" in q else None,
        crs=crs_param(q.get("crs"), "crs", "EPSG:2154"))
    body = await run_in_threadpool(subset_geotiff, req)
    out_crs = req.crs or "EPSG:2154"
    uri = next((u for u, n in CRS_URIS.items() if n == out_crs), out_crs)
    return Response(body, media_type="image/tiff; application=geotiff", headers={
        "Content-Crs": f"<{uri}>",
        "Content-Disposition": f'attachment; filename="{cid}_{year}.tif"'})
