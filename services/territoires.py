"""GET /territoires/{code}: the page of a territory (issue 16), and GET /territoires, the list.

One page per feature of the collection `chiffres-cles` (the INSEE code of a commune, the SIREN
of an EPCI, or `artois`), in the reader's language (``?lang=``, then Accept-Language; French
by default): its name and level, its key figures grouped by theme with the labels, units,
sources and data dates of the definitions (services/keyfigures.py; demonstration figures
marked), small charts drawn here as inline SVG (services/svg_charts.py: a bar chart per group
of indicators of the definitions file, the cycle km by period, a donut of the business parks'
available area, a radar of the shares against the parent territory), a locator map of its
polygon within its parent, and links to the parent and child territories. Responsive down to
a 360-px-wide phone and printable (services/templates/territoire.html).

Nothing is computed here but the page: the figures are the collection's, read through the
facade of the processes (services/layers.py: no SQL here). Parameters: ``f`` (``html`` only)
and ``lang``, any other refused by the edge (services/edge.py). An unknown code: 404, a
bilingual HTML page for a browser, the bilingual OGC exception for a client asking for JSON.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import anyio
import anyio.to_thread
from babel.dates import format_date
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from services import svg_charts
from services.errors import OGCError
from services.i18n import PageTexts, pick_language

COLLECTION = "chiffres-cles"
INDEX = "/territoires"
PATH = "/territoires/{code}"
FORMATS = ("html",)
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
BABEL_LOCALE = {"fr": "fr_FR", "en": "en_GB"}
LIMIT = 4  # pages computed at once per server process
# the cycle facilities by period of opening: one bar chart of these indicators
PERIODS = ("cyclable_km_avant_pdu_2018", "cyclable_km_depuis_pdu_2018",
           "cyclable_km_depuis_plan_2023")
ZAE = ("zae_surface_ha", "zae_surface_disponible_ha")
_limiter: anyio.CapacityLimiter | None = None


def _capacity() -> anyio.CapacityLimiter:
    global _limiter
    if _limiter is None:  # made in the event loop that uses it
        _limiter = anyio.CapacityLimiter(LIMIT)
    return _limiter


# ---------------------------------------------------------------------------- texts
class Texts(PageTexts):
    """``t("title")``: a text of the territory pages (the ``territoire_*`` entries of
    messages.po)."""

    def __init__(self, lang: str):
        super().__init__(lang, prefix="territoire_")


def number(value: Any, decimals: int, lang: str) -> str | None:
    """The value as the page writes it (None: no value)."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(float(value), format=pattern, locale=BABEL_LOCALE[lang],
                          decimal_quantization=True)


def _date(value: Any, lang: str) -> str | None:
    if not value:
        return None
    text = str(value)[:10]
    try:
        return format_date(dt.date.fromisoformat(text), format="long",
                           locale=BABEL_LOCALE[lang])
    except ValueError:
        return text


def _plain(value: Any) -> Any:
    """numpy scalars and NaN as plain Python values."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@lru_cache(maxsize=1)
def _environment() -> Environment:
    from pathlib import Path
    here = Path(__file__).resolve().parent / "templates"
    env = Environment(loader=FileSystemLoader(str(here)), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["q"] = lambda value: quote(str(value), safe="")
    return env


def base_url() -> str:
    from pygeoapi.starlette_app import CONFIG
    return CONFIG["server"]["url"].rstrip("/")


# ---------------------------------------------------------------------------- reading
def territories() -> dict[str, dict[str, Any]]:
    """Every feature of the collection by code: {"props": {...}, "geometry": shapely}."""
    from services.layers import read_collection
    gdf = read_collection(COLLECTION)
    out: dict[str, dict[str, Any]] = {}
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    for row, geom in zip(gdf[columns].to_dict("records"), gdf.geometry):
        props = {k: _plain(v) for k, v in row.items()}
        out[str(props["code"])] = {"props": props, "geometry": geom}
    return out


def _level(props: dict[str, Any]) -> str:
    return str(props.get("niveau") or "commune")


def _family(code: str, terr: dict[str, dict[str, Any]], top: str
            ) -> tuple[list[str], list[str], list[str]]:
    """(parents from the nearest, children, siblings in the parent) of a territory."""
    props = terr[code]["props"]
    level = _level(props)
    epcis = sorted((c for c, t in terr.items() if _level(t["props"]) == "epci"),
                   key=lambda c: str(terr[c]["props"].get("nom")))

    def communes_of(siren: str) -> list[str]:
        return sorted((c for c, t in terr.items() if _level(t["props"]) == "commune"
                       and str(t["props"].get("epci_siren")) == siren),
                      key=lambda c: str(terr[c]["props"].get("nom")))
    if level == "commune":
        siren = str(props.get("epci_siren"))
        parents = [c for c in (siren, top) if c in terr]
        return parents, [], communes_of(siren)
    if level == "epci":
        return ([top] if top in terr else []), communes_of(code), epcis
    return [], epcis, []


# ---------------------------------------------------------------------------- the model
def build(code: str, terr: dict[str, dict[str, Any]], doc: dict[str, Any], lang: str,
          base: str) -> dict[str, Any]:
    """The template's model of one territory (pure: the figures and definitions in)."""
    from processes.chiffres_cles.core import date_column

    t = Texts(lang)
    props, geom = terr[code]["props"], terr[code]["geometry"]
    top = doc.get("territoire") or "artois"
    parents, children, siblings = _family(code, terr, top)
    inds = {i["id"]: i for i in doc["indicateurs"]}

    def figure(ind: dict[str, Any], value: Any) -> dict[str, Any]:
        shown = number(value, ind.get("decimales") or 0, lang)
        return {"id": ind["id"], "label": ind["label"], "unit": ind["unit"],
                "value": value, "raw": "" if value is None else repr(value),
                "text": shown if shown is not None else t("na"), "demo": ind["demo"],
                "sub": bool(ind.get("groupe")) and ind["groupe"] != ind["id"]}

    def bar(chart: str, ids: list[str]) -> dict[str, Any] | None:
        ids = [i for i in ids if i in inds]
        values = [props.get(i) for i in ids]
        if not ids or not any((v or 0) > 0 for v in values):
            return None
        rows = [(inds[i]["label"], float(v or 0),
                 f"{number(v or 0, inds[i]['decimales'] or 0, lang)} {inds[i]['unit']}")
                for i, v in zip(ids, values)]
        title = t(f"chart_{chart}")
        return {"id": chart, "title": title, "demo": any(inds[i]["demo"] for i in ids),
                "svg": Markup(svg_charts.bar_chart(rows, title, chart))}

    themes = []
    for theme in doc["themes"]:
        members = [i for i in doc["indicateurs"] if i["theme"] == theme["id"]]
        if not members:
            continue
        charts = []
        groups = list(dict.fromkeys(i["groupe"] for i in members if i.get("groupe")))
        for group in groups:
            charts.append(bar(group, [i["id"] for i in members if i.get("groupe") == group
                                      and i["id"] != group]))
        if any(i["id"] in PERIODS for i in members):
            charts.append(bar("cyclable_periode", list(PERIODS)))
        if any(i["id"] == ZAE[0] for i in members):
            charts.append(_zae_donut(props, inds, lang, t))
        themes.append({"id": theme["id"], "label": theme["label"],
                       "figures": [figure(i, props.get(i["id"])) for i in members],
                       "demo": any(i["demo"] for i in members),
                       "charts": [c for c in charts if c]})

    compare = [c for c in parents if c != code][:1] or ([top] if code != top else [])
    radar = _radar(code, compare, terr, doc, lang, t)
    sources = []
    for src in doc["sources"]:
        sources.append({"id": src["id"], "text": src[f"source_{lang}"], "demo": src["demo"],
                        "date": _date(props.get(date_column(src["id"])), lang)})
    frame_code = parents[0] if parents else code
    layers = [([terr[c]["geometry"] for c in siblings or children], "ctx")]
    if frame_code != code:
        layers.append(([terr[frame_code]["geometry"]], "parent"))
    layers.append(([geom], "focus"))
    if not parents:
        layers.append(([terr[c]["geometry"] for c in children], "ctx-line"))
    frame = terr[frame_code]["geometry"]
    parent_name = terr[frame_code]["props"].get("nom") or frame_code
    map_title = t("map_title", name=props.get("nom") or code, parent=parent_name)
    locator = Markup(svg_charts.locator(frame, layers, map_title)) \
        if frame is not None and not frame.is_empty else None

    def link(c: str) -> dict[str, str]:
        p = terr[c]["props"]
        return {"code": c, "name": str(p.get("nom") or c), "level": t(f"level_{_level(p)}"),
                "href": f"{base}/territoires/{quote(c, safe='')}?lang={lang}"}
    level = _level(props)
    other = "en" if lang == "fr" else "fr"
    return {
        "lang": lang, "t": t, "code": code, "name": str(props.get("nom") or code),
        "level": level, "level_label": t(f"level_{level}"),
        "population": number(props.get("population"), 0, lang),
        "themes": themes, "radar": radar, "sources": sources, "locator": locator,
        "map_title": map_title,
        "computed": _date(props.get("date_calcul"), lang),
        "parents": [link(c) for c in parents],
        "children": [link(c) for c in children],
        "children_title": t("children_communes" if level == "epci" else "children_epci",
                            count=len(children)),
        "links": {"self": f"{base}/territoires/{quote(code, safe='')}",
                  "other_lang": f"{base}/territoires/{quote(code, safe='')}?lang={other}",
                  "index": f"{base}{INDEX}?lang={lang}", "map": f"{base}/map",
                  "home": f"{base}/",
                  "item": f"{base}/collections/{COLLECTION}/items/{quote(code, safe='')}",
                  "definitions": f"{base}/chiffres-cles/indicateurs?lang={lang}"},
    }


def _zae_donut(props: dict[str, Any], inds: dict[str, Any], lang: str, t: Texts
               ) -> dict[str, Any] | None:
    total, available = (float(props.get(k) or 0) for k in ZAE)
    if total <= 0 or ZAE[1] not in inds:
        return None
    unit, dec = inds[ZAE[0]]["unit"], inds[ZAE[0]]["decimales"] or 0
    rest = max(0.0, total - available)
    parts = [(t("zae_available"), available, f"{number(available, dec, lang)} {unit}",
              svg_charts.PALETTE[2]),
             (t("zae_other"), rest, f"{number(rest, dec, lang)} {unit}", svg_charts.GREY)]
    share = number(available / total * 100, 1, lang)
    title = t("chart_zae")
    return {"id": "zae", "title": title, "demo": inds[ZAE[0]]["demo"],
            "svg": Markup(svg_charts.donut(parts, title, f"{share} %", "zae"))}


def _radar(code: str, compare: list[str], terr: dict[str, Any], doc: dict[str, Any],
           lang: str, t: Texts) -> dict[str, Any] | None:
    shares = [i for i in doc["indicateurs"] if i["unit_fr"].strip() == "%"]
    if len(shares) < 3:
        return None
    series = []
    for i, c in enumerate([code, *compare]):
        p = terr[c]["props"]
        series.append((str(p.get("nom") or c), [p.get(s["id"]) for s in shares],
                       svg_charts.PALETTE[i]))
    title = t("radar")
    rows = [{"label": s["label"], "values": [number(vals[k], s["decimales"] or 0, lang)
                                              or t("na") for _, vals, _ in series]}
            for k, s in enumerate(shares)]
    return {"id": "radar", "title": title, "demo": any(s["demo"] for s in shares),
            "names": [n for n, _, _ in series], "rows": rows,
            "svg": Markup(svg_charts.radar([s["label"] for s in shares], series, title,
                                           "radar"))}


# ---------------------------------------------------------------------------- pages
def page(code: str, lang: str, base: str) -> str | None:
    """The territory's page (HTML), None for an unknown code. Runs in a worker thread."""
    from services.keyfigures import document
    if not CODE_RE.match(code):
        return None
    terr = territories()
    if code not in terr:
        return None
    model = build(code, terr, document(lang, base), lang, base)
    return _environment().get_template("territoire.html").render(**model)


def index_page(lang: str, base: str) -> str:
    from services.keyfigures import definitions
    t = Texts(lang)
    terr = territories()
    top = definitions().territory_code
    groups = []
    for siren in _family(top, terr, top)[1] if top in terr else []:
        communes = _family(siren, terr, top)[1]
        groups.append({"code": siren, "name": terr[siren]["props"].get("nom") or siren,
                       "communes": [(c, terr[c]["props"].get("nom") or c) for c in communes]})
    other = "en" if lang == "fr" else "fr"
    return _environment().get_template("territoire_index.html").render(
        lang=lang, t=t, base=base, top=top if top in terr else None,
        top_name=terr[top]["props"].get("nom") if top in terr else None, groups=groups,
        other_lang=f"{base}{INDEX}?lang={other}")


def _wants_json(request: Request) -> bool:
    accept = (request.headers.get("accept") or "").lower()
    return "json" in accept and "text/html" not in accept


def _lang_and_format(request: Request) -> str:
    fmt = (request.query_params.get("f") or "html").lower()
    if fmt not in FORMATS:
        raise OGCError("invalid_format", f=fmt[:20], allowed=", ".join(FORMATS))
    return pick_language(request.headers.get("accept-language"),
                         request.query_params.get("lang"))


def _not_found(request: Request, code: str, lang: str) -> Response:
    err = OGCError("territoire_not_found", status=404, territory=code[:60])
    if _wants_json(request):
        return err.response()
    t, other = Texts(lang), Texts("en" if lang == "fr" else "fr")
    html = _environment().get_template("fiche_error.html").render(
        lang=lang, title=t("not_found_title"), other_title=other("not_found_title"),
        text=err.texts[lang], other_text=err.texts[other.lang], other_lang=other.lang,
        back=t("back_index"), other_back=other("back_index"), collection=f"{base_url()}{INDEX}")
    return HTMLResponse(html, status_code=404, headers={"Content-Language": lang,
                                                         "Vary": "Accept, Accept-Language"})


async def territoire(request: Request) -> Response:
    code = request.path_params["code"]
    lang = _lang_and_format(request)
    html = await anyio.to_thread.run_sync(page, code, lang, base_url(), limiter=_capacity())
    if html is None:
        return _not_found(request, code, lang)
    return HTMLResponse(html, headers={"Content-Language": lang, "Vary": "Accept-Language"})


async def index(request: Request) -> Response:
    lang = _lang_and_format(request)
    html = await anyio.to_thread.run_sync(index_page, lang, base_url(), limiter=_capacity())
    return HTMLResponse(html, headers={"Content-Language": lang, "Vary": "Accept-Language"})


# ---------------------------------------------------------------------------- front hooks
def routes() -> list[BaseRoute]:
    return [Route(INDEX, index, methods=["GET", "HEAD"]),
            Route(PATH, territoire, methods=["GET", "HEAD"])]


def landing_links(base_url: str) -> list[dict[str, Any]]:
    return [{"rel": "related", "type": "text/html", "href": f"{base_url.rstrip('/')}{INDEX}",
             "title": "Pages des territoires / territory pages"}]


def collection_links(spec: Any, base_url: str) -> list[dict[str, Any]]:
    if spec.id != COLLECTION:
        return []
    return [{"rel": "related", "type": "text/html", "href": f"{base_url.rstrip('/')}{INDEX}",
             "title": "Pages des territoires / territory pages"}]


def openapi(oas: dict[str, Any], collection_ids: list[str], coverage_ids: list[str]) -> None:
    """The pages' paths in the OpenAPI document (services/front.py: openapi)."""
    if COLLECTION not in collection_ids:
        return
    from services.front_openapi import error_response
    error = error_response()
    html = {"text/html": {"schema": {"type": "string"}}}
    query = [{"name": "f", "in": "query", "required": False,
              "schema": {"type": "string", "enum": list(FORMATS), "default": "html"}},
             {"name": "lang", "in": "query", "required": False,
              "schema": {"type": "string", "enum": ["fr", "en"]}}]
    paths = oas.setdefault("paths", {})
    paths.setdefault(INDEX, {"get": {
        "tags": ["chiffres-cles"], "operationId": "getTerritoryIndex",
        "summary": "Liste des territoires / list of the territories",
        "description": "The territory, its EPCI and their communes, each linked to its page.",
        "parameters": query,
        "responses": {"200": {"description": "HTML page", "content": html},
                      "304": {"description": "Not modified (If-None-Match matched the ETag)"},
                      "400": error}}})
    paths.setdefault(PATH, {"get": {
        "tags": ["chiffres-cles"], "operationId": "getTerritoryPage",
        "summary": "Page d'un territoire / a territory's page",
        "description": "Key figures of a commune (INSEE code), an EPCI (SIREN) or the whole "
                       "territory (artois) grouped by theme, with charts (inline SVG), a "
                       "locator map, sources and data dates; French or English.",
        "parameters": [{"name": "code", "in": "path", "required": True,
                        "schema": {"type": "string"},
                        "description": "INSEE code, SIREN or artois"}, *query],
        "responses": {"200": {"description": "HTML page", "content": html},
                      "304": {"description": "Not modified (If-None-Match matched the ETag)"},
                      "400": error,
                      "404": {**error, "content": {**error["content"], **html}}}}})
    tags = oas.setdefault("tags", [])
    if not any(t.get("name") == "chiffres-cles" for t in tags):
        tags.append({"name": "chiffres-cles", "description": "Chiffres clés des territoires / "
                                                              "key figures of the territories"})
