"""The one error handler: every error leaves as a JSON OGC exception in French and English.

:class:`OGCExceptionMiddleware` wraps pygeoapi and the front routes (services/app.py):

* a :class:`services.errors.OGCError` that escapes a route is rendered in the reader's
  language (``lang=``, then ``Accept-Language``), with its status, code and headers;
* an error response already bilingual (``description_fr`` + ``description_en``, e.g.
  ``OGCError.response()``) is re-rendered in the reader's language;
* pygeoapi's own English exceptions are rewritten in both languages
  (services.pygeoapi_messages); Starlette's plain-text 404/405 become OGC exceptions;
* an unexpected error becomes a logged 500, never a trace.

HTML error pages (f=html) are left as they are. Layers outside this middleware (the edge,
Part 4) render their ``OGCError`` with :func:`send_error`.
"""
from __future__ import annotations

import gzip
import json
import logging
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.errors import OGCError, exception_body
from services.i18n import message, pick_language
from services.pygeoapi_messages import bilingual

__all__ = ["OGCExceptionMiddleware", "send_error", "request_language", "STATUS_KEYS"]

LOGGER = logging.getLogger("artois_geo")

#: message key of an error response that carries no usable text, by status
STATUS_KEYS = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
               500: "internal_error", 503: "timeout"}

# answers whose 503 body is a report for machines (services.ops), not an error to rewrite
REPORT_PATHS = frozenset({"/ready"})


def _header(scope_or_headers, name: bytes) -> str | None:
    headers = scope_or_headers.get("headers", []) if isinstance(scope_or_headers, dict) \
        else scope_or_headers
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def request_language(scope: Scope) -> str:
    """``fr`` or ``en`` for an ASGI request (``lang=`` first, then ``Accept-Language``)."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return pick_language(_header(scope, b"accept-language"), (query.get("lang") or [None])[0])


async def send_response(send: Send, status: int, body: bytes, headers=None) -> None:
    headers = [(k, v) for k, v in (headers or [])
               if k.lower() not in (b"content-type", b"content-length")]
    headers += [(b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def send_error(send: Send, err: OGCError, lang: str, headers=None) -> None:
    """Answer ``err`` as an OGC exception in ``lang`` (plus ``headers``, byte pairs)."""
    await send_response(send, err.status, err.body(lang), err.header_list() + list(headers or []))


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


def _texts_of(body: bytes, status: int) -> tuple[str | None, dict[str, str]]:
    """(OGC code, {"fr", "en"}) of an error response body."""
    code, texts = None, None
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict) and parsed.get("description_fr") and \
            parsed.get("description_en"):  # already bilingual (OGCError.response)
        code = parsed.get("code")
        texts = {"fr": parsed["description_fr"], "en": parsed["description_en"]}
    elif isinstance(parsed, dict) and ("description" in parsed or "detail" in parsed):
        code = parsed.get("code") or parsed.get("type")
        original = str(parsed.get("description") or parsed.get("detail") or "")
        texts = bilingual(original, code) if original else None
    if texts is None:
        texts = message(STATUS_KEYS.get(status, "internal_error" if status >= 500
                                        else "invalid_request"))
    return code, texts


class OGCExceptionMiddleware:
    """Every error leaves as a JSON OGC exception in French and English, never a trace."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in REPORT_PATHS:
            await self.app(scope, receive, send)
            return
        lang = request_language(scope)
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
        except OGCError as err:
            if not sent_start:
                if err.status >= 500:
                    LOGGER.error("server error %s: %s", err.status, err)
                await send_error(send, err, lang, self._retry_after(err.status, err.headers))
            else:
                LOGGER.error("error after the response started: %s", err)
        except Exception:  # noqa: BLE001 - the client must get JSON, the log gets the trace
            LOGGER.exception("unhandled error on %s %s", scope.get("method"), scope.get("path"))
            if not sent_start:
                await send_response(send, 500, exception_body(
                    500, "ServerError", message("internal_error"), lang))

    @staticmethod
    def _retry_after(status: int, headers) -> list[tuple[bytes, bytes]]:
        """When to try again: every 503 says (5 s unless the error said otherwise)."""
        names = {(k.lower() if isinstance(k, bytes) else k.lower().encode()) for k in headers}
        return [(b"retry-after", b"5")] if status == 503 and b"retry-after" not in names else []

    async def _send_rewritten(self, send: Send, start: Message, body: bytes, lang: str) -> None:
        status = start["status"]
        headers = [(k, v) for k, v in start.get("headers", [])
                   if k.lower() not in (b"content-length", b"content-type", b"content-encoding")]
        if _header(start.get("headers", []), b"content-encoding") == "gzip":
            try:
                body = gzip.decompress(body)
            except OSError:
                body = b""
        code, texts = _texts_of(body, status)
        if status >= 500 and status != 503:
            LOGGER.error("server error %s: %s", status, body[:500])
        headers += self._retry_after(status, [k for k, _ in headers])
        await send_response(send, status, exception_body(status, code, texts, lang), headers)

    # kept for services.app.RequestGuard
    _send = staticmethod(send_response)
