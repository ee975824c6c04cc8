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

Everything else is the ordinary path's: HEAD, query parameters, credentials (other views),
If-None-Match (304s), hidden or unknown collections, invalid tile addresses (their 400/404),
the cadastre (its usage is counted), layers of the embedded store, and a database failure
or timeout (its 503, which the route then answers without running the statement again).
tests/test_fastread.py compares both paths over HTTP.
"""
from __future__ import annotations

import re
from typing import Any

from starlette.types import Scope

from services import access, caching
from services.store.postgis import tiles as mvt_postgis
from services.tiles import vector
from services.tiles.mvt_source import Layer, TileBox, layers, shown_at
from services.tiles.vector import MVT
from services.usage import classify

COLLECTION_TILE = re.compile(
    r"^/collections/([^/]+)/tiles/([^/]+)/(\d{1,3})/(\d{1,12})/(\d{1,12})$")
DATASET_TILE = re.compile(r"^/tiles/([^/]+)/(\d{1,3})/(\d{1,12})/(\d{1,12})$")
# a request carrying one of these goes the ordinary way (another view, a 304, a range)
_ORDINARY_HEADERS = frozenset({b"authorization", b"x-api-key", b"if-none-match",
                               b"if-match", b"if-modified-since", b"if-unmodified-since",
                               b"range"})


class Ordinary(Exception):
    """This request is for the ordinary path (here and in services/hotread.py)."""


def match(path: str) -> re.Match | None:
    if not path.startswith(("/collections/", "/tiles/")):
        return None
    return COLLECTION_TILE.match(path) or DATASET_TILE.match(path)


class HotTiles:
    """Renders one tile and the headers the ordinary layers would give it."""

    def __init__(self, cors: Any, cache_control: str):
        self.cors = cors
        self.cache_control = cache_control

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
        if classify("GET", scope["path"], b"") is not None:  # the cadastre: counted
            raise Ordinary
        with access.acting_as(access.anonymous()) as info:  # layers() as anonymous sees them
            try:
                access.guard(scope["path"], info.view)
            except Exception:  # noqa: BLE001 - hidden or unknown: the route's 404
                raise Ordinary from None
            groups = m.groups()
            if len(groups) == 5:  # one collection
                found = vector.layer_or_error(groups[0])
                if not isinstance(found, Layer):
                    raise Ordinary  # a coverage or an unknown id: the route's error
                selected = (found,)
                groups = groups[1:]
            else:
                selected = tuple(layers()[0].values())
            box = vector.tile_box_or_error(*groups)
            if not isinstance(box, TileBox):  # an invalid address: the route's 400/404
                raise Ordinary
            selected = tuple(layer for layer in selected if shown_at(layer, box.tms_id, box.z))
            if any(layer.store != "postgis" for layer in selected):
                raise Ordinary
            scope[access.SCOPE_KEY] = info
            try:
                data = await mvt_postgis.render(selected, box) if selected else b""
            except mvt_postgis.TileQueryError:
                scope[vector.FAILED] = True  # its 503, without running the statement again
                raise Ordinary from None
        if not data:  # the route's 204: CORS alone (the other layers pass it through)
            return 204, self._cors(origin, []), b""
        headers = [(b"content-length", str(len(data)).encode()),
                   (b"content-type", MVT.encode()),
                   (b"etag", caching.weak_etag(data).encode("latin-1"))]
        return 200, self._cors(origin, caching.decorate(headers, self.cache_control, scope)), data

    def _cors(self, origin: str | None, headers: list) -> list:
        headers += self.cors.cors_headers(origin)
        if self.cors.origins is not None:
            caching.merge_vary(headers, ("Origin",))
        return headers
