"""Which route a request is for, found once: its template and its kind.

The layers that care about the kind of resource (services/ops.py: RequestMetrics labels,
services/caching.py: HTTPCaching's Cache-Control) do not match paths themselves. The first of
them to see a request calls `route_of(scope, table)`: the path is matched once against the
Starlette route patterns the application serves (the front routes of services/front.py, then
pygeoapi's own), and the result is kept in the scope under SCOPE_KEY for the layers inside.

- `template`: the route's path template with its parameters under a few canonical names
  (`/collections/{id}/items/{fid}`, `/tiles/{tms}/{z}/{y}/{x}`): a metric label, so never a
  raw path; a path no route matches is `other`.
- `kind`: what caching does with it (services.caching.CachePolicy): `private` (operations,
  jobs and executions: never stored), `tiles`, `static` (tile matrix sets, styles, legends,
  libraries) or `data` (everything else: revalidated on every use).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterable

from starlette.routing import BaseRoute, Mount, compile_path
from starlette.types import Scope

SCOPE_KEY = "artois.route"

# the parameter names of the routes (front modules and pygeoapi name them differently)
# under one name each, so that one kind of resource has one label
CANONICAL_NAMES = {
    "cid": "id", "collectionId": "id", "collection_id": "id", "process_id": "id",
    "job_id": "id", "item_id": "fid", "featureId": "fid",
    "tileMatrixSetId": "tms", "tileMatrix": "z", "tile_matrix": "z",
    "tileRow": "y", "row": "y", "tileCol": "x", "col": "x",
}
_PARAM = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")


@dataclass(frozen=True)
class RouteInfo:
    template: str
    kind: str


OTHER = RouteInfo("other", "data")


def canonical(template: str) -> str:
    """`/collections/{collection_id:path}/items` -> `/collections/{id}/items`."""
    return _PARAM.sub(lambda m: "{" + CANONICAL_NAMES.get(m.group(1), m.group(1)) + "}",
                      template)


def kind_of(template: str) -> str:
    """The kind of a canonical template (decided once per route, not per request)."""
    if template in ("/health", "/ready", "/metrics") or template == "/jobs" or \
            template.startswith(("/jobs/", "/processes/{id}/execution")):
        return "private"
    if "/tiles/" in template and template.endswith(("/{z}/{y}/{x}", "/{z}/{y}/{x}.pbf")):
        return "tiles"
    first = template.split("/")[1] if template.count("/") else ""
    if first in ("tileMatrixSets", "TileMatrixSets", "vendor", "styles") or \
            template.startswith(("/map/vendor/", "/map/static/", "/collections/{id}/styles",
                                 "/collections/{id}/legend")):
        return "static"
    return "data"


def _flatten(routes: Iterable[BaseRoute], prefix: str = "") -> Iterable[str]:
    for route in routes:
        path = getattr(route, "path", None)
        if path is None:
            continue
        if isinstance(route, Mount):
            children = route.routes
            if children:
                yield from _flatten(children, prefix + path)
            else:  # a mounted application (static files): everything under it
                yield prefix + path + "/{path:path}"
        else:
            yield prefix + path


class RouteTable:
    """The application's routes in matching order (the first match wins, as in Starlette)."""

    def __init__(self, routes: Iterable[BaseRoute]):
        self.entries: list[tuple[re.Pattern, RouteInfo]] = []
        for template in _flatten(routes):
            regex, _, _ = compile_path(template)
            label = canonical(template)
            self.entries.append((regex, RouteInfo(label, kind_of(label))))

    def match(self, path: str) -> RouteInfo:
        for regex, info in self.entries:
            if regex.match(path):
                return info
        return OTHER

    def templates(self) -> set[str]:
        return {info.template for _, info in self.entries} | {OTHER.template}


def route_of(scope: Scope, table: RouteTable) -> RouteInfo:
    """The request's route: the one found by an outer layer, or found now and kept."""
    info = scope.get(SCOPE_KEY)
    if info is None:
        info = scope[SCOPE_KEY] = table.match(scope["path"])
    return info
