"""Site photos of features (services/photos.py, services/store/photos.py) over real HTTP, on
both stores: upload (raw body and multipart form), list, image and thumbnail, delete; the
refusals (types, content, size, pixels, count, paths, credentials, unknown features and
collections), each a bilingual OGC exception and never a 5xx; metadata stripped; the audit
read back from the store itself.

The servers are shared with other test files: every photo added here is deleted again, on
features drawn at random so that concurrent runs do not meet on one feature.
"""
from __future__ import annotations

import concurrent.futures
import hashlib
import http.client
import io
import random
import sqlite3
import struct
import uuid
import zlib
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
import pytest
import requests
import yaml
from PIL import ExifTags, Image, ImageChops, PngImagePlugin

from conftest import EDITOR, PROJECT, READER, VAR

SPEC = yaml.safe_load((PROJECT / "collections" / "friches.yml").read_text())["photos"]
MAX_BYTES, MAX_PER_FEATURE = SPEC["max_bytes"], SPEC["max_per_feature"]
ED = {"X-API-Key": EDITOR}
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
XMP = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/'
       b'02/22-rdf-syntax-ns#"><rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" '
       b'exif:GPSLatitude="50,31.8N"/></rdf:RDF></x:xmpmeta>')


# ---------------------------------------------------------------------------- helpers
def store_of(request) -> str:
    return request.node.callspec.params["server"]


def photos_path(fid: str, cid: str = "friches") -> str:
    return f"/collections/{cid}/items/{fid}/photos"


@pytest.fixture(scope="module")
def feature_ids(server) -> list[str]:
    body = server.json("/collections/friches/items",
                       params={"limit": 1000, "skipGeometry": "true", "properties": "site_id"})
    ids = [str(f["id"]) for f in body["features"]]
    assert len(ids) > 50
    return ids


@pytest.fixture
def fresh(feature_ids, server):
    """Features with no photo yet, drawn at random (deleted photos are left as audit rows)."""
    rng = random.Random(uuid.uuid4().int)

    def draw() -> str:
        for fid in rng.sample(feature_ids, 40):
            if not server.json(photos_path(fid))["photos"]:
                return fid
        raise AssertionError("no feature without photos")
    return draw


@pytest.fixture
def cleanup(server):
    """Photo addresses to delete when the test ends, whatever happens."""
    added: list[str] = []
    yield added
    for href in added:
        r = server.http.delete(href, headers=ED, timeout=60)
        assert r.status_code in (204, 404), (href, r.status_code, r.text[:300])


def photo_like(width: int, height: int, mode: str = "RGB", seed: int = 1) -> Image.Image:
    """A smooth gradient with texture and noise: encodes like a real photo."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 255 * x / max(1, width - 1)
    g = 255 * y / max(1, height - 1)
    b = 128 + 100 * np.sin(x / 17.0) * np.cos(y / 23.0)
    rgb = np.stack([r, g, b], axis=-1) + rng.normal(0, 6, (height, width, 3))
    img = Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8), "RGB")
    if mode == "RGBA":
        alpha = Image.fromarray((255 * (x / max(1, width - 1))).astype(np.uint8), "L")
        img.putalpha(alpha)
    return img


def gps_exif(orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "ArtoisCam"
    if orientation:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (50.0, 31.0, 48.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (2.0, 38.0, 24.0)
    return exif.tobytes()


def encode(img: Image.Image, media_type: str, metadata: bool = True, **kw) -> bytes:
    out = io.BytesIO()
    fmt = FORMATS[media_type]
    if metadata:
        kw.setdefault("exif", gps_exif())
        if fmt == "PNG":
            info = PngImagePlugin.PngInfo()
            info.add_text("Comment", "secret note")
            info.add_itxt("XML:com.adobe.xmp", XMP.decode())
            kw["pnginfo"] = info
        else:
            kw["xmp"] = XMP
    if fmt == "JPEG":
        kw.setdefault("quality", 95)
    img.save(out, fmt, **kw)
    return out.getvalue()


def tiny_png(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (seed % 256, (seed * 7) % 256, 9)).save(out, "PNG")
    return out.getvalue()


def assert_refused(r: requests.Response, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.text[:400])
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert body["description_fr"] and body["description_en"], body
    assert body["description_fr"] != body["description_en"], body
    if code:
        assert body["code"] == code, body
    return body


def upload(server, fid, data, media_type, *, caption=None, headers=ED, cleanup=None):
    r = server.post(photos_path(fid), data=data, params={"caption": caption} if caption else None,
                    headers={**headers, "Content-Type": media_type})
    if r.status_code == 201 and cleanup is not None:
        cleanup.append(r.json()["href"])
    return r


def raw_get(server, path: str) -> tuple[int, dict, bytes]:
    """A GET whose path is sent byte for byte (no client normalises `..`)."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    finally:
        conn.close()


# ---------------------------------------------------------------------------- the cycle
@pytest.mark.parametrize("media_type", list(FORMATS))
def test_upload_list_fetch_thumbnail_delete(server, fresh, cleanup, media_type):
    fid = fresh()
    source = photo_like(1200, 800, "RGBA" if media_type != "image/jpeg" else "RGB")
    data = encode(source, media_type)
    caption = "Façade nord, vue depuis la rue <b>Pasteur</b> – juin"
    r = upload(server, fid, data, media_type, caption=caption, cleanup=cleanup)
    assert r.status_code == 201, r.text[:500]
    doc = r.json()
    assert r.headers["location"] == doc["href"]
    assert len(doc["id"]) == 32 and int(doc["id"], 16) >= 0
    assert doc["href"].endswith(f"{photos_path(fid)}/{doc['id']}")
    assert (doc["type"], doc["width"], doc["height"]) == (media_type, *source.size)
    assert doc["caption"] == caption and doc["author"] == "eddie" and doc["uploaded"]

    listing = server.json(photos_path(fid))
    assert [p["id"] for p in listing["photos"]] == [doc["id"]]
    assert listing["numberReturned"] == 1
    assert listing["photos"][0] == doc
    rels = {link["rel"]: link["href"] for link in listing["links"]}
    assert rels["related"].endswith(f"/collections/friches/items/{fid}")
    assert server.get(urlsplit(rels["related"]).path).status_code == 200

    image = server.get(urlsplit(doc["href"]).path)
    assert image.status_code == 200
    assert image.headers["content-type"] == media_type
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.headers["content-disposition"].startswith("inline")
    assert "public" in image.headers["cache-control"]
    assert image.headers["etag"] == f'"{hashlib.sha256(image.content).hexdigest()}"'
    assert len(image.content) == doc["bytes"]
    stored = Image.open(io.BytesIO(image.content))
    assert stored.format == FORMATS[media_type] and stored.size == source.size
    stored.load()
    assert "exif" not in stored.info and "xmp" not in stored.info and not dict(stored.getexif())
    assert b"ArtoisCam" not in image.content and b"secret note" not in image.content
    if media_type == "image/png":  # lossless: the very pixels, transparency kept
        assert stored.mode == "RGBA"
        assert ImageChops.difference(stored.convert("RGBA"), source).getbbox() is None
    else:  # lossy: close to the source
        diff = np.abs(np.asarray(stored.convert("RGB"), dtype=np.int16)
                      - np.asarray(source.convert("RGB"), dtype=np.int16))
        assert diff.mean() < 6, diff.mean()
    again = server.get(urlsplit(doc["href"]).path, headers={"If-None-Match": image.headers["etag"]})
    assert again.status_code == 304

    thumb = server.get(urlsplit(doc["href"]).path, params={"size": "thumb"})
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert thumb.headers["etag"] != image.headers["etag"]
    small = Image.open(io.BytesIO(thumb.content))
    assert small.format == "JPEG" and max(small.size) == 320
    assert abs(small.size[0] / small.size[1] - 1200 / 800) < 0.02
    assert len(thumb.content) == doc["thumbnail"]["bytes"]

    gone = server.http.delete(doc["href"], headers=ED, timeout=60)
    assert gone.status_code == 204
    assert_refused(server.get(urlsplit(doc["href"]).path), 404)
    assert_refused(server.get(urlsplit(doc["href"]).path, params={"size": "thumb"}), 404)
    assert server.json(photos_path(fid))["photos"] == []
    assert_refused(server.http.delete(doc["href"], headers=ED, timeout=60), 404)


def test_multipart_form_upload_ignores_the_file_name(server, fresh, cleanup):
    fid = fresh()
    data = encode(photo_like(640, 480, seed=3), "image/jpeg")
    r = server.post(photos_path(fid), headers=ED, data={"caption": "Hangar – côté est"},
                    files={"file": ("../../../etc/passwd.jpg", data, "image/jpeg")})
    assert r.status_code == 201, r.text[:500]
    doc = r.json()
    cleanup.append(doc["href"])
    assert doc["caption"] == "Hangar – côté est" and (doc["width"], doc["height"]) == (640, 480)
    assert "passwd" not in doc["href"] and len(doc["id"]) == 32
    got = server.get(urlsplit(doc["href"]).path)
    assert Image.open(io.BytesIO(got.content)).size == (640, 480)
    # a form whose file part is a GIF, or with two files, or none: refused
    gif = io.BytesIO()
    Image.new("P", (4, 4)).save(gif, "GIF")
    assert_refused(server.post(photos_path(fid), headers=ED, files={
        "file": ("x.gif", gif.getvalue(), "image/gif")}), 415)
    assert_refused(server.post(photos_path(fid), headers=ED, files={
        "file": ("a.jpg", data, "image/jpeg"), "other": ("b.jpg", data, "image/jpeg")}), 400)
    assert_refused(server.post(photos_path(fid), headers=ED, files={"caption": (None, "x")}),
                   400)
    assert_refused(server.post(photos_path(fid), headers={
        **ED, "Content-Type": "multipart/form-data; boundary=zz"}, data=b"garbage"), 400)
    assert len(server.json(photos_path(fid))["photos"]) == 1


def test_orientation_is_applied_and_metadata_dropped(server, fresh, cleanup):
    fid = fresh()
    source = photo_like(60, 30, seed=5)
    data = encode(source, "image/jpeg", exif=gps_exif(orientation=6))  # 90° clockwise
    r = upload(server, fid, data, "image/jpeg", cleanup=cleanup)
    assert r.status_code == 201, r.text[:300]
    assert (r.json()["width"], r.json()["height"]) == (30, 60)
    stored = Image.open(io.BytesIO(server.get(urlsplit(r.json()["href"]).path).content))
    assert stored.size == (30, 60) and not dict(stored.getexif())


# ---------------------------------------------------------------------------- refusals
def test_types_are_checked_by_declaration_and_content(server, fresh):
    fid = fresh()
    jpeg = encode(photo_like(32, 32), "image/jpeg")
    svg = (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)'
           b'</script></svg>')
    gif = io.BytesIO()
    Image.new("P", (4, 4)).save(gif, "GIF")
    for ctype, body in [("text/plain", b"hello"), ("image/gif", gif.getvalue()),
                        ("image/svg+xml", svg), ("application/octet-stream", jpeg),
                        ("", jpeg)]:
        assert_refused(upload(server, fid, body, ctype), 415)
    for ctype, body in [("image/png", jpeg), ("image/webp", jpeg), ("image/jpeg", svg),
                        ("image/png", svg), ("image/jpeg", gif.getvalue())]:
        found = assert_refused(upload(server, fid, body, ctype), 415)
        assert ctype in found["description_en"]
    assert server.json(photos_path(fid))["photos"] == []


def test_truncated_and_corrupt_images_are_refused(server, fresh):
    fid = fresh()
    jpeg = encode(photo_like(400, 300, seed=7), "image/jpeg", metadata=False)
    png = encode(photo_like(400, 300, seed=7), "image/png", metadata=False)
    webp = encode(photo_like(400, 300, seed=7), "image/webp", metadata=False)
    broken_png = bytearray(png)
    idat = broken_png.index(b"IDAT")
    broken_png[idat + 20: idat + 60] = b"\x00" * 40
    cases = [("image/jpeg", jpeg[: len(jpeg) // 2]), ("image/png", png[: len(png) // 2]),
             ("image/webp", webp[: len(webp) // 2]), ("image/png", bytes(broken_png)),
             ("image/jpeg", b"\xff\xd8\xff" + bytes(range(256)) * 40), ("image/jpeg", b"")]
    for ctype, body in cases:
        assert_refused(upload(server, fid, body, ctype), 400)
    assert server.json(photos_path(fid))["photos"] == []


def test_oversize_bodies_get_413_and_the_server_stays_healthy(server, fresh, cleanup):
    fid = fresh()
    too_big = b"\xff\xd8\xff" + bytes(MAX_BYTES - 2)  # max_bytes + 1
    body = assert_refused(upload(server, fid, too_big, "image/jpeg"), 413)
    assert str(MAX_BYTES) in body["description_en"] and str(MAX_BYTES) in body["description_fr"]

    def chunks():  # no Content-Length: Transfer-Encoding: chunked
        for start in range(0, len(too_big), 256 * 1024):
            yield too_big[start:start + 256 * 1024]
    r = server.post(photos_path(fid), data=chunks(), headers={**ED, "Content-Type": "image/jpeg"})
    assert r.request.headers.get("transfer-encoding") == "chunked"
    assert str(MAX_BYTES) in assert_refused(r, 413)["description_en"]
    form = server.post(photos_path(fid), headers=ED,
                       files={"file": ("big.jpg", too_big, "image/jpeg")})
    assert str(MAX_BYTES) in assert_refused(form, 413)["description_en"]
    assert server.get("/health").status_code == 200
    assert server.json(photos_path(fid))["photos"] == []
    ok = upload(server, fid, tiny_png(1), "image/png", cleanup=cleanup)
    assert ok.status_code == 201, ok.text[:300]


def test_decompression_bombs_are_refused_before_decoding(server, fresh):
    fid = fresh()

    def chunk(kind: bytes, payload: bytes) -> bytes:
        return struct.pack(">I", len(payload)) + kind + payload + \
            struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    # a 60000 x 60000 PNG (3.6 gigapixels) of a few hundred bytes
    bomb = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 60000, 60000, 8, 0,
                                                             0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\x00" * 60001 * 4)) + chunk(b"IEND", b"")
    body = assert_refused(upload(server, fid, bomb, "image/png"), 413)
    assert str(60000 * 60000) in body["description_en"]
    # just past ARTOIS_PHOTO_MAX_PIXELS (50 Mpx by default), under Pillow's own guard
    wide = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 10000, 5001, 8, 0,
                                                             0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\x00" * 10001 * 8)) + chunk(b"IEND", b"")
    body = assert_refused(upload(server, fid, wide, "image/png"), 413)
    assert str(10000 * 5001) in body["description_en"]
    assert server.get("/health").status_code == 200


def test_a_feature_takes_at_most_max_per_feature_photos(server, fresh, cleanup):
    fid = fresh()
    for i in range(MAX_PER_FEATURE - 3):
        assert upload(server, fid, tiny_png(i), "image/png", cleanup=cleanup).status_code == 201
    # the last places raced for by six concurrent uploads: three win, three get 409
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda i: requests.post(
            server.url + photos_path(fid), data=tiny_png(100 + i), timeout=60,
            headers={**ED, "Content-Type": "image/png"}), range(6)))
    for r in answers:
        if r.status_code == 201:
            cleanup.append(r.json()["href"])
    assert sorted(r.status_code for r in answers) == [201] * 3 + [409] * 3
    assert_refused(upload(server, fid, tiny_png(999), "image/png"), 409, "Conflict")
    assert len(server.json(photos_path(fid))["photos"]) == MAX_PER_FEATURE
    # deleting one frees a place
    first = server.json(photos_path(fid))["photos"][0]["href"]
    assert server.http.delete(first, headers=ED, timeout=60).status_code == 204
    assert upload(server, fid, tiny_png(1000), "image/png", cleanup=cleanup).status_code == 201


def test_captions_are_bounded_text(server, fresh, cleanup):
    fid = fresh()
    assert_refused(upload(server, fid, tiny_png(1), "image/png", caption="é" * 301), 400)
    assert_refused(server.post(photos_path(fid), headers=ED, data={"caption": "a\x00b"},
                               files={"file": ("a.png", tiny_png(2), "image/png")}), 400)
    assert_refused(server.post(photos_path(fid), headers=ED, data={"caption": "abc\u202edef"},
                               files={"file": ("a.png", tiny_png(2), "image/png")}), 400)
    r = upload(server, fid, tiny_png(3), "image/png", caption="é" * 300, cleanup=cleanup)
    assert r.status_code == 201 and r.json()["caption"] == "é" * 300


@pytest.mark.parametrize("tail", [
    "/photos/..%2f..%2f..%2fetc%2fpasswd", "/photos/../../../../etc/passwd",
    "/photos/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "/photos/%2Fetc%2Fpasswd", "/photos//etc/passwd",
    "/photos/..", "/photos/%2e%2e", "/photos/" + "0" * 32, "/photos/" + "A" * 32,
    "/photos/" + "0" * 32 + "%00", "/photos/..%5c..%5cwindows%5cwin.ini",
])
def test_path_tricks_in_ids_are_404(server, feature_ids, tail):
    for fid in (feature_ids[0], "..%2f..%2fcommunes", "%2e%2e"):
        status, headers, body = raw_get(server, f"/collections/friches/items/{fid}{tail}")
        assert status in (400, 404), (fid, tail, status, body[:300])
        assert headers.get("content-type", "").startswith("application/json"), headers
        assert b"root:" not in body and b"[fonts]" not in body
        doc = __import__("json").loads(body)
        assert doc["description_fr"] and doc["description_en"]


def test_credentials_are_needed_to_add_and_delete(server, fresh, cleanup):
    fid = fresh()
    png = tiny_png(5)
    body = assert_refused(upload(server, fid, png, "image/png", headers={}), 401)
    assert body["code"] == "Unauthorized"
    r = upload(server, fid, png, "image/png", headers={"X-API-Key": "not-a-key"})
    assert_refused(r, 401)
    assert "bearer" in r.headers["www-authenticate"].lower()
    assert_refused(upload(server, fid, png, "image/png",
                          headers={"Authorization": f"Bearer {READER}"}), 403)
    doc = upload(server, fid, png, "image/png", cleanup=cleanup).json()
    assert_refused(server.http.delete(doc["href"], timeout=60), 401)
    assert_refused(server.http.delete(doc["href"], headers={"X-API-Key": READER}, timeout=60),
                   403)
    assert [p["id"] for p in server.json(photos_path(fid))["photos"]] == [doc["id"]]
    # reading is public, like the feature
    assert requests.get(doc["href"], timeout=60).status_code == 200


def test_unknown_features_and_collections_without_photos(server, fresh, cleanup, feature_ids):
    for path in ("/collections/friches/items/no-such-site/photos",
                 "/collections/no-such-collection/items/1/photos",
                 "/collections/zae/items/1/photos", "/collections/communes/items/62119/photos",
                 "/collections/surchauffe/items/1/photos"):
        assert_refused(server.get(path), 404)
        assert_refused(server.post(path, data=tiny_png(1), headers={
            **ED, "Content-Type": "image/png"}), 404)
        assert_refused(server.get(path + "/" + "0" * 32), 404)
    # a photo is only reachable under its own feature
    fid = fresh()
    other = next(f for f in feature_ids if f != fid)
    doc = upload(server, fid, tiny_png(6), "image/png", cleanup=cleanup).json()
    assert_refused(server.get(f"{photos_path(other)}/{doc['id']}"), 404)
    assert_refused(server.http.delete(server.url + f"{photos_path(other)}/{doc['id']}",
                                      headers=ED, timeout=60), 404)
    assert_refused(server.get(photos_path(fid), params={"f": "html"}), 400)
    assert_refused(server.get(urlsplit(doc["href"]).path, params={"size": "huge"}), 400)
    assert_refused(server.get(photos_path(fid), params={"unknown": "1"}), 400)
    r = server.http.put(doc["href"], data=b"x", headers=ED, timeout=60)
    assert_refused(r, 405)


def test_uploads_and_deletes_are_audited(request, server, fresh):
    fid = fresh()
    r = upload(server, fid, tiny_png(7), "image/png", caption="audit")
    assert r.status_code == 201
    doc = r.json()
    assert server.http.delete(doc["href"], headers=ED, timeout=60).status_code == 204
    columns = ("collection, feature_id, media_type, bytes, sha256, caption, uploaded_by, "
               "uploaded_role, uploaded_at, deleted_by, deleted_role, deleted_at, data, thumb")
    if store_of(request) == "embedded":
        with sqlite3.connect(f"file:{VAR / 'store' / 'photos.sqlite'}?mode=ro", uri=True) as c:
            row = c.execute(f"SELECT {columns} FROM feature_photos WHERE id = ?",
                            (doc["id"],)).fetchone()
    else:
        import psycopg
        with psycopg.connect(request.getfixturevalue("database_url")) as c:
            row = c.execute(f"SELECT {columns} FROM artois.feature_photos WHERE id = %s",
                            (doc["id"],)).fetchone()
    assert row is not None
    (cid, feature, media, size, sha, caption, by, role, at, del_by, del_role, del_at,
     data, thumb) = row
    assert (cid, feature, media, size, caption) == ("friches", fid, "image/png", doc["bytes"],
                                                     "audit")
    assert (by, role, del_by, del_role) == ("eddie", "editor", "eddie", "editor")
    assert at and del_at and del_at >= at
    assert len(sha) == 64 and data is None and thumb is None  # taken down: bytes erased


def test_python_listing_and_discovery(request, server, fresh, cleanup, monkeypatch):
    fid = fresh()
    doc = upload(server, fid, tiny_png(8), "image/png", caption="liste", cleanup=cleanup).json()
    if store_of(request) == "postgis":
        monkeypatch.setenv("DATABASE_URL", request.getfixturevalue("database_url"))
    from services.photos import list_photos
    from services.settings import Settings
    listed = list_photos("friches", fid, settings=Settings())
    assert [(p["id"], p["caption"], p["bytes"]) for p in listed] == [
        (doc["id"], "liste", doc["bytes"])]
    assert list_photos("zae", fid, settings=Settings()) == []
    collection = server.json("/collections/friches")
    assert any(link["rel"] == "related" and link.get("templated") and
               link["href"].endswith("/collections/friches/items/{featureId}/photos")
               for link in collection["links"])
    oas = server.json("/openapi", params={"f": "json"})
    item = oas["paths"]["/collections/{collectionId}/items/{featureId}/photos"]
    assert {"get", "post"} <= set(item) and item["post"]["security"]
    assert set(item["post"]["requestBody"]["content"]) == {*FORMATS, "multipart/form-data"}
    one = oas["paths"]["/collections/{collectionId}/items/{featureId}/photos/{photoId}"]
    assert {"get", "delete"} <= set(one)


def test_the_pdf_library_leaves_truncated_images_refused():
    """weasyprint sets Pillow's LOAD_TRUNCATED_IMAGES at import: once a server process had
    checked or drawn a PDF sheet, its photo uploads accepted truncated images."""
    import subprocess
    import sys
    code = ("from services import fiche; fiche._pdf_available(); "
            "from PIL import ImageFile; print(ImageFile.LOAD_TRUNCATED_IMAGES)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parent.parent, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
