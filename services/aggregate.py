"""Aggregation on vector collections, for dataviz (issue 16):
``GET /collections/{collectionId}/aggregate?groupby=…&metrics=…``.

A front module (services/front.py): its route, the link on each vector collection, its
OpenAPI description. The parsing below is pure (no web import); the SQL is in the stores
(`Backend.aggregate`: services/store/sqlite/aggregate.py, services/store/postgis/aggregate.py).

- `groupby`: comma-separated terms, at most MAX_GROUPBY:
  * a property of the collection (text, integer, boolean or date);
  * a territory level, `commune`, `epci` or `territoire` (a property of the same name wins;
    `niveau(commune)` always means the level): each feature belongs to the commune that
    contains its representative point (PostGIS `ST_PointOnSurface`: a point's own position,
    a point on a line, a point inside a polygon), to that commune's EPCI, and to the agency's
    territory (`artois`) when it is in one of its 305 communes; features outside every commune
    have a null key, so that communes add up to their EPCI and to the territory;
  * `year(p)` or `month(p)` of a date or ISO-text property (the collection's time field
    included): the year as an integer, the month as `YYYY-MM`; null when `p` is not a date.
  No groupby: one group over every selected feature.
- `metrics`: `count` (always given), `sum(p)`, `mean(p)`, `min(p)`, `max(p)` of a numeric
  property (nulls ignored, as in SQL), `length_km` (lines) and `area_ha` (polygons): total
  length and area in Lambert-93 (EPSG:2154).
- `bbox`, `bbox-crs`, `datetime`, `filter`, `filter-lang`, `filter-crs`: read by the same
  functions as pygeoapi's items (with the project's patches, services/pygeoapi_compat.py),
  and turned into SQL by the same store readers.
- Groups are sorted by key (null first); more than MAX_GROUPS groups is a 400 that says so.
- `f=json` (default) or `f=csv`, or the `Accept` header.
"""
from __future__ import annotations

import csv
import importlib
import io
import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from services.errors import OGCError
from services.pygeoapi_messages import bilingual

MAX_GROUPS = 10_000
MAX_GROUPBY = 5
MAX_METRICS = 20
LEVELS = ("commune", "epci", "territoire")
TERRITORY = ("artois", "Artois")  # code and name of the agency's territory
STAT_FUNCTIONS = ("sum", "mean", "min", "max")
DATE_FUNCTIONS = ("year", "month")
GEOMETRIC = {"length_km": "LINE", "area_ha": "POLYGON"}  # metric -> geometry type it needs
GROUPABLE = ("string", "integer", "boolean")
NUMERIC = ("integer", "number")
FORMATS = {"json": "application/json", "csv": "text/csv"}
FILTER_LANGS = (None, "cql-json", "cql-text", "cql2-text", "cql2-json")
_CALL = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)$", re.S)
REL = "related"
TITLE = "Agrégation / Aggregation"


# ---------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class Term:
    """One groupby term: `name` is its key in the answer."""
    name: str
    kind: str                 # property | year | month | commune | epci | territoire
    prop: str | None = None
    type: str | None = None   # JSON type of `prop`
    format: str | None = None  # date | date-time | None

    @property
    def territorial(self) -> bool:
        return self.kind in LEVELS


@dataclass(frozen=True)
class Metric:
    name: str                 # count, sum(p), …, length_km, area_ha
    kind: str                 # count | sum | mean | min | max | length_km | area_ha
    prop: str | None = None
    type: str | None = None


@dataclass
class Plan:
    """What a store computes (Backend.aggregate). `metrics[0]` is always `count`."""
    groups: list[Term]
    metrics: list[Metric]
    bbox: list = field(default_factory=list)
    datetime_: str | None = None
    filterq: Any = None
    communes: dict | None = None   # manifest entry of `communes` (territory levels)
    territory: tuple[str, str] = TERRITORY
    max_groups: int = MAX_GROUPS


def _names(names: list[str], limit: int = 40) -> str:
    return ", ".join(names[:limit]) + (", …" if len(names) > limit else "")


def _terms(param: str, text: str | None, most: int) -> list[str]:
    if text is None or not text.strip():
        return []
    items = [t.strip() for t in text.split(",")]
    if len(items) > most:
        raise OGCError("aggregate_too_many_terms", param=param, max=most)
    for item in items:
        if not item:
            raise OGCError("aggregate_malformed", param=param, value=text[:60])
    return list(dict.fromkeys(items))


def parse_groupby(text: str | None, fields: dict[str, dict]) -> list[Term]:
    """The groupby terms (see the module docstring); OGCError 400 otherwise."""
    groupable = sorted(n for n, s in fields.items() if s.get("type") in GROUPABLE)
    out = []
    for item in _terms("groupby", text, MAX_GROUPBY):
        call = _CALL.match(item)
        if call:
            func, arg = call.group(1).lower(), call.group(2).strip()
            if not arg:
                raise OGCError("aggregate_malformed", param="groupby", value=item[:60])
            if func == "niveau":
                if arg not in LEVELS:
                    raise OGCError("aggregate_unknown_level", value=arg[:60],
                                   allowed=", ".join(LEVELS))
                out.append(Term(f"niveau({arg})", arg))
                continue
            if func not in DATE_FUNCTIONS:
                raise OGCError("aggregate_unknown_function", param="groupby", name=func[:40],
                               allowed="year(p), month(p), niveau(commune|epci|territoire)")
            spec = fields.get(arg)
            if spec is None:
                raise OGCError("aggregate_unknown_property", param="groupby", name=arg[:60],
                               allowed=_names(groupable))
            if spec.get("type") != "string":
                raise OGCError("aggregate_not_date", function=func, name=arg,
                               type=spec.get("type"))
            out.append(Term(f"{func}({arg})", func, arg, "string", spec.get("format")))
        elif item in fields:
            kind = fields[item].get("type")
            if kind not in GROUPABLE:
                raise OGCError("aggregate_groupby_type", name=item, type=kind)
            out.append(Term(item, "property", item, kind, fields[item].get("format")))
        elif item in LEVELS:
            out.append(Term(item, item))
        elif "(" in item or ")" in item:
            raise OGCError("aggregate_malformed", param="groupby", value=item[:60])
        else:
            raise OGCError("aggregate_unknown_property", param="groupby", name=item[:60],
                           allowed=_names(groupable + list(LEVELS)))
    names = [t.name for t in out]
    return [t for i, t in enumerate(out) if t.name not in names[:i]]


def parse_metrics(text: str | None, fields: dict[str, dict], geometry_type: str,
                  collection: str) -> list[Metric]:
    """`count` first, then the other metrics asked for, each once."""
    numeric = sorted(n for n, s in fields.items() if s.get("type") in NUMERIC)
    allowed = "count, sum(p), mean(p), min(p), max(p), length_km, area_ha"
    out = [Metric("count", "count")]
    for item in _terms("metrics", text, MAX_METRICS):
        call = _CALL.match(item)
        if call:
            func, arg = call.group(1).lower(), call.group(2).strip()
            if not arg or func == "count" or func in GEOMETRIC:  # count(x), sum(), …
                raise OGCError("aggregate_malformed", param="metrics", value=item[:60])
            if func not in STAT_FUNCTIONS:
                raise OGCError("aggregate_unknown_function", param="metrics", name=func[:40],
                               allowed=allowed)
            spec = fields.get(arg)
            if spec is None:
                raise OGCError("aggregate_unknown_property", param="metrics", name=arg[:60],
                               allowed=_names(numeric))
            if spec.get("type") not in NUMERIC:
                raise OGCError("aggregate_not_numeric", function=func, name=arg,
                               type=spec.get("type"), allowed=_names(numeric))
            out.append(Metric(f"{func}({arg})", func, arg, spec["type"]))
        elif item.lower() == "count":
            continue
        elif item.lower() in GEOMETRIC:
            name = item.lower()
            if GEOMETRIC[name] not in (geometry_type or "").upper():
                raise OGCError("aggregate_metric_geometry", name=name, collection=collection,
                               geometry=geometry_type,
                               expected={"fr": "des lignes" if name == "length_km"
                                         else "des polygones",
                                         "en": "lines" if name == "length_km" else "polygons"})
            out.append(Metric(name, name))
        elif "(" in item or ")" in item:
            raise OGCError("aggregate_malformed", param="metrics", value=item[:60])
        else:
            raise OGCError("aggregate_unknown_function", param="metrics", name=item[:40],
                           allowed=allowed)
    names = [m.name for m in out]
    return [m for i, m in enumerate(out) if m.name not in names[:i]]


def choose_format(f: str | None, accept: str | None) -> str:
    """`json` or `csv`: `f` first, then the Accept header (JSON unless CSV is preferred)."""
    if f is not None:
        if f.strip().lower() not in FORMATS:
            raise OGCError("aggregate_format", value=f[:20], allowed=", ".join(FORMATS))
        return f.strip().lower()
    best = {"json": 0.0, "csv": 0.0}
    matches = {"json": ("application/json", "application/*", "*/*"),
               "csv": ("text/csv", "text/*", "*/*")}
    for part in (accept or "").split(",")[:50]:
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        for fmt, names in matches.items():
            if media.lower() in names and math.isfinite(q):
                best[fmt] = max(best[fmt], q)
    return "csv" if best["csv"] > best["json"] else "json"


# ---------------------------------------------------------------------------- values
def _value(value: Any, kind: str | None) -> Any:
    if isinstance(value, Decimal):
        value = int(value) if kind == "integer" and value == value.to_integral_value() \
            else float(value)
    if value is None:
        return None
    if kind == "boolean":
        return bool(value)
    if kind == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _key_type(term: Term) -> str | None:
    if term.kind == "year":
        return "integer"
    return term.type if term.kind == "property" else "string"


def _metric_type(metric: Metric) -> str:
    if metric.kind == "count" or (metric.kind in ("sum", "min", "max") and
                                  metric.type == "integer"):
        return "integer"
    return "number"


def groups_of(rows: list[tuple], plan: Plan) -> list[dict[str, Any]]:
    """The answer's groups from a store's rows (keys, labels, metrics), sorted by key."""
    n, out = len(plan.groups), []
    for row in rows:
        keys = [_value(v, _key_type(t)) for v, t in zip(row[:n], plan.groups)]
        group: dict[str, Any] = {"key": {t.name: v for t, v in zip(plan.groups, keys)}}
        labels = {t.name: row[n + i] for i, t in enumerate(plan.groups) if t.territorial}
        if labels:
            group["labels"] = labels
        for metric, value in zip(plan.metrics, row[2 * n:]):
            value = _value(value, _metric_type(metric))
            group[metric.name] = float(value) if metric.kind == "mean" and value is not None \
                else value
        out.append(group)
    out.sort(key=lambda g: tuple((v is not None, v) for v in g["key"].values()))
    return out


def checked_groups(rows: list[tuple], plan: Plan) -> list[dict[str, Any]]:
    """The groups, or a 400 when there are more than `plan.max_groups` (the stores return
    one row past the bound)."""
    if len(rows) > plan.max_groups:
        raise OGCError("aggregate_too_many_groups", max=plan.max_groups)
    return groups_of(rows, plan)


def to_csv(groups: list[dict], plan: Plan) -> str:
    header = [t.name for t in plan.groups] + \
        [f"nom({t.name})" for t in plan.groups if t.territorial] + [m.name for m in plan.metrics]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)

    def cell(v: Any) -> Any:
        return "" if v is None else ("true" if v is True else "false" if v is False else v)
    for g in groups:
        writer.writerow([cell(g["key"][t.name]) for t in plan.groups] +
                        [cell(g["labels"][t.name]) for t in plan.groups if t.territorial] +
                        [cell(g[m.name]) for m in plan.metrics])
    return buffer.getvalue()


# ---------------------------------------------------------------------------- the request
def _invalid(name: str, english: str) -> OGCError:
    """A parameter that pygeoapi's own validation refused (its English text, translated)."""
    return OGCError("aggregate_invalid_parameter", name=name, detail=bilingual(str(english)))


def _filters(params: dict[str, str], resource: dict, provider_def: dict) -> tuple:
    """(bbox, datetime, filter AST) read as pygeoapi reads them for /items."""
    it = importlib.import_module("pygeoapi.api.itemtypes")  # its names, as patched
    from pyproj.exceptions import CRSError
    try:
        bbox = it.validate_bbox(params["bbox"]) if "bbox" in params else []
    except ValueError as err:
        raise _invalid("bbox", str(err)) from None
    try:
        datetime_ = it.validate_datetime(resource.get("extents", {}), params.get("datetime"))
    except (ValueError, OverflowError, TypeError) as err:
        raise _invalid("datetime", str(err)) from None
    bbox_crs = params.get("bbox-crs")
    if bbox_crs is not None:
        if not bbox:
            raise _invalid("bbox-crs", "bbox-crs specified without bbox parameter")
        if bbox_crs not in it.get_supported_crs_list(provider_def):
            raise _invalid("bbox-crs", f"bbox-crs {bbox_crs} not supported for this collection")
    elif bbox:
        bbox_crs = it.DEFAULT_STORAGE_CRS
    if bbox:
        try:
            bbox = it.transform_bbox(bbox, bbox_crs, provider_def.get(
                "storage_crs", it.DEFAULT_STORAGE_CRS))
        except (CRSError, ValueError) as err:
            raise _invalid("bbox-crs", str(err)) from None
        if not all(math.isfinite(float(v)) for v in bbox):
            raise _invalid("bbox", "bbox values must be numbers")
    lang = params.get("filter-lang")
    if lang not in FILTER_LANGS:
        raise _invalid("filter-lang", "Invalid filter language")
    filterq = None
    if "filter" in params:
        try:  # CQL2 JSON when filter-lang says so (services.pygeoapi_compat, cql2-json-get)
            filterq = it.modify_pygeofilter(
                it.parse_cql2_text(params["filter"]),
                filter_crs_uri=params.get("filter-crs", it.DEFAULT_CRS),
                storage_crs_uri=provider_def.get("storage_crs"),
                geometry_column_name=provider_def.get("geom_field"))
        except Exception:  # noqa: BLE001 - as pygeoapi: any parser error is a bad filter
            raise _invalid("filter", "Bad CQL JSON" if lang == "cql2-json"
                           else "Bad CQL text") from None
    return bbox, datetime_, filterq


def _store_error(err: Exception) -> Exception:
    """A provider error of the store as the bilingual OGC exception it means."""
    from services.store.base import ProviderTimeoutError, ProviderUnavailableError
    cause = err.__cause__
    if isinstance(cause, OGCError) and cause.status == 400:  # a CQL2 filter the store refused
        return OGCError("invalid_filter", detail=cause.texts)
    if isinstance(err, ProviderTimeoutError):
        return OGCError("timeout", status=503, code="Timeout")
    if isinstance(err, ProviderUnavailableError):
        return OGCError("database_unavailable", status=503, headers={"Retry-After": "5"})
    if getattr(err, "http_status_code", 500) == 400:  # the database refused the statement
        text = str(getattr(err, "message", "") or err).removeprefix("Invalid query: ")
        return OGCError("aggregate_invalid_query", detail=text.splitlines()[0][:300])
    return err


def _config() -> dict:
    from services.access import served_config  # the served configuration, as the caller
    return served_config()                     # may see it (services/access.py)


def compute(cid: str, params: dict[str, str], accept: str | None = None
            ) -> tuple[bytes, str, Plan]:
    """The answer's body and media type (runs in a worker thread: the stores block)."""
    from pygeoapi.provider.base import ProviderGenericError

    from services.access import hidden_of, restrict_reader
    from services.providers import paging
    from services.store import backend_for, get_catalog
    config = _config()
    resource = (config.get("resources") or {}).get(cid)
    catalog = get_catalog()
    if not isinstance(resource, dict) or resource.get("type") != "collection" or \
            catalog.entry(cid) is None:
        raise OGCError("collection_not_found", status=404, collection=cid)
    provider_def = next((p for p in resource.get("providers", []) if p.get("type") == "feature"),
                        None)
    if provider_def is None:
        raise OGCError("aggregate_coverage", collection=cid)
    fmt = choose_format(params.get("f"), accept)
    url = f"{config['server']['url'].rstrip('/')}/collections/{cid}/aggregate"
    paging.remember(url, params)  # the items functions read the request from there
    try:
        backend = backend_for(catalog.entry(cid))
        reader = backend.reader(provider_def, provider_def.get("id_field"),
                                provider_def.get("time_field"))
        restrict_reader(reader, hidden_of(provider_def))  # the caller's read tier
        spec = catalog.spec(cid)
        geometry_type = (spec.geometry_type if spec else None) or reader.geometry_type
        plan = Plan(parse_groupby(params.get("groupby"), reader.fields),
                    parse_metrics(params.get("metrics"), reader.fields, geometry_type, cid))
        plan.bbox, plan.datetime_, plan.filterq = _filters(params, resource, provider_def)
        if any(t.territorial for t in plan.groups):
            plan.communes = catalog.entry("communes")
            if plan.communes is None:
                raise OGCError("aggregate_no_territory", status=503)
        rows = backend.aggregate(reader, plan)
    except ProviderGenericError as err:
        raise _store_error(err) from err
    finally:
        paging.forget()
    groups = checked_groups(rows, plan)
    if fmt == "csv":
        return to_csv(groups, plan).encode("utf-8"), FORMATS["csv"], plan
    others = {k: v for k, v in params.items() if k != "f"}
    doc = {"collection": cid, "groupby": [t.name for t in plan.groups],
           "metrics": [m.name for m in plan.metrics],
           "numberMatched": sum(g["count"] for g in groups), "groups": groups,
           "links": [
               {"rel": "self", "type": FORMATS["json"], "title": TITLE,
                "href": f"{url}?{urlencode({**others, 'f': 'json'})}"},
               {"rel": "alternate", "type": FORMATS["csv"], "title": f"{TITLE} (CSV)",
                "href": f"{url}?{urlencode({**others, 'f': 'csv'})}"},
               {"rel": "collection", "type": FORMATS["json"], "title": cid,
                "href": url.rsplit("/", 1)[0]}],
           # last: services.caching leaves the stamp out of the ETag
           "timeStamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8"), FORMATS["json"], plan


# ---------------------------------------------------------------------------- front hooks
async def _endpoint(request):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response
    cid = request.path_params["cid"]
    params = dict(request.query_params)
    body, media, _ = await run_in_threadpool(compute, cid, params,
                                             request.headers.get("accept"))
    headers = {}
    if media == FORMATS["csv"]:
        headers["Content-Disposition"] = f'inline; filename="{cid}-aggregate.csv"'
    return Response(body, media_type=media, headers=headers)


def routes() -> list:
    from starlette.routing import Route
    return [Route("/collections/{cid}/aggregate", _endpoint, methods=["GET"])]


def collection_links(spec: Any, base_url: str) -> list[dict[str, Any]]:
    if spec.kind != "features":
        return []
    href = f"{base_url.rstrip('/')}/collections/{spec.id}/aggregate"
    return [{"rel": REL, "type": FORMATS["json"], "title": TITLE, "href": href}]


def openapi(oas: dict[str, Any], collection_ids: list[str], coverage_ids: list[str]) -> None:
    """The aggregation path in the OpenAPI document (services/front_openapi.py)."""
    oas.setdefault("paths", {}).setdefault("/collections/{collectionId}/aggregate",
                                           path_item(collection_ids))
    tags = oas.setdefault("tags", [])
    if not any(t.get("name") == "aggregate" for t in tags):
        tags.append({"name": "aggregate", "description": "Agrégation pour la dataviz / "
                                                         "aggregation for dataviz"})


def _query(name: str, schema: dict, description: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description, **extra}


def path_item(collection_ids: list[str]) -> dict[str, Any]:
    from services.config import CRS_LIST
    from services.front_openapi import error_response
    error = error_response()
    number = {"type": "number", "nullable": True}
    group = {"type": "object", "required": ["key", "count"],
             "properties": {"key": {"type": "object"}, "labels": {"type": "object"},
                            "count": {"type": "integer"}},
             "additionalProperties": number}
    answer = {"type": "object",
              "required": ["collection", "groupby", "metrics", "numberMatched", "groups",
                           "links", "timeStamp"],
              "properties": {
                  "collection": {"type": "string"},
                  "groupby": {"type": "array", "items": {"type": "string"}},
                  "metrics": {"type": "array", "items": {"type": "string"}},
                  "numberMatched": {"type": "integer"},
                  "groups": {"type": "array", "items": group},
                  "links": {"type": "array", "items": {
                      "type": "object", "required": ["href", "rel"],
                      "properties": {"href": {"type": "string"}, "rel": {"type": "string"},
                                     "type": {"type": "string"},
                                     "title": {"type": "string"}}}},
                  "timeStamp": {"type": "string", "format": "date-time"}}}
    parameters = [
        {"name": "collectionId", "in": "path", "required": True,
         "schema": {"type": "string", "enum": collection_ids},
         "description": "Collection vectorielle / vector collection"},
        _query("groupby", {"type": "string", "maxLength": 1000},
               "Comma-separated, at most 5: properties (text, integer, boolean, date), "
               "territory levels `commune`, `epci`, `territoire` (or `niveau(commune)`…: the "
               "commune containing each feature's representative point), `year(p)`, "
               "`month(p)`. None: one group. / Regroupement : propriétés, niveaux de "
               "territoire, année ou mois d'une date.", example="site_statut"),
        _query("metrics", {"type": "string", "maxLength": 2000},
               "Comma-separated: `count` (always given), `sum(p)`, `mean(p)`, `min(p)`, "
               "`max(p)` of numeric properties, `length_km` (lines), `area_ha` (polygons), "
               "in EPSG:2154. / Mesures.", example="count"),
        _query("bbox", {"type": "array", "minItems": 4, "maxItems": 6,
                        "items": {"type": "number"}},
               "Bounding box, as for items / emprise", style="form", explode=False),
        _query("bbox-crs", {"type": "string", "enum": CRS_LIST}, "CRS of bbox"),
        _query("datetime", {"type": "string"}, "Date or interval on the collection's time "
                                               "field, as for items"),
        _query("filter", {"type": "string"}, "CQL2 filter, as for items"),
        _query("filter-lang", {"type": "string", "enum": ["cql2-text", "cql2-json"]},
               "CQL2 encoding of filter"),
        _query("filter-crs", {"type": "string", "enum": CRS_LIST}, "CRS of the filter's "
                                                                    "geometries"),
        _query("f", {"type": "string", "enum": list(FORMATS)}, "json (default) or csv"),
    ]
    return {"get": {
        "tags": ["aggregate"], "operationId": "getCollectionAggregate",
        "summary": "Aggregate a vector collection: counts, sums, means, min, max, length, "
                   "area by property, territory or period / agrégation",
        "description": f"Groups sorted by key; more than {MAX_GROUPS} groups: 400.",
        "parameters": parameters,
        "responses": {
            "200": {"description": "One entry per group / un élément par groupe",
                    "content": {"application/json": {"schema": answer},
                                "text/csv": {"schema": {"type": "string"}}}},
            "304": {"description": "Not modified (If-None-Match matched the ETag)"},
            "400": {"description": "Bad request (bilingual OGC exception)", **error},
            "404": {"description": "Unknown collection (bilingual OGC exception)", **error},
            "503": {"description": "Store busy or unavailable (bilingual OGC exception)",
                    **error}}}}
