"""CORS for the whole API: web maps on other origins (Lizmap, MapLibre...) read and edit.

One policy for every path, in front of everything else (see services.app.create_app):

- a preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is
  answered here, 204, for any path: the write methods and the headers of Part 4 writes
  (``Authorization``, ``X-API-Key``, ``If-Match``, ``Content-Type``, ``Content-Crs``) are
  allowed. Whether the collection exists or is editable is for the real request to say,
  in an error the page can read;
- every other response gets ``Access-Control-Allow-Origin`` and
  ``Access-Control-Expose-Headers`` (``ETag`` for the next ``If-Match``, ``Location`` of a
  new feature...), replacing what inner layers sent (pygeoapi's own CORS middleware,
  ``server.cors`` in pygeoapi-config.yml), so no header is ever duplicated.

Allowed origins: ``ARTOIS_CORS_ORIGINS``, ``*`` (the default: the data are open and writes
need a key) or a comma list of origins (``https://carto.example.org``). No credentials
(cookies) are involved: API keys travel in headers, so ``*`` is enough for writes too.
A preflight from an origin not in the list gets 403; the other answers carry no
``Access-Control-Allow-Origin``, so the browser keeps them from the page.
"""
from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.caching import merge_vary
from services.error_handler import request_language
from services.errors import OGCError

ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = ("Accept, Accept-Language, Authorization, Content-Crs, Content-Type, If-Match, "
                 "If-None-Match, Prefer, X-API-Key")
EXPOSE_HEADERS = ("ETag, Location, Content-Crs, Link, Preference-Applied, Retry-After, "
                  "WWW-Authenticate")
PREFLIGHT_MAX_AGE = "600"  # seconds a browser may reuse a preflight answer


def parse_origins(value: str | None) -> frozenset[str] | None:
    """``ARTOIS_CORS_ORIGINS`` -> the allowed origins, or None for any."""
    origins = {o.strip().rstrip("/").lower() for o in (value or "*").split(",") if o.strip()}
    return None if not origins or "*" in origins else frozenset(origins)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class CORS:
    """ASGI middleware applying one CORS policy to every response."""

    def __init__(self, app: ASGIApp, origins: str | None = "*"):
        self.app = app
        self.origins = parse_origins(origins)

    def allow_origin(self, origin: str | None) -> str | None:
        """The Access-Control-Allow-Origin value for a request from `origin`, or None."""
        if self.origins is None:
            return "*"
        if origin and origin.rstrip("/").lower() in self.origins:
            return origin
        return None

    def cors_headers(self, origin: str | None) -> list[tuple[bytes, bytes]]:
        return self.headers_for(self.allow_origin(origin))

    @staticmethod
    def headers_for(allowed: str | None) -> list[tuple[bytes, bytes]]:
        """The CORS headers of an answer, given `allow_origin`'s value."""
        if allowed is None:
            return []
        return [(b"access-control-allow-origin", allowed.encode("latin-1")),
                (b"access-control-expose-headers", EXPOSE_HEADERS.encode())]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        origin = _header(scope, b"origin")
        if scope["method"] == "OPTIONS" and origin and \
                _header(scope, b"access-control-request-method"):
            await self._preflight(scope, receive, send, origin)
            return
        ours = self.cors_headers(origin)

        async def send_with_cors(msg: Message) -> None:
            if msg["type"] == "http.response.start":
                headers = [(k, v) for k, v in msg.get("headers", [])
                           if not k.lower().startswith(b"access-control-")]
                headers += ours
                if self.origins is not None:  # the answer depends on the origin
                    merge_vary(headers, ("Origin",))
                msg = {**msg, "headers": headers}
            await send(msg)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, scope: Scope, receive: Receive, send: Send, origin: str) -> None:
        allowed = self.allow_origin(origin)
        if allowed is None:
            response = OGCError("cors_origin_refused", status=403, origin=origin).response(
                request_language(scope))
            response.headers["vary"] = "Origin"
            await response(scope, receive, send)
            return
        headers = [(b"access-control-allow-origin", allowed.encode("latin-1")),
                   (b"access-control-allow-methods", ALLOW_METHODS.encode()),
                   (b"access-control-allow-headers", ALLOW_HEADERS.encode()),
                   (b"access-control-max-age", PREFLIGHT_MAX_AGE.encode())]
        if self.origins is not None:
            headers.append((b"vary", b"Origin"))
        await send({"type": "http.response.start", "status": 204, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
