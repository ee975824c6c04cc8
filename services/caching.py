"""HTTP caching for every GET: ETag, If-None-Match → 304, Cache-Control and Vary.

- ETag: an ETag set by the route is kept (Features Part 4 sets the feature's own ETag, which
  If-Match compares strongly); otherwise a weak ETag from a hash of the body. Weak, because the
  gzip layer outside may re-encode the body (RFC 9110 §8.8.1: same meaning, other bytes).
- If-None-Match matching the ETag (weak comparison, lists and `*`) answers 304 with no body.
- Cache-Control by kind of the matched route (services/routes.py, found once per request
  and shared with the metrics): tiles, styles and tile matrix sets may be
  reused for a while; items and collections are revalidated on every use (`no-cache`: the
  304 saves the transfer, and an edit is seen at once); jobs, results, health and metrics are
  never stored. Every value can be changed from the environment (services.settings).
- Vary: Accept, Accept-Language (pygeoapi negotiates format and language on both; gzip adds
  Accept-Encoding), and Authorization, X-API-Key: what a caller may read depends on their
  credential (services/access.py). An answer that differs from the anonymous one is
  `private`; a route's own ETag (Part 4) gets a suffix naming the caller's view when it
  hides properties of the collection, so an ETag of a fuller view never matches (no 304).
  Responses of other statuses pass through untouched.
- Versioned ETags (issue 20): for the data routes of one collection (VERSIONED: its
  metadata, items, queryables and schema, and one feature when the collection is not
  editable: Part 4 gives those of editable ones their own strong ETag) whose data version
  is known (services/store/versions.py: a trigger-kept counter in PostGIS, the GeoPackage's
  own change counter on the embedded store), the weak ETag is a hash of the server digest, that
  version, the caller's view, the path, the raw query string, Accept and Accept-Language,
  computed BEFORE the application runs: a matching If-None-Match is a 304 at once (no
  query), any other answer streams through unbuffered. An unknown version (a coverage, the
  PostGIS listener away, a GeoPackage in WAL mode or mid-write) or any other route: the
  hash of the body, as above.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.routes import RouteTable, route_of

NO_STORE = "no-store"


@dataclass(frozen=True)
class CachePolicy:
    tiles: str = "public, max-age=300"
    static: str = "public, max-age=86400"
    data: str = "no-cache"
    private: str = NO_STORE


def policy_for(kind: str, policy: CachePolicy) -> str:
    """The Cache-Control of a kind of route (services.routes.RouteInfo.kind)."""
    return getattr(policy, kind, policy.data)


# pygeoapi stamps each feature collection with the time of the answer: left out of the hash,
# or the same page would never match
_TIMESTAMP = re.compile(rb'"timeStamp":\s*"[^"]*"')


def weak_etag(body: bytes, json_body: bool = False) -> str:
    digest = hashlib.blake2b(digest_size=12)
    if json_body:  # the stamp is the document's last member: search the tail, not a whole page
        cut = max(0, len(body) - 512)
        digest.update(memoryview(body)[:cut])
        digest.update(_TIMESTAMP.sub(b"", body[cut:]))
    else:
        digest.update(body)
    return 'W/"' + digest.hexdigest() + '"'


def _opaque(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag


def none_match(if_none_match: str, etag: str) -> bool:
    """Weak comparison of an If-None-Match header with our ETag (RFC 9110 §13.1.2)."""
    value = if_none_match.strip()
    if value == "*":
        return True
    ours = _opaque(etag)
    return any(_opaque(candidate) == ours for candidate in value.split(","))


def merge_vary(headers: list[tuple[bytes, bytes]], names: tuple[str, ...]) -> None:
    """`names` added to the Vary of `headers` (one Vary header, last), unless it is `*`."""
    current = tuple(v for k, v in headers if k.lower() == b"vary")
    merged = _merged_vary(current, names)
    if merged is None:
        return
    if current:
        headers[:] = [(k, v) for k, v in headers if k.lower() != b"vary"]
    headers.append((b"vary", merged))


@lru_cache(maxsize=256)  # a few combinations per process (every answer asks for one)
def _merged_vary(current: tuple[bytes, ...], names: tuple[str, ...]) -> bytes | None:
    values = [v.decode("latin-1") for v in current]
    seen = {n.strip().lower() for value in values for n in value.split(",") if n.strip()}
    if "*" in seen:
        return None
    merged = [n.strip() for value in values for n in value.split(",") if n.strip()]
    merged += [n for n in names if n.lower() not in seen]
    return ", ".join(merged).encode("latin-1")


class HTTPCaching:
    """ASGI middleware: versioned ETags before the answer where the data version is known,
    else buffers GET/HEAD 200 bodies (pygeoapi does not stream) to tag them."""

    def __init__(self, app: ASGIApp, policy: CachePolicy | None = None,
                 routes: RouteTable | None = None):
        self.app = app
        self.policy = policy or CachePolicy()
        self.routes = routes or RouteTable([])
        from services.settings import get_settings
        from services.store import versions
        versions.server_digest()  # of the configuration this process loaded, once
        if get_settings().database_url:  # listening before the first request
            versions.pg_versions(get_settings().database_url).start()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        route = route_of(scope, self.routes)
        cache_control = policy_for(route.kind, self.policy)
        if_none_match = None
        for key, value in scope.get("headers", []):
            if key == b"if-none-match":
                if_none_match = value.decode("latin-1")
        if route.template in VERSIONED and cache_control != NO_STORE:
            etag = versioned_etag(scope)
            if etag is not None:
                await self._versioned(scope, receive, send, etag, cache_control,
                                      if_none_match)
                return
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_wrapper(msg: Message) -> None:
            nonlocal start
            if msg["type"] == "http.response.start":
                if msg["status"] != 200:
                    await send(msg)
                    return
                start = msg
                return
            if start is None or msg["type"] != "http.response.body":
                await send(msg)
                return
            chunks.append(msg.get("body", b""))
            if msg.get("more_body"):
                return
            await self._finish(send, start, b"".join(chunks), cache_control, if_none_match,
                               scope)

        await self.app(scope, receive, send_wrapper)

    async def _versioned(self, scope: Scope, receive: Receive, send: Send, etag: str,
                         cache_control: str, if_none_match: str | None) -> None:
        """The ETag known before the answer: 304 now, or the answer streamed with it."""
        if if_none_match and none_match(if_none_match, etag):
            # the Vary of the 200 it stands for: pygeoapi's CORS layer adds Origin to those
            headers = decorate([(b"etag", etag.encode("latin-1")), (b"vary", b"Origin")],
                                cache_control, scope)
            await _not_modified(send, headers)
            return

        async def send_wrapper(msg: Message) -> None:
            if msg["type"] == "http.response.start" and msg["status"] == 200:
                headers = list(msg.get("headers", []))
                if not any(k.lower() == b"etag" for k, _ in headers):  # else the route's own
                    headers.append((b"etag", etag.encode("latin-1")))
                msg = {**msg, "headers": decorate(headers, cache_control, scope)}
            await send(msg)

        await self.app(scope, receive, send_wrapper)

    async def _finish(self, send: Send, start: Message, body: bytes, cache_control: str,
                      if_none_match: str | None, scope: Scope | None = None) -> None:
        from services import access
        headers = list(start.get("headers", []))
        etag = next((v.decode("latin-1") for k, v in headers if k.lower() == b"etag"), None)
        salt = access.etag_salt(scope) if scope is not None and etag else None
        if salt and etag.endswith('"'):  # a route's ETag, for a view hiding properties
            etag = f'{etag[:-1]}-{salt}"'
            headers = [(k, v) for k, v in headers if k.lower() != b"etag"]
            headers.append((b"etag", etag.encode("latin-1")))
        if cache_control != NO_STORE and etag is None:
            ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
            etag = weak_etag(body, json_body=b"json" in ctype)
            headers.append((b"etag", etag.encode("latin-1")))
        headers = decorate(headers, cache_control, scope)
        if etag is not None and if_none_match and none_match(if_none_match, etag):
            await _not_modified(send, headers)
            return
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})


def decorate(headers: list[tuple[bytes, bytes]], cache_control: str,
              scope: Scope | None) -> list[tuple[bytes, bytes]]:
    """Cache-Control (`private` for an answer that differs from the anonymous one) and Vary."""
    from services import access
    if scope is not None and access.is_private(scope):
        current = next((v.decode("latin-1") for k, v in headers
                        if k.lower() == b"cache-control"), cache_control)
        headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
        if "private" not in current and current != NO_STORE:
            current = "private, " + current.replace("public, ", "").replace("public", "")
        headers.append((b"cache-control", current.strip(", ").encode("latin-1")))
    if not any(k.lower() == b"cache-control" for k, _ in headers):
        headers.append((b"cache-control", cache_control.encode("latin-1")))
    merge_vary(headers, ("Accept", "Accept-Language", *access.CREDENTIAL_HEADERS))
    return headers


async def _not_modified(send: Send, headers: list[tuple[bytes, bytes]]) -> None:
    keep = (b"etag", b"cache-control", b"vary", b"content-location", b"date",
            b"expires", b"last-modified")
    headers = [(k, v) for k, v in headers if k.lower() in keep]
    await send({"type": "http.response.start", "status": 304, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


# the data routes of one collection whose answers follow its data version alone
# (one feature too, on a collection that is not editable: Part 4 tags the editable ones)
VERSIONED = frozenset({"/collections/{id}", "/collections/{id}/items",
                       "/collections/{id}/queryables", "/collections/{id}/schema",
                       "/collections/{id}/items/{fid}"})
_ONE_COLLECTION = re.compile(
    r"^/collections/([^/]+)(?:/items|/queryables|/schema|(/items/.+))?$")
VERSIONED_PREFIX = 'W/"v'


def versioned_etag(scope: Scope) -> str | None:
    """The weak ETag of a data route of one collection from its data version and the
    request, or None when the version is unknown (services/store/versions.py)."""
    from urllib.parse import unquote

    from services import access
    from services.store import versions
    m = _ONE_COLLECTION.match(scope.get("path", ""))
    if not m:
        return None
    collection_id = unquote(m.group(1))
    if m.group(2) and versions.editable(collection_id) is not False:
        return None  # Part 4's own strong ETag of the feature (If-Match compares it)
    try:
        version = versions.collection_version(collection_id)
    except Exception:  # noqa: BLE001 - unknown: the body's hash, as before
        return None
    if version is None:
        return None
    info = scope.get(access.SCOPE_KEY)
    accept = language = b""
    for key, value in scope.get("headers", []):
        if key == b"accept":
            accept += value + b"\n"
        elif key == b"accept-language":
            language += value + b"\n"
    digest = hashlib.blake2b(digest_size=12)
    for part in (versions.server_digest(), repr(version),
                 repr(versions.collection_file_stamp(collection_id)),
                 info.view.key if info is not None else "-", scope["path"]):
        digest.update(part.encode("utf-8", "surrogateescape") + b"\0")
    for part in (scope.get("query_string", b""), accept, language):
        digest.update(part + b"\0")
    return VERSIONED_PREFIX + digest.hexdigest() + '"'
