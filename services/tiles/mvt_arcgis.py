"""The ArcGIS VectorTileServer description of a collection's vector tiles.

QGIS reads a vector tile layer's grid from this JSON (`type=xyz&serviceType=arcgis&url=...`):
from 3.26, any CRS and origin (QgsVectorTileMatrixSet::fromEsriJson: tileInfo.origin,
spatialReference and the level-0 resolution × rows); 3.22 only Web Mercator.
"""
from __future__ import annotations

from typing import Any

import morecantile
import pyproj

from services.tiles.mvt_source import Layer

ESRI_DPI = 96
INCH = 0.0254


def _extent(layer: Layer, epsg: int) -> dict[str, Any]:
    minx, miny, maxx, maxy = layer.bbox or (-180.0, -85.0, 180.0, 85.0)
    tr = pyproj.Transformer.from_crs("OGC:CRS84", epsg, always_xy=True)
    x0, y0, x1, y1 = tr.transform_bounds(minx, miny, maxx, maxy, densify_pts=21)
    return {"xmin": x0, "ymin": y0, "xmax": x1, "ymax": y1,
            "spatialReference": {"wkid": epsg, "latestWkid": epsg}}


def service_json(layer: Layer, tms: morecantile.TileMatrixSet, lang: str) -> dict[str, Any]:
    epsg = int(tms.crs.to_epsg())
    first = tms.matrix(tms.minzoom)
    origin = first.pointOfOrigin
    lods = []
    for z in range(tms.minzoom, tms.maxzoom + 1):
        cell = tms.matrix(z).cellSize
        lods.append({"level": z, "resolution": cell, "scale": cell * ESRI_DPI / INCH})
    extent = _extent(layer, epsg)
    return {
        "currentVersion": 10.9,
        "name": layer.id,
        "description": layer.spec.title[lang],
        "copyrightText": layer.spec.licence["title"],
        "capabilities": "TilesOnly",
        "type": "indexedVector",
        "tiles": ["tile/{z}/{y}/{x}.pbf"],
        "exportTilesAllowed": False,
        "initialExtent": extent,
        "fullExtent": extent,
        "minScale": lods[0]["scale"],
        "maxScale": lods[-1]["scale"],
        "minLOD": tms.minzoom,
        "maxLOD": tms.maxzoom,
        "maxzoom": tms.maxzoom,
        "tileInfo": {
            "rows": first.tileHeight, "cols": first.tileWidth, "dpi": ESRI_DPI,
            "format": "pbf", "origin": {"x": origin[0], "y": origin[1]},
            "spatialReference": {"wkid": epsg, "latestWkid": epsg},
            "lods": lods,
        },
        "resourceInfo": {"tileCompression": "none", "cacheInfo": {"storageInfo": {
            "packetSize": 128, "storageFormat": "compactV2"}}},
    }
