"""The titiler-core wiring: one TilerFactory (FastAPI) for every coverage collection.

Its routes are mounted under the internal prefix /collections/{collectionId}/titiler (served as
they are under that path, and used by the OGC tile and point routes of raster_tiles). Every
request parameter comes from one of the typed, bounded dependencies of raster_params; the
dataset is one of the server's own COG files (no `url=`); and every error, titiler's and
rio-tiler's included, leaves as a bilingual JSON OGC exception (never a library message):

  tile outside the data (rio-tiler TileOutsideBounds)  200, a fully transparent image of the
                                                       tile's size and format (QGIS 3.22 logs a
                                                       204 "Returned image is flawed" warning)
  point outside the data (PointOutsideBounds)          404
  a refused or out-of-bounds parameter                 400
  anything else                                        500, logged, with a generic text
"""
from __future__ import annotations

import logging
import os
import threading
from functools import lru_cache
from typing import Iterable

import attr
import numpy
import rasterio
from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from rio_tiler.errors import (InvalidBandName, InvalidBufferSize, InvalidColorFormat,
                              InvalidColorMapName, InvalidExpression, InvalidFormat,
                              MissingBands, PointOutsideBounds, TileOutsideBounds)
from rio_tiler.io import Reader
from rio_tiler.models import ImageData
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from titiler.core.factory import TilerFactory
from titiler.core.resources.enums import ImageType
from titiler.core.utils import render_image

from services.tiles import tms as tms_registry
from services.errors import OGCError
from services.tiles.raster_errors import (CoverageError, bad_text, error, not_found_text,
                                          validation_error as invalid_parameters)
from services.tiles.raster_params import (TileParams, band_params, colormap_dependency,
                                          coverage_path_dependency, no_algorithm,
                                          point_in_range, render_dependency, request_guard,
                                          tile_format_dependency, tile_in_matrix)

LOGGER = logging.getLogger("artois_geo")
TITILER_PREFIX = "/collections/{collectionId}/titiler"
TILE_PATH = "/tiles/{tileMatrixSetId}/{z}/{x}/{y}"
POINT_PATH = "/point/{lon},{lat}"

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
    info, tilesets, tiles, TileJSON and point (no preview, bbox, feature or statistics, whose
    sizes are the caller's choice; the coverage subset has its own limit), and route
    dependencies bounding the tile position and format and the point's coordinates."""

    def register_routes(self):
        self.info()
        self.tilesets()
        self.tile()
        self.tilejson()
        self.point()
        self._depend([TILE_PATH, TILE_PATH + ".{format}"], Depends(tile_in_matrix))
        self._depend([TILE_PATH + ".{format}"], Depends(tile_format_dependency))
        self._depend([POINT_PATH], Depends(point_in_range))

    def _depend(self, paths: Iterable[str], *dependencies) -> None:
        """titiler's add_route_dependencies, matched on the exact route path (its scope
        matching would give the `.{format}` dependency to the route without a format too)."""
        paths = set(paths)
        for route in self.router.routes:
            if getattr(route, "path", None) in paths:
                route.dependencies.extend(dependencies)  # kept by app.include_router


def _response(err: CoverageError) -> Response:
    return err.response()


def _error_handlers(app: FastAPI) -> None:
    async def empty_tile(request, exc: Exception):
        # inside the tile matrix set, outside the data: a transparent tile, which every client
        # draws as nothing (QGIS logs an empty 204 as a flawed image at each tile of a pan)
        params = request.path_params
        fmt = params.get("format") or "png"
        matrix = tms_registry.get(params["tileMatrixSetId"]).matrix(int(params["z"]))
        return Response(transparent_tile(fmt, matrix.tileWidth, matrix.tileHeight),
                        media_type=ImageType[fmt].mediatype)

    async def outside(request, exc: Exception):
        return _response(not_found_text("outside"))

    async def invalid(request, exc: Exception):
        return _response(bad_text("invalid", detail=str(exc)[:200]))

    async def coverage_error(request, exc: OGCError):
        return exc.response()

    async def validation_error(request, exc: RequestValidationError):
        return _response(invalid_parameters(exc.errors()))

    async def http_error(request, exc: StarletteHTTPException):
        if exc.status_code == 404:
            return _response(error("unknown_resource", 404))
        if exc.status_code == 405:
            return _response(error("method", 405))
        if exc.status_code < 500:
            return _response(CoverageError("raster_invalid", status=exc.status_code,
                                           code="InvalidParameterValue",
                                           detail=str(exc.detail)[:200]))
        return internal(request, exc)

    def internal(request, exc: Exception):
        # the trace is logged by services.app's OGCExceptionMiddleware (Starlette re-raises)
        LOGGER.error("raster request failed: %s: %r", request.url.path, exc)
        return _response(error("internal", 500))

    app.add_exception_handler(TileOutsideBounds, empty_tile)
    app.add_exception_handler(PointOutsideBounds, outside)
    for cls in (MissingBands, InvalidBandName, InvalidBufferSize, InvalidFormat,
                InvalidColorFormat, InvalidColorMapName, InvalidExpression):
        app.add_exception_handler(cls, invalid)  # the typed dependencies should prevent these
    app.add_exception_handler(OGCError, coverage_error)  # CoverageError, tile addresses
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, internal)


@lru_cache(maxsize=8)
def transparent_tile(fmt: str, width: int, height: int) -> bytes:
    """A fully transparent image (one grey band, every pixel masked), PNG or WebP."""
    image = ImageData(numpy.ma.masked_array(numpy.zeros((1, height, width), dtype="uint8"),
                                            mask=True))
    return image.render(img_format=ImageType[fmt].driver)


@lru_cache(maxsize=1)
def titiler_app() -> FastAPI:
    """The titiler FastAPI application, routes under TITILER_PREFIX (full paths)."""
    factory = CoverageTilerFactory(
        router_prefix=TITILER_PREFIX,
        reader=StoreReader,
        render_func=render_tile,
        supported_tms=tms_registry.registry(),
        path_dependency=coverage_path_dependency,
        layer_dependency=band_params,
        tile_dependency=TileParams,
        process_dependency=no_algorithm,
        colormap_dependency=colormap_dependency,
        render_dependency=render_dependency,
        add_preview=False, add_part=False, add_viewer=False,
    )
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None,
                  dependencies=[Depends(request_guard)])
    app.include_router(factory.router, prefix=TITILER_PREFIX)
    _error_handlers(app)
    return app


async def call_titiler(scope: Scope, receive: Receive, send: Send) -> None:
    """Hand a request to the titiler app; HEAD is answered as GET (titiler declares GET only;
    the server sends no body for a HEAD)."""
    scope = {k: v for k, v in scope.items() if k not in ("path_params", "endpoint")}
    if scope.get("method") == "HEAD":
        scope["method"] = "GET"
    await titiler_app()(scope, receive, send)


titiler_passthrough = call_titiler
