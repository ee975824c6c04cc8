"""OGC API Features Part 4 (create, replace, update, delete) on editable collections.

An ASGI layer in front of pygeoapi (see services.app.create_app), its Starlette routes
matched on path and method (Transactions._routes). It answers:

- ``POST /collections/{id}/items`` with ``Content-Type: application/geo+json`` -> 201,
  ``Location`` and ``ETag`` (other POSTs, CQL2 JSON queries, go on to pygeoapi);
- ``PUT`` / ``PATCH`` (JSON merge patch of the properties, optional geometry) /
  ``DELETE`` on ``/collections/{id}/items/{featureId}``, which need ``If-Match`` with the
  feature's current ETag (428 without it, 412 when stale: checked inside the writer's
  transaction, on the locked row, so two concurrent edits never silently lose one);
- ``OPTIONS`` on both paths (``Allow``: how QGIS finds out a layer is editable); CORS
  preflights and headers (browser pages on other origins) are services/cors.py's, outside;
- ``GET`` / ``HEAD`` of one feature of an editable collection: pygeoapi's response plus an
  ``ETag`` header.

Geometries are read in CRS84 unless ``Content-Crs`` names another CRS of the collection
(axis order of the CRS: EPSG:4326 is latitude, longitude). Writes need the editor role
(services/auth.py) and are validated by ``services.store.feature.validate_feature``, the same
function as ``artois-geo import``; every change is audited in the same transaction.
Errors are OGC exceptions in JSON, in French and English.

``ARTOIS_REQUIRE_IF_MATCH=false`` accepts PUT/PATCH/DELETE without If-Match (clients such
as QGIS that do not send it), at the price of possible lost updates; the default is true.
"""
from __future__ import annotations

import json
import logging
import re
import sqlite3
from typing import Any
from urllib.parse import parse_qs, quote

import numpy as np
import pyproj
import shapely
from shapely.geometry import shape
from starlette.concurrency import run_in_threadpool
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from services.auth import KeyStore, require
from services.errors import OGCError
from services.i18n import pick_language
from services.settings import Settings
from services.store.feature import (CollectionNotFound, Feature, InvalidFeature, Problem,
                                    WriterError, feature_etag)
from services.store.writer import feature_spec, open_writer

LOGGER = logging.getLogger("artois_geo.transactions")

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
MAX_BODY_BYTES = 5 * 1024 * 1024
ITEMS = "/collections/{cid}/items"
ITEM = "/collections/{cid}/items/{fid}"
ALLOW_ITEMS = "GET, POST, OPTIONS"
ALLOW_ITEM = "GET, PUT, PATCH, DELETE, OPTIONS"
ALLOW_READ_ONLY = "GET, OPTIONS"
FEATURE_TYPES = ("application/geo+json", "application/json")
PATCH_TYPES = ("application/merge-patch+json", "application/json", "application/geo+json")
WRITER_ROLE = "editor"


def retry_after() -> list[tuple[bytes, bytes]]:
    from services.store.postgis import pool as db
    return [(b"retry-after", str(db.RETRY_AFTER_S).encode())]


def database_problem(err: BaseException) -> "HTTPProblem | None":
    """The answer to a database error that is not the request's fault: 503 with Retry-After
    (a statement or lock timeout; the database unreachable, restarting or the connection
    lost, which the pool heals by itself). None for other errors."""
    import psycopg

    from services.store.postgis import pool as db
    if isinstance(err, (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable)):
        return HTTPProblem("timeout", status=503, headers=retry_after())
    if db.unreachable(err):
        return HTTPProblem("database_unavailable", status=503, headers=retry_after())
    return None


def with_retry_after(send: Send) -> Send:
    """`send` adding Retry-After to a 503 without one (pygeoapi's answer when the database
    is unreachable: services.providers.postgis.ProviderUnavailableError)."""
    async def wrapped(msg):
        if msg["type"] == "http.response.start" and msg["status"] == 503 and \
                _header(msg.get("headers", []), b"retry-after") is None:
            msg = dict(msg, headers=list(msg.get("headers", [])) + retry_after())
        await send(msg)
    return wrapped


class HTTPProblem(OGCError):
    """A Part 4 error (services.errors.OGCError: key, status, code, headers, extra members)."""


def _header(headers, name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _media_type(headers) -> str:
    return (_header(headers, b"content-type") or "").split(";")[0].strip().lower()


def _crs_name(uri: str) -> str:
    if uri.endswith("/OGC/1.3/CRS84"):
        return "OGC:CRS84"
    m = re.search(r"/def/crs/EPSG/0/(\d+)$", uri)
    if m:
        return f"EPSG:{m.group(1)}"
    return uri


_to_storage: dict[str, pyproj.Transformer] = {}
_from_storage: dict[str, pyproj.Transformer] = {}


def _transform(geom: shapely.Geometry, tr: pyproj.Transformer) -> shapely.Geometry:
    def project(coords: np.ndarray) -> np.ndarray:
        x, y = tr.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])
    return shapely.transform(geom, project)


def to_storage(geom: shapely.Geometry, crs_uri: str) -> shapely.Geometry:
    """From `crs_uri` (its own axis order) to EPSG:2154."""
    if crs_uri.endswith("/EPSG/0/2154"):
        return geom
    tr = _to_storage.get(crs_uri)
    if tr is None:
        tr = _to_storage[crs_uri] = pyproj.Transformer.from_crs(
            _crs_name(crs_uri), "EPSG:2154", always_xy=False)
    return _transform(geom, tr)


def to_crs84(geom: shapely.Geometry) -> shapely.Geometry:
    tr = _from_storage.get(CRS84)
    if tr is None:
        tr = _from_storage[CRS84] = pyproj.Transformer.from_crs("EPSG:2154", "OGC:CRS84",
                                                                always_xy=True)
    return _transform(geom, tr)


def read_geometry(obj: Any, crs_uri: str) -> tuple[shapely.Geometry | None, list[Problem]]:
    """A GeoJSON geometry in `crs_uri` -> (shapely geometry in EPSG:2154, problems)."""
    if obj is None:
        return None, []
    try:
        geom = shape(obj)
    except Exception as err:  # noqa: BLE001 - shapely raises many kinds on bad GeoJSON
        return None, [Problem("geometry_unreadable", params={"detail": str(err) or
                                                            type(err).__name__})]
    try:
        return to_storage(geom, crs_uri), []
    except Exception as err:  # noqa: BLE001
        return None, [Problem("geometry_unreadable", params={"detail": str(err)})]


def etag_matches(if_match: str, etag: str) -> bool:
    """RFC 9110 If-Match: '*' or a list of strong entity tags (weak ones never match)."""
    for candidate in (c.strip() for c in if_match.split(",")):
        if candidate == "*" or candidate == etag:
            return True
    return False


def _hidden(spec, props: dict) -> frozenset[str]:
    """The properties of `spec` hidden from the caller (services/access.py); sending one is
    refused as an unknown property is (no existence leak)."""
    from services.access import current_view
    hidden = current_view().hidden(spec.id)
    sent = sorted(k for k in props if k in hidden)
    if sent:
        err = InvalidFeature([Problem("field_unknown", name) for name in sent])
        raise HTTPProblem.wrap(err, status=400, code="InvalidParameterValue", extra={
            "errors": [p.to_dict() for p in err.problems]})
    return hidden


def _caller_etag(feature: Feature, scope) -> str:
    """The feature's ETag as this caller was given it (the caching layer suffixes it for a
    view that hides properties: services/access.py etag_salt)."""
    etag = feature_etag(feature)
    if scope is None:
        return etag
    from services.access import etag_salt
    salt = etag_salt(scope)
    return f'{etag[:-1]}-{salt}"' if salt and etag.endswith('"') else etag


class Transactions:
    """The Part 4 endpoints in front of `app` (pygeoapi behind our error handling)."""

    def __init__(self, app: ASGIApp, settings: Settings | None = None,
                 base_url: str | None = None, keys: KeyStore | None = None):
        self.app = app
        self.settings = settings or Settings()
        self.base_url = (base_url or self.settings.url).rstrip("/")
        self.keys = keys or KeyStore.from_environment()
        self.require_if_match = self.settings.require_if_match
        from services.config import CRS_LIST
        self.crs_list = list(CRS_LIST)
        self.routes = self._routes()

    # -- routing --------------------------------------------------------------------
    def _routes(self) -> list[Route]:
        """The Part 4 routes, matched on path and method (a trailing slash accepted). Their
        endpoints may still hand a request on: a POST that is a CQL2 JSON query, a CORS
        preflight."""
        routes = []
        for slash in ("", "/"):
            routes += [Route(ITEMS + slash, self._post_items, methods=["POST"]),
                       Route(ITEMS + slash, self._options, methods=["OPTIONS"]),
                       Route(ITEM + slash, self._get_with_etag, methods=["GET"]),  # and HEAD
                       Route(ITEM + slash, self._write, methods=["PUT", "PATCH", "DELETE"]),
                       Route(ITEM + slash, self._options, methods=["OPTIONS"])]
        return routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path_matched = False
        for route in self.routes:
            match, child = route.matches(scope)
            if match is Match.FULL:
                params = child["path_params"]
                await child["endpoint"](scope, receive, send, params["cid"], params.get("fid"))
                return
            path_matched = path_matched or match is Match.PARTIAL
        # reads (GET of items) and other methods: pygeoapi's, a 503 gets Retry-After
        await self.app(scope, receive, with_retry_after(send) if path_matched else send)

    async def _post_items(self, scope, receive, send, cid, fid) -> None:
        if _media_type(scope.get("headers", [])) != "application/geo+json":  # a CQL2 query
            await self.app(scope, receive, with_retry_after(send))
            return
        await self._write(scope, receive, send, cid, fid)

    async def _options(self, scope, receive, send, cid, fid) -> None:
        if _header(scope.get("headers", []), b"access-control-request-method"):  # preflight
            await self.app(scope, receive, with_retry_after(send))
            return
        await self._write(scope, receive, send, cid, fid)

    async def _write(self, scope, receive, send, cid, fid) -> None:
        """OPTIONS, POST, PUT, PATCH, DELETE: answered here, errors as OGC exceptions."""
        path, method, headers = scope["path"], scope["method"], scope.get("headers", [])
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        lang = pick_language(_header(headers, b"accept-language"), (query.get("lang") or [None])[0])
        try:
            try:
                spec = feature_spec(self.settings, cid)
            except CollectionNotFound as err:
                raise HTTPProblem.wrap(err, status=404, code="NotFound") from err
            if method == "OPTIONS":
                allow = (ALLOW_ITEMS if fid is None else ALLOW_ITEM) if spec.editable \
                    else ALLOW_READ_ONLY
                await self._send(send, 204, b"", [(b"allow", allow.encode())], content_type=None)
                return
            if not spec.editable:
                raise HTTPProblem("not_editable", status=405, collection=cid,
                                  headers=[(b"allow", ALLOW_READ_ONLY.encode())])
            principal = self._authorise(headers)
            send = self._recompute_before(send, spec.id, f"{method} {path} ({principal.user})",
                                          principal.user)
            if method == "POST":
                await self._create(scope, receive, send, spec, principal)
            elif method == "PUT":
                await self._replace(scope, receive, send, spec, fid, principal)
            elif method == "PATCH":
                await self._patch(scope, receive, send, spec, fid, principal)
            else:
                await self._delete(scope, send, spec, fid, principal)
        except OGCError as err:  # HTTPProblem, AuthError, the writers' errors
            await self._problem(send, err, lang)
        except Exception:  # noqa: BLE001 - a JSON 500, the trace in the log
            LOGGER.exception("unhandled error on %s %s", method, path)
            await self._problem(send, HTTPProblem("internal_error", status=500), lang)

    # -- handlers -------------------------------------------------------------------
    def _authorise(self, headers):
        return require(self.keys, headers, WRITER_ROLE)  # AuthError: an OGCError

    async def _create(self, scope, receive, send, spec, principal) -> None:
        body = await self._json_body(scope, receive, FEATURE_TYPES)
        crs = self._content_crs(scope)
        props, geom, problems = self._feature(body, crs)
        if props.get(spec.id_field) is None and body.get("id") is not None:
            props[spec.id_field] = body["id"]
        hidden = _hidden(spec, props)

        def work() -> Feature:
            with open_writer(self.settings, spec.id, user=principal.user, role=principal.role,
                             source="api") as w:
                return w.insert(props, geom, geometry_problems=problems)
        new = await self._run(work)
        location = f"{self.base_url}/collections/{quote(spec.id)}/items/{quote(str(new.id), safe='')}"
        await self._send_feature(send, 201, new, [(b"location", location.encode())], hidden)

    async def _replace(self, scope, receive, send, spec, fid, principal) -> None:
        if_match = self._if_match(scope)
        body = await self._json_body(scope, receive, FEATURE_TYPES)
        crs = self._content_crs(scope)
        props, geom, problems = self._feature(body, crs)
        hidden = _hidden(spec, props)

        def work() -> Feature:
            with open_writer(self.settings, spec.id, user=principal.user, role=principal.role,
                             source="api") as w:
                current = self._locked_current(w, spec, fid, if_match, scope)
                # a replacement keeps the properties the caller may not see (or send)
                kept = {k: current.properties[k] for k in hidden if k in current.properties}
                return w.replace(fid, {**props, **kept}, geom, current=current,
                                 geometry_problems=problems)
        new = await self._run(work)
        await self._send_feature(send, 200, new, None, hidden)

    async def _patch(self, scope, receive, send, spec, fid, principal) -> None:
        if_match = self._if_match(scope)
        body = await self._json_body(scope, receive, PATCH_TYPES)
        crs = self._content_crs(scope)
        props = body.get("properties", {})
        if props is None:
            props = {}
        if not isinstance(props, dict):
            raise HTTPProblem("invalid_patch")
        hidden = _hidden(spec, props)
        geom, problems = None, []
        if "geometry" in body:
            geom, problems = read_geometry(body["geometry"], crs)
            if geom is None and not problems:
                problems = [Problem("geometry_missing")]

        def work() -> Feature:
            with open_writer(self.settings, spec.id, user=principal.user, role=principal.role,
                             source="api") as w:
                current = self._locked_current(w, spec, fid, if_match, scope)
                return w.patch(fid, props, geom, current=current, geometry_problems=problems)
        new = await self._run(work)
        await self._send_feature(send, 200, new, None, hidden)

    async def _delete(self, scope, send, spec, fid, principal) -> None:
        if_match = self._if_match(scope)

        def work() -> Feature:
            with open_writer(self.settings, spec.id, user=principal.user, role=principal.role,
                             source="api") as w:
                current = self._locked_current(w, spec, fid, if_match, scope)
                return w.delete(fid, current=current)
        await self._run(work)
        await self._send(send, 204, b"", content_type=None)

    async def _get_with_etag(self, scope, receive, send, cid, fid) -> None:
        """pygeoapi's response, plus the feature's ETag on editable collections. The ETag is
        read before the body: if an edit lands in between, the client's next If-Match is
        refused (412) rather than an edit being lost."""
        etag = None
        send = with_retry_after(send)
        try:
            spec = feature_spec(self.settings, cid)
            if spec.editable:
                etag = await run_in_threadpool(self._read_etag, cid, fid)
        except CollectionNotFound:
            pass
        except Exception as err:  # noqa: BLE001 - never fail a read for the sake of its ETag
            from services.store.postgis import pool as db
            problem = database_problem(err) if db.unreachable(err) else None
            if problem is not None:  # pygeoapi would not reach the database either
                query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
                lang = pick_language(_header(scope.get("headers", []), b"accept-language"),
                                     (query.get("lang") or [None])[0])
                await self._problem(send, problem, lang)
                return
            LOGGER.exception("cannot compute the ETag of %s/%s", cid, fid)
        if etag is None:
            await self.app(scope, receive, send)
            return

        async def send_with_etag(msg):
            if msg["type"] == "http.response.start" and msg["status"] == 200 and \
                    "json" in (_header(msg.get("headers", []), b"content-type") or ""):
                msg = dict(msg, headers=list(msg.get("headers", [])) + [(b"etag", etag.encode())])
            await send(msg)
        await self.app(scope, receive, send_with_etag)

    def _read_etag(self, cid: str, fid: str) -> str | None:
        with open_writer(self.settings, cid, readonly=True) as reader:
            return reader.etag(fid)

    # -- helpers --------------------------------------------------------------------
    def _recompute_before(self, send: Send, cid: str, cause: str,
                          user: str | None = None) -> Send:
        """`send` that, before a successful answer (sent once the write has committed), gives
        the processes whose stored results read `cid` a job (services/jobs/triggers.py, off
        the event loop, never raises): the client's next request sees the job queued."""
        async def wrapped(msg):
            if msg["type"] == "http.response.start" and msg["status"] < 300:
                from services.jobs.triggers import data_changed
                try:  # derived figures of other collections (refresh_after), then the jobs
                    await run_in_threadpool(data_changed, [cid], self.settings, cause=cause,
                                            user=user)
                except Exception:  # noqa: BLE001 - the write is done: answer it
                    LOGGER.exception("recompute after %s", cause)
            await send(msg)
        return wrapped

    @staticmethod
    def _locked_current(w, spec, fid, if_match, scope=None):
        current = w.get(fid)  # PostGIS: FOR UPDATE; GeoPackage: under BEGIN IMMEDIATE
        if current is None:
            raise HTTPProblem("feature_not_found", status=404, id=fid, collection=spec.id)
        if if_match is not None and not etag_matches(if_match, _caller_etag(current, scope)):
            raise HTTPProblem("etag_mismatch", status=412, id=fid)
        return current

    def _if_match(self, scope) -> str | None:
        value = _header(scope.get("headers", []), b"if-match")
        if value is None or not value.strip():
            if self.require_if_match:
                raise HTTPProblem("if_match_required", status=428)
            return None
        return value.strip()

    def _content_crs(self, scope) -> str:
        value = _header(scope.get("headers", []), b"content-crs")
        if not value:
            return CRS84
        uri = value.strip().strip("<>").strip()
        if uri not in self.crs_list:
            raise HTTPProblem("content_crs_unsupported", crs=uri, allowed=self.crs_list)
        return uri

    async def _json_body(self, scope, receive, media_types) -> dict:
        headers = scope.get("headers", [])
        ctype = _media_type(headers)
        if ctype not in media_types:
            raise HTTPProblem("unsupported_media_type", status=415, ctype=ctype or "-")
        length = _header(headers, b"content-length")
        if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
            raise HTTPProblem("payload_too_large", status=413)
        chunks, size = [], 0
        while True:
            msg = await receive()
            if msg["type"] == "http.disconnect":
                raise HTTPProblem("invalid_request")
            chunk = msg.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise HTTPProblem("payload_too_large", status=413)
            chunks.append(chunk)
            if not msg.get("more_body"):
                break
        try:
            body = json.loads(b"".join(chunks) or b"null")
        except ValueError as err:
            raise HTTPProblem("invalid_json", detail=str(err)) from err
        if not isinstance(body, dict):
            raise HTTPProblem("not_a_feature" if ctype != "application/merge-patch+json"
                              else "invalid_patch")
        return body

    @staticmethod
    def _feature(body: dict, crs: str) -> tuple[dict, Any, list[Problem]]:
        if body.get("type", "Feature") != "Feature":
            raise HTTPProblem("not_a_feature")
        props = body.get("properties") or {}
        if not isinstance(props, dict):
            raise HTTPProblem("not_a_feature")
        geom, problems = read_geometry(body.get("geometry"), crs)
        return dict(props), geom, problems

    async def _run(self, work):
        try:
            return await run_in_threadpool(work)
        except HTTPProblem:
            raise
        except InvalidFeature as err:
            raise HTTPProblem.wrap(err, status=400, code="InvalidParameterValue", extra={
                "errors": [p.to_dict() for p in err.problems]}) from err
        except WriterError as err:
            headers = [(b"allow", ALLOW_READ_ONLY.encode())] if err.status == 405 else None
            raise HTTPProblem.wrap(err, status=err.status, code=err.ogc_code,
                                 headers=headers) from err
        except sqlite3.OperationalError as err:
            if "locked" in str(err) or "busy" in str(err):
                raise HTTPProblem("timeout", status=503, headers=retry_after()) from err
            raise
        except Exception as err:
            import psycopg
            if isinstance(err, psycopg.errors.UniqueViolation):
                raise HTTPProblem("feature_exists", status=409, id="-", collection="-") from err
            problem = database_problem(err)
            if problem is not None:
                raise problem from err
            raise

    async def _send_feature(self, send, status: int, feature: Feature,
                            headers: list[tuple[bytes, bytes]] | None = None,
                            hidden: frozenset[str] = frozenset()) -> None:
        out = feature.to_geojson(transform=to_crs84, decimals=7)
        if hidden and isinstance(out.get("properties"), dict):  # not the caller's to read
            out["properties"] = {k: v for k, v in out["properties"].items() if k not in hidden}
        body = json.dumps(out, ensure_ascii=False).encode("utf-8")
        await self._send(send, status, body, (headers or []) + [
            (b"etag", feature_etag(feature).encode()),
            (b"content-crs", f"<{CRS84}>".encode())], content_type="application/geo+json")

    async def _problem(self, send, err: OGCError, lang: str) -> None:
        await self._send(send, err.status, err.body(lang), err.header_list(),
                         content_type="application/json")

    @staticmethod
    async def _send(send, status: int, body: bytes, headers=None,
                    content_type: str | None = "application/json") -> None:
        headers = list(headers or [])
        if content_type:
            headers.append((b"content-type", content_type.encode()))
        if status != 204:
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body if status != 204 else b""})
