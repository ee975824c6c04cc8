"""OGC API Styles: each collection's styles as QML, SLD 1.1 and MapLibre style JSON, and the
QGIS project of every layer (/qgis/artois.qgs, for QGIS and Lizmap).

The styles are the files of styles/ named in styles/index.yml (services/style_encodings.py
writes them); a request can only reach a name from that index, never a path it made up.
"""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from services.errors import OGCError
from services.style_encodings import (BASE_URL_PLACEHOLDER, ENCODINGS, Style, encode,
                                      load_index)

STYLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/styles"
CONF = "http://www.opengis.net/spec/ogcapi-styles-1/1.0/conf/"
SPECIFICATIONS = {  # encoding -> (title, version, specification)
    "qml": ("QGIS QML", "3.22",
            "https://docs.qgis.org/3.22/en/docs/user_manual/appendices/qgis_file_formats.html"),
    "sld": ("OGC SLD 1.1 / SE 1.1", "1.1", "http://www.opengis.net/doc/IS/SE/1.1"),
    "mapbox": ("MapLibre style", "8", "https://maplibre.org/maplibre-style-spec/"),
}
ACCEPT_ALIASES = {"application/vnd.qgis.qml": "qml", "application/vnd.ogc.sld+xml": "sld",
                  "application/vnd.ogc.se+xml": "sld", "application/xml": "sld",
                  "text/xml": "sld", "application/vnd.mapbox.style+json": "mapbox",
                  "application/json": "mapbox", "*/*": "mapbox", "application/*": "mapbox"}


def conformance() -> list[str]:
    return [CONF + c for c in ("core", "json", "mapbox-styles", "sld-11")]


def base_url() -> str:
    """The public URL the server writes in its links (pygeoapi's runtime configuration)."""
    from pygeoapi.starlette_app import CONFIG
    return CONFIG["server"]["url"].rstrip("/")


def _lang(request: Request) -> str:
    from services.i18n import pick_language
    return pick_language(request.headers.get("accept-language"), request.query_params.get("lang"))


def _stylesheet_links(base: str, style: Style, lang: str) -> list[dict[str, Any]]:
    href = f"{base}/collections/{style.collection}/styles/{style.id}"
    return [{"rel": "stylesheet", "type": ENCODINGS[enc][1], "href": f"{href}?f={enc}",
             "title": f"{style.title[lang]} ({SPECIFICATIONS[enc][0]})"} for enc in ENCODINGS]


def collection_links(spec: Any, base_url: str) -> list[dict[str, Any]]:
    styles = load_index().get(spec.id)
    if not styles:
        return []
    base = base_url.rstrip("/")
    links = [{"rel": STYLES_REL, "type": "application/json",
              "title": "Styles de la collection / Styles of the collection",
              "href": f"{base}/collections/{spec.id}/styles"}]
    return links + _stylesheet_links(base, next(iter(styles.values())), "fr")


def _style_entry(base: str, style: Style, lang: str) -> dict[str, Any]:
    meta = f"{base}/collections/{style.collection}/styles/{style.id}/metadata"
    return {"id": style.id, "title": style.title[lang], "collection": style.collection,
            "links": _stylesheet_links(base, style, lang) + [
                {"rel": "describedby", "type": "application/json", "href": meta,
                 "title": "Métadonnées du style / Style metadata"}]}


def _collection_styles(cid: str) -> dict[str, Style] | Response:
    from services.store import get_catalog

    styles = load_index().get(cid)
    if styles is None and cid not in get_catalog().specs:
        return OGCError("collection_not_found", status=404, collection=cid).response()
    return styles or {}


async def all_styles(request: Request) -> Response:
    from services.access import current_view  # the collections the caller may read
    base, lang, view = base_url(), _lang(request), current_view()
    entries = [_style_entry(base, s, lang) for cid, styles in load_index().items()
               if view.sees(cid) for s in styles.values()]
    return JSONResponse({"styles": entries, "links": [
        {"rel": "self", "type": "application/json", "href": f"{base}/styles"}]})


async def collection_styles(request: Request) -> Response:
    cid = request.path_params["collectionId"]
    styles = _collection_styles(cid)
    if isinstance(styles, Response):
        return styles
    base, lang = base_url(), _lang(request)
    return JSONResponse({
        "default": next(iter(styles), None),
        "styles": [_style_entry(base, s, lang) for s in styles.values()],
        "links": [{"rel": "self", "type": "application/json",
                   "href": f"{base}/collections/{cid}/styles"},
                  {"rel": "collection", "type": "application/json",
                   "href": f"{base}/collections/{cid}"}]})


def _find(request: Request) -> Style | Response:
    cid, sid = request.path_params["collectionId"], request.path_params["styleId"]
    styles = _collection_styles(cid)
    if isinstance(styles, Response):
        return styles
    if sid not in styles:
        known = ", ".join(styles) or "-"
        return OGCError("style_not_found", status=404, collection=cid, style=sid,
                        known=known).response()
    return styles[sid]


def _negotiate(request: Request) -> str | Response:
    wanted = request.query_params.get("f")
    if wanted is not None:
        if wanted not in ENCODINGS:
            return OGCError("style_format_unknown", value=wanted).response()
        return wanted
    accept = request.headers.get("accept") or "*/*"
    ranked = []
    for i, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = next((float(p[2:]) for p in params if p.startswith("q=")
                  and p[2:].replace(".", "", 1).isdigit()), 1.0)
        if media.lower() in ACCEPT_ALIASES and q > 0:
            ranked.append((-q, i, ACCEPT_ALIASES[media.lower()]))
    if not ranked:
        return OGCError("style_not_acceptable", status=406, accept=accept).response()
    return min(ranked)[2]


def stylesheet(style: Style, encoding: str, base: str) -> str:
    text = style.path(encoding).read_text(encoding="utf-8") if style.path(encoding).exists() \
        else encode(style, encoding)
    return text.replace(BASE_URL_PLACEHOLDER, base)


async def style(request: Request) -> Response:
    found = _find(request)
    if isinstance(found, Response):
        return found
    encoding = _negotiate(request)
    if isinstance(encoding, Response):
        return encoding
    media = ENCODINGS[encoding][1]
    if encoding != "mapbox":  # XML: name the charset inside the media type
        media += "; charset=utf-8"
    filename = found.name + ENCODINGS[encoding][0]
    return Response(stylesheet(found, encoding, base_url()), media_type=media,
                    headers={"Content-Disposition": f'inline; filename="{filename}"',
                             "Vary": "Accept"})


async def style_metadata(request: Request) -> Response:
    found = _find(request)
    if isinstance(found, Response):
        return found
    base, lang = base_url(), _lang(request)
    href = f"{base}/collections/{found.collection}/styles/{found.id}"
    geometry = {"point": "point", "line": "line", "fill": "polygon", "outline": "polygon",
                "raster": "raster"}[found.symbol]
    sample = (f"{base}/collections/{found.collection}/coverage" if geometry == "raster"
              else f"{base}/collections/{found.collection}/items")
    return JSONResponse({
        "id": found.id,
        "title": found.title[lang],
        "description": found.description[lang],
        "titles": found.title, "descriptions": found.description,
        "keywords": [found.collection],
        "scope": "style",
        "stylesheets": [{"title": SPECIFICATIONS[enc][0], "version": SPECIFICATIONS[enc][1],
                         "specification": SPECIFICATIONS[enc][2], "native": True,
                         "link": {"rel": "stylesheet", "type": ENCODINGS[enc][1],
                                  "href": f"{href}?f={enc}"}} for enc in ENCODINGS],
        "layers": [{"id": found.collection, "type": geometry,
                    "sampleData": {"rel": "start", "href": sample}}],
        "legend": [{"label": c.label, "color": c.color} for c in found.classes],
        "links": [{"rel": "self", "type": "application/json", "href": f"{href}/metadata"},
                  {"rel": "collection", "type": "application/json",
                   "href": f"{base}/collections/{found.collection}"}],
    })


async def qgis_project(request: Request) -> Response:
    from services.qgis_project import project_xml
    return Response(project_xml(base_url()), media_type="application/x-qgis-project",
                    headers={"Content-Disposition": 'attachment; filename="artois.qgs"'})


def landing_links(base_url: str) -> list[dict[str, Any]]:
    return [{"rel": "http://www.opengis.net/def/rel/ogc/1.0/styles", "type": "application/json",
             "href": f"{base_url}/styles", "title": "Styles (QML, SLD 1.1, MapLibre)"},
            {"rel": "related", "type": "application/x-qgis-project",
             "href": f"{base_url}/qgis/artois.qgs",
             "title": "Projet QGIS / Lizmap de toutes les couches / QGIS / Lizmap project"}]


def routes() -> list[Route]:
    return [
        Route("/styles", all_styles, methods=["GET", "HEAD"]),
        Route("/collections/{collectionId}/styles", collection_styles, methods=["GET", "HEAD"]),
        Route("/collections/{collectionId}/styles/{styleId}", style, methods=["GET", "HEAD"]),
        Route("/collections/{collectionId}/styles/{styleId}/metadata", style_metadata,
              methods=["GET", "HEAD"]),
        Route("/qgis/artois.qgs", qgis_project, methods=["GET", "HEAD"]),
    ]
