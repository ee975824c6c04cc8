"""The ASGI application: pygeoapi's Starlette app behind our error handling.

`artois-geo serve` writes the runtime configuration and points PYGEOAPI_CONFIG and
PYGEOAPI_OPENAPI at it before uvicorn imports this module in each worker.
"""
from __future__ import annotations

import gzip
import json
import logging
from pathlib import Path
from urllib.parse import parse_qs

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services import pygeoapi_ext
from services.edge import EdgeGuard
from services.i18n import bilingual, message, pick_language, use_locale_dir

LOGGER = logging.getLogger("artois_geo")

pygeoapi_ext.apply()


def _header(scope_or_headers, name: bytes) -> str | None:
    headers = scope_or_headers.get("headers", []) if isinstance(scope_or_headers, dict) \
        else scope_or_headers
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


DEFAULT_CODES = {400: "InvalidParameterValue", 401: "Unauthorized", 403: "Forbidden",
                 404: "NotFound", 405: "MethodNotAllowed", 406: "NotAcceptable",
                 413: "PayloadTooLarge", 415: "UnsupportedMediaType", 500: "ServerError",
                 503: "ServiceUnavailable"}
STATUS_KEYS = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
               500: "internal_error", 503: "timeout"}


def exception_body(status: int, code: str | None, texts: dict[str, str], lang: str) -> bytes:
    """An OGC API exception (RFC 7807 shaped) with the text in both languages."""
    body = {
        "type": code or DEFAULT_CODES.get(status, "InvalidParameterValue"),
        "code": code or DEFAULT_CODES.get(status, "InvalidParameterValue"),
        "status": status,
        "title": texts[lang],
        "description": texts[lang],
        "description_fr": texts["fr"],
        "description_en": texts["en"],
    }
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def _with_charset(msg: Message, ctype: str) -> Message:
    """Text types name their charset (pygeoapi only does when it gzips; every text response
    is UTF-8); JSON types do not: RFC 8259 defines no charset parameter for
    application/json, and the OGC test suite refuses one (so do its +json relatives)."""
    base, _, params = ctype.partition(";")
    base = base.strip()
    if base.startswith("text/") and "charset=" not in params:
        new = f"{base}; charset=utf-8"
    elif (base == "application/json" or base.endswith("+json")) and "charset=" in params:
        kept = [p for p in params.split(";") if p.strip() and "charset=" not in p.lower()]
        new = "; ".join([base, *(p.strip() for p in kept)])
    else:
        return msg
    headers = [(k, v) for k, v in msg.get("headers", []) if k.lower() != b"content-type"]
    headers.append((b"content-type", new.encode("latin-1")))
    return {**msg, "headers": headers}


# answers whose 503 body is a report for machines (services.ops), not an error to rewrite
REPORT_PATHS = frozenset({"/ready"})


class OGCExceptionMiddleware:
    """Every error leaves as a JSON OGC exception in French and English, never a trace.

    pygeoapi's own exceptions are rewritten with both languages; Starlette's plain-text
    404/405 become OGC exceptions; an unexpected error becomes a logged 500.
    HTML error pages (f=html) are left as they are.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in REPORT_PATHS:
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        lang = pick_language(_header(scope, b"accept-language"), (query.get("lang") or [None])[0])
        started: Message | None = None
        sent_start = False
        chunks: list[bytes] = []

        async def send_wrapper(msg: Message) -> None:
            nonlocal started, sent_start
            if msg["type"] == "http.response.start":
                ctype = _header(msg.get("headers", []), b"content-type") or ""
                if msg["status"] >= 400 and "html" not in ctype:
                    started = msg
                    return
                sent_start = True
                await send(_with_charset(msg, ctype))
                return
            if started is not None and msg["type"] == "http.response.body":
                chunks.append(msg.get("body", b""))
                if not msg.get("more_body"):
                    await self._send_rewritten(send, started, b"".join(chunks), lang)
                    sent_start = True
                return
            await send(msg)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:  # noqa: BLE001 - the client must get JSON, the log gets the trace
            LOGGER.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not sent_start:
                await self._send(send, 500, exception_body(500, "ServerError",
                                                           message("internal_error"), lang))

    async def _send_rewritten(self, send: Send, start: Message, body: bytes, lang: str) -> None:
        status = start["status"]
        headers = [(k, v) for k, v in start.get("headers", [])
                   if k.lower() not in (b"content-length", b"content-type", b"content-encoding")]
        if _header(start.get("headers", []), b"content-encoding") == "gzip":
            try:
                body = gzip.decompress(body)
            except OSError:
                body = b""
        code, texts = None, None
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        if isinstance(parsed, dict) and parsed.get("description_fr") and \
                parsed.get("description_en"):  # already bilingual (services.front.ogc_error)
            code = parsed.get("code")
            texts = {"fr": parsed["description_fr"], "en": parsed["description_en"]}
        elif isinstance(parsed, dict) and ("description" in parsed or "detail" in parsed):
            code = parsed.get("code") or parsed.get("type")
            original = str(parsed.get("description") or parsed.get("detail") or "")
            texts = bilingual(original, code) if original else None
        if texts is None:
            texts = message(STATUS_KEYS.get(status, "not_found" if status == 404 else
                                            "internal_error" if status >= 500 else
                                            "invalid_request"))
        if status >= 500 and status != 503:
            LOGGER.error("server error %s: %s", status, body[:500])
        if status == 503 and _header(headers, b"retry-after") is None:
            headers.append((b"retry-after", b"5"))  # when to try again: every 503 says
        await self._send(send, status, exception_body(status, code, texts, lang), headers)

    @staticmethod
    async def _send(send: Send, status: int, body: bytes, headers=None) -> None:
        headers = list(headers or []) + [(b"content-type", b"application/json"),
                                         (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


FILTER_MEDIA_TYPES = ("application/query-cql-json", "application/json", "application/geo+json")
MAX_BODY_BYTES = 5 * 1024 * 1024


class RequestGuard:
    """Refuse, before pygeoapi sees them, requests it would answer with a 500:
    a POST of items without a JSON content type, and oversized bodies."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT", "PATCH"):
            ctype = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
            length = _header(scope, b"content-length")
            if length and length.isdigit() and int(length) > MAX_BODY_BYTES:
                await OGCExceptionMiddleware._send(send, 413, exception_body(
                    413, "PayloadTooLarge", message("payload_too_large"), "fr"))
                return
            if scope["path"].endswith("/items") and ctype not in FILTER_MEDIA_TYPES:
                await OGCExceptionMiddleware._send(send, 415, exception_body(
                    415, "UnsupportedMediaType",
                    message("unsupported_media_type", ctype=ctype or "-"), "fr"))
                return
        await self.app(scope, receive, send)


def create_app() -> ASGIApp:
    from pygeoapi.starlette_app import APP as pygeoapi_app, CONFIG

    from services import front, ops
    from services.caching import CachePolicy, HTTPCaching
    from services.cors import CORS
    from services.settings import get_settings
    from services.transactions import Transactions

    settings = get_settings()
    ops.configure_logging(settings.log_level, settings.log_format, settings.access_log)

    from services.jobs.api import preload
    preload()  # the processes, loaded before the first execution (not during it)
    locale_dir = CONFIG["server"].get("locale_dir")
    if locale_dir:
        use_locale_dir(Path(locale_dir))
    # OGC API Features Part 4 (writes, ETags, OPTIONS) in front: it answers with its own
    # bilingual OGC exceptions and hands every other request to pygeoapi unchanged.
    # Tiles, styles, the web map and operations (services/front.py) are matched first.
    app = Transactions(OGCExceptionMiddleware(RequestGuard(front.router(pygeoapi_app))),
                       base_url=CONFIG["server"]["url"])
    # the edge (services/edge.py): query strings and body sizes checked once, for every route
    app = EdgeGuard(app)
    # CORS (services/cors.py) outside the caching layer: its 304s carry the headers too
    app = ops.RequestMetrics(CORS(HTTPCaching(app, CachePolicy(
        tiles=settings.cache_tiles, static=settings.cache_static, data=settings.cache_data)),
        settings.cors_origins))
    # Level 1: a 115 kB page compresses 10x faster than at pygeoapi's level 9 and only 20 %
    # larger; pygeoapi's own gzip is off in pygeoapi-config.yml. Adds Vary: Accept-Encoding.
    return GZipMiddleware(app, minimum_size=1024, compresslevel=1)


app = create_app()
