"""Raster map tiles of the coverage collections, with titiler-core; coverage subsets; legends.

One titiler-core TilerFactory (FastAPI) is mounted inside the front router under the internal
prefix /collections/{collectionId}/titiler. Its `path_dependency` maps the collection id and the
`datetime` query (a year, an ISO date or an interval inside one summer) to one of the server's
own COG files from the build manifest: there is no `url=` parameter, so no request can make the
server read another file or URL (SSRF). The OGC API paths are thin routes around it:

  /collections/{cid}/map/tiles                              tilesets list (JSON)
  /collections/{cid}/map/tiles/{tms}                        tileset metadata (JSON)
  /collections/{cid}/map/tiles/{tms}/tilejson.json          TileJSON 3.0
  /collections/{cid}/map/tiles/{tms}/{z}/{row}/{col}        PNG (default) or WebP (f=webp)
  /collections/{cid}/map/tiles/WMTSCapabilities.xml         WMTS 1.0 (QGIS, Lambert-93)
  /collections/{cid}/legend                                 the colour ramp, JSON or PNG
  /collections/{cid}/point?lon=&lat=                        the value at a point (titiler /point)
  /collections/{cid}/coverage?bbox=&bbox-crs=&crs=&datetime=&f=GTiff   a GeoTIFF subset

The default colours come from styles/{cid}.ramp.json (the one ramp shared with the QML, SLD
and MapLibre styles), interpolated into the 256-entry colormap titiler applies after rescaling;
`rescale` and `colormap_name` override them within limits.

A tile inside the tile matrix but outside the data is a 404, as titiler answers (rio-tiler's
TileOutsideBounds); a tile outside the matrix is a 404 too; coordinates that are not integers,
an unknown format or a bad parameter are a 400. Every error is a bilingual JSON OGC exception.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from importlib.metadata import version as _version
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, quote, urlencode
from xml.sax.saxutils import escape

import attr
import numpy as np
import rasterio
from fastapi import Depends, FastAPI, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from rasterio.io import MemoryFile
from rasterio.warp import Resampling, calculate_default_transform, reproject, transform_bounds
from rasterio.windows import Window, from_bounds
from rio_tiler.colormap import cmap as rio_cmaps
from rio_tiler.errors import PointOutsideBounds, TileOutsideBounds
from rio_tiler.io import Reader
from rio_tiler.utils import render
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send
from titiler.core.dependencies import ImageRenderingParams
from titiler.core.errors import DEFAULT_STATUS_CODES, add_exception_handlers
from titiler.core.factory import TilerFactory
from titiler.core.resources.enums import ImageType
from titiler.core.utils import render_image, tms_limits

from services.settings import PROJECT_DIR, get_settings
from services.tiles import tms as tms_registry

STYLES_DIR = PROJECT_DIR / "styles"
TITILER_PREFIX = "/collections/{collectionId}/titiler"
MAP_TILES_REL = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map"
LEGEND_REL = "http://www.opengis.net/def/rel/ogc/1.0/legend"
FORMATS = {"png": "image/png", "webp": "image/webp"}
MAX_TILESIZE = 1024
RESCALE_LIMITS = (-100.0, 100.0)  # °C: wide enough for any styling, refuses nonsense
MAX_SUBSET_PIXELS = 4_000_000      # a coverage subset (16 MB of float32); larger is a 400
SUMMER = ((6, 1), (8, 31))         # the summers the coverage years stand for: 1 June - 31 August
GTIFF_FORMATS = {"gtiff", "geotiff", "tif", "tiff", "image/tiff", "application/tiff"}
CRS_URIS = {
    "http://www.opengis.net/def/crs/OGC/1.3/CRS84": "OGC:CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/4326": "EPSG:4326",
    "http://www.opengis.net/def/crs/EPSG/0/2154": "EPSG:2154",
    "http://www.opengis.net/def/crs/EPSG/0/3857": "EPSG:3857",
}
# what else a rendered tile depends on: the libraries and this module's code
_RENDER_VERSIONS = "titiler.core {}, rio-tiler {}, GDAL {}, {}".format(
    _version("titiler.core"), _version("rio-tiler"), rasterio.__gdal_version__,
    os.stat(__file__).st_mtime_ns)
CRS_NAMES = {**CRS_URIS, **{v: v for v in CRS_URIS.values()}, "CRS84": "OGC:CRS84",
             "EPSG:900913": "EPSG:3857"}


class CoverageError(Exception):
    """A request error with its bilingual text; becomes an OGC exception."""

    def __init__(self, status: int, code: str, fr: str, en: str):
        super().__init__(en)
        self.status, self.code, self.fr, self.en = status, code, fr, en

    def response(self) -> JSONResponse:
        from services.front import ogc_error
        return ogc_error(self.status, self.code, self.fr, self.en)


def _bad(fr: str, en: str) -> CoverageError:
    return CoverageError(400, "InvalidParameterValue", fr, en)


def _not_found(fr: str, en: str) -> CoverageError:
    return CoverageError(404, "NotFound", fr, en)


# --------------------------------------------------------------------------------------------
# Which file: the manifest, the summers, the datetime query
# --------------------------------------------------------------------------------------------
_manifest_cache: dict[Path, tuple[int, dict]] = {}
_coverage_cache: dict[str, "Coverage"] = {}  # collection id -> files, for the cached manifest
_manifest_lock = threading.Lock()


def _manifest() -> dict[str, Any]:
    return _manifest_version()[1]


def _manifest_version() -> tuple[int, dict[str, Any]]:
    """(mtime, content) of the build manifest of the store in use, re-read only when the
    file changes."""
    settings = get_settings()
    path = settings.store_dir / ("manifest-postgis.json" if settings.database_url
                                 else "manifest.json")
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0, {}
    with _manifest_lock:
        cached = _manifest_cache.get(path)
        if cached is None or cached[0] != mtime:
            cached = (mtime, json.loads(path.read_text()))
            _manifest_cache[path] = cached
            _coverage_cache.clear()
        return cached


@dataclass(frozen=True)
class Coverage:
    """The files of one coverage collection: year -> COG path inside the store."""
    id: str
    files: dict[int, str]

    @property
    def years(self) -> list[int]:
        return sorted(self.files)

    @property
    def latest(self) -> str:
        return self.files[self.years[-1]]


def coverage(collection_id: str) -> Coverage:
    """The coverage collection `collection_id`, or a 404 (unknown or not a coverage)."""
    _, manifest = _manifest_version()
    found = _coverage_cache.get(collection_id)
    if found is None:
        found = _coverage_cache[collection_id] = _read_coverage(collection_id, manifest)
    return found


def _read_coverage(collection_id: str, manifest: dict[str, Any]) -> Coverage:
    entry = manifest.get(collection_id)
    if not isinstance(entry, dict) or entry.get("kind") != "coverage":
        raise _not_found(f"collection raster inconnue : {collection_id}",
                         f"unknown coverage collection: {collection_id}")
    files = {int(y): p for y, p in (entry.get("files") or {}).items() if str(y).isdigit()}
    if not files:
        files = {0: entry["data"]}
    store = get_settings().store_dir.resolve()
    for path in files.values():
        # the manifest is ours, but a file outside the store is never served
        if not Path(path).resolve().is_relative_to(store):
            raise _not_found(f"fichier hors du magasin de données pour {collection_id}",
                             f"file outside the data store for {collection_id}")
    return Coverage(collection_id, files)


def summer_bounds(year: int) -> tuple[datetime, datetime]:
    (m0, d0), (m1, d1) = SUMMER
    return datetime(year, m0, d0), datetime(year, m1, d1) + timedelta(days=1)


def _instant(text: str, end: bool) -> datetime | None:
    """One end of a datetime query, as a naive UTC datetime (None = open)."""
    text = text.strip()
    if text in ("", ".."):
        return None
    if re.fullmatch(r"\d{4}", text):
        return datetime(int(text) + (1 if end else 0), 1, 1)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day) + (timedelta(days=1) if end else timedelta())
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def select_year(cov: Coverage, query: str | None) -> int:
    """The year whose summer the `datetime` query designates (default: the latest).

    A year, a date, a date-time or an interval (`start/end`, `..` open) meeting exactly one
    summer selects it; nothing -> 404, several summers -> 400, unreadable -> 400."""
    years = cov.years
    if query is None or query.strip() == "":
        return years[-1]
    if years == [0]:  # an undated coverage: one file for every date
        return 0
    text = query.strip()
    parts = text.split("/")
    if len(parts) > 2:
        raise _bad(f"datetime illisible : {text!r}", f"unreadable datetime: {text!r}")
    try:
        start = _instant(parts[0], end=False)
        end = _instant(parts[-1], end=True) if len(parts) == 2 else _instant(parts[0], end=True)
        if len(parts) == 1 and start is not None and not re.fullmatch(r"[\d-]+", parts[0]):
            end = start + timedelta(microseconds=1)  # a date-time is an instant
    except ValueError:
        raise _bad(f"datetime illisible (attendu : année, date ISO 8601 ou intervalle) : {text!r}",
                   f"unreadable datetime (expected a year, an ISO 8601 date or an interval): "
                   f"{text!r}") from None
    if start is not None and end is not None and end < start:
        raise _bad("datetime : la fin précède le début", "datetime: the end precedes the start")
    matching = []
    for year in years:
        s0, s1 = summer_bounds(year)
        if (end is None or end > s0) and (start is None or start < s1):
            matching.append(year)
    if not matching:
        raise _not_found(
            f"aucun été disponible pour datetime={text} (étés du 1er juin au 31 août : "
            f"{', '.join(map(str, years))})",
            f"no available summer for datetime={text} (summers from 1 June to 31 August: "
            f"{', '.join(map(str, years))})")
    if len(matching) > 1:
        raise _bad(f"datetime couvre plusieurs étés ({', '.join(map(str, matching))}) : en "
                   f"choisir un", f"datetime spans several summers "
                   f"({', '.join(map(str, matching))}): choose one")
    return matching[0]


def dataset_path(collection_id: str, datetime_query: str | None) -> tuple[int, str]:
    cov = coverage(collection_id)
    year = select_year(cov, datetime_query)
    return year, cov.files[year]


# --------------------------------------------------------------------------------------------
# The colour ramp (styles/{cid}.ramp.json)
# --------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def ramp(collection_id: str) -> dict[str, Any] | None:
    path = STYLES_DIR / f"{collection_id}.ramp.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def _rgb(hex_color: str) -> tuple[int, int, int]:
    h = hex_color.lstrip("#")
    return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)


def ramp_color(spec: dict[str, Any], value: float) -> tuple[int, int, int]:
    """The colour of `value` on the ramp, linearly interpolated between its stops."""
    stops = spec["stops"]
    values = [float(s["value"]) for s in stops]
    channels = np.array([_rgb(s["color"]) for s in stops], dtype=float)
    return tuple(int(round(float(np.interp(value, values, channels[:, c])))) for c in range(3))


@lru_cache(maxsize=None)
def ramp_colormap(collection_id: str) -> dict[int, tuple[int, int, int, int]]:
    """The ramp as titiler's colormap: index i of the 0-255 rescaled value -> RGBA."""
    spec = ramp(collection_id)
    lo, hi = spec["rescale"]
    return {i: (*ramp_color(spec, lo + (hi - lo) * i / 255.0), 255) for i in range(256)}


@lru_cache(maxsize=32)
def _data_range(path: str) -> tuple[float, float]:
    """Fallback rescale of a coverage without a ramp file: its own minimum and maximum."""
    with rasterio.open(path) as src:
        stats = src.stats(indexes=[1], approx=True)[0]
    return float(stats.min), float(stats.max)


# --------------------------------------------------------------------------------------------
# titiler dependencies
# --------------------------------------------------------------------------------------------
def coverage_path_dependency(
    collectionId: Annotated[str, PathParam(description="Collection (coverage) identifier")],
    datetime_: Annotated[str | None, Query(alias="datetime", description=(
        "Summer: a year (2024), an ISO 8601 date or an interval inside one summer. "
        "Default: the latest."))] = None,
) -> str:
    """The titiler `path_dependency`: a server file chosen by collection and summer, no URL."""
    return dataset_path(collectionId, datetime_)[1]


def request_guard(request: Request) -> None:
    """Applied to every titiler route: no dataset URL, bounded sizes."""
    params = request.query_params
    for key in ("url", "src_path", "path", "file"):
        if key in params:
            raise _bad(f"paramètre {key} refusé : les données servies sont celles du serveur",
                       f"parameter {key} refused: only the server's own data are served")
    tilesize = params.get("tilesize")
    if tilesize is not None and (not tilesize.isdigit() or not 0 < int(tilesize) <= MAX_TILESIZE):
        raise _bad(f"tilesize doit être un entier de 1 à {MAX_TILESIZE}",
                   f"tilesize must be an integer from 1 to {MAX_TILESIZE}")


def colormap_dependency(
    collectionId: Annotated[str, PathParam()],
    colormap_name: Annotated[Literal[tuple(rio_cmaps.list())] | None,  # type: ignore[valid-type]
                             Query(description="A named colormap instead of the ramp")] = None,
):
    if colormap_name:
        return rio_cmaps.get(colormap_name)
    return ramp_colormap(collectionId) if ramp(collectionId) else rio_cmaps.get("viridis")


def parse_rescale(values: list[str]) -> list[str]:
    if len(values) != 1:
        raise _bad("rescale : une seule bande, un seul intervalle min,max",
                   "rescale: one band, one min,max range")
    try:
        lo, hi = (float(v) for v in values[0].split(","))
    except ValueError:
        raise _bad("rescale doit être min,max (deux nombres)",
                   "rescale must be min,max (two numbers)") from None
    if not (RESCALE_LIMITS[0] <= lo < hi <= RESCALE_LIMITS[1]):
        raise _bad(f"rescale : min < max, entre {RESCALE_LIMITS[0]:g} et {RESCALE_LIMITS[1]:g}",
                   f"rescale: min < max, between {RESCALE_LIMITS[0]:g} and "
                   f"{RESCALE_LIMITS[1]:g}")
    return [f"{lo},{hi}"]


def render_dependency(
    collectionId: Annotated[str, PathParam()],
    src_path=Depends(coverage_path_dependency),
    rescale: Annotated[list[str] | None, Query(
        description="min,max of the values spread over the colours (default: the ramp's)")] = None,
    add_mask: Annotated[bool | None, Query(alias="return_mask")] = None,
) -> ImageRenderingParams:
    """Rendering options with the ramp's rescale as default (titiler's has none)."""
    if rescale:
        rescale = parse_rescale(rescale)
    else:
        spec = ramp(collectionId)
        lo, hi = spec["rescale"] if spec else _data_range(src_path)
        rescale = [f"{lo},{hi}"]
    return ImageRenderingParams(rescale=rescale, add_mask=add_mask)


_thread_datasets = threading.local()


def open_dataset(path: str) -> rasterio.io.DatasetReader:
    """A rasterio dataset of `path` kept open for the calling thread (rasterio handles are not
    shared between threads): no open per tile, and GDAL's block cache stays warm across
    requests. Reopened when the file changes (a rebuild replaces it)."""
    handles = getattr(_thread_datasets, "handles", None)
    if handles is None:
        handles = _thread_datasets.handles = {}
    mtime = os.stat(path).st_mtime_ns
    held = handles.get(path)
    if held is None or held[0] != mtime or held[1].closed:
        if held is not None:
            held[1].close()
        held = handles[path] = (mtime, rasterio.open(path))
    return held[1]


@attr.s
class StoreReader(Reader):
    """rio-tiler's Reader on a per-thread open dataset (see open_dataset)."""

    def __attrs_post_init__(self):
        if not self.dataset:
            self.dataset = open_dataset(self.input)
        super().__attrs_post_init__()


def render_tile(image, output_format: ImageType | None = None, **kwargs):
    """titiler's render_image, but PNG at zlib level 1 (titiler's `pngraw` profile): the same
    PNG, about as small for these noisy fields and three times faster to encode than level 6."""
    if output_format in (None, ImageType.png):
        output_format = ImageType.pngraw
    return render_image(image, output_format=output_format, **kwargs)


class CoverageTilerFactory(TilerFactory):
    """titiler's TilerFactory with only the read endpoints a public server needs:
    info, tilesets, tiles, TileJSON and point (no preview, bbox or feature images, whose
    sizes are the caller's choice; the coverage subset below has its own limit)."""

    def register_routes(self):
        self.info()
        self.tilesets()
        self.tile()
        self.tilejson()
        self.point()


def _error_handlers(app: FastAPI) -> None:
    add_exception_handlers(app, {**DEFAULT_STATUS_CODES, PointOutsideBounds: 404})

    async def outside(request, exc: Exception):
        return _not_found("aucune donnée ici : tuile ou point hors de la couverture",
                          "no data here: tile or point outside the coverage").response()

    async def coverage_error(request, exc: CoverageError):
        return exc.response()

    async def validation_error(request, exc: RequestValidationError):
        names = sorted({str(e.get("loc", ["", "?"])[-1]) for e in exc.errors()})
        return _bad(f"paramètre invalide : {', '.join(names)}",
                    f"invalid parameter: {', '.join(names)}").response()

    async def http_error(request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return _not_found("ressource inconnue", "unknown resource").response()
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code)

    app.add_exception_handler(TileOutsideBounds, outside)
    app.add_exception_handler(PointOutsideBounds, outside)
    app.add_exception_handler(CoverageError, coverage_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)


@lru_cache(maxsize=1)
def titiler_app() -> FastAPI:
    """The titiler FastAPI application, routes under TITILER_PREFIX (full paths)."""
    factory = CoverageTilerFactory(
        router_prefix=TITILER_PREFIX,
        reader=StoreReader,
        render_func=render_tile,
        supported_tms=tms_registry.registry(),
        path_dependency=coverage_path_dependency,
        colormap_dependency=colormap_dependency,
        render_dependency=render_dependency,
        add_preview=False, add_part=False, add_viewer=False,
    )
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None,
                  dependencies=[Depends(request_guard)])
    app.include_router(factory.router, prefix=TITILER_PREFIX)
    _error_handlers(app)
    return app


# --------------------------------------------------------------------------------------------
# Thin OGC routes
# --------------------------------------------------------------------------------------------
def _base_url() -> str:
    try:
        from pygeoapi.starlette_app import CONFIG
        return CONFIG["server"]["url"].rstrip("/")
    except Exception:  # noqa: BLE001 - outside a served app (tests, benchmarks)
        return get_settings().url


def _qs(params: dict[str, str]) -> str:
    params = {k: v for k, v in params.items() if v not in (None, "")}
    return ("?" + urlencode(params)) if params else ""


def _tms_or_404(tms_id: str):
    tms = tms_registry.get(tms_id)
    if tms is None:
        raise _not_found(f"jeu de matrices de tuiles inconnu : {tms_id} (offerts : "
                         f"{', '.join(tms_registry.ids())})",
                         f"unknown tile matrix set: {tms_id} (offered: "
                         f"{', '.join(tms_registry.ids())})")
    return tms


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


def _tile_template(base: str, cid: str, tms_id: str, fmt: str, extra: dict[str, str]) -> str:
    return (f"{base}/collections/{cid}/map/tiles/{tms_id}/{{z}}/{{y}}/{{x}}"
            + _qs({"f": fmt, **extra}))


def _carried(request: StarletteRequest) -> dict[str, str]:
    """Query parameters carried into tile links (the summer and the styling)."""
    return {k: v for k, v in request.query_params.items()
            if k in ("datetime", "rescale", "colormap_name")}


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
             "title": "PNG", "href": _tile_template(base, cid, tms_id, "png", extra)},
            {"rel": "item", "type": "image/webp", "templated": True,
             "title": "WebP", "href": _tile_template(base, cid, tms_id, "webp", extra)},
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


def _handled(handler):
    """A Starlette endpoint whose CoverageErrors become OGC exceptions."""
    async def endpoint(request: StarletteRequest):
        try:
            return await handler(request)
        except CoverageError as err:
            return err.response()
    return endpoint


async def tilesets_list(request: StarletteRequest):
    cid = request.path_params["collectionId"]
    _, path = dataset_path(cid, request.query_params.get("datetime"))
    base, extra = _base_url(), _carried(request)
    sets = await run_in_threadpool(
        lambda: [_tileset(base, cid, t, path, extra, full=False) for t in tms_registry.ids()])
    return JSONResponse({"links": [
        {"rel": "self", "type": "application/json",
         "href": f"{base}/collections/{cid}/map/tiles" + _qs(extra)},
        {"rel": "alternate", "type": "application/xml", "title": "WMTS 1.0",
         "href": f"{base}/collections/{cid}/map/tiles/WMTSCapabilities.xml"},
    ], "tilesets": sets})


async def tileset_metadata(request: StarletteRequest):
    cid, tms_id = request.path_params["collectionId"], request.path_params["tms"]
    _tms_or_404(tms_id)
    _, path = dataset_path(cid, request.query_params.get("datetime"))
    body = await run_in_threadpool(_tileset, _base_url(), cid, tms_id, path, _carried(request),
                                   True)
    return JSONResponse(body)


async def tilejson(request: StarletteRequest):
    cid, tms_id = request.path_params["collectionId"], request.path_params["tms"]
    _tms_or_404(tms_id)
    year, path = dataset_path(cid, request.query_params.get("datetime"))
    fmt = _format(request)
    info = await run_in_threadpool(tiling, path, tms_id)
    spec = ramp(cid) or {}
    return JSONResponse({
        "tilejson": "3.0.0",
        "name": cid,
        "description": (spec.get("title") or {}).get("en", cid) + (f" — {year}" if year else ""),
        "scheme": "xyz",
        "tiles": [_tile_template(_base_url(), cid, tms_id, fmt, _carried(request))],
        "minzoom": info["minzoom"],
        "maxzoom": info["maxzoom"],
        "bounds": info["crs84"],
        "center": [(info["crs84"][0] + info["crs84"][2]) / 2,
                   (info["crs84"][1] + info["crs84"][3]) / 2, info["minzoom"]],
        "tileMatrixSet": tms_id,
    })


def _format(request: StarletteRequest) -> str:
    fmt = (request.query_params.get("f") or "").lower()
    if not fmt:
        accept = request.headers.get("accept", "")
        return "webp" if "image/webp" in accept and "image/png" not in accept else "png"
    if fmt in ("image/png",):
        fmt = "png"
    if fmt in ("image/webp",):
        fmt = "webp"
    if fmt not in FORMATS:
        raise _bad(f"format de tuile inconnu : {fmt} (png ou webp)",
                   f"unknown tile format: {fmt} (png or webp)")
    return fmt


def _tile_index(request: StarletteRequest) -> tuple[int, int, int]:
    try:
        z, row, col = (int(request.path_params[k]) for k in ("z", "row", "col"))
    except ValueError:
        raise _bad("z, ligne et colonne de tuile doivent être des entiers",
                   "tile z, row and col must be integers") from None
    return z, row, col


class _ASGI:
    """Marks an ASGI callable as such for Starlette's Route (which calls plain functions with a
    Request)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


class _Rewrite:
    """ASGI endpoint: check an OGC request, then hand it to titiler under its internal path.

    With `validator`, the response carries an ETag computed from the request and the files it
    depends on, so that a matching If-None-Match is answered 304 before any rendering (the
    caching middleware keeps an ETag set by the route)."""

    def __init__(self, target, validator=None):
        self.target = target  # (StarletteRequest) -> (internal path, query) or raises
        self.validator = validator  # (StarletteRequest, internal path, query) -> ETag

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = StarletteRequest(scope, receive)
        try:
            path, query = self.target(request)
            etag = self.validator(request, path, query) if self.validator else None
        except CoverageError as err:
            await err.response()(scope, receive, send)
            return
        if etag is not None:
            asked = request.headers.get("if-none-match")
            if asked and (asked.strip() == "*" or etag in (t.strip() for t in asked.split(","))):
                await Response(status_code=304, headers={"ETag": etag})(scope, receive, send)
                return
            send = _with_etag(send, etag)
        child = dict(scope)
        child["path"] = path
        child["raw_path"] = path.encode()
        child["query_string"] = query.encode("latin-1")
        child.pop("path_params", None)
        child.pop("endpoint", None)
        await titiler_app()(child, receive, send)


def _with_etag(send: Send, etag: str) -> Send:
    async def wrapped(message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            message = {**message, "headers": [*message.get("headers", []),
                                              (b"etag", etag.encode("latin-1"))]}
        await send(message)
    return wrapped


def _tile_etag(request: StarletteRequest, path: str, query: str) -> str:
    """A weak validator of a rendered tile: the internal path and query, the COG file and the
    ramp file (their size and modification time), and the rendering libraries' versions."""
    _, cog = dataset_path(request.path_params["collectionId"], request.query_params.get("datetime"))
    ramp_file = STYLES_DIR / f"{request.path_params['collectionId']}.ramp.json"
    parts = [path, "&".join(sorted(query.split("&"))), _RENDER_VERSIONS]
    for file in (Path(cog), ramp_file):
        try:
            st = file.stat()
            parts.append(f"{st.st_size}:{st.st_mtime_ns}")
        except FileNotFoundError:
            parts.append("-")
    return 'W/"' + hashlib.blake2b("|".join(parts).encode(), digest_size=12).hexdigest() + '"'


def _tile_target(request: StarletteRequest) -> tuple[str, str]:
    cid, tms_id = request.path_params["collectionId"], request.path_params["tms"]
    tms = _tms_or_404(tms_id)
    z, row, col = _tile_index(request)
    fmt = _format(request)
    coverage(cid)  # 404 before any reading
    if not (tms.minzoom <= z <= tms.maxzoom):
        raise _not_found(f"niveau {z} absent de {tms_id} ({tms.minzoom}-{tms.maxzoom})",
                         f"level {z} not in {tms_id} ({tms.minzoom}-{tms.maxzoom})")
    matrix = tms.matrix(z)
    if not (0 <= row < matrix.matrixHeight and 0 <= col < matrix.matrixWidth):
        raise _not_found(f"tuile {z}/{row}/{col} hors de la matrice {tms_id}",
                         f"tile {z}/{row}/{col} outside the {tms_id} matrix")
    query = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True)
             if k != "f"]
    return (f"/collections/{quote(cid)}/titiler/tiles/{tms_id}/{z}/{col}/{row}.{fmt}",
            urlencode(query))


def _point_target(request: StarletteRequest) -> tuple[str, str]:
    cid = request.path_params["collectionId"]
    coverage(cid)
    try:
        lon, lat = float(request.query_params["lon"]), float(request.query_params["lat"])
    except (KeyError, ValueError):
        raise _bad("lon et lat (degrés, CRS84) sont requis", "lon and lat (degrees, CRS84) are "
                   "required") from None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        raise _bad("lon/lat hors des bornes", "lon/lat out of range")
    query = [(k, v) for k, v in parse_qsl(request.url.query, keep_blank_values=True)
             if k not in ("lon", "lat")]
    return f"/collections/{quote(cid)}/titiler/point/{lon!r},{lat!r}", urlencode(query)


async def titiler_passthrough(scope: Scope, receive: Receive, send: Send) -> None:
    scope = {k: v for k, v in scope.items() if k not in ("path_params", "endpoint")}
    await titiler_app()(scope, receive, send)


# --------------------------------------------------------------------------------------------
# Legend
# --------------------------------------------------------------------------------------------
def legend_png(collection_id: str, width: int = 256, height: int = 24) -> bytes:
    """The ramp as a horizontal colour bar (low values on the left)."""
    index = np.tile(np.linspace(0, 255, width).round().astype("uint8"), (height, 1))
    return render(index[np.newaxis], img_format="PNG", colormap=ramp_colormap(collection_id))


async def legend(request: StarletteRequest):
    cid = request.path_params["collectionId"]
    coverage(cid)
    spec = ramp(cid)
    if spec is None:
        raise _not_found(f"pas de légende pour {cid}", f"no legend for {cid}")
    fmt = (request.query_params.get("f") or "").lower()
    if fmt not in ("", "json", "png", "application/json", "image/png"):
        raise _bad("f doit être json ou png", "f must be json or png")
    if fmt in ("png", "image/png") or (not fmt and "image/png" in request.headers.get("accept", "")
                                        and "json" not in request.headers.get("accept", "")):
        return Response(await run_in_threadpool(legend_png, cid), media_type="image/png")
    base = _base_url()
    return JSONResponse({
        "id": cid, "title": spec["title"], "units": spec.get("units"),
        "rescale": spec["rescale"], "hot_threshold": spec.get("hot_threshold"),
        "nodata": spec.get("nodata"),
        "stops": spec["stops"],
        "links": [{"rel": "alternate", "type": "image/png",
                   "href": f"{base}/collections/{cid}/legend?f=png"},
                  {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map",
                   "type": "application/json", "href": f"{base}/collections/{cid}/map/tiles"}],
    })


# --------------------------------------------------------------------------------------------
# WMTS capabilities (QGIS reads Lambert-93 tiles through its WMTS client)
# --------------------------------------------------------------------------------------------
WMTS_MAX_ZOOM = 18
_WMTS_CRS = {"WebMercatorQuad": "urn:ogc:def:crs:EPSG::3857", "LAMB93": "urn:ogc:def:crs:EPSG::2154"}


def _wmts_matrix_set(tms_id: str) -> str:
    tms = tms_registry.get(tms_id)
    rows = []
    for z in range(tms.minzoom, min(tms.maxzoom, WMTS_MAX_ZOOM) + 1):
        m = tms.matrix(z)
        x0, y0 = m.pointOfOrigin
        rows.append(
            f"<TileMatrix><ows:Identifier>{m.id}</ows:Identifier>"
            f"<ScaleDenominator>{m.scaleDenominator!r}</ScaleDenominator>"
            f"<TopLeftCorner>{x0!r} {y0!r}</TopLeftCorner>"
            f"<TileWidth>{m.tileWidth}</TileWidth><TileHeight>{m.tileHeight}</TileHeight>"
            f"<MatrixWidth>{m.matrixWidth}</MatrixWidth>"
            f"<MatrixHeight>{m.matrixHeight}</MatrixHeight></TileMatrix>")
    return (f"<TileMatrixSet><ows:Identifier>{tms_id}</ows:Identifier>"
            f"<ows:SupportedCRS>{_WMTS_CRS[tms_id]}</ows:SupportedCRS>{''.join(rows)}"
            f"</TileMatrixSet>")


def _wmts_limits(limits: list[dict]) -> str:
    return "".join(
        f"<TileMatrixLimits><TileMatrix>{lim['tileMatrix']}</TileMatrix>"
        f"<MinTileRow>{lim['minTileRow']}</MinTileRow><MaxTileRow>{lim['maxTileRow']}</MaxTileRow>"
        f"<MinTileCol>{lim['minTileCol']}</MinTileCol><MaxTileCol>{lim['maxTileCol']}</MaxTileCol>"
        f"</TileMatrixLimits>" for lim in limits if int(lim["tileMatrix"]) <= WMTS_MAX_ZOOM)


def wmts_capabilities(base: str, cid: str, cov: Coverage, title: str) -> str:
    """One layer per summer (`{cid}-{year}`) plus `{cid}` (the latest), in both matrix sets."""
    layers = []
    choices = [(cid, None)] + [(f"{cid}-{y}", y) for y in cov.years if y]
    for ident, year in choices:
        path = cov.files[year] if year else cov.latest
        links, bbox = [], None
        for tms_id in tms_registry.ids():
            info = tiling(path, tms_id)
            bbox = info["crs84"]
            links.append(f"<TileMatrixSetLink><TileMatrixSet>{tms_id}</TileMatrixSet>"
                         f"<TileMatrixSetLimits>{_wmts_limits(info['limits'])}"
                         f"</TileMatrixSetLimits></TileMatrixSetLink>")
        query = "f=png" + (f"&datetime={year}" if year else "")
        template = (f"{base}/collections/{cid}/map/tiles/{{TileMatrixSet}}/{{TileMatrix}}/"
                    f"{{TileRow}}/{{TileCol}}?{query}")
        layer_title = f"{title} ({year})" if year else title
        layers.append(
            f"<Layer><ows:Title>{escape(layer_title)}</ows:Title>"
            f"<ows:WGS84BoundingBox><ows:LowerCorner>{bbox[0]} {bbox[1]}</ows:LowerCorner>"
            f"<ows:UpperCorner>{bbox[2]} {bbox[3]}</ows:UpperCorner></ows:WGS84BoundingBox>"
            f"<ows:Identifier>{escape(ident)}</ows:Identifier>"
            f"<Style isDefault=\"true\"><ows:Identifier>default</ows:Identifier>"
            f"<LegendURL format=\"image/png\" xlink:href=\"{escape(base)}/collections/{cid}"
            f"/legend?f=png\"/></Style>"
            f"<Format>image/png</Format>{''.join(links)}"
            f"<ResourceURL format=\"image/png\" resourceType=\"tile\" "
            f"template=\"{escape(template)}\"/></Layer>")
    sets = "".join(_wmts_matrix_set(t) for t in tms_registry.ids())
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<Capabilities xmlns="http://www.opengis.net/wmts/1.0" '
        'xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xlink="http://www.w3.org/1999/xlink" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="http://www.opengis.net/wmts/1.0 '
        'http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd" version="1.0.0">'
        f"<ows:ServiceIdentification><ows:Title>{escape(title)}</ows:Title>"
        "<ows:ServiceType>OGC WMTS</ows:ServiceType><ows:ServiceTypeVersion>1.0.0"
        "</ows:ServiceTypeVersion></ows:ServiceIdentification>"
        f"<Contents>{''.join(layers)}{sets}</Contents>"
        f"<ServiceMetadataURL xlink:href=\"{escape(base)}/collections/{cid}/map/tiles/"
        f"WMTSCapabilities.xml\"/></Capabilities>")


async def wmts(request: StarletteRequest):
    cid = request.path_params["collectionId"]
    cov = coverage(cid)
    spec = ramp(cid) or {}
    title = (spec.get("title") or {}).get("fr", cid)
    xml = await run_in_threadpool(wmts_capabilities, _base_url(), cid, cov, title)
    return Response(xml, media_type="application/xml")


# --------------------------------------------------------------------------------------------
# Coverage subset: bbox, bbox-crs, crs, datetime -> GeoTIFF
# --------------------------------------------------------------------------------------------
def _crs_param(value: str | None, name: str, default: str) -> str:
    if value is None or value == "":
        return default
    found = CRS_NAMES.get(value.strip().strip("[]<>"))
    if found is None:
        raise _bad(f"{name} non pris en charge : {value} (CRS84, EPSG:4326, EPSG:2154, EPSG:3857)",
                   f"unsupported {name}: {value} (CRS84, EPSG:4326, EPSG:2154, EPSG:3857)")
    return found


def _bbox_param(value: str) -> tuple[float, float, float, float]:
    try:
        numbers = [float(v) for v in value.split(",")]
    except ValueError:
        numbers = []
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    if len(numbers) != 4 or not all(math.isfinite(v) for v in numbers) \
            or numbers[0] >= numbers[2] or numbers[1] >= numbers[3]:
        raise _bad("bbox doit être minx,miny,maxx,maxy (min < max)",
                   "bbox must be minx,miny,maxx,maxy (min < max)")
    return tuple(numbers)  # type: ignore[return-value]


@dataclass
class SubsetRequest:
    path: str
    year: int
    bbox: tuple[float, float, float, float] | None
    bbox_crs: str
    crs: str | None  # None: the storage CRS


def subset_geotiff(req: SubsetRequest) -> bytes:
    """The cells of `req.path` inside the bbox (whole cells, nearest resampling when
    reprojected), as a deflate GeoTIFF; 400 when empty or larger than MAX_SUBSET_PIXELS."""
    with rasterio.open(req.path) as src:
        native = src.crs
        if req.bbox is None:
            bounds = tuple(src.bounds)
        else:
            bounds = transform_bounds(req.bbox_crs, native, *req.bbox, densify_pts=21)
        left, bottom, right, top = src.bounds
        clipped = (max(bounds[0], left), max(bounds[1], bottom),
                   min(bounds[2], right), min(bounds[3], top))
        if clipped[0] >= clipped[2] or clipped[1] >= clipped[3]:
            raise _not_found("bbox hors de la couverture", "bbox outside the coverage")
        window = from_bounds(*clipped, transform=src.transform)
        window = window.round_offsets(op="floor").round_lengths(op="ceil")
        col0, row0 = int(window.col_off), int(window.row_off)
        width = min(int(math.ceil(window.width)), src.width - col0)
        height = min(int(math.ceil(window.height)), src.height - row0)
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
        raise _bad(f"sous-ensemble trop grand : {width} x {height} pixels (au plus "
                   f"{MAX_SUBSET_PIXELS:,} ; réduire bbox)".replace(",", " "),
                   f"subset too large: {width} x {height} pixels (at most "
                   f"{MAX_SUBSET_PIXELS:,}; reduce bbox)")


OURS = ("bbox-crs", "crs", "datetime")


def _wants_subset(request: StarletteRequest) -> bool:
    """Ours: any of bbox-crs/crs/datetime, or a bbox with f=GTiff; the rest stays pygeoapi's."""
    q = request.query_params
    fmt = (q.get("f") or "").lower()
    return any(k in q for k in OURS) or ("bbox" in q and fmt in GTIFF_FORMATS)


MAX_TEXT_PIXELS = 250_000  # CoverageJSON / HTML (pygeoapi writes every value as text)


def _text_pixels(request: StarletteRequest, path: str) -> int:
    """Cells of the coverage pygeoapi would write as CoverageJSON or HTML for this request
    (the whole coverage without bbox: ~6 million cells, 92 MB of HTML)."""
    q = request.query_params
    with rasterio.open(path) as src:
        if not q.get("bbox"):
            return src.width * src.height
        try:
            box = _bbox_param(q["bbox"])
        except CoverageError:
            return 0  # pygeoapi answers the bad bbox itself
        left, bottom, right, top = transform_bounds("OGC:CRS84", src.crs, *box[:4])
        res_x, res_y = src.res
        return int(abs(right - left) / res_x * abs(top - bottom) / res_y)


async def coverage_subset(scope: Scope, receive: Receive, send: Send) -> None:
    request = StarletteRequest(scope, receive)
    cid = request.path_params["collectionId"]
    entry = _manifest().get(cid)
    fmt = (request.query_params.get("f") or "json").lower()
    if isinstance(entry, dict) and entry.get("kind") == "coverage" and \
            not _wants_subset(request) and fmt not in GTIFF_FORMATS and \
            await run_in_threadpool(_text_pixels, request, entry["data"]) > MAX_TEXT_PIXELS:
        response = _bad(
            f"trop de cellules pour du CoverageJSON ou du HTML (plus de {MAX_TEXT_PIXELS:,}) : "
            "réduire bbox ou demander f=GTiff".replace(",", " "),
            f"too many cells for CoverageJSON or HTML (over {MAX_TEXT_PIXELS:,}): reduce "
            "bbox or ask for f=GTiff").response()
        await response(scope, receive, send)
        return
    if not (isinstance(entry, dict) and entry.get("kind") == "coverage") \
            or not _wants_subset(request):
        from pygeoapi.starlette_app import APP as pygeoapi_app
        scope = {k: v for k, v in scope.items() if k not in ("path_params", "endpoint")}
        await pygeoapi_app(scope, receive, send)
        return
    try:
        response = await _subset_response(request, cid)
    except CoverageError as err:
        response = err.response()
    await response(scope, receive, send)


async def _subset_response(request: StarletteRequest, cid: str) -> Response:
    q = request.query_params
    fmt = (q.get("f") or "gtiff").lower()
    if fmt not in GTIFF_FORMATS:
        raise _bad("bbox-crs, crs et datetime ne sont servis qu'en GeoTIFF (f=GTiff)",
                   "bbox-crs, crs and datetime are only served as GeoTIFF (f=GTiff)")
    year, path = dataset_path(cid, q.get("datetime"))
    req = SubsetRequest(
        path=path, year=year,
        bbox=_bbox_param(q["bbox"]) if q.get("bbox") else None,
        bbox_crs=_crs_param(q.get("bbox-crs"), "bbox-crs", "OGC:CRS84"),
        crs=_crs_param(q.get("crs"), "crs", "EPSG:2154"))
    body = await run_in_threadpool(subset_geotiff, req)
    out_crs = req.crs or "EPSG:2154"
    uri = next((u for u, n in CRS_URIS.items() if n == out_crs), out_crs)
    return Response(body, media_type="image/tiff; application=geotiff", headers={
        "Content-Crs": f"<{uri}>",
        "Content-Disposition": f'attachment; filename="{cid}_{year}.tif"'})


# --------------------------------------------------------------------------------------------
# Front module interface
# --------------------------------------------------------------------------------------------
def routes() -> list[BaseRoute]:
    cid = "/collections/{collectionId}"
    return [
        Route(cid + "/map/tiles", _handled(tilesets_list), methods=["GET", "HEAD"]),
        Route(cid + "/map/tiles/WMTSCapabilities.xml", _handled(wmts), methods=["GET", "HEAD"]),
        Route(cid + "/map/tiles/{tms}", _handled(tileset_metadata), methods=["GET", "HEAD"]),
        Route(cid + "/map/tiles/{tms}/tilejson.json", _handled(tilejson),
              methods=["GET", "HEAD"]),
        Route(cid + "/map/tiles/{tms}/{z}/{row}/{col}", _Rewrite(_tile_target, _tile_etag),
              methods=["GET", "HEAD"]),
        Route(cid + "/legend", _handled(legend), methods=["GET", "HEAD"]),
        Route(cid + "/point", _Rewrite(_point_target), methods=["GET", "HEAD"]),
        Route(cid + "/titiler/{rest:path}", _ASGI(titiler_passthrough), methods=["GET", "HEAD"]),
        Route(cid + "/coverage", _ASGI(coverage_subset), methods=["GET", "HEAD"]),
    ]


def collection_links(spec: Any, base_url: str) -> list[dict[str, Any]]:
    if getattr(spec, "kind", None) != "coverage":
        return []
    base, cid = base_url.rstrip("/"), spec.id
    return [
        {"rel": MAP_TILES_REL, "type": "application/json",
         "title": "Tuiles cartographiques / Map tiles",
         "href": f"{base}/collections/{cid}/map/tiles"},
        {"rel": "item", "type": "image/png", "templated": True,
         "title": "Tuile PNG (WebMercatorQuad) / PNG tile",
         "href": f"{base}/collections/{cid}/map/tiles/WebMercatorQuad/{{z}}/{{y}}/{{x}}?f=png"},
        {"rel": LEGEND_REL, "type": "image/png", "title": "Légende / Legend",
         "href": f"{base}/collections/{cid}/legend?f=png"},
        {"rel": "describedby", "type": "application/json",
         "title": "Légende (rampe de couleurs) / Legend (colour ramp)",
         "href": f"{base}/collections/{cid}/legend"},
        {"rel": "alternate", "type": "application/xml", "title": "WMTS 1.0",
         "href": f"{base}/collections/{cid}/map/tiles/WMTSCapabilities.xml"},
    ]


def conformance() -> list[str]:
    tiles = "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/"
    cov = "http://www.opengis.net/spec/ogcapi-coverages-1/1.0/conf/"
    return ([tiles + c for c in ("core", "tileset", "tilesets-list", "geodata-tilesets", "png")]
            + [cov + c for c in ("geodata-coverage", "coverage-subset", "coverage-bbox",
                                 "coverage-datetime", "coverage-crs", "geotiff")])
