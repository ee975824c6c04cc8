"""The routes served in front of pygeoapi: tiles, styles, the web map, operations.

Each module listed in FRONT_MODULES is a small, swappable part. It may define:
- `routes() -> list[starlette.routing.BaseRoute]`: its endpoints (matched before pygeoapi);
- `collection_links(spec, base_url) -> list[dict]`: links added to a collection's metadata;
- `conformance() -> list[str]`: conformance classes it implements;
- `landing_links(base_url) -> list[dict]`: links added to the landing page;
- `openapi(oas, collection_ids, coverage_ids)`: adds its paths to the OpenAPI document, as
  they are answered (after services/front_openapi.py has bundled and annotated the rest).
A request no route matches goes on to pygeoapi unchanged.
"""
from __future__ import annotations

import importlib
from functools import lru_cache
from types import ModuleType
from typing import Any

from starlette.routing import Router
from starlette.types import ASGIApp

FRONT_MODULES = (
    "services.ops",            # /health, /ready, /metrics
    "services.jobs.api",       # OGC API Processes: execution and jobs (owners, the queue)
    "services.tiles.vector",   # OGC API Tiles, vector (MVT), both stores
    "services.tiles.raster",   # raster map tiles of coverages (titiler-core factories)
    "services.styles",         # OGC API Styles: QML, SLD 1.1, MapLibre style JSON
    "services.webmap",         # /map: the agency's MapLibre web map
    "services.vendor",         # /vendor: the libraries of pygeoapi's HTML pages (no CDN)
    "services.photos",         # site photos of features: list, upload, image, delete
    "services.aggregate",      # /collections/{id}/aggregate: grouped figures for dataviz
    "services.fiche",          # /collections/friches/items/{id}/fiche: a friche's sheet
    "services.keyfigures",     # /chiffres-cles/indicateurs: the key figures' definitions
    "services.territoires",    # /territoires/{code}: the page of a territory (key figures)
    "services.history",        # /collections/{id}/items/{fid}/history: versions (audit)
    "services.zae_dataviz",    # /dataviz/zae/{id}, /dataviz/epci/{siren}: parks by month
    "services.usage",          # /admin/usage: the solar cadastre's usage counts (admin)
    "services.fastread",       # JSON items and item in one hop (last: the routes above win)
)


@lru_cache(maxsize=1)
def modules() -> tuple[ModuleType, ...]:
    loaded = []
    for name in FRONT_MODULES:
        try:
            loaded.append(importlib.import_module(name))
        except ModuleNotFoundError as err:
            if err.name != name:  # a missing dependency inside the module is a real error
                raise
    return tuple(loaded)


def router(default: ASGIApp) -> Router:
    routes = []
    for module in modules():
        if hasattr(module, "routes"):
            routes.extend(module.routes())
    # no slash redirects: pygeoapi decides for its own paths
    return Router(routes=routes, default=default, redirect_slashes=False)


def collection_links(spec: Any, base_url: str) -> list[dict[str, Any]]:
    links: list[dict[str, Any]] = []
    for module in modules():
        if hasattr(module, "collection_links"):
            links.extend(module.collection_links(spec, base_url))
    return links


def landing_links(base_url: str) -> list[dict[str, Any]]:
    links: list[dict[str, Any]] = []
    for module in modules():
        if hasattr(module, "landing_links"):
            links.extend(module.landing_links(base_url))
    return links


def openapi(oas: dict[str, Any], collection_ids: list[str], coverage_ids: list[str]) -> None:
    for module in modules():
        if hasattr(module, "openapi"):
            module.openapi(oas, collection_ids, coverage_ids)


def conformance() -> list[str]:
    classes: list[str] = []
    for module in modules():
        if hasattr(module, "conformance"):
            classes.extend(c for c in module.conformance() if c not in classes)
    return classes

