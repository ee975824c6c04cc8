"""/map: the agency's web map (MapLibre GL JS), served entirely by this server.

- ``/map``: the page, in the reader's language (``?lang=`` or ``Accept-Language``; the page
  has its own toggle);
- ``/map/static/{file}``: the page's ES modules and CSS (``services/webmap/``);
- ``/map/vendor/{file}``: MapLibre GL JS from the npm package (``npm ci`` puts it in
  ``node_modules/maplibre-gl/dist``), never from a CDN: the agency's network may have no
  internet access;
- ``/map/catalog.json``: the bilingual titles of each collection and of its fields, from
  ``collections/*.yml`` (the OGC API answers in one language at a time).

Without ``node_modules`` the server still starts and ``/map`` answers 503 with the command to
run.
"""
from __future__ import annotations

import html
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from services.store import get_catalog
from services.errors import OGCError
from services.i18n import pick_language
from services.settings import PROJECT_DIR

STATIC_DIR = Path(__file__).resolve().parent / "webmap"
MAPLIBRE_DIST = PROJECT_DIR / "node_modules" / "maplibre-gl" / "dist"
# Only these names are served (no sub-folders, no dot-dot): the page's modules and CSS; the
# MapLibre ES module, its worker (loaded by the module from its own folder), CSS, source maps.
STATIC_FILE = re.compile(r"^[a-z0-9-]+\.(js|css)$")
VENDOR_FILE = re.compile(r"^maplibre-gl(-worker|-shared)?\.(mjs|css|mjs\.map)$")
SETUP_COMMAND = "npm ci --omit=dev --no-audit --no-fund"
MEDIA_TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css",
               ".map": "application/json"}


def maplibre_installed() -> bool:
    return (MAPLIBRE_DIST / "maplibre-gl.mjs").is_file()


def _missing_library_page(lang: str) -> HTMLResponse:
    texts = {
        "fr": ("Carte indisponible", "La bibliothèque MapLibre GL JS n'est pas installée sur ce "
               "serveur. Lancez l'installation (bash scripts/setup.sh) ou, à la racine du dépôt :"),
        "en": ("Map unavailable", "The MapLibre GL JS library is not installed on this server. "
               "Run the set-up (bash scripts/setup.sh) or, at the root of the repository:"),
    }
    title, text = texts[lang]
    body = (f'<!doctype html><html lang="{lang}"><meta charset="utf-8"><title>{title}</title>'
            f"<h1>{title}</h1><p>{html.escape(text)}</p><pre>{SETUP_COMMAND}</pre></html>")
    return HTMLResponse(body, status_code=503, headers={"Retry-After": "3600"})


def _page_template() -> str:
    return (STATIC_DIR / "index.html").read_text(encoding="utf-8")  # 2 kB: no cache needed


async def page(request: Request) -> Response:
    lang = pick_language(request.headers.get("accept-language"), request.query_params.get("lang"))
    if not maplibre_installed():
        return _missing_library_page(lang)
    # the reader's language is known here: the first paint needs no flash of the other one
    return HTMLResponse(_page_template().replace('<html lang="fr">', f'<html lang="{lang}">', 1),
                        headers={"Vary": "Accept-Language", "Cache-Control": "no-cache"})


def _file(folder: Path, name: str, pattern: re.Pattern, max_age: int) -> Response:
    path = folder / name
    if not pattern.match(name) or not path.is_file():
        return OGCError("file_not_found", status=404, name=name).response()
    return FileResponse(path, media_type=MEDIA_TYPES[path.suffix],
                        headers={"Cache-Control": f"public, max-age={max_age}"})


async def static(request: Request) -> Response:
    # no-cache: the browser revalidates (ETag) and sees a new version of the page at once
    return _file(STATIC_DIR, request.path_params["name"], STATIC_FILE, 0)


async def vendor(request: Request) -> Response:
    if not maplibre_installed():
        return OGCError("maplibre_missing", status=503, command=SETUP_COMMAND).response()
    # the version is pinned in package-lock.json: a day of cache is safe
    return _file(MAPLIBRE_DIST, request.path_params["name"], VENDOR_FILE, 86400)


@lru_cache(maxsize=1)
def _catalog() -> dict[str, Any]:
    out = {}
    for spec in get_catalog().specs.values():
        out[spec.id] = {
            "title": spec.title,
            "demo": spec.demo,
            "geometry_type": spec.geometry_type,
            "id_field": spec.id_field,
            "title_field": spec.title_field,
            "fields": {name: field["title"] for name, field in spec.fields.items()
                       if isinstance(field, dict) and isinstance(field.get("title"), dict)},
        }
    return out


async def catalog(request: Request) -> JSONResponse:
    from services.access import current_view  # the layers and fields the caller may read
    view = current_view()
    shown = {cid: entry if not view.hidden(cid) else
             {**entry, "fields": {k: v for k, v in entry["fields"].items()
                                  if k not in view.hidden(cid)}}
             for cid, entry in _catalog().items() if view.sees(cid)}
    return JSONResponse(shown, headers={"Cache-Control": "public, max-age=300"})


async def trailing_slash(request: Request) -> Response:
    return RedirectResponse("../map", status_code=308)  # relative: works behind a path prefix


def landing_links(base_url: str) -> list[dict[str, str]]:
    return [{"rel": "related", "type": "text/html", "href": f"{base_url}/map",
             "title": "Carte web de l'agence / The agency's web map"}]


def routes() -> list[BaseRoute]:
    return [
        Route("/map", page, methods=["GET", "HEAD"]),
        Route("/map/", trailing_slash, methods=["GET", "HEAD"]),
        Route("/map/catalog.json", catalog, methods=["GET", "HEAD"]),
        Route("/map/vendor/{name}", vendor, methods=["GET", "HEAD"]),
        Route("/map/static/{name}", static, methods=["GET", "HEAD"]),
    ]
