"""Site photos of features (issue 15), served in front of pygeoapi (services/front.py).

Only the collections whose file has a `photos:` block take photos (`max_bytes`,
`max_per_feature`, `types` among image/jpeg, image/png, image/webp):

- `GET  /collections/{cid}/items/{fid}/photos`: the feature's photos as JSON, public like
  the feature (404 for an unknown collection or feature, or a collection without photos);
- `POST /collections/{cid}/items/{fid}/photos` (editor, services/auth.py: 401/403): the raw
  image as the body (`Content-Type: image/jpeg|png|webp`, caption in `?caption=`), or
  `multipart/form-data` (what an HTML form sends) with one file part and an optional
  `caption` field. 201, `Location` and the photo's JSON;
- `GET  /collections/{cid}/items/{fid}/photos/{pid}[?size=thumb]`: the image (or its
  320 px JPEG thumbnail) with a strong ETag, `Cache-Control` (ARTOIS_CACHE_PHOTOS),
  `X-Content-Type-Options: nosniff`, `Content-Disposition: inline`;
- `DELETE /collections/{cid}/items/{fid}/photos/{pid}` (editor): 204.

What an upload goes through: the body is counted as it arrives whatever the transfer
encoding (413 past the collection's `max_bytes`, at most ARTOIS_PHOTO_MAX_BYTES; the edge
lets these bodies through uncounted: services/edge.py `counts_own_body`); the declared type
must be accepted (415) and match the magic bytes (415); the image must decode completely
with Pillow (400) within ARTOIS_PHOTO_MAX_PIXELS (413: the decompression-bomb guard, read
from the header before any pixel is decoded); it is re-encoded in its own format (EXIF
orientation applied, then every metadata dropped: EXIF with its GPS position, XMP, IPTC,
comments, PNG text chunks; only the ICC colour profile is kept); at most `max_per_feature`
live photos per feature (409, counted and inserted in one locked transaction). Identifiers are
generated (uuid4), never taken from the client's file name. The checks and the re-encoding:
services/photo_images.py (pure); storage and audit: services/store/photos.py.

For pages: `list_photos(collection_id, feature_id)` gives the photos of a feature (the HTML
sheet shows them and their count); pygeoapi's item JSON is left as it is (adding links to it
would need a patch of pygeoapi): a collection with photos gets a templated `related` link to
its items' photo lists in its metadata, and the photo list links back to its feature.
"""
from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

from services.errors import OGCError
from services.photo_images import (EXTENSIONS, MAX_CAPTION, SUPPORTED, PhotoPolicy,
                                   clean_caption, parse_multipart, policy_of, process_image)

MULTIPART_OVERHEAD = 64 * 1024    # boundaries, part headers and the caption around the file
PHOTO_ID = re.compile(r"[0-9a-f]{32}")
WRITER_ROLE = "editor"


# ---------------------------------------------------------------------------- Python API
def _base_url(settings=None) -> str:
    import sys
    if settings is None and "pygeoapi.starlette_app" in sys.modules:  # inside the server
        return str(sys.modules["pygeoapi.starlette_app"].CONFIG["server"]["url"]).rstrip("/")
    from services.settings import get_settings
    return (settings or get_settings()).url.rstrip("/")


def photos_href(base: str, cid: str, fid: str, pid: str | None = None) -> str:
    href = f"{base}/collections/{quote(cid, safe='')}/items/{quote(str(fid), safe='')}/photos"
    return href + (f"/{pid}" if pid else "")


def photo_json(row: dict[str, Any], base: str) -> dict[str, Any]:
    href = photos_href(base, row["collection"], row["feature_id"], row["id"])
    return {"id": row["id"], "href": href, "type": row["media_type"], "bytes": row["bytes"],
            "width": row["width"], "height": row["height"], "caption": row["caption"],
            "uploaded": row["uploaded_at"], "author": row["uploaded_by"],
            "thumbnail": {"href": href + "?size=thumb", "type": "image/jpeg",
                          "bytes": row.get("thumb_bytes")}}


def list_photos(collection_id: str, feature_id: Any, settings=None) -> list[dict[str, Any]]:
    """The photos of a feature as in `GET …/photos` (`[]` for a collection without photos;
    the feature is not looked up: the caller shows an existing one)."""
    from services.settings import get_settings
    from services.store import get_catalog
    from services.store.photos import open_photo_store
    conf = settings or get_settings()
    if policy_of(get_catalog(conf).spec(collection_id), conf) is None:
        return []
    rows = open_photo_store(conf).list(collection_id, str(feature_id))
    base = _base_url(settings)
    return [photo_json(r, base) for r in rows]


# ---------------------------------------------------------------------------- HTTP
def _keys():
    global _KEYSTORE
    if _KEYSTORE is None:
        from services.auth import KeyStore
        _KEYSTORE = KeyStore.from_environment()
    return _KEYSTORE


_KEYSTORE = None


def _settings():
    from services.settings import get_settings
    return get_settings()


def _policy(cid: str) -> tuple[Any, PhotoPolicy]:
    from services.store import get_catalog
    settings = _settings()
    spec = get_catalog(settings).spec(cid)
    if spec is None:
        raise OGCError("collection_not_found", status=404, collection=cid)
    policy = policy_of(spec, settings)
    if policy is None:
        raise OGCError("photo_collection_without", status=404, collection=cid)
    return spec, policy


def _feature_key(cid: str, fid: str) -> str:
    """The feature's identifier as stored (404 when the feature does not exist)."""
    from services.store.writer import open_writer
    if len(fid) > 256 or any(ord(c) < 32 or ord(c) == 127 for c in fid):
        raise OGCError("feature_not_found", status=404, id=fid[:60], collection=cid)
    with open_writer(_settings(), cid, readonly=True) as reader:
        feature = reader.get(fid)
    if feature is None:
        raise OGCError("feature_not_found", status=404, id=fid, collection=cid)
    return str(feature.id)


def _store():
    from services.store.photos import open_photo_store
    return open_photo_store(_settings())


async def _blocking(fn, *args, **kwargs):
    """`fn` in the thread pool; a store that cannot answer now is a 503, not a 500."""
    import sqlite3

    from starlette.concurrency import run_in_threadpool
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except OGCError:
        raise
    except sqlite3.OperationalError as err:
        if "locked" in str(err) or "busy" in str(err):
            raise OGCError("timeout", status=503, headers={"Retry-After": "5"}) from err
        raise
    except Exception as err:
        if _settings().database_url:
            import psycopg

            from services.store.postgis import pool as db
            if db.unreachable(err) or isinstance(err, (psycopg.errors.QueryCanceled,
                                                       psycopg.errors.LockNotAvailable)):
                raise OGCError("database_unavailable", status=503,
                               headers={"Retry-After": str(db.RETRY_AFTER_S)}) from err
        raise


def _handled(fn):
    async def endpoint(request):
        try:
            return await fn(request)
        except OGCError as err:  # OGCExceptionMiddleware answers in the reader's language
            return err.response()
    endpoint.__name__ = fn.__name__
    return endpoint


def _only_json(request) -> None:
    f = request.query_params.get("f")
    if f not in (None, "", "json"):
        raise OGCError("photo_format_unknown", value=f[:20])


async def _read_body(request, limit: int, shown: int) -> bytes:
    """The body, counted as it arrives (chunked or not): 413 at `limit` + 1 bytes (the
    message says `shown`, the photo's own limit)."""
    from starlette.requests import ClientDisconnect
    length = request.headers.get("content-length")
    if length is not None and (not length.strip().isdigit() or int(length) > limit):
        if length.strip().isdigit():
            raise OGCError("photo_too_large", status=413, max=shown)
        raise OGCError("invalid_request")
    chunks, size = [], 0
    try:
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise OGCError("photo_too_large", status=413, max=shown)
            chunks.append(chunk)
    except ClientDisconnect:
        raise OGCError("invalid_request") from None
    return b"".join(chunks)


@_handled
async def photos(request):
    """GET: the list; POST: an upload."""
    cid, fid = request.path_params["cid"], request.path_params["fid"]
    _, policy = _policy(cid)
    if request.method == "POST":
        return await _upload(request, cid, fid, policy)
    _only_json(request)
    key = await _blocking(_feature_key, cid, fid)
    rows = await _blocking(lambda: _store().list(cid, key))
    from starlette.responses import JSONResponse
    base = _base_url()
    href = photos_href(base, cid, key)
    item = f"{base}/collections/{quote(cid, safe='')}/items/{quote(key, safe='')}"
    return JSONResponse({
        "photos": [photo_json(r, base) for r in rows],
        "numberReturned": len(rows),
        "limits": {"max_bytes": policy.max_bytes, "max_per_feature": policy.max_per_feature,
                   "types": list(policy.types)},
        "links": [{"rel": "self", "type": "application/json", "href": href,
                   "title": "Photos du site / Site photos"},
                  {"rel": "related", "type": "application/geo+json", "href": item,
                   "title": "L'élément photographié / The feature photographed"},
                  {"rel": "collection", "type": "application/json",
                   "href": f"{base}/collections/{quote(cid, safe='')}"}]})


async def _upload(request, cid: str, fid: str, policy: PhotoPolicy):
    from starlette.responses import JSONResponse

    from services.auth import require
    principal = require(_keys(), request.scope.get("headers", []), WRITER_ROLE)
    key = await _blocking(_feature_key, cid, fid)
    ctype = request.headers.get("content-type", "")
    media = ctype.split(";")[0].strip().lower()
    allowed = ", ".join(list(policy.types) + ["multipart/form-data"])
    if media != "multipart/form-data" and media not in policy.types:
        raise OGCError("photo_type_unsupported", status=415, ctype=media or "-",
                       allowed=allowed)
    caption = request.query_params.get("caption")
    if media == "multipart/form-data":
        body = await _read_body(request, policy.max_bytes + MULTIPART_OVERHEAD,
                                policy.max_bytes)
        data, declared, form_caption = await _blocking(parse_multipart, ctype, body)
        del body
        if len(data) > policy.max_bytes:
            raise OGCError("photo_too_large", status=413, max=policy.max_bytes)
        if declared not in policy.types:
            raise OGCError("photo_type_unsupported", status=415, ctype=declared or "-",
                           allowed=", ".join(policy.types))
        caption = form_caption if form_caption is not None else caption
    else:
        data = await _read_body(request, policy.max_bytes, policy.max_bytes)
        declared = media
    caption = clean_caption(caption)
    if not data:
        raise OGCError("photo_empty")
    image = await _blocking(process_image, data, declared, _settings().photo_max_pixels)
    row = await _blocking(_store().add, {
        "id": uuid.uuid4().hex, "collection": cid, "feature_id": key,
        "media_type": image.media_type, "bytes": len(image.content), "sha256": image.sha256,
        "width": image.width, "height": image.height, "caption": caption,
        "uploaded_by": principal.user, "uploaded_role": principal.role,
        "thumb_bytes": len(image.thumb), "data": image.content, "thumb": image.thumb},
        policy.max_per_feature)
    doc = photo_json(row, _base_url())
    return JSONResponse(doc, status_code=201, headers={"Location": doc["href"]})


@_handled
async def photo(request):
    """GET: the image (or its thumbnail); DELETE: take it down."""
    cid, fid = request.path_params["cid"], request.path_params["fid"]
    pid = request.path_params["pid"]
    _policy(cid)
    if request.method == "DELETE":
        from services.auth import require
        principal = require(_keys(), request.scope.get("headers", []), WRITER_ROLE)
    if not PHOTO_ID.fullmatch(pid):  # a made-up id never reaches the store
        raise OGCError("photo_not_found", status=404, id=pid[:60], feature=fid[:60],
                       collection=cid)
    key = await _blocking(_feature_key, cid, fid)
    if request.method == "DELETE":
        done = await _blocking(_store().delete, cid, key, pid, user=principal.user,
                               role=principal.role)
        if not done:
            raise OGCError("photo_not_found", status=404, id=pid, feature=key, collection=cid)
        from starlette.responses import Response
        return Response(status_code=204)
    size = request.query_params.get("size") or "full"
    if size not in ("full", "thumb"):
        raise OGCError("photo_size_unknown", value=size[:20])
    found = await _blocking(_store().get, cid, key, pid, thumb=size == "thumb")
    if found is None:
        raise OGCError("photo_not_found", status=404, id=pid, feature=key, collection=cid)
    media = "image/jpeg" if size == "thumb" else found["media_type"]
    name = f"{pid}{'-thumb' if size == 'thumb' else ''}.{EXTENSIONS[media]}"
    from starlette.responses import Response
    return Response(found["content"], media_type=media, headers={
        "ETag": f'"{found["sha256"]}{"-thumb" if size == "thumb" else ""}"',
        "Cache-Control": _settings().cache_photos,
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'inline; filename="{name}"',
        "Content-Security-Policy": "default-src 'none'; sandbox"})


def routes() -> list:
    from starlette.routing import Route
    return [Route("/collections/{cid}/items/{fid}/photos", photos, methods=["GET", "POST"]),
            Route("/collections/{cid}/items/{fid}/photos/{pid}", photo,
                  methods=["GET", "DELETE"])]


def collection_links(spec: Any, base_url: str) -> list[dict[str, Any]]:
    if policy_of(spec, _settings()) is None:
        return []
    return [{"rel": "related", "type": "application/json", "templated": True,
             "href": f"{base_url.rstrip('/')}/collections/{quote(spec.id, safe='')}"
                     "/items/{featureId}/photos",
             "title": "Photos de site d'un élément / Site photos of a feature"}]


# ---------------------------------------------------------------------------- OpenAPI
def openapi(oas: dict[str, Any], collection_ids: list[str], coverage_ids: list[str]) -> None:
    """The photo operations in the OpenAPI document, as answered (the front modules' hook,
    services/front.py)."""
    from services.store import get_catalog
    settings = _settings()
    ids = [s.id for s in get_catalog(settings).specs.values()
           if policy_of(s, settings) is not None]
    if not ids:
        return
    problem = {"application/json": {"schema": {"$ref": "#/components/schemas/exception"}}}

    def param(name, where="path", schema=None, desc="", required=None):
        return {"name": name, "in": where, "description": desc, "schema": schema or
                {"type": "string"}, "required": where == "path" if required is None
                else required}

    def errors(*codes):
        texts = {"400": "Bad request", "401": "Credential missing or unknown",
                 "403": "Role too low (editor needed)",
                 "404": "Unknown collection, feature or photo",
                 "409": "Too many photos for this feature", "413": "Image too large",
                 "415": "Not an accepted image type, or content not of the declared type",
                 "503": "Store unavailable (Retry-After)"}
        return {c: {"description": texts[c] + " (bilingual OGC exception)",
                    "content": problem} for c in codes}
    cid = param("collectionId", schema={"type": "string", "enum": ids})
    fid = param("featureId", desc="Feature identifier / identifiant de l'élément")
    pid = param("photoId", schema={"type": "string", "pattern": "^[0-9a-f]{32}$"})
    binary = {"schema": {"type": "string", "format": "binary"}}
    security = [{"apiKey": []}, {"bearer": []}]
    schemes = oas.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes.setdefault("apiKey", {"type": "apiKey", "in": "header", "name": "X-API-Key"})
    schemes.setdefault("bearer", {"type": "http", "scheme": "bearer"})
    json_ = {"application/json": {"schema": {"type": "object"}}}
    oas.setdefault("paths", {})["/collections/{collectionId}/items/{featureId}/photos"] = {
        "get": {"tags": ["photos"], "operationId": "getFeaturePhotos",
                "summary": "Site photos of a feature / photos du site",
                "parameters": [cid, fid, param("f", "query", {"type": "string",
                                                              "enum": ["json"]})],
                "responses": {"200": {"description": "The photos (JSON)", "content": json_},
                              **errors("400", "404", "503")}},
        "post": {"tags": ["photos"], "operationId": "addFeaturePhoto",
                 "summary": "Upload a photo (editor) / ajouter une photo",
                 "security": security,
                 "parameters": [cid, fid, param("caption", "query", {
                     "type": "string", "maxLength": MAX_CAPTION},
                     "Caption / légende (raw bodies; multipart: a `caption` field)")],
                 "requestBody": {"required": True, "content": {
                     **{t: binary for t in SUPPORTED},
                     "multipart/form-data": {"schema": {
                         "type": "object", "required": ["file"],
                         "properties": {"file": {"type": "string", "format": "binary"},
                                        "caption": {"type": "string",
                                                    "maxLength": MAX_CAPTION}}}}}},
                 "responses": {"201": {"description": "Photo stored (Location)",
                                       "content": json_},
                               **errors("400", "401", "403", "404", "409", "413", "415",
                                        "503")}}}
    oas["paths"]["/collections/{collectionId}/items/{featureId}/photos/{photoId}"] = {
        "get": {"tags": ["photos"], "operationId": "getFeaturePhoto",
                "summary": "A photo, or its 320 px JPEG thumbnail (size=thumb)",
                "parameters": [cid, fid, pid, param("size", "query", {
                    "type": "string", "enum": ["full", "thumb"]})],
                "responses": {"200": {"description": "The image",
                                      "content": {t: binary for t in SUPPORTED}},
                              "304": {"description": "Not modified (If-None-Match)"},
                              **errors("400", "404", "503")}},
        "delete": {"tags": ["photos"], "operationId": "deleteFeaturePhoto",
                   "summary": "Delete a photo (editor) / supprimer une photo",
                   "security": security, "parameters": [cid, fid, pid],
                   "responses": {"204": {"description": "Deleted"},
                                 **errors("401", "403", "404", "503")}}}
    tags = oas.setdefault("tags", [])
    if not any(t.get("name") == "photos" for t in tags):
        tags.append({"name": "photos", "description": "Photos de site / site photos"})
