"""ETags of the rendered map tiles, known before any rendering.

A tile's weak validator hashes the internal titiler path and query, the COG file and the ramp
file (their size and modification time), the rendering libraries' versions and the raster
modules' code: a matching If-None-Match is answered 304 before the tile is read or rendered.
The ETag is only added to a 200 (a tile off the data is a 200 too: a transparent image).
"""
from __future__ import annotations

import hashlib
import os
from importlib.metadata import version as _version
from pathlib import Path

import rasterio
from starlette.requests import Request
from starlette.types import Send

from services.tiles.raster_summers import STYLES_DIR, dataset_path

_HERE = Path(__file__).resolve().parent


def _code_stamp() -> str:
    """The modification times of the raster modules: a code change changes the ETags."""
    return ",".join(str(p.stat().st_mtime_ns) for p in sorted(_HERE.glob("raster*.py")))


# what else a rendered tile depends on: the libraries and this package's raster code
RENDER_VERSIONS = "titiler.core {}, rio-tiler {}, GDAL {}, {}".format(
    _version("titiler.core"), _version("rio-tiler"), rasterio.__gdal_version__, _code_stamp())


def tile_etag(request: Request, path: str, query: str) -> str:
    """A weak validator of a rendered tile: the internal path and query, the COG file and the
    ramp file (their size and modification time), and the rendering libraries' versions."""
    cid = request.path_params["collectionId"]
    _, cog = dataset_path(cid, request.query_params.get("datetime"))
    ramp_file = STYLES_DIR / f"{cid}.ramp.json"
    parts = [path, "&".join(sorted(query.split("&"))), RENDER_VERSIONS]
    for file in (Path(cog), ramp_file):
        try:
            st = os.stat(file)
            parts.append(f"{st.st_size}:{st.st_mtime_ns}")
        except FileNotFoundError:
            parts.append("-")
    return 'W/"' + hashlib.blake2b("|".join(parts).encode(), digest_size=12).hexdigest() + '"'


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether If-None-Match names this ETag (weak comparison). `*` is left to the caching
    middleware, which sees whether there is a representation (a 200) at all."""
    if not if_none_match:
        return False
    ours = etag[2:] if etag.startswith("W/") else etag
    return any((t.strip()[2:] if t.strip().startswith("W/") else t.strip()) == ours
               for t in if_none_match.split(","))


def with_etag(send: Send, etag: str) -> Send:
    """`send`, adding the ETag to a 200 response only."""
    async def wrapped(message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            message = {**message, "headers": [*message.get("headers", []),
                                              (b"etag", etag.encode("latin-1"))]}
        await send(message)
    return wrapped
