"""/chiffres-cles/indicateurs: the definitions of the key figures (front module).

The collection `chiffres-cles` (one feature per commune, EPCI and the territory, one property
per indicator) is served by the Features API like any other; this route says what each
property is: its labels and unit in French and English, theme, method, the source
collections and the source as cited, whether it is computed from modelled demonstration data
(from the collections' `demo` flag), and the date of its data (the latest of its sources',
stored with the figures by their last computation), with the date of that computation.

JSON by default, CSV with `f=csv` (or `Accept: text/csv`); one row per indicator. The
definitions come from processes/chiffres_cles/data/indicateurs.yaml (re-read when it
changes); nothing is computed here.
"""
from __future__ import annotations

import csv
import io
import threading
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from services.errors import OGCError
from services.i18n import pick_language

PATH = "/chiffres-cles/indicateurs"
COLLECTION = "chiffres-cles"
FORMATS = {"json": "application/json", "csv": "text/csv; charset=utf-8"}
CSV_COLUMNS = ("id", "groupe", "theme", "label_fr", "label_en", "unit_fr", "unit_en",
               "decimales", "methode", "additif", "sources", "collections", "source_fr",
               "source_en", "demo", "date_donnees")

_cache: dict[str, Any] = {}
_lock = threading.Lock()


def definitions():
    """The parsed definitions file, re-read when it changes."""
    from processes.chiffres_cles.definitions import DEFINITIONS_PATH, load_definitions
    stamp = Path(DEFINITIONS_PATH).stat().st_mtime_ns
    cached = _cache.get("defs")
    if cached is None or cached[0] != stamp:
        cached = (stamp, load_definitions(DEFINITIONS_PATH))
        with _lock:
            _cache["defs"] = cached
    return cached[1]


def _base_url() -> str:
    from pygeoapi.starlette_app import CONFIG
    return str(CONFIG["server"]["url"]).rstrip("/")


def stored_dates(code: str) -> dict[str, Any]:
    """The date columns of the territory's feature as stored by the last computation ({} when
    the collection is not built)."""
    from pygeoapi.starlette_app import CONFIG

    from services.store import backend_for, get_catalog
    resource = (CONFIG.get("resources") or {}).get(COLLECTION) or {}
    entry = get_catalog().entry(COLLECTION)
    if resource.get("type") != "collection" or not resource.get("providers") or entry is None:
        return {}
    provider = resource["providers"][0]
    try:
        reader = backend_for(entry).reader(provider, provider.get("id_field"),
                                           provider.get("time_field"))
        props = reader.get(code).get("properties") or {}
    except Exception:  # noqa: BLE001 - no figures yet: the definitions without their dates
        return {}
    return {k: v for k, v in props.items() if k.startswith("date_")}


def document(lang: str, base: str) -> dict[str, Any]:
    """The definitions document (JSON)."""
    from processes.chiffres_cles.core import date_column
    from services.layers import demo_collections

    defs = definitions()
    demo = demo_collections()
    dates = stored_dates(defs.territory_code)
    sources = []
    for sid, src in defs.sources.items():
        sources.append({
            "id": sid, "collections": list(src.collections), "derive": src.derived,
            "source_fr": src.text["fr"], "source_en": src.text["en"],
            "demo": any(c in demo for c in src.collections),
            "date_donnees": _text(dates.get(date_column(sid)))})
    by_id = {s["id"]: s for s in sources}
    indicators = []
    for ind in defs.indicators:
        used = defs.sources_of(ind)
        known = [by_id[s]["date_donnees"] for s in used if by_id[s]["date_donnees"]]
        source_fr = " ; ".join(by_id[s]["source_fr"] for s in used)
        source_en = "; ".join(by_id[s]["source_en"] for s in used)
        indicators.append({
            "id": ind.id, "groupe": ind.group, "theme": ind.theme,
            "label": ind.label[lang], "label_fr": ind.label["fr"], "label_en": ind.label["en"],
            "unit": ind.unit[lang], "unit_fr": ind.unit["fr"], "unit_en": ind.unit["en"],
            "description_fr": (ind.description or {}).get("fr"),
            "description_en": (ind.description or {}).get("en"),
            "decimales": ind.decimals, "methode": ind.method, "additif": ind.additive,
            "sources": used, "collections": defs.collections_of(ind),
            "source": source_fr if lang == "fr" else source_en,
            "source_fr": source_fr, "source_en": source_en,
            "demo": any(by_id[s]["demo"] for s in used),
            "date_donnees": max(known) if known else None})
    here = f"{base}{PATH}"
    items = f"{base}/collections/{COLLECTION}/items"
    return {
        "collection": COLLECTION,
        "date_calcul": _text(dates.get("date_calcul")),
        "territoire": defs.territory_code,
        "niveaux": ["commune", "epci", "territoire"],
        "themes": [{"id": t["id"], "label": t[lang], "label_fr": t["fr"], "label_en": t["en"]}
                   for t in defs.themes],
        "sources": sources,
        "indicateurs": indicators,
        "links": [
            {"rel": "self", "type": FORMATS["json"], "href": f"{here}?f=json",
             "title": "Définitions des chiffres clés / key figure definitions"},
            {"rel": "alternate", "type": "text/csv", "href": f"{here}?f=csv",
             "title": "CSV"},
            {"rel": "collection", "type": "application/json",
             "href": f"{base}/collections/{COLLECTION}", "title": COLLECTION},
            {"rel": "items", "type": "application/geo+json", "href": items,
             "title": "Chiffres clés / key figures"}],
    }


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def to_csv(doc: dict[str, Any]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for ind in doc["indicateurs"]:
        row = []
        for col in CSV_COLUMNS:
            value = ind.get(col)
            if isinstance(value, list):
                value = ",".join(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            row.append("" if value is None else value)
        writer.writerow(row)
    return out.getvalue()


def _format(request: Request) -> str:
    f = request.query_params.get("f")
    if f is not None:
        if f not in FORMATS:
            raise OGCError("invalid_format", f=f[:20], allowed=", ".join(FORMATS))
        return f
    accept = request.headers.get("accept", "")
    return "csv" if "text/csv" in accept and "json" not in accept else "json"


async def indicateurs(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool
    fmt = _format(request)
    lang = pick_language(request.headers.get("accept-language"),
                         request.query_params.get("lang"))
    doc = await run_in_threadpool(document, lang, _base_url())
    headers = {"Content-Language": lang}
    if fmt == "csv":
        headers["Content-Disposition"] = 'inline; filename="chiffres-cles-indicateurs.csv"'
        return Response(to_csv(doc), media_type=FORMATS["csv"], headers=headers)
    return JSONResponse(doc, headers=headers)


# ---------------------------------------------------------------------------- front hooks
def routes() -> list[BaseRoute]:
    return [Route(PATH, indicateurs, methods=["GET"])]


def collection_links(spec: Any, base_url: str) -> list[dict[str, Any]]:
    if spec.id != COLLECTION:
        return []
    href = f"{base_url.rstrip('/')}{PATH}"
    return [{"rel": "describedby", "type": "application/json", "href": f"{href}?f=json",
             "title": "Définitions des indicateurs / indicator definitions"},
            {"rel": "describedby", "type": "text/csv", "href": f"{href}?f=csv",
             "title": "Définitions des indicateurs (CSV) / indicator definitions (CSV)"}]


def landing_links(base_url: str) -> list[dict[str, Any]]:
    return [{"rel": "describedby", "type": "application/json",
             "href": f"{base_url.rstrip('/')}{PATH}",
             "title": "Chiffres clés : définitions des indicateurs / key figures: definitions"}]


def openapi(oas: dict[str, Any], collection_ids: list[str], coverage_ids: list[str]) -> None:
    """The definitions' path in the OpenAPI document (services/front.py: openapi)."""
    if COLLECTION not in collection_ids:
        return
    from services.front_openapi import error_response
    error = error_response()
    indicator = {"type": "object",
                 "required": ["id", "theme", "label_fr", "label_en", "unit_fr", "unit_en",
                              "demo", "sources", "collections"],
                 "properties": {
                     "id": {"type": "string"}, "groupe": {"type": "string", "nullable": True},
                     "theme": {"type": "string"}, "label": {"type": "string"},
                     "label_fr": {"type": "string"}, "label_en": {"type": "string"},
                     "unit": {"type": "string"}, "unit_fr": {"type": "string"},
                     "unit_en": {"type": "string"}, "decimales": {"type": "integer"},
                     "methode": {"type": "string"}, "additif": {"type": "boolean"},
                     "sources": {"type": "array", "items": {"type": "string"}},
                     "collections": {"type": "array", "items": {"type": "string"}},
                     "source": {"type": "string"}, "demo": {"type": "boolean"},
                     "date_donnees": {"type": "string", "format": "date", "nullable": True}}}
    answer = {"type": "object", "required": ["collection", "indicateurs", "links"],
              "properties": {"collection": {"type": "string"},
                             "date_calcul": {"type": "string", "nullable": True},
                             "indicateurs": {"type": "array", "items": indicator},
                             "themes": {"type": "array", "items": {"type": "object"}},
                             "sources": {"type": "array", "items": {"type": "object"}},
                             "links": {"type": "array", "items": {"type": "object"}}}}
    oas.setdefault("paths", {}).setdefault(PATH, {"get": {
        "tags": ["chiffres-cles"], "operationId": "getKeyFigureDefinitions",
        "summary": "Définitions des chiffres clés / key figure definitions",
        "description": "Each property of the collection chiffres-cles: labels and unit (French, "
                       "English), theme, method, sources, demonstration flag, data date; "
                       "JSON or CSV (f=csv).",
        "parameters": [
            {"name": "f", "in": "query", "required": False,
             "schema": {"type": "string", "enum": list(FORMATS), "default": "json"}},
            {"name": "lang", "in": "query", "required": False,
             "schema": {"type": "string", "enum": ["fr", "en"]}}],
        "responses": {
            "200": {"description": "The definitions / les définitions",
                    "content": {"application/json": {"schema": answer},
                                "text/csv": {"schema": {"type": "string"}}}},
            "304": {"description": "Not modified (If-None-Match matched the ETag)"},
            "400": error}}})
    tags = oas.setdefault("tags", [])
    if not any(t.get("name") == "chiffres-cles" for t in tags):
        tags.append({"name": "chiffres-cles", "description": "Chiffres clés des territoires / "
                                                              "key figures of the territories"})
