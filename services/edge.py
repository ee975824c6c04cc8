"""The edge: every request's query string and body checked once, before any route sees them.

- The query string must be UTF-8 once percent-decoded, hold no NUL and no control
  character, at most MAX_PARAMS parameters and MAX_QUERY_BYTES bytes.
- Each kind of parameter has one validator, wherever it appears: integers within 64 bits and
  their range (`limit`, `offset`, `cursor`), bounding boxes of 4 or 6 finite numbers
  (`bbox`), bounded lengths (`filter`, `datetime`, CRS URIs, `q` and its terms, `sortby`,
  `properties`).
- On the OGC API Features and Common routes served by pygeoapi, a parameter that the route
  does not know is refused (the OGC test suite requires it); collection property names on
  /items are checked by the providers, which know their fields (services/providers/paging.py).
  `_`, the cache-buster that jQuery-based clients (Lizmap's, pygeoapi's own HTML pages) add,
  is the one harmless extra accepted.
- Bodies (POST, PUT, PATCH) are counted as they arrive, whatever the transfer encoding, and
  refused with 413 past MAX_BODY_BYTES; a JSON body (GeoJSON, CQL2-JSON…) must be UTF-8
  JSON at most MAX_DEPTH deep, without NUL characters or non-finite numbers, and a CQL2-JSON
  list holds at most MAX_CQL2_LIST values; the body is then handed on unchanged.
Every refusal is a bilingual OGC exception (400, 413).
"""
from __future__ import annotations

import json
import math
import re
from typing import Callable
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.error_handler import send_error
from services.errors import OGCError
from services.i18n import pick_language

MAX_BODY_BYTES = 5 * 1024 * 1024
MAX_QUERY_BYTES = 64 * 1024
MAX_PARAMS = 100
INT64 = 2 ** 63 - 1
MAX_COORD = 1e9  # beyond any projected coordinate of the CRSs served

COMMON = {"f", "lang", "_"}
ITEMS = COMMON | {"bbox", "bbox-crs", "crs", "limit", "offset", "resulttype", "datetime",
                  "sortby", "properties", "skipGeometry", "q", "filter", "filter-lang",
                  "filter-crs", "cursor"}
AGGREGATE = COMMON | {"bbox", "bbox-crs", "datetime", "filter", "filter-lang", "filter-crs",
                      "groupby", "metrics"}  # services/aggregate.py
# pygeoapi's routes whose parameters are known (None: the collection's properties too)
_ROUTES: list[tuple[re.Pattern, set[str], bool]] = [
    (re.compile(r"^/?$"), COMMON, False),
    (re.compile(r"^/conformance/?$"), COMMON, False),
    (re.compile(r"^/collections/?$"), COMMON, False),
    (re.compile(r"^/collections/[^/]+/?$"), COMMON, False),
    (re.compile(r"^/collections/[^/]+/items/?$"), ITEMS, True),
    (re.compile(r"^/collections/[^/]+/items/[^/]+/?$"), COMMON | {"crs"}, False),
    (re.compile(r"^/collections/[^/]+/(queryables|schema)/?$"), COMMON | {"profile"}, False),
    (re.compile(r"^/collections/[^/]+/aggregate/?$"), AGGREGATE, False),
    (re.compile(r"^/processes(/[^/]+)?/?$"), COMMON | {"limit"}, False),
    # the definitions of the key figures (services/keyfigures.py: f=json|csv, which it checks)
    (re.compile(r"^/chiffres-cles/indicateurs/?$"), COMMON, False),
    # the solar cadastre's usage counts (services/usage.py: f=json|csv, mois=YYYY-MM)
    (re.compile(r"^/admin/usage/?$"), COMMON | {"mois"}, False),
    # the territory pages (services/territoires.py: f=html, which it checks)
    (re.compile(r"^/territoires(/[^/]+)?/?$"), COMMON, False),
    # site photos (services/photos.py, which checks the values)
    (re.compile(r"^/collections/[^/]+/items/[^/]+/photos$"), COMMON | {"caption"}, False),
    (re.compile(r"^/collections/[^/]+/items/[^/]+/photos/[^/]+$"), COMMON | {"size"}, False),
    # the brownfield sheet (services/fiche.py: f=html|pdf, which it checks)
    (re.compile(r"^/collections/[^/]+/items/[^/]+/fiche/?$"), COMMON, False),
    # the versions of a feature (services/history.py, which checks the values)
    (re.compile(r"^/collections/[^/]+/items/[^/]+/history/?$"), COMMON | {"limit", "datetime"},
     False),
    # the business parks' dataviz (services/zae_dataviz.py, which checks the values)
    (re.compile(r"^/dataviz/(zae|epci)/[^/]+/?$"), COMMON | {"months"}, False),
]
# routes that count their own body as it arrives, with their own limit (process execution:
# ARTOIS_JOB_MAX_INPUT_BYTES; photo uploads: the collection's `photos.max_bytes`)
OWN_BODY = re.compile(r"^/processes/[^/]+/execution/?$|^/collections/[^/]+/items/[^/]+/photos$")


def counts_own_body(path: str) -> bool:
    return path.endswith("/execution") or OWN_BODY.match(path) is not None


class EdgeError(OGCError):
    """A request refused at the edge (400 unless said otherwise): services.errors.OGCError."""


# ---------------------------------------------------------------------------- validators
def _invalid(name: str, value: str, expected: dict[str, str] | str) -> EdgeError:
    if isinstance(expected, str):
        expected = {"fr": expected, "en": expected}
    return EdgeError("edge_invalid", name=name,
                     value=_short(value), expected=expected)


def _short(value: str, width: int = 60) -> str:
    return value if len(value) <= width else value[:width - 1] + "…"


def integer(low: int, high: int) -> Callable[[str, str], None]:
    def check(name: str, value: str) -> None:
        v = value.strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,19}", v) or not low <= int(v) <= high:
            raise _invalid(name, value, {"fr": f"un entier de {low} à {high}",
                                         "en": f"an integer from {low} to {high}"})
    return check


def _finite(name: str, value: str, parts: list[str]) -> list[float]:
    out = []
    for p in parts:
        try:
            v = float(p)
        except ValueError:
            v = math.nan
        if not math.isfinite(v) or abs(v) > MAX_COORD:
            raise _invalid(name, value, {"fr": "des nombres finis (au plus 1e9 en valeur "
                                               "absolue)",
                                         "en": "finite numbers (at most 1e9 in absolute value)"})
        out.append(v)
    return out


def bbox(name: str, value: str) -> None:
    parts = value.split(",")
    if len(parts) not in (4, 6):
        raise _invalid(name, value, {"fr": "4 ou 6 nombres séparés par des virgules",
                                     "en": "4 or 6 comma-separated numbers"})
    v = _finite(name, value, parts)
    half = len(v) // 2
    if any(v[i] > v[i + half] for i in range(1, half)):  # x may cross the antimeridian
        raise _invalid(name, value, {"fr": "minimum ≤ maximum pour chaque axe sauf x",
                                     "en": "minimum ≤ maximum on every axis but x"})


def length(limit: int, items: int | None = None, sep: str = ","
           ) -> Callable[[str, str], None]:
    def check(name: str, value: str) -> None:
        if len(value) > limit or (items is not None and value.count(sep) >= items):
            expected = f"≤ {limit}" + (f", ≤ {items} × '{sep}'" if items else "")
            raise _invalid(name, value, expected)
    return check


VALIDATORS: dict[str, Callable[[str, str], None]] = {
    "limit": integer(0, INT64), "offset": integer(0, INT64), "cursor": integer(-INT64, INT64),
    "bbox": bbox, "datetime": length(100), "filter": length(20_000),
    "filter-lang": length(20), "bbox-crs": length(200), "crs": length(200),
    "filter-crs": length(200), "q": length(1_000, 50), "sortby": length(2_000, 100),
    "properties": length(5_000, 200), "f": length(20), "lang": length(50),
    "skipGeometry": length(10), "resulttype": length(10), "profile": length(200),
    "groupby": length(1_000, 20), "metrics": length(2_000, 50),
}


def check_query(path: str, raw: bytes) -> None:
    """Raise EdgeError for a query string this server refuses."""
    if len(raw) > MAX_QUERY_BYTES:
        raise EdgeError("edge_query_too_long",
                        max=MAX_QUERY_BYTES)
    if not raw:
        return
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict",
                          max_num_fields=MAX_PARAMS)
    except UnicodeDecodeError:
        raise EdgeError("edge_not_utf8") from None
    except ValueError:
        raise EdgeError("edge_too_many", max=MAX_PARAMS) \
            from None
    allowed, open_ = None, False
    for pattern, names, with_properties in _ROUTES:
        if pattern.match(path):
            allowed, open_ = names, with_properties
            break
    for name, value in pairs:
        if any(ord(c) < 32 or ord(c) == 127 for c in name + value):
            raise EdgeError("edge_control", name=_short(name))
        if allowed is not None and name not in allowed and not open_:
            raise EdgeError("edge_unknown", name=_short(name),
                            allowed=", ".join(sorted(allowed - {"_"})))
        check = VALIDATORS.get(name)
        if check is not None:
            check(name, value)


JSON_BODY = re.compile(r"^application/([a-z0-9.+-]+\+)?(json|query-cql-json)$")
MAX_DEPTH = 64
MAX_CQL2_LIST = 10_000


def _no_constant(name: str):
    raise ValueError(name)


def check_json_body(body: bytes, ctype: str) -> None:
    """A JSON body must be UTF-8 JSON, at most MAX_DEPTH deep, without NUL characters or
    non-finite numbers; a CQL2-JSON filter's lists hold at most MAX_CQL2_LIST values."""
    if not body.strip():
        return
    try:
        doc = json.loads(body.decode("utf-8"), parse_constant=_no_constant)
    except UnicodeDecodeError:
        raise EdgeError("edge_body_not_utf8") from None
    except (ValueError, RecursionError):
        raise EdgeError("edge_body_not_json") from None
    cql2 = ctype.endswith("query-cql-json")
    stack = [(doc, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise EdgeError("edge_body_too_deep", max=MAX_DEPTH)
        if isinstance(value, str):
            if "\x00" in value:
                raise EdgeError("edge_body_nul")
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise EdgeError("edge_body_not_finite")
        elif isinstance(value, dict):
            stack.extend((k, depth + 1) for k in value)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            if cql2 and len(value) > MAX_CQL2_LIST:
                raise EdgeError("edge_cql2_list",
                                max=MAX_CQL2_LIST)
            stack.extend((v, depth + 1) for v in value)


# ---------------------------------------------------------------------------- middleware
class EdgeGuard:
    """ASGI middleware applying check_query and the body limit (see the module docstring)."""

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES):
        from services.usage import UsageCounter  # the cadastre's usage counts (issue 18)
        self.app = UsageCounter(app)
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            check_query(scope.get("path", ""), scope.get("query_string", b""))
        except EdgeError as err:
            await self._refuse(scope, send, err)
            return
        if scope["method"] in ("POST", "PUT", "PATCH") and not self._streamed(scope):
            body, more, size = [], True, 0
            while more:
                msg = await receive()
                if msg["type"] == "http.disconnect":
                    return
                chunk = msg.get("body", b"")
                size += len(chunk)
                if size > self.max_body:
                    await self._refuse(scope, send, EdgeError("payload_too_large",
                                                              status=413))
                    return
                body.append(chunk)
                more = msg.get("more_body", False)
            data = b"".join(body)
            ctype = next((v.decode("latin-1") for k, v in scope.get("headers", [])
                          if k.lower() == b"content-type"), "").split(";")[0].strip().lower()
            if JSON_BODY.match(ctype):
                try:
                    check_json_body(data, ctype)
                except EdgeError as err:
                    await self._refuse(scope, send, err)
                    return
            replay = [{"type": "http.request", "body": data, "more_body": False}]

            async def receive_again() -> Message:
                return replay.pop() if replay else await receive()
            await self.app(scope, receive_again, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _streamed(scope: Scope) -> bool:
        """Routes that count their own body as it arrives (OWN_BODY)."""
        return counts_own_body(scope.get("path", ""))

    @staticmethod
    async def _refuse(scope: Scope, send: Send, err: EdgeError) -> None:
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"))[:MAX_PARAMS])
        accept = next((v.decode("latin-1") for k, v in scope.get("headers", [])
                       if k.lower() == b"accept-language"), None)
        lang = pick_language(accept, query.get("lang") if len(query.get("lang", "")) < 50
                             else None)
        await send_error(send, err, lang, [(b"cache-control", b"no-store")])
