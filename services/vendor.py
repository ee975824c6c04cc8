"""/vendor: the browser libraries of pygeoapi's HTML pages, served by this server, never a CDN.

pygeoapi's templates load Leaflet, its plugins, the CoverageJSON viewer, Bootstrap and
Swagger UI from unpkg.com, cdn.jsdelivr.net and cdnjs.cloudflare.com; the agency's network
may have no internet access. The same libraries come from npm (pinned in package.json and
package-lock.json, installed in ``node_modules`` by ``npm ci --omit=dev``):

- ``/vendor/{package}/{file}`` serves only the (package, file) pairs of FILES: no directory
  listing, no path built from the request (the path is looked up in the whitelist, never
  joined), a day of cache (services.caching, the versions are pinned);
- ``rewrite_cdn_urls(html, base_url)`` turns the CDN URLs of a rendered page into those local
  URLs, with the fixed mapping CDN_PREFIXES (applied to pygeoapi's template output).

The base map of pygeoapi's item maps (``server.map.url``: OpenStreetMap tiles) is data, not a
library: it is left as configured.
"""
from __future__ import annotations

from pathlib import PurePosixPath

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from services.errors import OGCError
from services.settings import PROJECT_DIR

NODE_MODULES = PROJECT_DIR / "node_modules"
PREFIX = "/vendor"
SETUP_COMMAND = "npm ci --omit=dev --no-audit --no-fund"

_LEAFLET_IMAGES = ("layers.png", "layers-2x.png", "marker-icon.png", "marker-icon-2x.png",
                   "marker-shadow.png")
# package -> the files pygeoapi's pages load (and the images their CSS and code ask for)
FILES: dict[str, frozenset[str]] = {
    "leaflet": frozenset(["dist/leaflet.js", "dist/leaflet.js.map", "dist/leaflet.css",
                          *(f"dist/images/{name}" for name in _LEAFLET_IMAGES)]),
    "leaflet.markercluster": frozenset(["dist/MarkerCluster.css", "dist/MarkerCluster.Default.css",
                                        "dist/leaflet.markercluster-src.js",
                                        "dist/leaflet.markercluster-src.js.map"]),
    "leaflet-draw": frozenset(["dist/leaflet.draw.css", "dist/leaflet.draw.js",
                               "dist/images/spritesheet.png", "dist/images/spritesheet-2x.png",
                               "dist/images/spritesheet.svg"]),
    "leaflet.vectorgrid": frozenset(["dist/Leaflet.VectorGrid.bundled.js",
                                     "dist/Leaflet.VectorGrid.bundled.js.map"]),
    "leaflet-coverage": frozenset(["leaflet-coverage.css", "leaflet-coverage.min.js",
                                   "leaflet-coverage.min.js.map"]),
    "covutils": frozenset(["covutils.min.js", "covutils.min.js.map"]),
    "covjson-reader": frozenset(["covjson-reader.src.js", "covjson-reader.src.js.map"]),
    "d3": frozenset(["dist/d3.js"]),
    "c3": frozenset(["c3.css", "c3.js"]),
    "bootstrap": frozenset(["dist/css/bootstrap.min.css", "dist/css/bootstrap.min.css.map"]),
    "html5shiv": frozenset(["dist/html5shiv.js"]),
    "swagger-ui-dist": frozenset(["swagger-ui.css", "swagger-ui.css.map", "swagger-ui-bundle.js",
                                  "swagger-ui-bundle.js.map", "swagger-ui-standalone-preset.js",
                                  "swagger-ui-standalone-preset.js.map", "favicon-16x16.png",
                                  "favicon-32x32.png"]),
}
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".map": "application/json",
               ".png": "image/png", ".svg": "image/svg+xml"}

# CDN prefix in pygeoapi 0.24's templates -> package folder under /vendor. The versions the
# templates name are replaced by those of package-lock.json (Leaflet 1.9.4 for 1.3.1: same API).
CDN_PREFIXES: dict[str, str] = {
    "https://unpkg.com/leaflet@1.3.1/": "leaflet/",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet/1.3.1/": "leaflet/dist/",
    "https://unpkg.com/leaflet.markercluster/": "leaflet.markercluster/",
    "https://unpkg.com/leaflet-draw@1.0.4/": "leaflet-draw/",
    "https://unpkg.com/leaflet.vectorgrid@latest/": "leaflet.vectorgrid/",
    "https://unpkg.com/leaflet-coverage@0.7/": "leaflet-coverage/",
    "https://unpkg.com/covutils@0.6/": "covutils/",
    "https://unpkg.com/covjson-reader@0.16/": "covjson-reader/",
    "https://cdn.jsdelivr.net/npm/d3@5.16.0/": "d3/",
    "https://cdn.jsdelivr.net/npm/c3@0.7.20/": "c3/",
    "https://unpkg.com/bootstrap@5.1.3/": "bootstrap/",
    "https://cdnjs.cloudflare.com/ajax/libs/html5shiv/3.7.3/": "html5shiv/dist/",
    "https://unpkg.com/swagger-ui-dist/": "swagger-ui-dist/",
}
# Leaflet.ImageOverlay.OGCAPI is not on npm; the collection page calls it only for a
# collection with an OGC API Maps link (rel .../ogc/1.0/map), which none of ours has.
REMOVED_TAGS = (
    '<script src="https://unpkg.com/leaflet-imageoverlay-ogcapi@0.1.0/'
    'Leaflet.ImageOverlay.OGCAPI.js"></script>',
)


def rewrite_cdn_urls(html: str, base_url: str) -> str:
    """The page with each CDN URL of CDN_PREFIXES pointing at this server's /vendor."""
    local = base_url.rstrip("/") + PREFIX + "/"
    for tag in REMOVED_TAGS:
        html = html.replace(tag, "")
    for cdn, folder in CDN_PREFIXES.items():
        html = html.replace(cdn, local + folder)
    return html


def installed() -> bool:
    return (NODE_MODULES / "leaflet" / "dist" / "leaflet.js").is_file()


async def vendor_file(request: Request) -> Response:
    package, name = request.path_params["package"], request.path_params["path"]
    if name not in FILES.get(package, ()):
        return OGCError("file_not_found", status=404, name=f"{package}/{name}").response()
    path = NODE_MODULES / package / name  # both parts come from the whitelist
    if not path.is_file():
        return OGCError("vendor_missing", status=503, command=SETUP_COMMAND).response()
    return FileResponse(path, media_type=MEDIA_TYPES[PurePosixPath(name).suffix])


def routes() -> list[BaseRoute]:
    return [Route(PREFIX + "/{package}/{path:path}", vendor_file, methods=["GET", "HEAD"])]
