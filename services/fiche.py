"""GET /collections/friches/items/{featureId}/fiche: one brownfield's sheet (issue 15), an
HTML page to read and print (A4), or a PDF (``?f=pdf``).

What it shows is computed for each request, never kept: the friche as stored now (a criterion
an agent has just stored shows at once), its mutability by the ``mutability`` process run
in-process (processes/mutability/processor.py), its photos (services/photos.py, when that
module is there), the hazard layers within 500 m and a locator map, read through the facade
the processes use (services/layers.py: no SQL here). The content is built by the pure module
services/fiche_model.py (drawings: services/fiche_svg.py) and written by the Jinja template
services/templates/fiche.html, in the reader's language (``?lang=``, then Accept-Language).

- Parameters: ``f`` (``html``, default, or ``pdf``), ``lang``; any other is refused by the
  edge (services/edge.py). An unknown friche: 404, a bilingual HTML page for a browser, the
  bilingual OGC exception (JSON) for a client that asks for JSON.
- The work runs in a worker thread (never on the event loop), at most LIMIT sheets at a time
  per server process, within TIMEOUT seconds (503 beyond).
- Caching: a data route (services/routes.py): ``Cache-Control: no-cache`` and an ETag of the
  body (services/caching.py), so a browser revalidates and sees an edit at once.
- PDF: WeasyPrint (optional dependency ``.[pdf]``, with Debian's pango), which runs no
  JavaScript: the chart and the map are SVG written on the server. The renderer fetches
  nothing but this friche's photo thumbnails, from this server.
"""
from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache, partial
from typing import Any
from urllib.parse import quote

import anyio
import anyio.to_thread
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from services import fiche_model
from services.errors import OGCError
from services.i18n import pick_language

LOGGER = logging.getLogger("artois_geo.fiche")
COLLECTION = "friches"
PATH = f"/collections/{COLLECTION}/items/{{featureId}}/fiche"
PARAMETERS = {"f", "lang", "_"}  # declared to the edge (services/edge.py)
FORMATS = ("html", "pdf")
LIMIT = 2          # sheets computed at once per server process
TIMEOUT = 30.0     # seconds
MAX_ID = 200       # characters of a feature identifier worth looking up
PDF_SETUP = "pip install '.[pdf]' (WeasyPrint) and apt-get install libpango-1.0-0"
_limiter: anyio.CapacityLimiter | None = None


def _capacity() -> anyio.CapacityLimiter:
    global _limiter
    if _limiter is None:  # made in the event loop that uses it
        _limiter = anyio.CapacityLimiter(LIMIT)
    return _limiter


def base_url() -> str:
    """The public URL the server writes in its links (pygeoapi's runtime configuration)."""
    from pygeoapi.starlette_app import CONFIG
    return CONFIG["server"]["url"].rstrip("/")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(fiche_model.HERE / "templates")),
                      autoescape=select_autoescape(["html"]), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["q"] = lambda value: quote(str(value), safe="")
    return env


# ---------------------------------------------------------------------------- reading
def _mutability(site_id: str, lang: str) -> tuple[dict | None, str | None]:
    """The ``mutability`` process's outputs for the friche, or the reason it failed (a 4xx
    of the process is shown in the sheet; a 5xx is the server's and propagates)."""
    from processes.mutability.processor import MutabilityProcessor

    try:
        _, outputs = MutabilityProcessor({"name": "mutability"}).execute({"friche": site_id})
    except OGCError as err:
        if err.status >= 500:
            raise
        return None, err.texts.get(lang) or str(err)
    return outputs, None


def _photos(feature_id: str) -> tuple[list[dict], bool]:
    """(photos, whether the photo module is installed); read lazily: services/photos.py is
    a separate part."""
    try:
        from services import photos
    except ModuleNotFoundError as err:
        if err.name != "services.photos":
            raise
        return [], False
    lister = getattr(photos, "list_photos", None)
    if lister is None:
        return [], False
    try:  # without settings: inside the server the hrefs take the public URL it serves
        return list(lister(COLLECTION, feature_id) or []), True
    except OSError as err:  # the photo files: the sheet still shows without them
        LOGGER.warning("photos of %s unreadable: %s", feature_id, err)
        return [], True


def _frames(geometry: Any, settings: Any, view: Any) -> dict[str, Any]:
    """The layers around the site: the map's frame for the map layers, 500 m for the hazard
    layers; None for a collection that is not published or that the caller may not read."""
    from services.fiche_svg import map_box
    from services.layers import UnknownCollection, read_collection

    anchor = geometry.representative_point()
    r = fiche_model.HAZARD_RADIUS
    near = (anchor.x - r, anchor.y - r, anchor.x + r, anchor.y + r)
    frame = map_box(anchor.x, anchor.y)
    out: dict[str, Any] = {}
    for cid in dict.fromkeys((*fiche_model.MAP_LAYERS, *fiche_model.HAZARD_LAYERS)):
        box = frame if cid in fiche_model.MAP_LAYERS else near
        if not view.sees(cid):
            out[cid] = None
            continue
        try:
            out[cid] = read_collection(cid, bbox=box, settings=settings)
        except (UnknownCollection, FileNotFoundError):
            out[cid] = None
    return out


def compute(feature_id: str, lang: str, fmt: str, base: str,
            local: str | None = None, view: Any = None) -> bytes | str | None:
    """The sheet of one friche (HTML text, or PDF bytes), None for an unknown friche, as the
    caller's access `view` allows (services/access.py; default: everything). Runs in a
    worker thread."""
    from services.access import FULL
    from services.layers import demo_collections, get_feature
    from services.settings import get_settings
    from services.store import get_catalog

    settings = get_settings()
    if len(feature_id) > MAX_ID or any(ord(c) < 32 or ord(c) == 127 for c in feature_id):
        return None  # no identifier of the store looks like this (and PostgreSQL refuses NUL)
    feature = get_feature(COLLECTION, feature_id, settings)
    if feature is None:
        return None
    view = view if view is not None else FULL
    hidden = view.hidden(COLLECTION)
    props = {k: v for k, v in feature["properties"].items() if k not in hidden}
    geometry = feature["geometry"]
    site_id = str(props.get("site_id") or feature_id)
    outputs, error = _mutability(site_id, lang)
    found, available = _photos(feature_id)
    frames = _frames(geometry, settings, view) if geometry is not None and not geometry.is_empty \
        else {}
    specs = get_catalog(settings).specs
    model = fiche_model.build(
        props=props, point=geometry if frames else None, output=outputs, error=error,
        found_photos=found, photos_available=available, frames=frames,
        titles={cid: spec.title for cid, spec in specs.items()},
        demo=demo_collections(settings), spec_fields=specs[COLLECTION].fields, lang=lang,
        today=dt.date.today())
    html = render(model, base, feature_id, pdf=fmt == "pdf")
    return _pdf(html, base, local) if fmt == "pdf" else html


def render(model: dict[str, Any], base: str, feature_id: str, pdf: bool = False) -> str:
    item = f"{base}/collections/{COLLECTION}/items/{quote(feature_id, safe='')}"
    links = {"home": f"{base}/", "collection": f"{base}/collections/{COLLECTION}",
             "items": f"{base}/collections/{COLLECTION}/items", "item": item,
             "sheet": f"{item}/fiche", "map": f"{base}/map"}
    mut = model["mutability"]
    if mut is not None:
        mut = {**mut, "chart": Markup(mut["chart"])}
    return _environment().get_template("fiche.html").render(
        **{**model, "mutability": mut, "map": Markup(model["map"]) if model["map"] else None},
        links=links, pdf=pdf)


# ---------------------------------------------------------------------------- PDF
def _pdf(html: str, base: str, local: str | None) -> bytes:
    try:
        weasyprint = _weasyprint()
        HTML, URLFetcher = weasyprint.HTML, weasyprint.urls.URLFetcher
    except (ImportError, OSError):  # not installed, or Debian's pango missing
        raise OGCError("fiche_pdf_unavailable", status=503, command=PDF_SETUP) from None

    photos = f"{base}/collections/{COLLECTION}/items/"

    class SheetFetcher(URLFetcher):
        """Only data: URIs and this server's photo thumbnails, read at the address the
        request came in on (the public URL may be a proxy's)."""

        def fetch(self, url, headers=None):
            if url.startswith("data:"):
                return super().fetch(url, headers)
            if local and url.startswith(photos) and "/photos/" in url[len(photos):] \
                    and ".." not in url:
                return super().fetch(local + url[len(base):], headers)
            raise ValueError(f"not fetched for a sheet: {url[:80]}")

    fetcher = SheetFetcher(timeout=5, allowed_protocols=("http", "https", "data"),
                           allow_redirects=False)
    return HTML(string=html, base_url=base + "/", url_fetcher=fetcher).write_pdf()


def _weasyprint():
    """weasyprint, imported without its side effect on the whole process: it sets Pillow's
    `ImageFile.LOAD_TRUNCATED_IMAGES = True` at import, after which the photo uploads
    (services/photo_images.py) would accept truncated images."""
    from PIL import ImageFile
    before = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        import weasyprint
        import weasyprint.urls  # noqa: F401
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = before
    return weasyprint


def _pdf_available() -> bool:
    try:
        _weasyprint()
    except (ImportError, OSError):
        return False
    return True


# ---------------------------------------------------------------------------- HTTP
def _wants_json(request: Request) -> bool:
    accept = (request.headers.get("accept") or "").lower()
    return "json" in accept and "text/html" not in accept


def _not_found(request: Request, feature_id: str, lang: str) -> Response:
    err = OGCError("fiche_not_found", status=404, id=feature_id[:80])
    if _wants_json(request):
        return err.response()  # the error handler answers in the reader's language
    t = fiche_model.Texts(lang)
    other = fiche_model.Texts("en" if lang == "fr" else "fr")
    page = _environment().get_template("fiche_error.html").render(
        lang=lang, title=t("fiche_not_found_title"), other_title=other("fiche_not_found_title"),
        text=err.texts[lang], other_text=err.texts[other.lang], other_lang=other.lang,
        back=t("fiche_back_collection"), other_back=other("fiche_back_collection"),
        collection=f"{base_url()}/collections/{COLLECTION}/items")
    return HTMLResponse(page, status_code=404, headers={"Content-Language": lang,
                                                         "Vary": "Accept, Accept-Language"})


async def fiche(request: Request) -> Response:
    feature_id = request.path_params["featureId"]
    lang = pick_language(request.headers.get("accept-language"),
                         request.query_params.get("lang"))
    fmt = (request.query_params.get("f") or "html").lower()
    if fmt not in FORMATS:
        raise OGCError("fiche_format", value=fmt, allowed=", ".join(FORMATS))
    if fmt == "pdf" and not _pdf_available():
        raise OGCError("fiche_pdf_unavailable", status=503, command=PDF_SETUP)
    # the socket this request came in on (``artois-geo serve`` speaks plain HTTP; the scheme
    # of the request may be a TLS proxy's): where the PDF renderer reads the photos
    server = request.scope.get("server")
    host = f"[{server[0]}]" if server and ":" in str(server[0]) else server[0] if server else ""
    local = f"http://{host}:{server[1]}" if server and server[1] else None
    from services.access import current_view
    work = partial(compute, feature_id, lang, fmt, base_url(), local, current_view())
    try:
        with anyio.fail_after(TIMEOUT):
            page = await anyio.to_thread.run_sync(work, limiter=_capacity(),
                                                  abandon_on_cancel=True)
    except TimeoutError:
        raise OGCError("fiche_timeout", status=503, seconds=int(TIMEOUT)) from None
    if page is None:
        return _not_found(request, feature_id, lang)
    headers = {"Content-Language": lang, "Vary": "Accept-Language"}
    if fmt == "pdf":
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in feature_id)[:80]
        headers["Content-Disposition"] = f'inline; filename="fiche-{name}.pdf"'
        return Response(page, media_type="application/pdf", headers=headers)
    return HTMLResponse(page, headers=headers)


def routes() -> list[BaseRoute]:
    return [Route(PATH, fiche, methods=["GET", "HEAD"])]


def openapi(oas: dict[str, Any], collection_ids: list[str], coverage_ids: list[str]) -> None:
    """The sheet's path in the OpenAPI document (services/front.py: openapi)."""
    if COLLECTION not in collection_ids:
        return
    from services.front_openapi import error_response
    error = error_response()
    page = {"schema": {"type": "string"}}
    oas.setdefault("paths", {}).setdefault(PATH, {"get": {
        "tags": ["fiche"], "operationId": "getFricheSheet",
        "summary": "Fiche d'une friche (HTML imprimable, PDF) / a brownfield's sheet",
        "description": "Identity, location map, photos, field check, EPCI project, "
                       "mutability (Mutafriches) with its criteria and hazards within 500 m, "
                       "computed for each request; French or English (lang, Accept-Language).",
        "parameters": [
            {"name": "featureId", "in": "path", "required": True,
             "schema": {"type": "string"}, "description": "site_id of the friche"},
            {"name": "f", "in": "query", "required": False,
             "schema": {"type": "string", "enum": list(FORMATS), "default": "html"}},
            {"name": "lang", "in": "query", "required": False,
             "schema": {"type": "string", "enum": ["fr", "en"]}}],
        "responses": {
            "200": {"description": "The sheet / la fiche",
                    "content": {"text/html": page, "application/pdf": {
                        "schema": {"type": "string", "format": "binary"}}}},
            "304": {"description": "Not modified (If-None-Match matched the ETag)"},
            "400": error,
            "404": {**error, "content": {**error["content"], "text/html": page}},
            "503": error}}})
    tags = oas.setdefault("tags", [])
    if not any(t.get("name") == "fiche" for t in tags):
        tags.append({"name": "fiche", "description": "Fiche friche / brownfield sheet"})
