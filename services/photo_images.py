"""Site photos (issue 15), the pure part: the collection's photo limits, the checks of an
uploaded image (magic bytes, full decoding with Pillow, the pixel guard read from the header),
its re-encoding without metadata, its thumbnail, captions and multipart/form-data bodies. No
web import: services/photos.py is the HTTP adapter, services/store/photos.py the storage.
Every refusal is a services.errors.OGCError (bilingual, with its HTTP status).
"""
from __future__ import annotations

import hashlib
import io
import re
import threading
import unicodedata
from dataclasses import dataclass
from typing import Any

from services.errors import OGCError

SUPPORTED = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}
THUMB_PX = 320
MAX_CAPTION = 300
MAX_PARTS = 8                     # multipart parts at most (one file, a caption, a button…)
PROCESSING_SLOTS = 2              # images decoded at once per server process (memory bound)
SLOT_WAIT_S = 30.0
DEFAULT_LIMITS = {"max_bytes": 8 * 1024 * 1024, "max_per_feature": 20,
                  "types": list(SUPPORTED)}


# ---------------------------------------------------------------------------- policy
@dataclass(frozen=True)
class PhotoPolicy:
    max_bytes: int
    max_per_feature: int
    types: tuple[str, ...]


def policy_of(spec: Any, settings: Any) -> PhotoPolicy | None:
    """The photo limits of a collection (None: it takes no photos)."""
    block = getattr(spec, "photos", None)
    if spec is None or getattr(spec, "kind", "features") != "features" or \
            not isinstance(block, dict):
        return None
    raw = {**DEFAULT_LIMITS, **block}
    types = tuple(t for t in (str(t).lower() for t in raw["types"] or ()) if t in SUPPORTED)
    return PhotoPolicy(max_bytes=max(1, min(int(raw["max_bytes"]), settings.photo_max_bytes)),
                       max_per_feature=max(0, int(raw["max_per_feature"])),
                       types=types)


# ---------------------------------------------------------------------------- images (pure)
@dataclass(frozen=True)
class Processed:
    media_type: str
    content: bytes
    width: int
    height: int
    sha256: str
    thumb: bytes


def sniff(data: bytes) -> str | None:
    """The media type that the magic bytes say, among the supported ones."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


_slots = threading.BoundedSemaphore(PROCESSING_SLOTS)


def process_image(data: bytes, declared: str, max_pixels: int) -> Processed:
    """Check `data` against its declared media type, decode it, re-encode it without its
    metadata and make its thumbnail. OGCError 415 (type), 413 (pixels), 400 (unreadable)."""
    found = sniff(data)
    if found != declared:
        raise OGCError("photo_type_mismatch", status=415, declared=declared,
                       found=found or {"fr": "aucun type d'image accepté",
                                       "en": "no accepted image type"})
    if not _slots.acquire(timeout=SLOT_WAIT_S):
        raise OGCError("photo_busy", status=503, headers={"Retry-After": "5"})
    try:
        return _reencode(data, found, max_pixels)
    finally:
        _slots.release()


def _decode(data: bytes, media_type: str, max_pixels: int):
    from PIL import Image
    fmt = SUPPORTED[media_type]
    try:  # (no warnings.catch_warnings: it changes the filters of every thread)
        img = Image.open(io.BytesIO(data), formats=[fmt])
        width, height = img.size
        if width * height > max_pixels:  # from the header, before decoding
            raise OGCError("photo_too_many_pixels", status=413, pixels=width * height,
                           max=max_pixels)
        if getattr(img, "n_frames", 1) > 1:
            raise OGCError("photo_animated", status=415, ctype=media_type)
        img.load()
    except OGCError:
        raise
    except Image.DecompressionBombError as err:
        # Pillow's own guard (twice Image.MAX_IMAGE_PIXELS) refused it while reading the
        # header, before our check: its message has the pixel count
        found = re.search(r"\((\d+) pixels\)", str(err))
        raise OGCError("photo_too_many_pixels", status=413, max=max_pixels,
                       pixels=found.group(1) if found else "?") from None
    except Exception as err:  # noqa: BLE001 - Pillow raises many kinds on broken files
        detail = re.sub(r"\s*<[^>]*>", "", str(err)).strip()[:200]  # no object reprs
        raise OGCError("photo_unreadable", ctype=media_type,
                       detail=detail or type(err).__name__) from None
    if img.format != fmt:
        raise OGCError("photo_type_mismatch", status=415, declared=media_type,
                       found=str(img.format))
    return img


def _reencode(data: bytes, media_type: str, max_pixels: int) -> Processed:
    from PIL import ImageOps
    img = _decode(data, media_type, max_pixels)
    icc = img.info.get("icc_profile")
    transparency = img.info.get("transparency")
    try:
        img = ImageOps.exif_transpose(img)  # the camera's orientation, applied to the pixels
    except Exception:  # noqa: BLE001 - a broken EXIF block: the pixels as they are
        img = img.copy()
    img.info = {}  # no metadata goes on: EXIF (GPS), XMP, comments, text chunks
    mode = img.mode
    options: dict[str, Any] = {}
    try:
        if media_type == "image/jpeg":
            if img.mode not in ("RGB", "L"):
                img = img.convert("RGB")
            options.update(quality=90, optimize=True, progressive=True)
        elif media_type == "image/png":
            if img.mode not in ("1", "L", "LA", "I", "I;16", "P", "RGB", "RGBA"):
                img = img.convert("RGBA")
            if transparency is not None and img.mode in ("P", "L", "RGB"):
                options["transparency"] = transparency
            options.update(compress_level=6)
        else:
            if img.mode not in ("RGB", "RGBA"):
                img = img.convert("RGBA" if _has_alpha(img, transparency) else "RGB")
            options.update(quality=90, method=2)  # method 4: twice as slow, no smaller
        if icc and img.mode == mode:  # a profile describes the colours it came with
            options["icc_profile"] = icc
        out = io.BytesIO()
        img.save(out, format=SUPPORTED[media_type], **options)
        content = out.getvalue()
        thumb = _thumbnail(img, transparency)
    except Exception as err:  # noqa: BLE001 - an odd mode or profile Pillow cannot write
        raise OGCError("photo_unreadable", ctype=media_type,
                       detail=type(err).__name__) from None
    return Processed(media_type, content, img.width, img.height,
                     hashlib.sha256(content).hexdigest(), thumb)


def _has_alpha(img, transparency) -> bool:
    return img.mode in ("RGBA", "LA", "PA") or transparency is not None


def _thumbnail(img, transparency) -> bytes:
    """A JPEG at most THUMB_PX on its longest side (transparency flattened on white)."""
    from PIL import Image
    thumb = img.copy()
    if thumb.mode in ("I", "I;16", "F"):
        thumb = thumb.convert("L")
    if _has_alpha(thumb, transparency):
        if transparency is not None:
            thumb.info["transparency"] = transparency
        thumb = thumb.convert("RGBA")
        white = Image.new("RGBA", thumb.size, (255, 255, 255, 255))
        thumb = Image.alpha_composite(white, thumb)
    thumb = thumb.convert("RGB")
    thumb.thumbnail((THUMB_PX, THUMB_PX), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out = io.BytesIO()
    thumb.save(out, format="JPEG", quality=82, optimize=True)
    return out.getvalue()


def clean_caption(value: str | None) -> str | None:
    """A caption as stored: one line of at most MAX_CAPTION characters (400 otherwise)."""
    if value is None:
        return None
    text = unicodedata.normalize("NFC", re.sub(r"[\r\n\t]+", " ", value)).strip()
    if any(unicodedata.category(c) in ("Cc", "Cs") or (unicodedata.category(c) == "Cf" and
                                                        c not in "\u200c\u200d\u00ad")
           for c in text):  # control, bidirectional override, lone surrogate: refused
        raise OGCError("photo_caption_invalid")
    if len(text) > MAX_CAPTION:
        raise OGCError("photo_caption_too_long", max=MAX_CAPTION, length=len(text))
    return text or None


def parse_multipart(content_type: str, body: bytes) -> tuple[bytes, str | None, str | None]:
    """(file bytes, its declared media type, caption) of a multipart/form-data body, read
    with the standard library's email parser, at most MAX_PARTS parts (400 otherwise)."""
    from email import policy
    from email.message import Message
    from email.parser import BytesParser
    head = Message()
    head["Content-Type"] = content_type
    boundary = head.get_boundary()
    if not boundary or len(boundary) > 70:
        raise OGCError("photo_multipart_invalid")
    if body.count(b"--" + boundary.encode("latin-1")) > MAX_PARTS + 1:
        raise OGCError("photo_multipart_parts", max=MAX_PARTS)
    msg = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\nMIME-Version: 1.0\r\n\r\n"
        + body)
    if not msg.is_multipart() or msg.defects:
        raise OGCError("photo_multipart_invalid")
    files, caption = [], None
    for part in msg.iter_parts():
        if part.is_multipart() or part.defects:
            raise OGCError("photo_multipart_invalid")
        name = part.get_param("name", header="content-disposition")
        if part.get_filename() is not None or name in ("file", "photo"):
            files.append(part)
        elif name == "caption":
            try:
                caption = (part.get_payload(decode=True) or b"").decode("utf-8")
            except UnicodeDecodeError:
                raise OGCError("photo_caption_invalid") from None
    if len(files) != 1:
        raise OGCError("photo_multipart_file", count=len(files))
    part = files[0]
    declared = part.get_content_type().lower() if part.get("content-type") else None
    data = part.get_payload(decode=True)
    if not isinstance(data, bytes):
        raise OGCError("photo_multipart_invalid")
    return data, declared, caption
