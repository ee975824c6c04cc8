"""The ASGI application: pygeoapi's Starlette app behind our error handling.

`artois-geo serve` writes the runtime configuration and points PYGEOAPI_CONFIG and
PYGEOAPI_OPENAPI at it before uvicorn imports this module in each worker.
"""
from __future__ import annotations

import logging
from pathlib import Path

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from services import pygeoapi_compat
from services.edge import EdgeGuard, counts_own_body
# the one error handler and the OGC exception body (DEFAULT_CODES kept importable from here)
from services.error_handler import OGCExceptionMiddleware, _header
from services.errors import DEFAULT_CODES, OGCError, exception_body  # noqa: F401

LOGGER = logging.getLogger("artois_geo")

pygeoapi_compat.apply()  # every pygeoapi patch: services/pygeoapi_compat.py


FILTER_MEDIA_TYPES = ("application/query-cql-json", "application/json", "application/geo+json")
MAX_BODY_BYTES = 5 * 1024 * 1024


class RequestGuard:
    """Refuse, before pygeoapi sees them, requests it would answer with a 500:
    a POST of items without a JSON content type, and oversized bodies (an OGCError, rendered
    by the OGCExceptionMiddleware around it in the reader's language)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            ctype = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            length = _header(scope, b"content-length")
            if length and length.isdigit() and int(length) > MAX_BODY_BYTES and \
                    not counts_own_body(scope["path"]):  # those check their own limit
                raise OGCError("payload_too_large", status=413, code="PayloadTooLarge")
            if scope["path"].endswith("/items") and ctype not in FILTER_MEDIA_TYPES:
                raise OGCError("unsupported_media_type", status=415,
                               code="UnsupportedMediaType", ctype=ctype or "-")
        await self.app(scope, receive, send)


def create_app() -> ASGIApp:
    from pygeoapi.starlette_app import APP as pygeoapi_app, CONFIG

    from services import front, ops
    from services.caching import CachePolicy, HTTPCaching
    from services.cors import CORS
    from services.routes import RouteTable
    from services.settings import get_settings
    from services.transactions import Transactions

    settings = get_settings()
    ops.configure_logging(settings.log_level, settings.log_format, settings.access_log)

    from services.jobs.api import preload
    preload()  # the processes, loaded before the first execution (not during it)
    locale_dir = CONFIG["server"].get("locale_dir")
    if locale_dir:
        pygeoapi_compat.use_gettext_dir(Path(locale_dir))
    # OGC API Features Part 4 (writes, ETags, OPTIONS) in front: it answers with its own
    # bilingual OGC exceptions and hands every other request to pygeoapi unchanged.
    # Tiles, styles, the web map and operations (services/front.py) are matched first.
    front_router = front.router(pygeoapi_app)
    app = Transactions(OGCExceptionMiddleware(RequestGuard(front_router)),
                       base_url=CONFIG["server"]["url"])
    # the edge (services/edge.py): query strings and body sizes checked once, for every route
    app = EdgeGuard(app)
    # the routes in matching order, front first (services/routes.py): the metrics layer finds
    # a request's route once and the caching layer reads it from the scope
    routes = RouteTable([*front_router.routes, *pygeoapi_app.routes])
    # CORS (services/cors.py) outside the caching layer: its 304s carry the headers too.
    # Read access (services/access.py) between them: the caller is resolved once, before the
    # caching layer (which varies on the credential) and everything inside.
    from services.access import AccessLayer, anonymous, api_for, install
    install()  # pygeoapi answers from the configuration of the caller's view
    # the anonymous view's API (its configuration and OpenAPI document, half a second) built
    # at start, not during the first anonymous request
    api_for(anonymous().view)
    policy = CachePolicy(tiles=settings.cache_tiles, static=settings.cache_static,
                         data=settings.cache_data)
    cors = CORS(AccessLayer(HTTPCaching(app, policy, routes)), settings.cors_origins)
    app = ops.RequestMetrics(cors, routes)
    # Level 1: a 115 kB page compresses 10x faster than at pygeoapi's level 9 and only 20 %
    # larger; pygeoapi's own gzip is off in pygeoapi-config.yml. Adds Vary: Accept-Encoding.
    app = GZipMiddleware(app, minimum_size=GZIP_MINIMUM, compresslevel=GZIP_LEVEL)
    # anonymous JSON reads and vector tiles of PostGIS features answered on the event loop,
    # the headers of every layer below included (services/hotread.py, services/hottiles.py);
    # the rest goes down the layers
    from services.caching import policy_for
    from services.hotread import HotReads
    return HotReads(app, cors, policy_for("data", policy), routes, GZIP_MINIMUM, GZIP_LEVEL,
                    policy_for("tiles", policy))


GZIP_MINIMUM, GZIP_LEVEL = 1024, 1


app = create_app()
