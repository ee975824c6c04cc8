"""Hot tiles: anonymous vector tiles of the PostGIS store answered by the outermost layer.

A map view asks for dozens of tiles at once, and a z14 tile's SQL costs PostgreSQL less than
a millisecond: the ten ASGI layers of the ordinary path (services/app.py) cost as much again
in Python (bench/cpu.py). services/hotread.py hands a GET of

    /collections/{cid}/tiles/{tms}/{z}/{row}/{col}     /tiles/{tms}/{z}/{row}/{col}

with no query string, no credential and no conditional header here. The tile is the one the
route renders (services/tiles/vector.py: the same layers, as the anonymous view shows them,
the same box, the same ST_AsMVT statement on the process's asyncio pool), and its answer
carries what the layers add: the ETag and Cache-Control of services/caching.py, CORS of
services/cors.py, gzip as Starlette's layer does it (in services/hotread.py), the metrics and
access log of services/ops.py. An empty tile is the route's 204.

What a tile does not change is worked out once: the plan of a collection (or of the dataset)
at one zoom of one set (the anonymous view's check, its layers, the route) while the
collection files and the layers' descriptions are the same objects; the box of a tile
address (`_valid_box`); the headers after the ETag for an allowed origin (`_tail`). The
statement runs at libpq's level (services/store/postgis/wire.py).

Everything else is the ordinary path's: HEAD, query parameters, credentials (other views),
If-None-Match (304s), hidden or unknown collections, invalid tile addresses (their 400/404),
the cadastre (its usage is counted), layers of the embedded store, and a database failure
or timeout (its 503, which the route then answers without running the statement again).
tests/test_fastread.py compares both paths over HTTP.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from starlette.types import Scope

from services import access, caching, routes
from services.store.postgis import tiles as mvt_postgis
from services.tiles import vector
from services.tiles.mvt_source import Layer, TileBox, layers, layers_now, shown_at
from services.tiles.vector import MVT
from services.usage import classify

COLLECTION_TILE = re.compile(
    r"^/collections/([^/]+)/tiles/([^/]+)/(\d{1,3})/(\d{1,12})/(\d{1,12})$")
DATASET_TILE = re.compile(r"^/tiles/([^/]+)/(\d{1,3})/(\d{1,12})/(\d{1,12})$")
PLANS = 4096  # (collection, set, zoom) plans kept per process
# a request carrying one of these goes the ordinary way (another view, a 304, a range)
_ORDINARY_HEADERS = frozenset({b"authorization", b"x-api-key", b"if-none-match",
                               b"if-match", b"if-modified-since", b"if-unmodified-since",
                               b"range"})


class Ordinary(Exception):
    """This request is for the ordinary path (here and in services/hotread.py)."""


@lru_cache(maxsize=4096)  # the tiles of a map's views, asked again and again
def _valid_box(tms_id: str, z: str, row: str, col: str) -> TileBox | None:
    box = vector.tile_box_or_error(tms_id, z, row, col)
    return box if isinstance(box, TileBox) else None


def _box(tms_id: str, z: str, row: str, col: str) -> TileBox:
    """The tile's box, or Ordinary for an invalid address (the route's 400/404)."""
    box = _valid_box(tms_id, z, row, col)
    if box is None:
        raise Ordinary
    return box


def match(path: str) -> re.Match | None:
    if not path.startswith(("/collections/", "/tiles/")):
        return None
    return COLLECTION_TILE.match(path) or DATASET_TILE.match(path)


class HotTiles:
    """Renders one tile and the headers the ordinary layers would give it."""

    def __init__(self, cors: Any, cache_control: str, routes_table: routes.RouteTable):
        self.cors = cors
        self.cache_control = cache_control
        self.routes = routes_table
        self._plans: dict[tuple, tuple] = {}
        self._tails: dict[tuple[str | None, bool], tuple] = {}

    async def answer(self, scope: Scope, m: re.Match) -> tuple[int, list, bytes]:
        """(status, headers, body) of the tile, or Ordinary."""
        if scope.get("query_string"):
            raise Ordinary
        origin = None
        for key, value in scope.get("headers", ()):
            if key in _ORDINARY_HEADERS:
                raise Ordinary
            if key == b"origin":
                origin = value.decode("latin-1")
        groups = m.groups()
        info, selected, route = self._plan(scope["path"], groups[:-2])
        box = _box(*groups[-4:])
        scope[access.SCOPE_KEY] = info
        scope[routes.SCOPE_KEY] = route
        try:
            data = await mvt_postgis.render(selected, box) if selected else b""
        except mvt_postgis.TileQueryError:
            scope[vector.FAILED] = True  # its 503, without running the statement again
            raise Ordinary from None
        allowed = self.cors.allow_origin(origin)
        if not data:  # the route's 204: CORS alone (the other layers pass it through)
            return 204, list(self._tail(allowed, empty=True)), b""
        return 200, [(b"content-length", str(len(data)).encode()),
                     (b"etag", caching.weak_etag(data).encode("latin-1")),
                     *self._tail(allowed)], data

    def _plan(self, path: str, key: tuple) -> tuple[access.RequestAccess, tuple, Any]:
        """(anonymous caller, layers to draw, route) of the tiles of one collection (or of
        the dataset) at one zoom of one set, while the collection files and the layers'
        descriptions are unchanged; Ordinary for what the route answers itself."""
        specs, found = access.known_specs(), layers_now()
        plan = self._plans.get(key)
        if plan is None or plan[0] is not specs or plan[1] is not found:
            try:
                plan = (specs, found, *self._new_plan(path, key))
            except Ordinary:
                plan = (specs, found, None)
            if len(self._plans) >= PLANS:
                self._plans.clear()
            self._plans[key] = plan
        if plan[2] is None:
            raise Ordinary
        return plan[2:]

    def _new_plan(self, path: str, key: tuple) -> tuple:
        if classify("GET", path, b"") is not None:  # the cadastre: its usage is counted
            raise Ordinary
        with access.acting_as(access.anonymous()) as info:  # layers() as anonymous sees them
            try:
                access.guard(path, info.view)
            except Exception:  # noqa: BLE001 - hidden or unknown: the route's 404
                raise Ordinary from None
            if len(key) == 3:  # one collection
                found = vector.layer_or_error(key[0])
                if not isinstance(found, Layer):
                    raise Ordinary  # a coverage or an unknown id: the route's error
                selected: tuple = (found,)
            else:
                selected = tuple(layers()[0].values())
        tms_id, z = key[-2:]
        tms = vector.tile_matrix_set(tms_id)
        if tms is None or not tms.minzoom <= int(z) <= tms.maxzoom:
            raise Ordinary  # the route's 404
        selected = tuple(layer for layer in selected if shown_at(layer, tms_id, int(z)))
        if any(layer.store != "postgis" for layer in selected):
            raise Ordinary
        return info, selected, self.routes.match(path)

    def _tail(self, allowed: str | None, empty: bool = False) -> tuple:
        """The headers after the ETag, the same for every anonymous tile from one allowed
        origin: Content-Type, Cache-Control and Vary (services/caching.py), CORS."""
        key = (allowed, empty)
        tail = self._tails.get(key)
        if tail is None:
            headers = [] if empty else caching.decorate([(b"content-type", MVT.encode())],
                                                        self.cache_control, None)
            headers += self.cors.headers_for(allowed)
            if self.cors.origins is not None:
                caching.merge_vary(headers, ("Origin",))
            tail = tuple(headers)
            if len(self._tails) < 64:  # the allowed origins of the configuration, and "*"
                self._tails[key] = tail
        return tail
