"""Dataviz of the business parks (issue 17 point 5): a park's or an EPCI's figures and their
evolution by month, as JSON or CSV.

- ``GET /dataviz/zae/{zaeId}``: one park (``zae`` collection).
- ``GET /dataviz/epci/{siren}``: the parks whose ``epci_siren`` is `siren` now, summed.

The figures are the park's derived fields (FIELDS: available, reserved, sold and occupied
surfaces, available lots, developed and undeveloped reserves, active sites, friches). A field
the parks do not carry (yet) is listed in ``missing`` and its values are null.

``current``: the figures of the stored parks now. ``months``: for each of the last `months`
calendar months (default DEFAULT_MONTHS, at most MAX_MONTHS, the current month last), the
value at the end of that month (UTC), i.e. the version of each park valid at that instant in
its history (services/history.py: the audit trail; a version built from the source counts as
valid since always; a park that did not exist yet, or was deleted, counts for nothing). For
the current month the end is in the future: the latest version. An EPCI's value is the sum
over its parks of the values that are not null (null when none is); ``parcs`` counts the
parks that existed at that instant.

Parameters: ``months`` (1..MAX_MONTHS), ``f`` (``json``, default, or ``csv``: one row per
month, columns ``month``, ``end``, ``parcs`` then one per field), ``lang``. Others: 400 at
the edge (services/edge.py). Unknown park or EPCI without parks: 404.

The functions above "front hooks" are pure (no web import).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any, Iterable
from urllib.parse import quote, urlencode

from services.errors import OGCError

ZAE = "zae"
PATH_ZAE = "/dataviz/zae/{zid}"
PATH_EPCI = "/dataviz/epci/{siren}"
PARAMETERS = {"f", "lang", "_", "months"}  # declared to the edge (services/edge.py)
FORMATS = {"json": "application/json", "csv": "text/csv"}
FIELDS = ("surface_disponible_ha", "surface_reservee_ha", "surface_cedee_ha",
          "surface_occupee_ha", "lots_disponibles", "reserve_amenagee_ha",
          "reserve_non_amenagee_ha", "sites_actifs", "friches_nombre")
DEFAULT_MONTHS = 24
MAX_MONTHS = 120
MAX_PARKS = 1000
MAX_ID = 64
SIREN = re.compile(r"^[0-9]{9}$")
TITLE = "Dataviz des zones d'activités / business parks dataviz"


# ---------------------------------------------------------------------------- pure core
def month_ends(today: dt.date, count: int) -> list[tuple[str, dt.datetime]]:
    """The last `count` months up to `today`'s, oldest first: ("YYYY-MM", last instant UTC)."""
    out = []
    year, month = today.year, today.month
    for _ in range(count):
        nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
        end = dt.datetime.combine(nxt, dt.time.min, tzinfo=dt.timezone.utc) - \
            dt.timedelta(microseconds=1)
        out.append((f"{year:04d}-{month:02d}", end))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(out))


def number(value: Any) -> float | int | None:
    """A figure as a number (None when it is not one)."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return value if value == value else None
    try:
        return float(str(value).strip().replace(",", "."))
    except ValueError:
        return None


def figures(properties: dict[str, Any] | None,
            fields: Iterable[str] = FIELDS) -> dict[str, Any] | None:
    """The fields of one park's properties (None: the park does not exist then)."""
    if properties is None:
        return None
    return {f: number(properties.get(f)) for f in fields}


def park_series(versions: list[dict], ends: list[dt.datetime],
                fields: Iterable[str] = FIELDS) -> list[dict[str, Any] | None]:
    """One park's figures at each instant of `ends` (its versions oldest first, as
    services.history.versions_of gives them)."""
    from services.history import valid_at
    fields = tuple(fields)
    out = []
    for end in ends:
        found = valid_at(versions, end)
        out.append(figures(found[0]["properties"], fields) if found else None)
    return out


def total(values: list[dict[str, Any] | None],
          fields: Iterable[str] = FIELDS) -> tuple[dict[str, Any], int]:
    """(the sum of each field over the parks that exist and carry it, the parks existing)."""
    present = [v for v in values if v is not None]
    out: dict[str, Any] = {}
    for f in fields:
        nums = [v[f] for v in present if v.get(f) is not None]
        out[f] = round(sum(nums), 6) if nums else None
    return out, len(present)


def series(parks: list[list[dict[str, Any] | None]], months: list[tuple[str, dt.datetime]],
           fields: Iterable[str] = FIELDS) -> list[dict[str, Any]]:
    """The monthly rows of several parks' series (each aligned on `months`)."""
    fields = tuple(fields)
    rows = []
    for i, (label, end) in enumerate(months):
        values, count = total([p[i] for p in parks], fields)
        rows.append({"month": label, "end": end.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                     "parcs": count, "values": values})
    return rows


def missing_fields(properties: Iterable[dict[str, Any]]) -> list[str]:
    """The fields no park carries (not even as null)."""
    seen: set[str] = set()
    for props in properties:
        seen.update(props or {})
    return [f for f in FIELDS if f not in seen]


def to_csv(rows: list[dict[str, Any]], fields: Iterable[str] = FIELDS) -> str:
    fields = tuple(fields)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["month", "end", "parcs", *fields])
    for row in rows:
        writer.writerow([row["month"], row["end"], row["parcs"],
                         *["" if row["values"][f] is None else row["values"][f]
                           for f in fields]])
    return buffer.getvalue()


def parse_months(value: str | None) -> int:
    if value is None or value.strip() == "":
        return DEFAULT_MONTHS
    v = value.strip()
    if not re.fullmatch(r"[+]?[0-9]{1,4}", v) or not 1 <= int(v) <= MAX_MONTHS:
        raise OGCError("dataviz_months", value=value[:30], max=MAX_MONTHS)
    return int(v)


def choose_format(value: str | None) -> str:
    if value is None or value.strip() == "":
        return "json"
    fmt = value.strip().lower()
    if fmt not in FORMATS:
        raise OGCError("dataviz_format", value=value[:20], allowed=", ".join(FORMATS))
    return fmt


# ---------------------------------------------------------------------------- the request
def _histories(settings, ids: list[str]) -> dict[str, list[dict]]:
    """Each park's versions, oldest first, read in one read-only transaction."""
    from services.history import versions_of
    from services.store.feature import feature_etag
    from services.store.writer import open_writer
    out = {}
    with open_writer(settings, ZAE, readonly=True) as reader:
        for fid in ids:
            rows = reader.history(fid)
            current = None
            etag = None
            if not rows:
                feature = reader.get(fid)
                if feature is not None:
                    current, etag = feature.to_geojson(), feature_etag(feature)
            out[fid] = versions_of(rows, current, etag)
    return out


def _parks(settings, zid: str | None = None, siren: str | None = None) -> list[dict]:
    """The stored parks asked for: [{"id", "properties"}]."""
    from services import layers
    frame = layers.read_collection(ZAE, settings=settings)
    frame = frame.drop(columns=[frame.geometry.name])
    idf = layers.id_field(ZAE, settings)
    if zid is not None:
        frame = frame[frame[idf].astype(str) == zid]
    if siren is not None:
        if "epci_siren" not in frame.columns:
            return []
        frame = frame[frame["epci_siren"].astype(str) == siren]
    if len(frame) > MAX_PARKS:
        raise OGCError("dataviz_too_many", max=MAX_PARKS)
    records = json.loads(frame.to_json(orient="records", date_format="iso"))
    return [{"id": str(r[idf]), "properties": r} for r in records]


def compute(kind: str, key: str, params: dict[str, str], base: str,
            today: dt.date | None = None) -> tuple[bytes, str]:
    """(body, media type) of one dataviz request (`kind` "zae" or "epci"). Worker thread."""
    from services.settings import get_settings
    settings = get_settings()
    fmt = choose_format(params.get("f"))
    count = parse_months(params.get("months"))
    bad = len(key) > MAX_ID or any(ord(c) < 32 or ord(c) == 127 for c in key)
    if kind == "zae":
        parks = [] if bad else _parks(settings, zid=key)
        if not parks:
            raise OGCError("dataviz_zae_unknown", status=404, zae=key[:MAX_ID])
    else:
        parks = _parks(settings, siren=key) if SIREN.match(key) else []
        if not parks:
            raise OGCError("dataviz_epci_unknown", status=404, siren=key[:MAX_ID])
    months = month_ends(today or dt.datetime.now(dt.timezone.utc).date(), count)
    histories = _histories(settings, [p["id"] for p in parks])
    rows = series([park_series(histories[p["id"]], [end for _, end in months])
                   for p in parks], months)
    if fmt == "csv":
        return to_csv(rows).encode("utf-8"), FORMATS["csv"] + "; charset=utf-8"
    current, _ = total([figures(p["properties"]) for p in parks])
    seen = [p["properties"] for p in parks] + [
        v["properties"] for h in histories.values() for v in h if v["properties"]]
    first = parks[0]["properties"]
    if kind == "zae":
        subject = {"zae": {"id": key, "nom": first.get("nom"),
                           "epci_siren": first.get("epci_siren"),
                           "epci_nom": first.get("epci_nom"),
                           "surface_totale_ha": first.get("surface_totale_ha")}}
        url = f"{base}/dataviz/zae/{quote(key, safe='')}"
    else:
        subject = {"epci": {"siren": key, "nom": first.get("epci_nom"),
                            "parcs": [p["id"] for p in parks]}}
        url = f"{base}/dataviz/epci/{quote(key, safe='')}"
    others = {k: v for k, v in params.items() if k not in ("f", "_")}
    doc = {**subject, "fields": list(FIELDS), "missing": missing_fields(seen),
           "current": current, "months": rows,
           "links": [{"rel": "self", "type": FORMATS["json"], "title": TITLE,
                      "href": f"{url}?{urlencode({**others, 'f': 'json'})}"},
                     {"rel": "alternate", "type": FORMATS["csv"], "title": f"{TITLE} (CSV)",
                      "href": f"{url}?{urlencode({**others, 'f': 'csv'})}"}]}
    if kind == "zae":
        doc["links"].append({"rel": "related", "type": "application/json",
                             "title": "Historique / History",
                             "href": f"{base}/collections/{ZAE}/items/"
                                     f"{quote(key, safe='')}/history"})
    return json.dumps(doc, ensure_ascii=False).encode("utf-8"), FORMATS["json"]


# ---------------------------------------------------------------------------- front hooks
async def _answer(request, kind: str, key: str):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response

    from services.history import _store_errors, base_url
    from services.settings import get_settings

    def work():
        try:
            return compute(kind, key, dict(request.query_params), base_url())
        except OGCError:
            raise
        except Exception as err:
            problem = _store_errors(err, get_settings())
            if problem is None:
                raise
            raise problem from err
    body, media = await run_in_threadpool(work)
    headers = {}
    if media.startswith(FORMATS["csv"]):
        headers["Content-Disposition"] = f'inline; filename="dataviz-{kind}.csv"'
    return Response(body, media_type=media, headers=headers)


async def _zae(request):
    return await _answer(request, "zae", request.path_params["zid"])


async def _epci(request):
    return await _answer(request, "epci", request.path_params["siren"])


def routes() -> list:
    from starlette.routing import Route
    return [Route(PATH_ZAE, _zae, methods=["GET"]), Route(PATH_EPCI, _epci, methods=["GET"])]


def openapi(oas: dict[str, Any], collection_ids: list[str], coverage_ids: list[str]) -> None:
    """The two dataviz paths in the OpenAPI document (services/front_openapi.py)."""
    if ZAE not in collection_ids:
        return
    paths = oas.setdefault("paths", {})
    paths.setdefault("/dataviz/zae/{zaeId}", _path_item(
        "zaeId", "getZaeDataviz", "Identifiant du parc (collection zae) / park id",
        {"type": "string", "maxLength": MAX_ID},
        "A business park's figures and their evolution by month / chiffres d'une zone "
        "d'activités et leur évolution mensuelle"))
    paths.setdefault("/dataviz/epci/{siren}", _path_item(
        "siren", "getEpciZaeDataviz", "SIREN de l'EPCI / SIREN of the EPCI",
        {"type": "string", "pattern": SIREN.pattern},
        "The figures of an EPCI's business parks (summed) by month / chiffres des zones "
        "d'activités d'un EPCI par mois"))
    tags = oas.setdefault("tags", [])
    if not any(t.get("name") == "dataviz" for t in tags):
        tags.append({"name": "dataviz", "description": "Dataviz des zones d'activités / "
                                                       "business parks dataviz"})


def _path_item(name: str, operation: str, description: str, schema: dict,
               summary: str) -> dict[str, Any]:
    from services.front_openapi import error_response
    error = error_response()
    number_or_null = {"type": "number", "nullable": True}
    values = {"type": "object", "properties": {f: number_or_null for f in FIELDS}}
    answer = {"type": "object", "required": ["fields", "missing", "current", "months", "links"],
              "properties": {
                  "zae": {"type": "object"}, "epci": {"type": "object"},
                  "fields": {"type": "array", "items": {"type": "string", "enum": list(FIELDS)}},
                  "missing": {"type": "array", "items": {"type": "string"}},
                  "current": values,
                  "months": {"type": "array", "items": {
                      "type": "object", "required": ["month", "end", "parcs", "values"],
                      "properties": {"month": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
                                     "end": {"type": "string", "format": "date-time"},
                                     "parcs": {"type": "integer", "minimum": 0},
                                     "values": values}}},
                  "links": {"type": "array", "items": {"type": "object",
                                                       "required": ["href", "rel"]}}}}
    return {"get": {
        "tags": ["dataviz"], "operationId": operation, "summary": summary,
        "description": "Figures now (`current`) and at the end of each of the last `months` "
                       "months (`months`, oldest first), from the parks' history (audit "
                       "trail). Fields the parks do not carry are listed in `missing`.",
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": schema,
             "description": description},
            {"name": "months", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_MONTHS,
                        "default": DEFAULT_MONTHS},
             "description": "Number of months, the current one last / nombre de mois"},
            {"name": "f", "in": "query", "required": False,
             "schema": {"type": "string", "enum": list(FORMATS)},
             "description": "json (default) or csv"}],
        "responses": {
            "200": {"description": "The figures / les chiffres",
                    "content": {"application/json": {"schema": answer},
                                "text/csv": {"schema": {"type": "string"}}}},
            "304": {"description": "Not modified (If-None-Match matched the ETag)"},
            "400": {"description": "Bad request (bilingual OGC exception)", **error},
            "404": {"description": "Unknown park or EPCI (bilingual OGC exception)", **error},
            "503": {"description": "Store busy or unavailable (bilingual OGC exception)",
                    **error}}}}
