"""The OGC API routes of the raster map tiles and of /point: thin routes around titiler.

  /collections/{cid}/map/tiles                                   tilesets list (JSON)
  /collections/{cid}/map/tiles/{tms}                             tileset metadata (JSON)
  /collections/{cid}/map/tiles/{tms}/tilejson.json               TileJSON 3.0 (XYZ `tiles`)
  /collections/{cid}/map/tiles/{tms}/{tileMatrix}/{tileRow}/{tileCol}   PNG or WebP (f=webp)
  /collections/{cid}/point?lon=&lat=                             the value at a point

The tile and point routes check the request, then hand it to titiler under its internal path
(raster_titiler). A tile inside the tile matrix set but outside the data is a fully transparent
image (200, with its ETag: QGIS 3.22 logs an empty 204 as a flawed image); a tile outside the
set (level out of range, row or column outside the matrix) is a 404; non-integer coordinates,
an unknown format or a bad parameter are a 400.
Tileset metadata names the tile variables as OGC API Tiles does ({tileMatrix}/{tileRow}/
{tileCol}); only TileJSON, XYZ by its own specification, uses {z}/{y}/{x}.
"""
from __future__ import annotations

import math
import os
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from rio_tiler.io import Reader
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from titiler.core.utils import tms_limits

from services.settings import get_settings
from services.tiles import tms as tms_registry
from services.errors import OGCError
from services.tiles.raster_errors import bad_text
from services.tiles.raster_etag import matches, tile_etag, with_etag
from services.tiles.raster_params import check_tile, tms_or_404
from services.tiles.raster_summers import coverage, dataset_path, ramp
from services.tiles.raster_titiler import call_titiler

FORMATS = {"png": "image/png", "webp": "image/webp"}
LEGEND_REL = "http://www.opengis.net/def/rel/ogc/1.0/legend"
OGC_TEMPLATE = "{tileMatrix}/{tileRow}/{tileCol}"
XYZ_TEMPLATE = "{z}/{y}/{x}"
JSON_FORMATS = ("", "json", "application/json")


def base_url() -> str:
    try:
        from pygeoapi.starlette_app import CONFIG
        return CONFIG["server"]["url"].rstrip("/")
    except Exception:  # noqa: BLE001 - outside a served app (tests, benchmarks)
        return get_settings().url


def _qs(params: dict[str, str]) -> str:
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return ("?" + urlencode(params)) if params else ""


@lru_cache(maxsize=64)
def _tiling(path: str, mtime: int, tms_id: str) -> dict[str, Any]:
    """Zoom range, geographic bounds and tile limits of a COG in one tile matrix set."""
    tms = tms_registry.get(tms_id)
    with Reader(path, tms=tms) as src:
        minzoom, maxzoom = src.minzoom, src.maxzoom
        bounds = src.get_geographic_bounds(tms.rasterio_geographic_crs)
        crs84 = src.get_geographic_bounds("OGC:CRS84")
    return {"minzoom": minzoom, "maxzoom": maxzoom, "bounds": list(bounds), "crs84": list(crs84),
            "limits": tms_limits(tms, bounds, zooms=(minzoom, maxzoom),
                                 geographic_crs=tms.rasterio_geographic_crs)}


def tiling(path: str, tms_id: str) -> dict[str, Any]:
    return _tiling(path, os.stat(path).st_mtime_ns, tms_id)


def tile_template(base: str, cid: str, tms_id: str, fmt: str, extra: dict[str, str],
                  variables: str = OGC_TEMPLATE) -> str:
    return (f"{base}/collections/{cid}/map/tiles/{tms_id}/{variables}"
            + _qs({"f": fmt, **extra}))


def _carried(request: Request) -> dict[str, str]:
    """Query parameters carried into tile links (the summer and the styling)."""
    return {k: v for k, v in request.query_params.items()
            if k in ("datetime", "rescale", "colormap_name")}


def _json_only(request: Request) -> None:
    fmt = (request.query_params.get("f") or "").lower()
    if fmt not in JSON_FORMATS:
        raise bad_text("json_only", fmt=fmt[:40])


def _tileset(base: str, cid: str, tms_id: str, path: str, extra: dict[str, str],
             full: bool) -> dict[str, Any]:
    tms = tms_registry.get(tms_id)
    info = tiling(path, tms_id)
    tileset: dict[str, Any] = {
        "title": f"{cid} — tuiles cartographiques / map tiles ({tms_id})",
        "dataType": "map",
        "crs": tms.crs.srs if hasattr(tms.crs, "srs") else str(tms.crs),
        "tileMatrixSetURI": (str(tms.uri) if getattr(tms, "uri", None) else
                             f"{base}/tileMatrixSets/{tms_id}"),
        "links": [
            {"rel": "self", "type": "application/json",
             "href": f"{base}/collections/{cid}/map/tiles/{tms_id}" + _qs(extra)},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme",
             "type": "application/json", "href": f"{base}/tileMatrixSets/{tms_id}"},
            {"rel": "item", "type": "image/png", "templated": True,
             "title": "PNG", "href": tile_template(base, cid, tms_id, "png", extra)},
            {"rel": "item", "type": "image/webp", "templated": True,
             "title": "WebP", "href": tile_template(base, cid, tms_id, "webp", extra)},
            {"rel": "http://www.opengis.net/def/rel/ogc/1.0/geodata", "type": "application/json",
             "href": f"{base}/collections/{cid}"},
            {"rel": LEGEND_REL, "type": "application/json",
             "href": f"{base}/collections/{cid}/legend"},
        ],
    }
    if full:
        b = info["bounds"]
        tileset["boundingBox"] = {"lowerLeft": b[:2], "upperRight": b[2:],
                                  "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"}
        tileset["tileMatrixSetLimits"] = info["limits"]
        tileset["minzoom"], tileset["maxzoom"] = info["minzoom"], info["maxzoom"]
    return tileset


def handled(handler):
    """A Starlette endpoint whose CoverageErrors become OGC exceptions."""
    async def endpoint(request: Request):
        try:
            return await handler(request)
        except OGCError as err:  # CoverageError and the tile-address checks
            return err.response()
    return endpoint


async def tilesets_list(request: Request):
    cid = request.path_params["collectionId"]
    _json_only(request)
    _, path = dataset_path(cid, request.query_params.get("datetime"))
    base, extra = base_url(), _carried(request)
    sets = await run_in_threadpool(
        lambda: [_tileset(base, cid, t, path, extra, full=False) for t in tms_registry.ids()])
    return JSONResponse({"links": [
        {"rel": "self", "type": "application/json",
         "href": f"{base}/collections/{cid}/map/tiles" + _qs(extra)},
        {"rel": "alternate", "type": "application/xml", "title": "WMTS 1.0",
         "href": f"{base}/collections/{cid}/map/tiles/WMTSCapabilities.xml"},
    ], "tilesets": sets})


async def tileset_metadata(request: Request):
    cid, tms_id = request.path_params["collectionId"], request.path_params["tms"]
    tms_or_404(tms_id)
    _json_only(request)
    _, path = dataset_path(cid, request.query_params.get("datetime"))
    body = await run_in_threadpool(_tileset, base_url(), cid, tms_id, path, _carried(request),
                                   True)
    return JSONResponse(body)


async def tilejson(request: Request):
    cid, tms_id = request.path_params["collectionId"], request.path_params["tms"]
    tms_or_404(tms_id)
    year, path = dataset_path(cid, request.query_params.get("datetime"))
    fmt = tile_format(request)
    info = await run_in_threadpool(tiling, path, tms_id)
    spec = ramp(cid) or {}
    return JSONResponse({
        "tilejson": "3.0.0",
        "name": cid,
        "description": (spec.get("title") or {}).get("en", cid) + (f" — {year}" if year else ""),
        "scheme": "xyz",
        # TileJSON's tiles are XYZ templates by its own specification
        "tiles": [tile_template(base_url(), cid, tms_id, fmt, _carried(request), XYZ_TEMPLATE)],
        "minzoom": info["minzoom"],
        "maxzoom": info["maxzoom"],
        "bounds": info["crs84"],
        "center": [(info["crs84"][0] + info["crs84"][2]) / 2,
                   (info["crs84"][1] + info["crs84"][3]) / 2, info["minzoom"]],
        "tileMatrixSet": tms_id,
    })


def tile_format(request: Request) -> str:
    fmt = (request.query_params.get("f") or "").lower()
    if not fmt:
        accept = request.headers.get("accept", "")
        return "webp" if "image/webp" in accept and "image/png" not in accept else "png"
    fmt = {"image/png": "png", "image/webp": "webp"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise bad_text("tile_format", fmt=fmt[:40])
    return fmt


def _tile_index(request: Request) -> tuple[int, int, int]:
    p = request.path_params
    try:
        return int(p["tileMatrix"]), int(p["tileRow"]), int(p["tileCol"])
    except ValueError:
        raise bad_text("tile_not_integer") from None


class ASGI:
    """Marks an ASGI callable as such for Starlette's Route (which calls plain functions with a
    Request)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class Rewrite:
    """ASGI endpoint: check an OGC request, then hand it to titiler under its internal path.

    With `validator`, the response carries an ETag computed from the request and the files it
    depends on, so that a matching If-None-Match is answered 304 before any rendering (the
    caching middleware keeps an ETag set by the route)."""

    def __init__(self, target, validator=None):
        self.target = target  # (Request) -> (internal path, query) or raises
        self.validator = validator  # (Request, internal path, query) -> ETag

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        try:
            path, query = self.target(request)
            etag = self.validator(request, path, query) if self.validator else None
        except OGCError as err:  # CoverageError and the tile-address checks
            await err.response()(scope, receive, send)
            return
        if etag is not None:
            if matches(request.headers.get("if-none-match"), etag):
                await Response(status_code=304, headers={"ETag": etag})(scope, receive, send)
                return
            send = with_etag(send, etag)
        child = dict(scope)
        child["path"] = path
        child["raw_path"] = path.encode()
        child["query_string"] = query.encode("latin-1")
        await call_titiler(child, receive, send)


def tile_target(request: Request) -> tuple[str, str]:
    cid, tms_id = request.path_params["collectionId"], request.path_params["tms"]
    tms = tms_or_404(tms_id)
    z, row, col = _tile_index(request)
    fmt = tile_format(request)
    coverage(cid)  # 404 before any reading
    check_tile(tms, z, row, col)
    query = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True)
             if k != "f"]
    return (f"/collections/{quote(cid)}/titiler/tiles/{tms_id}/{z}/{col}/{row}.{fmt}",
            urlencode(query))


def point_target(request: Request) -> tuple[str, str]:
    """lon and lat in CRS84 (coord_crs is titiler's, not this route's: not carried)."""
    cid = request.path_params["collectionId"]
    coverage(cid)
    try:
        lon, lat = float(request.query_params["lon"]), float(request.query_params["lat"])
    except (KeyError, ValueError):
        raise bad_text("lonlat_required") from None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise bad_text("lonlat_range")
    query = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True)
             if k not in ("lon", "lat", "coord_crs")]
    return f"/collections/{quote(cid)}/titiler/point/{lon!r},{lat!r}", urlencode(query)


tile_endpoint = Rewrite(tile_target, tile_etag)
point_endpoint = Rewrite(point_target)
