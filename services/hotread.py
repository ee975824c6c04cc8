"""Hot reads: the commonest JSON reads of the PostGIS store answered on the event loop.

`GET /collections/{id}/items` (a first page, an offset, a bbox, a keyset `cursor`) and
`GET /collections/{id}/items/{fid}` by an anonymous caller are what web maps, QGIS and
GDAL send most. The ordinary path (services/app.py) gives each of them ten ASGI layers,
a thread hop, pygeoapi's handler and a synchronous psycopg call in a worker thread that
competes with the event loop for the GIL (bench/README.md: where the time goes). This
layer, the outermost, answers them itself:

- the statement is the provider's own plan (`PostGISFeatures.page_plan`/`item_plan`, the
  SQL the ordinary path runs), executed with psycopg's asyncio pool (`pool.apool`) on the
  event loop: no thread;
- the document and its headers are built as pygeoapi's handlers build them (pygeoapi's own
  `APIRequest` for locale, format, link relations and response headers; its link order and
  titles; services.pygeoapi_compat's JSON, Content-Type and Link header), then the outer
  layers' headers with their own functions: the versioned ETag and Cache-Control of
  services/caching.py, CORS of services/cors.py, and the metrics and access log of
  services/ops.py; gzip as Starlette's GZipMiddleware does it;
- a single feature is its PostGIS text with the links spliced in (pygeoapi parses and
  re-dumps it: the same JSON, non-ASCII characters unescaped).

Everything else goes down the ordinary path, untouched: other methods and formats, any
query parameter beyond f, limit, offset, bbox and cursor (items) or f (item), credentials
(views other than the anonymous one), conditional requests, collections that are not
PostGIS features, the cadastre (its usage is counted), single features of editable
collections (their Part 4 ETag), invalid values (their errors are pygeoapi's), and any
failure of the database (its 503 is the ordinary path's). tests/test_fastread.py compares
the answers of both paths over HTTP (`ARTOIS_FAST_READS=false` turns this layer off).
"""
from __future__ import annotations

import copy
import gzip
import json
import logging
import re
import time
from datetime import UTC, datetime
from typing import Any, Awaitable
from urllib.parse import parse_qsl, quote, unquote

from psycopg.errors import QueryCanceled
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from services import caching, hottiles, ops
from services.routes import route_of
from services.settings import get_settings
from services.store.postgis import tables

LOGGER = logging.getLogger(__name__)

_PATH = re.compile(r"^/collections/([^/]+)/items(?:/([^/]+))?$")
PAGE_PARAMS = frozenset({"f", "limit", "offset", "bbox", "cursor"})
ITEM_PARAMS = frozenset({"f"})
# a request carrying one of these goes the ordinary way (credentials: another view;
# conditionals: 304s and 412s; ranges)
_ORDINARY_HEADERS = frozenset({b"authorization", b"x-api-key", b"if-none-match",
                               b"if-match", b"if-modified-since", b"if-unmodified-since",
                               b"range"})
_SHAPE_HEADERS = frozenset({b"accept", b"accept-language", b"origin"})
POSTGIS_PROVIDER = "services.providers.postgis.PostGISProvider"
SHAPES = 4096  # request shapes kept per process (a map's pages, a layer's features)


_Ordinary = hottiles.Ordinary  # this request is for the ordinary path


class _Collection:
    """What one collection's hot reads reuse from request to request (per view)."""

    def __init__(self, api: Any, cid: str, resource: dict, provider_def: dict):
        from pygeoapi.crs import create_crs_transform_spec
        from pygeoapi.plugin import load_plugin
        from pygeoapi.util import get_dataset_formatters
        self.resource, self.provider_def = resource, provider_def
        self.provider = load_plugin("provider", provider_def)
        self.reader = self.provider.reader
        self.formatters = get_dataset_formatters(resource)
        self.crs_spec = create_crs_transform_spec(provider_def, None)
        self.collections_url = api.get_collections_url()
        self.items_url = f"{self.collections_url}/{cid}/items"


class HotReads:
    """The ASGI layer (see the module docstring)."""

    def __init__(self, app: ASGIApp, cors: Any, cache_control: str, routes: Any,
                 gzip_minimum: int, gzip_level: int, tiles_cache_control: str | None = None):
        self.app = app
        self.tiles = hottiles.HotTiles(cors, tiles_cache_control or cache_control, routes)
        self.gzip_minimum, self.gzip_level = gzip_minimum, gzip_level
        self.cors = cors
        self.cache_control = cache_control
        self.routes = routes
        settings = get_settings()
        self.enabled = bool(settings.fast_reads and settings.database_url)
        self._collections: dict[tuple[str, str], _Collection] = {}
        self._served: set[str] = set()
        self._shapes: dict[tuple, dict] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.enabled or scope["type"] != "http" or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        m = _PATH.match(scope["path"])
        if m is not None:
            await self._serve(scope, receive, send, self._read_and_answer(scope, m), "reads")
            return
        tile = hottiles.match(scope["path"])
        if tile is not None:
            await self._serve(scope, receive, send, self.tiles.answer(scope, tile), "tiles")
            return
        await self.app(scope, receive, send)

    async def _read_and_answer(self, scope: Scope, m: re.Match) -> tuple[int, list, bytes]:
        read = await self._read(scope, m)
        row, matched = await self._fetch(read)
        if row is None:  # no such feature: pygeoapi's 404
            raise _Ordinary
        return self._answer(scope, read, row, matched)

    async def _serve(self, scope: Scope, receive: Receive, send: Send,
                     answer: Awaitable[tuple[int, list, bytes]], kind: str) -> None:
        """Send the hot answer (gzipped as the gzip layer would), or hand the request to the
        ordinary path when it is for it or anything failed (its answers, its errors)."""
        started = time.perf_counter()
        try:
            status, headers, body = await answer
            if len(body) >= self.gzip_minimum:  # as the gzip layer (services/app.py)
                body = await self._gzip(scope, headers, body)
        except _Ordinary:
            await self.app(scope, receive, send)
            return
        except Exception as err:  # noqa: BLE001 - the ordinary path answers (its errors)
            LOGGER.debug("hot %s of %s left to the ordinary path: %r", kind, scope["path"], err)
            from services.store.postgis import pool as db
            token = db.HOT_READ_TIMED_OUT.set(isinstance(err, QueryCanceled))  # its 503 at once
            try:
                await self.app(scope, receive, send)
            finally:
                db.HOT_READ_TIMED_OUT.reset(token)
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        if kind not in self._served:  # once per process: the log says the hot path is in use
            self._served.add(kind)
            LOGGER.info("hot %s: %s served on the event loop", kind, scope["path"])
        ops.record(scope, route_of(scope, self.routes).template, status,
                   time.perf_counter() - started)

    async def _gzip(self, scope: Scope, headers: list, body: bytes) -> bytes:
        """Starlette's GZipMiddleware on a whole body: Vary, then gzip if accepted (in a
        thread from 128 KiB, as it does)."""
        caching.merge_vary(headers, ("Accept-Encoding",))
        accepted = next((v for k, v in scope.get("headers", ()) if k == b"accept-encoding"),
                        b"")
        if b"gzip" not in accepted:
            return body
        if len(body) >= 128 * 1024:
            from starlette.concurrency import run_in_threadpool
            body = await run_in_threadpool(gzip.compress, body, self.gzip_level)
        else:
            body = gzip.compress(body, self.gzip_level)
        headers[0] = (b"content-length", str(len(body)).encode())
        headers.append((b"content-encoding", b"gzip"))
        return body

    # -- planning (no I/O but a collection's first load) ------------------------------
    async def _read(self, scope: Scope, m: re.Match) -> dict:
        """The plan of this request: that of an earlier request of the same shape (path,
        query, Accept, Accept-Language, Origin) while the collection files, the provider
        and its table description are unchanged, or a new one (SHAPES kept; those that are
        for the ordinary path too)."""
        from services import access
        seen: dict[bytes, bytes] = {}
        for key, value in scope.get("headers", ()):
            if key in _ORDINARY_HEADERS:
                raise _Ordinary
            if key in _SHAPE_HEADERS:
                seen[key] = value
        key = (scope["path"], scope.get("query_string", b""), seen.get(b"accept"),
               seen.get(b"accept-language"), seen.get(b"origin"))
        specs = access.known_specs()
        shape = self._shapes.get(key)
        if shape is not None and shape["specs"] is specs:
            if shape["ordinary"]:
                raise _Ordinary
            coll = shape["coll"]
            if self._collections.get(shape["ckey"]) is coll and \
                    tables.is_current(coll.reader.info):
                return self._from_shape(scope, shape)
        try:
            shape = await self._plan(scope, m)
        except _Ordinary:
            self._keep(key, {"specs": specs, "ordinary": True})
            raise
        shape.update(specs=specs, ordinary=False)
        self._keep(key, shape)
        return self._from_shape(scope, shape)

    def _keep(self, key: tuple, shape: dict) -> None:
        if len(self._shapes) >= SHAPES:
            self._shapes.pop(next(iter(self._shapes)))  # the oldest
        self._shapes[key] = shape

    @staticmethod
    def _from_shape(scope: Scope, shape: dict) -> dict:
        from services import access
        read = dict(shape, shape=shape)
        if "call" in read:  # a page marks its call as the last one: each its own
            read["call"] = copy.copy(read["call"])
        scope[access.SCOPE_KEY] = read["access"]
        return read

    async def _plan(self, scope: Scope, m: re.Match) -> dict:
        from services.fastread import wants_json
        item = m.group(2) is not None
        query_string = scope.get("query_string", b"")
        pairs = parse_qsl(query_string.decode("latin-1"), keep_blank_values=True)
        names = [k for k, _ in pairs]
        if len(set(names)) != len(names) or \
                not set(names) <= (ITEM_PARAMS if item else PAGE_PARAMS):
            raise _Ordinary
        from services.edge import EdgeError, check_query
        try:
            check_query(scope["path"], query_string)
        except EdgeError:
            raise _Ordinary from None
        request = Request(scope)
        if not wants_json(scope, request.query_params):
            raise _Ordinary
        cid = unquote(m.group(1))
        from services import access
        anonymous = access.anonymous()
        view = anonymous.view
        if not view.sees(cid):
            raise _Ordinary
        if item:
            from services.store import versions
            if versions.editable(cid) is not False:  # Part 4's ETag, or unknown
                raise _Ordinary
        from services.usage import classify
        if classify("GET", scope["path"], query_string) is not None:
            raise _Ordinary
        from pygeoapi.api import APIRequest
        from pygeoapi.starlette_app import api_
        api = access.api_for(view) or api_
        coll = await self._collection(api, view, cid)
        api_request = APIRequest(request, api.locales)
        api_request._data = b""
        if coll.formatters:  # as pygeoapi: the collection's formats count in Accept
            api_request._format = api_request._get_format(
                api_request.get_request_headers(api_request.headers),
                {v.f: v.mimetype for v in coll.formatters.values()})
        if not api_request.is_valid(coll.formatters.keys()) or \
                api_request.format not in (None, "json"):
            raise _Ordinary
        read = {"api": api, "request": api_request, "coll": coll, "cid": cid,
                "ckey": (view.key, cid), "access": anonymous}
        if item:
            read["fid"] = unquote(m.group(2))
            read["sql"], read["args"] = coll.reader.item_plan(read["fid"], coll.crs_spec)
            return read
        return self._page(read, api, api_request, coll, cid)

    async def _collection(self, api: Any, view: Any, cid: str) -> _Collection:
        """The collection's provider, kept while its table description is the current one
        (services/store/postgis/tables.py: a minute, or until a writer changes the columns),
        as pygeoapi's route, which loads a provider per request, would see it; loaded in a
        thread (it may read the catalogue)."""
        key = (view.key, cid)
        coll = self._collections.get(key)
        if coll is not None and tables.is_current(coll.reader.info):
            return coll
        from pygeoapi.provider import get_provider_by_type
        from pygeoapi.util import filter_dict_by_key_value
        from starlette.concurrency import run_in_threadpool
        resource = filter_dict_by_key_value(api.config["resources"], "type",
                                            "collection").get(cid)
        if resource is None:
            raise _Ordinary
        try:
            provider_def = get_provider_by_type(resource["providers"], "feature")
        except Exception:  # noqa: BLE001 - not a feature collection
            raise _Ordinary from None
        if provider_def.get("name") != POSTGIS_PROVIDER:
            raise _Ordinary
        coll = await run_in_threadpool(_Collection, api, cid, resource, provider_def)
        if len(self._collections) > 256:
            self._collections.clear()
        self._collections[key] = coll
        return coll

    def _page(self, read: dict, api: Any, api_request: Any, coll: _Collection, cid: str) -> dict:
        """get_collection_items' parameters, as pygeoapi reads them."""
        from pygeoapi.api import evaluate_limit, validate_bbox
        from pygeoapi.api.itemtypes import transform_bbox
        from pygeoapi.crs import DEFAULT_STORAGE_CRS

        from services.providers import paging
        params = api_request.params
        if "cursor" in coll.reader.fields:  # a property named so: a filter there
            raise _Ordinary
        try:
            offset = int(params.get("offset")) if params.get("offset") is not None else 0
            limit = evaluate_limit(params.get("limit"), api.config["server"].get("limits", {}),
                                   coll.resource.get("limits", {}))
            bbox = params.get("bbox")
            bbox = [] if bbox is None else validate_bbox(bbox)
        except ValueError:
            raise _Ordinary from None
        if offset < 0:
            raise _Ordinary
        paging.remember(coll.items_url, dict(params))
        try:
            if bbox:
                bbox = transform_bbox(bbox, "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
                                      coll.provider_def.get("storage_crs", DEFAULT_STORAGE_CRS))
            read["plan"] = coll.reader.page_plan(offset, limit, bbox,
                                                 crs_transform_spec=coll.crs_spec)
            read["call"] = paging.current()
        finally:
            paging.forget()
        read["offset"], read["limit"] = offset, limit
        return read

    # -- the database (the event loop) ---------------------------------------------
    @staticmethod
    async def _fetch(read: dict) -> tuple[Any, Any]:
        from services.store.postgis import pool as db
        apool = await db.apool()
        if apool is None:
            raise _Ordinary
        plan = read.get("plan")
        if plan is None:
            return await db.fetch_one(apool, read["sql"], read["args"]), None
        async with db.borrowed(apool) as conn:
            cur = await conn.execute(plan.sql, plan.args)
            row = await cur.fetchone()
            matched = None
            if not plan.counted:
                statement, args, matched = plan.matched
                if statement is not None:
                    cur = await conn.execute(statement, args)
                    value = (await cur.fetchone())[0]
                    matched = read["coll"].reader.matched_value(statement, value)
        return row, matched

    # -- the answer -----------------------------------------------------------------
    def _answer(self, scope: Scope, read: dict, row: tuple, matched: Any
                ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        """The status, headers and body. What does not depend on the rows (headers, links)
        is built once per request shape; a page is then its PostGIS text (bytes, never
        decoded) between a few bytes of JSON."""
        shape = read["shape"]
        static = shape.get("static")
        if static is None:
            static = shape["static"] = self._static(scope, read)
        etag = caching.versioned_etag(scope)
        if etag is not None and static["fast"]:
            body = self._fast_page(read, static, row, matched) if "plan" in read else \
                self._fast_item(static, row)
        else:  # pygeoapi's very bytes (an ETag without a data version hashes them)
            row = tuple(v.decode("utf-8") if isinstance(v, bytes) else v for v in row)
            text = self._page_document(read, row, matched) if "plan" in read else \
                self._item_document(read, row)
            body = text.encode("utf-8")
            etag = etag or caching.weak_etag(body, json_body=True)
        headers = [(b"content-length", str(len(body)).encode()), *static["headers"],
                   (b"etag", etag.encode("latin-1"))]
        return 200, headers, body

    def _static(self, scope: Scope, read: dict) -> dict:
        """Headers and links of a request shape (get_collection_items/item as pygeoapi
        builds them, services.pygeoapi_compat's changes, then the outer layers')."""
        from pygeoapi import l10n
        from pygeoapi.api import SYSTEM_LOCALE
        from pygeoapi.crs import set_content_crs_header

        from services.pygeoapi_compat import items_headers
        api, request, coll = read["api"], read["request"], read["coll"]
        headers = request.get_response_headers(SYSTEM_LOCALE, **api.api_headers)
        set_content_crs_header(headers, coll.provider_def, None)
        page = "plan" in read
        if page:
            items_headers(headers, f"{coll.collections_url}/{read['cid']}")
        prv_locale = l10n.get_plugin_locale(coll.provider_def, request.raw_locale)
        l10n.set_response_language(headers, prv_locale, request.locale)
        static: dict[str, Any] = {"headers": self._outer_headers(scope, headers)}
        if page:
            static["fast"] = read["plan"].keyset and not api.pretty_print
            serialized, mid, collection = self._page_links(read)
            static.update(serialized=serialized, mid=_dumps(mid)[1:-1],
                          collection=_dumps(collection),
                          prev_title=l10n.translate("Items (prev)", request.locale))
        else:
            static["fast"] = not coll.provider.uri_field and not api.pretty_print
            if static["fast"]:
                uri = f"{coll.collections_url}/{read['cid']}/items/{read['fid']}"
                static["links"] = _dumps(self._item_links(read, uri)).encode()
        return static

    def _outer_headers(self, scope: Scope, headers: dict) -> list[tuple[bytes, bytes]]:
        """pygeoapi's headers of a 200, then those the outer layers add (but the ETag)."""
        from services.fastread import _pygeoapi_cors
        out = [(k.lower().encode("latin-1"), str(v).encode("latin-1"))
               for k, v in headers.items()]
        if _pygeoapi_cors():
            out.append((b"vary", b"Origin"))
        out = caching.decorate(out, self.cache_control, scope)
        origin = next((v.decode("latin-1") for k, v in scope.get("headers", ())
                       if k == b"origin"), None)
        out += self.cors.cors_headers(origin)
        if self.cors.origins is not None:
            caching.merge_vary(out, ("Origin",))
        return out

    @staticmethod
    def _page_links(read: dict) -> tuple[str, list[dict], dict]:
        """The query as pygeoapi repeats it in links, its self and alternate links, and the
        collection link."""
        from pygeoapi import l10n
        from pygeoapi.formats import F_HTML, F_JSON, F_JSONLD, FORMAT_TYPES
        request, coll = read["request"], read["coll"]
        locale, uri = request.locale, coll.items_url
        serialized = "".join(
            f"&{quote(k, safe='')}={quote(str(v), safe=',')}"
            for k, v in request.params.items() if k not in ("f", "offset"))
        mid = [{
            "type": "application/geo+json", "rel": request.get_linkrel(F_JSON),
            "title": l10n.translate("This document as GeoJSON", locale),
            "href": f"{uri}?f={F_JSON}{serialized}"}, {
            "rel": request.get_linkrel(F_JSONLD), "type": FORMAT_TYPES[F_JSONLD],
            "title": l10n.translate("This document as RDF (JSON-LD)", locale),
            "href": f"{uri}?f={F_JSONLD}{serialized}"}, {
            "type": FORMAT_TYPES[F_HTML], "rel": request.get_linkrel(F_HTML),
            "title": l10n.translate("This document as HTML", locale),
            "href": f"{uri}?f={F_HTML}{serialized}"}]
        for key, value in coll.formatters.items():
            mid.append({"type": value.mimetype, "rel": "alternate",
                        "title": f"This document as {key}",
                        "href": f"{uri}?f={value.name}{serialized}"})
        collection = {"type": FORMAT_TYPES[F_JSON],
                      "title": l10n.translate(coll.resource["title"], locale),
                      "rel": "collection", "href": "/".join(uri.split("/")[:-1])}
        return serialized, mid, collection

    def _pygeoapi_prev(self, read: dict, serialized: str, title: str) -> dict:
        request, uri = read["request"], read["coll"].items_url
        offset, limit = read["offset"], read["limit"]
        fmt = f"f={request.format}&" if request.format is not None else ""
        return {"type": "application/geo+json", "rel": "prev", "title": title,
                "href": f"{uri}?{fmt}offset={max(0, offset - limit)}{serialized}"}

    def _fast_page(self, read: dict, static: dict, row: tuple, matched: Any) -> bytes:
        """A keyset page: the provider's links (prev, next), the shape's, pygeoapi's own
        prev after the last page, around the features PostGIS wrote."""
        from services.providers import paging
        plan = read["plan"]
        if plan.counted:
            matched, raw, returned, more, last_key = row
        else:
            raw, returned, more, last_key = row
        paging.resume(read["call"])
        try:
            links = paging.keyset_links(bool(more), last_key, plan.offset, plan.limit)
        finally:
            paging.forget()
        parts = [_dumps(link) for link in links] + [static["mid"]]
        if not any(link["rel"] == "next" for link in links) and read["offset"] > 0:
            parts.append(_dumps(self._pygeoapi_prev(read, static["serialized"],
                                                    static["prev_title"])))
        parts.append(static["collection"])
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return b"".join((
            b'{"type":"FeatureCollection","features":[', raw or b"",
            f'],"numberMatched":{int(matched)},"numberReturned":{int(returned)},"links":['
            f'{",".join(parts)}],"timeStamp":"{stamp}"}}'.encode()))

    @staticmethod
    def _fast_item(static: dict, row: tuple) -> bytes:
        """{"type":"Feature",...,"properties":{...}} with its links spliced in."""
        raw = bytes(row[0])
        return b"".join((raw[:-1], b',"links":', static["links"], b"}"))

    def _page_document(self, read: dict, row: tuple, matched: Any) -> str:
        """get_collection_items with services.pygeoapi_compat, for these parameters."""
        from pygeoapi import l10n
        from pygeoapi.api.itemtypes import to_json

        from services.providers import paging
        api, request, coll = read["api"], read["request"], read["coll"]
        offset, limit, locale = read["offset"], read["limit"], request.locale
        paging.resume(read["call"])
        try:
            content = coll.reader.page_result(read["plan"], row, matched)
            serialized, mid, collection = self._page_links(read)
            links = content.setdefault("links", [])
            links += mid
            if "next" not in [link["rel"] for link in links]:
                if offset > 0:
                    links.append(self._pygeoapi_prev(
                        read, serialized, l10n.translate("Items (prev)", locale)))
                if content.get("numberMatched", -1) > limit + offset or \
                        len(content["features"]) == limit:
                    fmt = f"f={request.format}&" if request.format is not None else ""
                    links.append({"type": "application/geo+json", "rel": "next",
                                  "title": l10n.translate("Items (next)", locale),
                                  "href": f"{coll.items_url}?{fmt}offset={offset + limit}"
                                          f"{serialized}"})
            links.append(collection)
            content["timeStamp"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            return to_json(content, api.pretty_print)
        finally:
            paging.forget()

    @staticmethod
    def _item_links(read: dict, uri: str) -> list[dict]:
        from pygeoapi import l10n
        from pygeoapi.formats import F_HTML, F_JSON, F_JSONLD, FORMAT_TYPES
        api, request, coll = read["api"], read["request"], read["coll"]
        locale = request.locale
        return [{
            "type": FORMAT_TYPES[F_JSON], "rel": "root",
            "title": l10n.translate("The landing page of this server as JSON", locale),
            "href": f"{api.base_url}?f={F_JSON}"}, {
            "type": FORMAT_TYPES[F_HTML], "rel": "root",
            "title": l10n.translate("The landing page of this server as HTML", locale),
            "href": f"{api.base_url}?f={F_HTML}"}, {
            "rel": request.get_linkrel(F_JSON), "type": "application/geo+json",
            "title": l10n.translate("This document as JSON", locale),
            "href": f"{uri}?f={F_JSON}"}, {
            "rel": request.get_linkrel(F_JSONLD), "type": FORMAT_TYPES[F_JSONLD],
            "title": l10n.translate("This document as RDF (JSON-LD)", locale),
            "href": f"{uri}?f={F_JSONLD}"}, {
            "rel": request.get_linkrel(F_HTML), "type": FORMAT_TYPES[F_HTML],
            "title": l10n.translate("This document as HTML", locale),
            "href": f"{uri}?f={F_HTML}"}, {
            "rel": "collection", "type": FORMAT_TYPES[F_JSON],
            "title": l10n.translate(coll.resource["title"], locale),
            "href": f"{coll.collections_url}/{read['cid']}"}]

    def _item_document(self, read: dict, row: tuple) -> str:
        """get_collection_item, for a feature of the PostGIS store."""
        from pygeoapi.api.itemtypes import to_json
        api, coll = read["api"], read["coll"]
        content = json.loads(row[0])
        uri_field = coll.provider.uri_field
        uri = content["properties"].get(uri_field) if uri_field else \
            f"{coll.collections_url}/{read['cid']}/items/{read['fid']}"
        content.setdefault("links", []).extend(self._item_links(read, uri))
        return to_json(content, api.pretty_print)


def _dumps(value: Any) -> str:
    """JSON as pygeoapi's to_json writes it (compact, ASCII)."""
    return json.dumps(value, separators=(",", ":"))
