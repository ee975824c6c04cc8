"""History over HTTP (issue 17, point 4):
``GET /collections/{collectionId}/items/{featureId}/history``.

The versions of one feature of an editable collection (``editable: true`` in its collection
file), newest first, read from the audit trail the store's writer keeps in the same
transaction as every change (services/store/writer.py: ``Writer.history``, a read-only
writer: no lock, no write). Each version::

    {"version": 3, "date": "2026-01-05T09:12:44.123456Z", "author": "alice",
     "role": "editor", "source": "api", "operation": "patch", "etag": "\\"…\\"",
     "changes": ["statut"], "properties": {…}}

- ``version``: 1 is the creation, or the oldest known version; numbers never depend on
  ``limit`` or ``datetime``.
- ``operation``: the audit action (``insert`` is shown as ``create``; ``replace``,
  ``patch``, ``delete``, ``restore``…). ``source``: ``api`` (Part 4), ``import``
  (``artois-geo import``), ``process`` (a batch that rewrites derived values)…
- A feature that existed before any audit (built from the collection's source) has, as
  version 1, that built version: ``source`` ``source``, ``operation`` ``build``, ``date``,
  ``author`` and ``role`` null (not recorded), its properties taken from the first audit
  entry's previous version. A feature never changed since the build has that one version
  (from the stored feature).
- ``changes``: the names of the properties whose value differs from the previous version
  (a missing property counts as null), then ``geometry`` when the geometry changed. A
  creation lists its non-null properties; a deletion, those it had.
- ``properties``: the version's properties after the change (null for a deletion).
- ``author``: the user name only for a caller with a credential of the reader role or above
  (``Authorization: Bearer …`` or ``X-API-Key``, services/auth.py); null for anonymous
  callers (the agency's editors' names are internal). A credential that is presented but
  unknown is a 401, as on the write endpoints. The answer varies with the credential:
  ``Vary: Authorization, X-API-Key`` and ``Cache-Control: private, no-cache`` when one is
  presented.

Parameters (others: 400 at the edge, services/edge.py): ``limit`` (1..MAX_LIMIT, default
DEFAULT_LIMIT: the newest versions; ``numberMatched`` tells how many there are),
``datetime`` (one instant, a date-time or a date, the date meaning the end of that day in
UTC; timezone-less times are UTC): the one version valid at that instant, the newest whose
date is at or before it (a built version counts as valid since always), none if the
feature did not exist yet; a deletion version means the feature did not exist then.
``f``: ``json`` (default) or ``csv`` (one row per version, one column per property).

A collection that is not editable, an unknown collection, or a feature id with no version
at all: 404 (bilingual OGC exception).

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

PATH = "/collections/{cid}/items/{fid}/history"
PARAMETERS = {"f", "lang", "_", "limit", "datetime"}  # declared to the edge (services/edge.py)
FORMATS = {"json": "application/json", "csv": "text/csv"}
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_ID = 256          # characters of a feature identifier worth looking up
READER_ROLE = "reader"
OPERATIONS = {"insert": "create"}  # audit action -> operation shown (others unchanged)
BUILT = {"source": "source", "operation": "build"}
TITLE = "Historique / History"
FIXED_COLUMNS = ("version", "date", "author", "role", "source", "operation", "etag",
                 "changes")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


# ---------------------------------------------------------------------------- pure core
def changed(before: dict | None, after: dict | None) -> list[str]:
    """Names of the properties that differ between two GeoJSON features (None: no feature;
    a missing property is null), then ``geometry`` if the geometries differ."""
    b = (before or {}).get("properties") or {}
    a = (after or {}).get("properties") or {}
    names = [k for k in dict.fromkeys([*b, *a]) if b.get(k) != a.get(k)]
    if (before or {}).get("geometry") != (after or {}).get("geometry"):
        names.append("geometry")
    return names


def _built(feature: dict, etag: str | None) -> dict[str, Any]:
    return {"version": 1, "date": None, "author": None, "role": None, **BUILT,
            "etag": etag, "changes": [], "properties": dict(feature.get("properties") or {})}


def versions_of(rows: Iterable[dict], current: dict | None = None,
                current_etag: str | None = None) -> list[dict[str, Any]]:
    """The versions, oldest first, from the audit rows of one feature (oldest first, as
    ``Writer.history`` gives them). Without rows, the current feature (GeoJSON, if any) is
    the one built version."""
    rows = list(rows)
    out: list[dict[str, Any]] = []
    if not rows:
        return [_built(current, current_etag)] if current is not None else []
    if rows[0].get("previous") is not None:
        out.append(_built(rows[0]["previous"], rows[0].get("etag_before")))
    for row in rows:
        new = row.get("new")
        action = str(row.get("action") or "")
        out.append({
            "version": len(out) + 1, "date": row.get("at"), "author": row.get("username"),
            "role": row.get("role"), "source": row.get("source"),
            "operation": OPERATIONS.get(action, action),
            "etag": row.get("etag_after") if new is not None else None,
            "changes": changed(row.get("previous"), new),
            "properties": dict(new.get("properties") or {}) if new is not None else None})
    return out


def parse_limit(value: str | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    v = value.strip()
    if not re.fullmatch(r"[+]?[0-9]{1,19}", v) or not 1 <= int(v) <= MAX_LIMIT:
        raise OGCError("history_limit", value=value[:30], max=MAX_LIMIT)
    return int(v)


def parse_instant(value: str | None) -> dt.datetime | None:
    """One instant in UTC: a date (the end of that day) or a date-time (UTC if it names no
    offset). Intervals and open ends are refused (400)."""
    if value is None or value == "":
        return None
    v = value.strip()
    try:
        if _DATE.match(v):
            day = dt.date.fromisoformat(v)
            return dt.datetime.combine(day, dt.time.max, tzinfo=dt.timezone.utc)
        if _DATETIME.match(v):
            moment = dt.datetime.fromisoformat(v[:-1] + "+00:00" if v[-1] in "zZ" else v)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=dt.timezone.utc)
            return moment.astimezone(dt.timezone.utc)
    except (ValueError, OverflowError):
        pass
    raise OGCError("history_datetime", value=value[:60])


def _instant(date: str | None) -> dt.datetime | None:
    if not date:
        return None
    try:
        moment = dt.datetime.fromisoformat(date[:-1] + "+00:00" if date[-1] in "zZ" else date)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def valid_at(versions: list[dict], instant: dt.datetime) -> list[dict]:
    """[the version valid at `instant`] (versions oldest first): the newest whose date is at
    or before it, a version without a date counting as valid since always; [] if none."""
    found = None
    for version in versions:
        moment = _instant(version["date"])
        if moment is None or moment <= instant:
            found = version
    return [found] if found is not None else []


def select(versions: list[dict], limit: int = DEFAULT_LIMIT,
           instant: dt.datetime | None = None) -> list[dict]:
    """The versions to answer, newest first."""
    if instant is not None:
        return valid_at(versions, instant)
    return list(reversed(versions))[:limit]


def without_authors(versions: list[dict]) -> list[dict]:
    return [{**v, "author": None} for v in versions]


def document(collection: str, feature_id: str, chosen: list[dict], matched: int,
             url: str, params: dict[str, str]) -> dict[str, Any]:
    """The JSON answer; `url` is the history's own address (without query)."""
    others = {k: v for k, v in params.items() if k not in ("f", "_")}
    item = url.rsplit("/", 1)[0]
    return {"collection": collection, "featureId": feature_id, "versions": chosen,
            "numberMatched": matched, "numberReturned": len(chosen),
            "links": [
                {"rel": "self", "type": FORMATS["json"], "title": TITLE,
                 "href": f"{url}?{urlencode({**others, 'f': 'json'})}"},
                {"rel": "alternate", "type": FORMATS["csv"], "title": f"{TITLE} (CSV)",
                 "href": f"{url}?{urlencode({**others, 'f': 'csv'})}"},
                {"rel": "original", "type": "application/geo+json",
                 "title": "Élément / Feature", "href": item},
                {"rel": "collection", "type": FORMATS["json"], "title": collection,
                 "href": item.rsplit("/items/", 1)[0]}]}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return value


def to_csv(chosen: list[dict]) -> str:
    """One row per version (as given), the fixed columns then one column per property (in
    order of first appearance; a property named like a fixed column gets `properties.`)."""
    names = list(dict.fromkeys(k for v in chosen for k in (v["properties"] or {})))
    header = list(FIXED_COLUMNS) + [f"properties.{n}" if n in FIXED_COLUMNS else n
                                    for n in names]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for v in chosen:
        props = v["properties"] or {}
        writer.writerow([_cell(v[c]) if c != "changes" else ";".join(v["changes"])
                         for c in FIXED_COLUMNS] + [_cell(props.get(n)) for n in names])
    return buffer.getvalue()


def choose_format(value: str | None) -> str:
    if value is None or value.strip() == "":
        return "json"
    fmt = value.strip().lower()
    if fmt not in FORMATS:
        raise OGCError("history_format", value=value[:20], allowed=", ".join(FORMATS))
    return fmt


# ---------------------------------------------------------------------------- the request
_KEYSTORE = None


def _keys():
    global _KEYSTORE
    if _KEYSTORE is None:
        from services.auth import KeyStore
        _KEYSTORE = KeyStore.from_environment()
    return _KEYSTORE


def sees_authors(headers: list[tuple[bytes, bytes]]) -> bool:
    """True for a caller with a known credential of the reader role or above; False
    without a credential; 401 (services.auth.AuthError) for an unknown one."""
    from services.auth import credential, require
    if not credential(headers):
        return False
    return require(_keys(), headers, READER_ROLE).has(READER_ROLE)


def _read(settings, cid: str, fid: str) -> tuple[list[dict], dict | None, str | None]:
    """(audit rows, the current feature as GeoJSON when there are none, its ETag)."""
    from services.store.feature import feature_etag
    from services.store.writer import open_writer
    with open_writer(settings, cid, readonly=True) as reader:
        rows = reader.history(fid)
        if rows:
            return rows, None, None
        feature = reader.get(fid)
    if feature is None:
        return [], None, None
    return [], feature.to_geojson(), feature_etag(feature)


def _store_errors(err: Exception, settings) -> OGCError | None:
    """A store that cannot answer now: 503 with Retry-After (None: not such an error)."""
    import sqlite3
    if isinstance(err, sqlite3.OperationalError):
        if "locked" in str(err) or "busy" in str(err):
            return OGCError("timeout", status=503, headers={"Retry-After": "5"})
        return None
    if settings.database_url:
        from services.transactions import database_problem
        return database_problem(err)
    return None


def compute(cid: str, fid: str, params: dict[str, str], authors: bool,
            base: str) -> tuple[bytes, str]:
    """(body, media type) of one history request. Runs in a worker thread."""
    from services.settings import get_settings
    from services.store import get_catalog

    settings = get_settings()
    spec = get_catalog(settings).spec(cid)
    if spec is None or spec.kind != "features":
        raise OGCError("collection_not_found", status=404, collection=cid)
    if not spec.editable:
        raise OGCError("history_not_editable", status=404, collection=cid)
    fmt = choose_format(params.get("f"))
    limit = parse_limit(params.get("limit"))
    instant = parse_instant(params.get("datetime"))
    if len(fid) > MAX_ID or any(ord(c) < 32 or ord(c) == 127 for c in fid):
        raise OGCError("history_not_found", status=404, id=fid[:60], collection=cid)
    try:
        rows, current, etag = _read(settings, cid, fid)
    except OGCError:
        raise
    except Exception as err:
        problem = _store_errors(err, settings)
        if problem is None:
            raise
        raise problem from err
    versions = versions_of(rows, current, etag)
    if not versions:
        raise OGCError("history_not_found", status=404, id=fid, collection=cid)
    chosen = select(versions, limit, instant)
    if not authors:
        chosen = without_authors(chosen)
    from services.access import current_view, without_properties
    chosen = without_properties(chosen, current_view().hidden(cid))  # the caller's tier
    if fmt == "csv":
        return to_csv(chosen).encode("utf-8"), FORMATS["csv"] + "; charset=utf-8"
    url = f"{base}/collections/{quote(cid, safe='')}/items/{quote(fid, safe='')}/history"
    doc = document(cid, fid, chosen, len(versions), url, params)
    return json.dumps(doc, ensure_ascii=False).encode("utf-8"), FORMATS["json"]


# ---------------------------------------------------------------------------- front hooks
def base_url() -> str:
    """The public URL the server writes in its links (pygeoapi's runtime configuration)."""
    from pygeoapi.starlette_app import CONFIG
    return CONFIG["server"]["url"].rstrip("/")


async def _endpoint(request):
    from starlette.concurrency import run_in_threadpool
    from starlette.responses import Response
    cid, fid = request.path_params["cid"], request.path_params["fid"]
    headers = request.scope.get("headers", [])
    authors = sees_authors(headers)  # before any store access: a bad key is a 401
    body, media = await run_in_threadpool(compute, cid, fid, dict(request.query_params),
                                          authors, base_url())
    out = {"Vary": "Authorization, X-API-Key"}
    from services.auth import credential
    if credential(headers):
        out["Cache-Control"] = "private, no-cache"
    if media.startswith(FORMATS["csv"]):
        out["Content-Disposition"] = 'inline; filename="history.csv"'
    return Response(body, media_type=media, headers=out)


def routes() -> list:
    from starlette.routing import Route
    return [Route(PATH, _endpoint, methods=["GET"])]


def _editable(collection_ids: list[str]) -> list[str]:
    try:
        from services.settings import get_settings
        from services.store import get_catalog
        specs = get_catalog(get_settings()).specs
    except Exception:  # noqa: BLE001 - the document is still written without the list
        return list(collection_ids)
    return [c for c in collection_ids if (s := specs.get(c)) is not None and s.editable]


def openapi(oas: dict[str, Any], collection_ids: list[str], coverage_ids: list[str]) -> None:
    """The history path in the OpenAPI document (services/front_openapi.py)."""
    oas.setdefault("paths", {}).setdefault(
        "/collections/{collectionId}/items/{featureId}/history",
        path_item(_editable(collection_ids)))
    tags = oas.setdefault("tags", [])
    if not any(t.get("name") == "history" for t in tags):
        tags.append({"name": "history", "description": "Versions des éléments modifiables / "
                                                       "versions of editable features"})


def path_item(collection_ids: list[str]) -> dict[str, Any]:
    from services.front_openapi import error_response
    error = error_response()
    nullable = {"type": "string", "nullable": True}
    version = {"type": "object",
               "required": ["version", "date", "author", "role", "source", "operation",
                            "etag", "changes", "properties"],
               "properties": {
                   "version": {"type": "integer", "minimum": 1},
                   "date": {**nullable, "format": "date-time"},
                   "author": {**nullable, "description": "null unless the caller has the "
                                                         "reader role or above"},
                   "role": nullable, "source": nullable, "operation": {"type": "string"},
                   "etag": nullable,
                   "changes": {"type": "array", "items": {"type": "string"}},
                   "properties": {"type": "object", "nullable": True}}}
    answer = {"type": "object",
              "required": ["collection", "featureId", "versions", "numberMatched",
                           "numberReturned", "links"],
              "properties": {
                  "collection": {"type": "string"}, "featureId": {"type": "string"},
                  "versions": {"type": "array", "items": version},
                  "numberMatched": {"type": "integer"}, "numberReturned": {"type": "integer"},
                  "links": {"type": "array", "items": {"type": "object",
                                                       "required": ["href", "rel"]}}}}

    def query(name: str, schema: dict, description: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "schema": schema,
                "description": description}
    return {"get": {
        "tags": ["history"], "operationId": "getFeatureHistory",
        "summary": "Versions of a feature of an editable collection, newest first / "
                   "historique d'un élément",
        "description": "From the audit trail of every change (Part 4, import, processes). "
                       "`author` is given only to callers with an API key of the reader "
                       "role or above.",
        "parameters": [
            {"name": "collectionId", "in": "path", "required": True,
             "schema": {"type": "string", "enum": collection_ids},
             "description": "Collection modifiable / editable collection"},
            {"name": "featureId", "in": "path", "required": True,
             "schema": {"type": "string"}, "description": "Identifiant / feature id"},
            query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                            "default": DEFAULT_LIMIT}, "The newest versions / nombre"),
            query("datetime", {"type": "string"},
                  "One instant (date-time, or a date: its end, UTC): the version valid "
                  "then / la version en vigueur à cet instant"),
            query("f", {"type": "string", "enum": list(FORMATS)}, "json (default) or csv")],
        "responses": {
            "200": {"description": "The versions / les versions",
                    "content": {"application/json": {"schema": answer},
                                "text/csv": {"schema": {"type": "string"}}}},
            "304": {"description": "Not modified (If-None-Match matched the ETag)"},
            "400": {"description": "Bad request (bilingual OGC exception)", **error},
            "401": {"description": "Unknown API key (bilingual OGC exception)", **error},
            "404": {"description": "Not an editable collection, or no such feature and no "
                                   "history (bilingual OGC exception)", **error},
            "503": {"description": "Store busy or unavailable (bilingual OGC exception)",
                    **error}}}}
