"""The legend of a coverage collection: its colour ramp (styles/{cid}.ramp.json) as JSON, or as
a horizontal PNG colour bar (low values on the left)."""
from __future__ import annotations

import numpy as np
from rio_tiler.utils import render
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.tiles.raster_errors import bad_text, not_found_text
from services.tiles.raster_summers import coverage, ramp, ramp_colormap
from services.tiles.raster_tiles import base_url

FORMATS = ("", "json", "png", "application/json", "image/png")


def legend_png(collection_id: str, width: int = 256, height: int = 24) -> bytes:
    """The ramp as a horizontal colour bar (low values on the left)."""
    index = np.tile(np.linspace(0, 255, width).round().astype("uint8"), (height, 1))
    return render(index[np.newaxis], img_format="PNG", colormap=ramp_colormap(collection_id))


async def legend(request: Request):
    cid = request.path_params["collectionId"]
    coverage(cid)
    spec = ramp(cid)
    if spec is None:
        raise not_found_text("no_legend", collection=cid)
    fmt = (request.query_params.get("f") or "").lower()
    if fmt not in FORMATS:
        raise bad_text("legend_format", fmt=fmt[:40])
    accept = request.headers.get("accept", "")
    if fmt in ("png", "image/png") or (not fmt and "image/png" in accept
                                        and "json" not in accept):
        return Response(await run_in_threadpool(legend_png, cid), media_type="image/png")
    base = base_url()
    return JSONResponse({
        "id": cid, "title": spec["title"], "units": spec.get("units"),
        "rescale": spec["rescale"], "hot_threshold": spec.get("hot_threshold"),
        "nodata": spec.get("nodata"),
        "stops": spec["stops"],
        "links": [{"rel": "alternate", "type": "image/png",
                   "href": f"{base}/collections/{cid}/legend?f=png"},
                  {"rel": "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map",
                   "type": "application/json", "href": f"{base}/collections/{cid}/map/tiles"}],
    })
