"""The two hot reads, `GET /collections/{id}/items` and `/collections/{id}/items/{fid}` as
JSON, answered without pygeoapi's Starlette application around them.

pygeoapi's route for these goes through its own Starlette app (error middlewares, a router,
`execute_from_starlette`), then `services.access.install()`'s extra thread hop to find the
API object of the caller's view, then a second hop to run the handler. This route does the
same work in one thread hop: it builds pygeoapi's `APIRequest` from the Starlette request,
picks the API of the caller's view (services.access.api_for: hidden collections and
properties behave exactly as on pygeoapi's route) and calls the very handlers pygeoapi's
route calls, `pygeoapi.api.itemtypes.get_collection_items` / `get_collection_item` (with
the changes of services.pygeoapi_compat: RawFeatures spliced as text, keyset links, Link
header, application/geo+json), turning their `(headers, status, content)` into the same
Response as pygeoapi's `_to_response`. The answer is therefore pygeoapi's own answer,
document, status and headers (tests/test_fastread.py compares them over HTTP).

Handed unchanged to pygeoapi's app: any method other than GET/HEAD, any format other than
JSON/GeoJSON (HTML, JSON-LD, CSV...), ARTOIS_FAST_READS=false. Errors are pygeoapi's own
(its OGC exceptions, rewritten by services/error_handler.py as on its route). Of the layers of
pygeoapi's app, only its CORS layer changes a successful answer (`Vary: Origin`), added here.

pygeoapi also logs a warning on every items request without `offset` (a TypeError it
catches, itemtypes.py); that logger is set to ERROR here (its errors still log).
"""
from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from services.settings import get_settings

# pygeoapi warns "int() argument must be ... not 'NoneType'" for each request without offset
logging.getLogger("pygeoapi.api.itemtypes").setLevel(logging.ERROR)

LOGGER = logging.getLogger(__name__)
JSON_FORMATS = ("json",)
_served = False


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key == name:
            return value.decode("latin-1")
    return ""


def wants_json(scope: Scope, query: Any) -> bool:
    """`f=json`, or no `f` and an Accept pygeoapi answers with JSON (absent, `*/*`, or a JSON
    type without HTML, JSON-LD or CSV in it)."""
    f = query.get("f")
    if f is not None:
        return f.strip() in JSON_FORMATS
    accept = _header(scope, b"accept").lower()
    if not accept:
        return True
    if any(t in accept for t in ("html", "ld+json", "csv", "xml")):
        return False
    return "json" in accept or accept.strip() in ("*/*",)


def _answer(loop: asyncio.AbstractEventLoop, api_request: Any, view: Any,
            collection_id: str, item_id: str | None) -> tuple[dict, int, Any]:
    """In a worker thread: the API of the caller's view, then pygeoapi's handler."""
    import pygeoapi.api.itemtypes as itemtypes
    from pygeoapi.starlette_app import api_, call_api_threadsafe

    from services.access import api_for
    api = api_for(view) or api_
    if item_id is None:
        return call_api_threadsafe(loop, itemtypes.get_collection_items, api, api_request,
                                   collection_id)
    if not api_request.is_valid():  # as execute_from_starlette (no skip_valid_check)
        return api.get_format_exception(api_request)
    return call_api_threadsafe(loop, itemtypes.get_collection_item, api, api_request,
                               collection_id, item_id)


class FastRead:
    """The ASGI endpoint of one of the two routes (all methods: what it does not serve goes
    on to pygeoapi's app, so POST/PUT/OPTIONS... are untouched)."""

    def __init__(self, item: bool):
        self.item = item

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        from pygeoapi.starlette_app import APP, _to_response, api_, apply_gzip
        request = Request(scope, receive)
        if scope["method"] not in ("GET", "HEAD") or not get_settings().fast_reads or \
                not wants_json(scope, request.query_params):
            await APP(scope, receive, send)
            return
        from pygeoapi.api import APIRequest

        from services.access import current_view
        global _served
        if not _served:  # once per process: the log says the fast path is in use
            _served = True
            LOGGER.info("fast reads: %s %s served in one hop", scope["method"], scope["path"])
        params = scope.get("path_params", {})
        api_request = await APIRequest.from_starlette(request, api_.locales)
        headers, status, content = await run_in_threadpool(
            _answer, asyncio.get_running_loop(), api_request, current_view(),
            params["collection_id"], params.get("item_id") if self.item else None)
        if status != 204:
            content = apply_gzip(headers, content)
        response = _to_response(headers, status, content)
        if _pygeoapi_cors():  # what its CORSMiddleware (allow all) adds besides Access-Control-*
            response.headers["vary"] = ", ".join([*response.headers.getlist("vary"), "Origin"])
        await response(scope, receive, send)


@functools.lru_cache(maxsize=1)
def _pygeoapi_cors() -> bool:
    """pygeoapi's app has a CORS layer (`server.cors`): its Access-Control-* headers are
    replaced by services/cors.py, its `Vary: Origin` stays."""
    from pygeoapi.starlette_app import CONFIG
    return bool(CONFIG["server"].get("cors", False))


def routes() -> list[Route]:
    return [Route("/collections/{collection_id}/items", FastRead(item=False)),
            Route("/collections/{collection_id}/items/{item_id}", FastRead(item=True))]
